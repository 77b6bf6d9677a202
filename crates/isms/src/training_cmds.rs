//! `isms training report` and `isms training remind`: the training records
//! for the auditor, and reminders to people with overdue training.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use isms_store::Store;
use isms_web::isms_reports::Format;
use isms_web::training::export;

#[derive(Subcommand)]
pub enum TrainingCommand {
    /// Write the training records (per person and course, and every submission) as CSV, XLSX or PDF.
    Report(ReportArgs),
    /// Send everyone with overdue training an inbox message (once per assignment and due date).
    Remind(RemindArgs),
}

#[derive(Args)]
pub struct ReportArgs {
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// csv, xlsx or pdf.
    #[arg(long)]
    format: String,
    /// The file to write.
    #[arg(short = 'o', long = "output")]
    output: std::path::PathBuf,
}

#[derive(Args)]
pub struct RemindArgs {
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
}

pub async fn run(store: &Store, cmd: TrainingCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TrainingCommand::Report(a) => {
            let format = Format::parse(&a.format).map_err(anyhow::Error::msg)?;
            let org = store.require_org(&a.org).await?;
            let (bytes, n) = export::training_export(store, &org, format)
                .await
                .map_err(anyhow::Error::msg)?;
            std::fs::write(&a.output, &bytes)
                .with_context(|| format!("cannot write {}", a.output.display()))?;
            println!(
                "wrote the training records of {} ({n} assignment(s)) to {}",
                org.name,
                a.output.display()
            );
        }
        TrainingCommand::Remind(a) => {
            let org = store.require_org(&a.org).await?;
            let sent = store.remind_overdue_training(org.id).await?;
            println!(
                "sent {sent} reminder(s) about overdue training in {}",
                org.name
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
