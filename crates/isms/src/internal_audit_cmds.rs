//! `isms report audit` and `isms report management-review`: the internal
//! audit report and the management review minutes on the command line.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use isms_store::Store;
use isms_web::internal_audit::export;
use isms_web::isms_reports::Format;

#[derive(Args)]
pub struct AuditReportArgs {
    /// The audit's number.
    id: i64,
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// pdf or xlsx.
    #[arg(long)]
    format: String,
    /// The file to write.
    #[arg(short = 'o', long = "output")]
    output: std::path::PathBuf,
}

#[derive(Args)]
pub struct ReviewReportArgs {
    /// The review's number.
    id: i64,
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// pdf.
    #[arg(long, default_value = "pdf")]
    format: String,
    /// The file to write.
    #[arg(short = 'o', long = "output")]
    output: std::path::PathBuf,
}

pub async fn run_audit_report(store: &Store, a: &AuditReportArgs) -> anyhow::Result<ExitCode> {
    let format = match Format::parse(&a.format) {
        Ok(Format::Csv) | Err(_) => {
            bail!(
                "unknown format '{}': the audit report is pdf or xlsx",
                a.format
            )
        }
        Ok(f) => f,
    };
    let org = store.require_org(&a.org).await?;
    let bytes = export::audit_export(store, &org, a.id, format)
        .await
        .map_err(anyhow::Error::msg)?;
    std::fs::write(&a.output, &bytes)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    println!(
        "wrote the report of audit {} of {} to {}",
        a.id,
        org.name,
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn run_review_report(store: &Store, a: &ReviewReportArgs) -> anyhow::Result<ExitCode> {
    let format = match Format::parse(&a.format) {
        Ok(Format::Pdf) => Format::Pdf,
        _ => bail!(
            "unknown format '{}': the management review minutes are pdf",
            a.format
        ),
    };
    let org = store.require_org(&a.org).await?;
    let bytes = export::review_export(store, &org, a.id, format)
        .await
        .map_err(anyhow::Error::msg)?;
    std::fs::write(&a.output, &bytes)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    println!(
        "wrote the minutes of management review {} of {} to {}",
        a.id,
        org.name,
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
