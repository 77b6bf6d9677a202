//! `isms control ...` and `isms metric ...`: the control register, starter
//! metrics and measurements (one at a time or from CSV) on the command line.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use isms_store::{Actor, Store};
use isms_web::controls::reports;
use isms_web::isms_reports::Format;

/// `isms report controls` and `isms report metrics`.
#[derive(clap::Args)]
pub struct ControlReportArgs {
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// pdf, xlsx or csv (the metrics report: pdf).
    #[arg(long)]
    format: String,
    /// The file to write.
    #[arg(short = 'o', long = "output")]
    output: std::path::PathBuf,
}

/// `isms report coverage`.
#[derive(clap::Args)]
pub struct CoverageReportArgs {
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// The framework's id, e.g. iso27001-2022 or nist-csf-2.0 (see `isms framework list`).
    #[arg(long)]
    framework: String,
    /// pdf, xlsx or csv.
    #[arg(long)]
    format: String,
    /// The file to write.
    #[arg(short = 'o', long = "output")]
    output: std::path::PathBuf,
}

fn write(output: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(output, bytes).with_context(|| format!("cannot write {}", output.display()))
}

/// `isms report controls`: the control register.
pub async fn run_controls_report(store: &Store, a: &ControlReportArgs) -> anyhow::Result<ExitCode> {
    let format = Format::parse(&a.format).map_err(anyhow::Error::msg)?;
    let org = store.require_org(&a.org).await?;
    let doc = reports::register_document(store, &org).await?;
    let n = doc.controls.len();
    let bytes = reports::render_register(doc, format)
        .await
        .map_err(anyhow::Error::msg)?;
    write(&a.output, &bytes)?;
    println!(
        "wrote the control register of {} ({n} controls) to {}",
        org.name,
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `isms report coverage`: one framework's coverage by the controls.
pub async fn run_coverage_report(
    store: &Store,
    a: &CoverageReportArgs,
) -> anyhow::Result<ExitCode> {
    let format = Format::parse(&a.format).map_err(anyhow::Error::msg)?;
    let org = store.require_org(&a.org).await?;
    let doc = reports::coverage_document(store, &org, &a.framework).await?;
    let summary = format!(
        "{} requirements: {} implemented, {} planned only, {} none",
        doc.lines.len(),
        doc.implemented,
        doc.planned,
        doc.none
    );
    let name = doc.framework_name.clone();
    let bytes = reports::render_coverage(doc, format)
        .await
        .map_err(anyhow::Error::msg)?;
    write(&a.output, &bytes)?;
    println!(
        "wrote the coverage of {name} for {} ({summary}) to {}",
        org.name,
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `isms report metrics`: the metrics report with trend charts (PDF).
pub async fn run_metrics_report(store: &Store, a: &ControlReportArgs) -> anyhow::Result<ExitCode> {
    let _ = reports::metrics_format(&a.format).map_err(anyhow::Error::msg)?;
    let org = store.require_org(&a.org).await?;
    let doc = reports::metrics_document(store, &org).await?;
    let n = doc.metrics.len();
    let bytes = reports::render_metrics(doc)
        .await
        .map_err(anyhow::Error::msg)?;
    write(&a.output, &bytes)?;
    println!(
        "wrote the metrics report of {} ({n} metrics) to {}",
        org.name,
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum ControlCommand {
    /// List the applied controls: id, status, name, linked requirements.
    List {
        /// The organisation's slug (see `isms org list`).
        #[arg(long)]
        org: String,
    },
    /// Write the control register as CSV, XLSX or PDF (also `isms report controls`).
    Export {
        #[arg(long)]
        org: String,
        /// csv, xlsx or pdf.
        #[arg(long, default_value = "csv")]
        format: String,
        /// The file to write.
        #[arg(short = 'o', long = "output")]
        output: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
pub enum MetricCommand {
    /// List the metrics with their latest value and status.
    List {
        #[arg(long)]
        org: String,
    },
    /// Add the ten starter metrics the organisation does not have yet.
    Starter {
        #[arg(long)]
        org: String,
    },
    /// Record one measurement of a metric (by id or name).
    Record {
        #[arg(long)]
        org: String,
        metric: String,
        value: f64,
        /// YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// The value's unit; refused when it is not the metric's.
        #[arg(long)]
        unit: Option<String>,
    },
    /// Record measurements from a CSV file with the columns metric,date,value
    /// and optionally unit (metric by id or name); all or nothing.
    Import {
        #[arg(long)]
        org: String,
        file: std::path::PathBuf,
    },
}

pub async fn run_control(store: &Store, cmd: ControlCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ControlCommand::List { org } => {
            let org = store.require_org(&org).await?;
            for c in store.controls(org.id).await? {
                let reqs: Vec<String> = c.requirements.iter().map(|r| r.ref_id.clone()).collect();
                println!(
                    "{}\t{}\t{}\t{}",
                    c.id,
                    c.status.as_str(),
                    c.name,
                    reqs.join(", ")
                );
            }
        }
        ControlCommand::Export {
            org,
            format,
            output,
        } => {
            let format = Format::parse(&format).map_err(anyhow::Error::msg)?;
            let org = store.require_org(&org).await?;
            let doc = reports::register_document(store, &org).await?;
            let bytes = reports::render_register(doc, format)
                .await
                .map_err(anyhow::Error::msg)?;
            std::fs::write(&output, bytes)
                .with_context(|| format!("cannot write {}", output.display()))?;
            println!("wrote {}", output.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_metric(store: &Store, cmd: MetricCommand) -> anyhow::Result<ExitCode> {
    let actor = Actor::cli();
    match cmd {
        MetricCommand::List { org } => {
            let org = store.require_org(&org).await?;
            for m in store.metrics(org.id).await? {
                let latest = m.latest.as_ref().map_or("not measured".to_owned(), |l| {
                    format!("{} on {}", l.value, l.date)
                });
                let status = m.status.map_or("", |s| s.as_str());
                println!(
                    "{}\t{}\t{} {}\t{latest}\t{status}",
                    m.id, m.name, m.target, m.unit
                );
            }
        }
        MetricCommand::Starter { org } => {
            let org = store.require_org(&org).await?;
            let n = store.add_starter_metrics(org.id, &actor).await?;
            println!("added {n} starter metric(s)");
        }
        MetricCommand::Record {
            org,
            metric,
            value,
            date,
            unit,
        } => {
            let org = store.require_org(&org).await?;
            let n = store
                .import_measurements(
                    org.id,
                    &[(metric, date, value.to_string(), unit.unwrap_or_default())],
                    &actor,
                )
                .await?;
            println!("recorded {n} measurement(s)");
        }
        MetricCommand::Import { org, file } => {
            let org = store.require_org(&org).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let rows = isms_web::controls::parse_measurements_csv(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let n = store.import_measurements(org.id, &rows, &actor).await?;
            println!("recorded {n} measurement(s)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
