//! `isms training report`, `competence`, `remind`, `courses`, `retire` and
//! `reactivate`: the training and competence records for the auditor,
//! reminders to people with overdue training, and courses in or out of use.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use isms_domain::training::CourseStatus;
use isms_store::{Actor, Store};
use isms_web::isms_reports::Format;
use isms_web::training::export;

#[derive(Subcommand)]
pub enum TrainingCommand {
    /// Write the training records (per person and course, and every submission) as CSV, XLSX or PDF.
    Report(ReportArgs),
    /// Write competence per role (what it requires, the evidence each person holds, the gaps;
    /// clause 7.2) as CSV, XLSX or PDF.
    Competence(ReportArgs),
    /// Send everyone with overdue training an inbox message (once per assignment and due date).
    Remind(RemindArgs),
    /// List the courses (active ones; --all for retired ones too).
    Courses(CoursesArgs),
    /// Retire a course: it takes no new assignments; its records stay readable and exported.
    Retire(CourseArgs),
    /// Make a retired course active again.
    Reactivate(CourseArgs),
}

#[derive(Args)]
pub struct CoursesArgs {
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// Retired courses too.
    #[arg(long)]
    all: bool,
}

#[derive(Args)]
pub struct CourseArgs {
    /// The course's id (see `isms training courses`).
    id: i64,
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
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
        TrainingCommand::Competence(a) => {
            let format = Format::parse(&a.format).map_err(anyhow::Error::msg)?;
            let org = store.require_org(&a.org).await?;
            let (bytes, n) = export::competence_export(store, &org, format)
                .await
                .map_err(anyhow::Error::msg)?;
            std::fs::write(&a.output, &bytes)
                .with_context(|| format!("cannot write {}", a.output.display()))?;
            println!(
                "wrote the competence records of {} ({n} required competence(s) of people) to {}",
                org.name,
                a.output.display()
            );
        }
        TrainingCommand::Courses(a) => {
            let org = store.require_org(&a.org).await?;
            for c in store.courses(org.id).await? {
                if a.all || c.status == "active" {
                    println!(
                        "{}\t{}\t{}/{} completed\t{}",
                        c.id, c.status, c.completed, c.assigned, c.title
                    );
                }
            }
        }
        TrainingCommand::Retire(a) => {
            set_status(store, &a, CourseStatus::Retired).await?;
        }
        TrainingCommand::Reactivate(a) => {
            set_status(store, &a, CourseStatus::Active).await?;
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

async fn set_status(store: &Store, a: &CourseArgs, to: CourseStatus) -> anyhow::Result<()> {
    let org = store.require_org(&a.org).await?;
    let c = store
        .set_course_status(org.id, a.id, to, None, &Actor::cli())
        .await?;
    match to {
        CourseStatus::Retired => println!(
            "retired course {} “{}” in {}: it takes no new assignments; its records stay",
            c.id, c.title, org.name
        ),
        CourseStatus::Active => println!(
            "course {} “{}” in {} is active again",
            c.id, c.title, org.name
        ),
    }
    Ok(())
}
