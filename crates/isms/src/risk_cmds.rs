//! `isms risk import`, `isms asset import` and `isms report risks`: the risk
//! register from and to files on the command line.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use isms_store::{Actor, ImportOutcome, RowError, Store};
use isms_web::isms_reports::Format;
use isms_web::risk::{export, import};

#[derive(Args)]
pub struct ImportArgs {
    /// The CSV file. Risks: title,description,assets,likelihood,impact,treatment,annex_a_controls,
    /// residual_likelihood,residual_impact,owner (assets and controls separated by `;`, assets by
    /// name, created when new). Assets: name,type[,description,owner,location,classification].
    file: std::path::PathBuf,
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// Check every row and report; store nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args)]
pub struct RiskReportArgs {
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// pdf, xlsx or csv.
    #[arg(long)]
    format: String,
    /// The file to write.
    #[arg(short = 'o', long = "output")]
    output: std::path::PathBuf,
}

fn print_errors(file: &std::path::Path, errors: &[RowError]) {
    for e in errors {
        if e.row == 0 {
            eprintln!("{}: {}", file.display(), e.why);
        } else if e.column.is_empty() {
            eprintln!("{}: row {}: {}", file.display(), e.row, e.why);
        } else {
            eprintln!("{}: {e}", file.display());
        }
    }
    eprintln!(
        "{} problem(s); nothing was stored: fix the rows named and import the whole file again",
        errors.len()
    );
}

fn read(file: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let len = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    if len > import::MAX_IMPORT_BYTES as u64 {
        anyhow::bail!(
            "{} is larger than the {} MB an import takes",
            file.display(),
            import::MAX_IMPORT_BYTES / 1024 / 1024
        );
    }
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

fn finish(a: &ImportArgs, outcome: &ImportOutcome, what: &str) -> ExitCode {
    if !outcome.errors.is_empty() {
        print_errors(&a.file, &outcome.errors);
        return ExitCode::FAILURE;
    }
    if outcome.dry_run {
        println!("dry run: {what}; nothing was stored");
    } else {
        println!("imported {what}");
    }
    ExitCode::SUCCESS
}

pub async fn run_risk_import(store: &Store, a: &ImportArgs) -> anyhow::Result<ExitCode> {
    let org = store.require_org(&a.org).await?;
    let data = read(&a.file)?;
    let rows = match import::parse_risks(&data) {
        Ok(rows) => rows,
        Err(errors) => {
            print_errors(&a.file, &errors);
            return Ok(ExitCode::FAILURE);
        }
    };
    let outcome = store
        .import_risks(org.id, &rows, a.dry_run, &Actor::cli())
        .await?;
    let what = format!(
        "{} risk(s) and {} new asset(s) into {}",
        outcome.risks,
        outcome.new_assets.len(),
        org.name
    );
    Ok(finish(a, &outcome, &what))
}

pub async fn run_asset_import(store: &Store, a: &ImportArgs) -> anyhow::Result<ExitCode> {
    let org = store.require_org(&a.org).await?;
    let data = read(&a.file)?;
    let rows = match import::parse_assets(&data) {
        Ok(rows) => rows,
        Err(errors) => {
            print_errors(&a.file, &errors);
            return Ok(ExitCode::FAILURE);
        }
    };
    let outcome = store
        .import_assets(org.id, &rows, a.dry_run, &Actor::cli())
        .await?;
    let what = format!("{} asset(s) into {}", outcome.new_assets.len(), org.name);
    Ok(finish(a, &outcome, &what))
}

pub async fn run_risk_report(store: &Store, a: &RiskReportArgs) -> anyhow::Result<ExitCode> {
    let format = Format::parse(&a.format).map_err(anyhow::Error::msg)?;
    let org = store.require_org(&a.org).await?;
    let (bytes, n) = export::risk_export(store, &org, format)
        .await
        .map_err(anyhow::Error::msg)?;
    std::fs::write(&a.output, &bytes)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    println!(
        "wrote the risk register of {} ({n} risks) to {}",
        org.name,
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn run_treatment_report(store: &Store, a: &RiskReportArgs) -> anyhow::Result<ExitCode> {
    let format = Format::parse(&a.format).map_err(anyhow::Error::msg)?;
    let org = store.require_org(&a.org).await?;
    let (bytes, n) = export::treatment_export(store, &org, format)
        .await
        .map_err(anyhow::Error::msg)?;
    std::fs::write(&a.output, &bytes)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    println!(
        "wrote the risk treatment plan of {} ({n} lines) to {}",
        org.name,
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
