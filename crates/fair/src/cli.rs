//! `isms risk simulate`: the command-line front of the engine (reads files, prints).

use crate::input::{Model, check_iterations};
use crate::report::render_table;
use crate::sim::{Options, simulate_with_progress};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

/// Output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned table for people.
    #[default]
    Table,
    /// The full report as JSON.
    Json,
}

/// Arguments of `isms risk simulate`.
#[derive(Clone, Debug, clap::Args)]
pub struct SimulateArgs {
    /// Scenario file, YAML or JSON (`-` reads standard input). Format: crates/fair/README.md
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    /// Simulated years per risk (overrides the file; default 1000000)
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,
    /// Random seed (overrides the file; default 1): the same seed gives the same numbers
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Annual-loss model (overrides the file; default compound)
    #[arg(long, value_enum)]
    pub model: Option<Model>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs a simulation from the command line and prints the report to standard output.
pub fn run_simulate(args: &SimulateArgs) -> Result<()> {
    let (label, text) = if args.input.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the scenarios from standard input")?;
        ("<stdin>".to_string(), s)
    } else {
        let label = args.input.display().to_string();
        let s = std::fs::read_to_string(&args.input).with_context(|| {
            format!("cannot read {label} (give a YAML or JSON scenario file, or - for stdin)")
        })?;
        (label, s)
    };
    let out = render(args, &text, &label, std::io::stdout().is_terminal())?;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write the report"),
    }
}

/// Parses `text` (named `label` in errors), applies the flags, simulates and renders the report.
fn render(args: &SimulateArgs, text: &str, label: &str, show_progress: bool) -> Result<String> {
    let input = crate::parse_input(text).map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
    if let Some(n) = args.iterations
        && let Err(m) = check_iterations(n)
    {
        bail!("--iterations: {m}");
    }
    let opts = Options {
        iterations: args.iterations,
        seed: args.seed,
        model: args.model,
    };
    let iterations = opts
        .iterations
        .or(input.iterations)
        .unwrap_or(crate::input::DEFAULT_ITERATIONS);
    // Only long runs get a bar, and only for a person watching a terminal.
    let work = iterations.saturating_mul(input.risks.len() as u64);
    let bar = if show_progress && work >= 20_000_000 {
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("simulating {bar:40} {percent:>3}% (eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let report = simulate_with_progress(&input, &opts, &|done, total| {
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_position(done);
    })
    .map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
    bar.finish_and_clear();
    Ok(match args.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Table => render_table(&report),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(format: Format) -> SimulateArgs {
        SimulateArgs {
            input: PathBuf::from("x.yaml"),
            iterations: Some(5000),
            seed: Some(9),
            model: Some(Model::Expected),
            format,
        }
    }

    const TEXT: &str = "iterations: 100\nseed: 1\nmodel: compound\nrisks:\n  - {name: Fine, lef: {uniform: {low: 0.01, high: 0.1}}, lm: 250000}\n";

    #[test]
    fn flags_override_the_file() {
        let out = render(&args(Format::Json), TEXT, "x.yaml", false).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["iterations"], 5000);
        assert_eq!(v["seed"], 9);
        assert_eq!(v["model"], "expected");
        assert_eq!(v["risks"][0]["name"], "Fine");
        let table = render(&args(Format::Table), TEXT, "x.yaml", false).unwrap();
        assert!(table.contains("model: expected") && table.contains("PORTFOLIO"));
    }

    #[test]
    fn errors_name_the_file_risk_and_field() {
        let bad = TEXT.replace("low: 0.01", "low: 0.5");
        let e = render(&args(Format::Json), &bad, "scenarios.yaml", false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("scenarios.yaml") && e.contains("\"Fine\"") && e.contains("lef.uniform"),
            "{e}"
        );
        let mut a = args(Format::Json);
        a.iterations = Some(0);
        let e = render(&a, TEXT, "x.yaml", false).unwrap_err().to_string();
        assert!(e.contains("--iterations"), "{e}");
    }
}
