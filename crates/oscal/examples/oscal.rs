//! Stand-in for `isms oscal ...` until the lead wires the commands into the `isms` binary.
//!
//! ```text
//! cargo run --release -p isms-oscal --example oscal -- validate FILE
//! cargo run --release -p isms-oscal --example oscal -- resolve PROFILE --catalog CATALOG -o OUT.json
//! ```

use clap::{Parser, Subcommand};

// mimalloc: a third less CPU than glibc malloc on this JSON-heavy work (measured with
// bench/oscal/run.sh); the `isms` binary should set the same global allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use isms_oscal::cli::{ResolveArgs, ValidateArgs, run_resolve, run_validate};

#[derive(Parser)]
#[command(about = "Offline OSCAL tools (example front end of isms-oscal)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate an OSCAL document against the OSCAL 1.1.2 schema.
    Validate(ValidateArgs),
    /// Resolve an OSCAL profile into a catalog.
    Resolve(ResolveArgs),
    /// Convert an OSCAL XML catalog or profile to OSCAL JSON (stdout).
    XmlToJson { file: std::path::PathBuf },
    /// Print the flattened node view of a catalog (one line per node).
    Nodes { file: std::path::PathBuf },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Validate(args) => run_validate(args),
        Command::Resolve(args) => run_resolve(args).map(|()| true),
        Command::XmlToJson { file } => isms_oscal::cli::load_file(file, false)
            .map_err(anyhow::Error::from)
            .and_then(|d| Ok(serde_json::to_string_pretty(&d.value)?))
            .map(|s| {
                println!("{s}");
                true
            }),
        Command::Nodes { file } => isms_oscal::cli::load_file(file, false)
            .map_err(anyhow::Error::from)
            .map(|d| {
                for n in isms_oscal::catalog_nodes(&d.value) {
                    println!(
                        "{}\t{:?}\t{}\t{}\t{} params\t{}",
                        n.ref_id,
                        n.kind,
                        n.parent_ref_id.as_deref().unwrap_or("-"),
                        n.title,
                        n.params.len(),
                        n.statement.replace('\n', " / ")
                    );
                }
                true
            }),
    };
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
