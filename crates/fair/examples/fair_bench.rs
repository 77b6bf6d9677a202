//! Stand-alone `risk simulate` for benchmarks before (and besides) the `isms` binary:
//! `cargo run --release -p isms-fair --example fair_bench -- INPUT --format json`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "fair_bench", about = "FAIR Monte Carlo simulation (isms-fair)")]
struct Cli {
    #[command(flatten)]
    args: isms_fair::cli::SimulateArgs,
}

fn main() -> anyhow::Result<()> {
    isms_fair::cli::run_simulate(&Cli::parse().args)
}
