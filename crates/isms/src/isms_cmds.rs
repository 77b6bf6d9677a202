//! `isms report soa|gap` and `isms readiness`: the SoA exports, the gap
//! report and the certification readiness checklist on the command line.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use isms_store::{Actor, ReadinessState, Store};
use isms_web::isms_reports::{Format, gap_export, soa_export};

#[derive(Subcommand)]
pub enum ReportCommand {
    /// The Statement of Applicability (latest approved version; the draft if none is approved).
    Soa(SoaReportArgs),
    /// The gap report: every requirement not implemented, by clause/theme and priority.
    Gap(GapReportArgs),
    /// The risk register, every risk with its levels, treatment and controls (PDF, XLSX, CSV).
    Risks(crate::risk_cmds::RiskReportArgs),
    /// The risk treatment plan: each open risk's actions, owners, due dates, costs and acceptance (PDF, XLSX, CSV).
    Treatment(crate::risk_cmds::RiskReportArgs),
    /// An internal audit's report: scope, team, dates, results and every finding (PDF, XLSX).
    Audit(crate::internal_audit_cmds::AuditReportArgs),
    /// The control register: every applied control with owner, status, dates, cost, linked
    /// requirements per framework, latest review and evidence (PDF, XLSX, CSV).
    Controls(crate::controls_cmds::ControlReportArgs),
    /// One framework's coverage by the applied controls: each requirement implemented, planned
    /// only or none, with the covering controls (derived mappings marked) (PDF, XLSX, CSV).
    Coverage(crate::controls_cmds::CoverageReportArgs),
    /// The metrics report: each metric's definition, target, thresholds, latest value, status
    /// and trend chart (PDF).
    Metrics(crate::controls_cmds::ControlReportArgs),
    /// A management review's minutes: inputs, decisions and actions (PDF).
    #[command(name = "management-review")]
    ManagementReview(crate::internal_audit_cmds::ReviewReportArgs),
}

#[derive(Args)]
pub struct GapReportArgs {
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// pdf or xlsx.
    #[arg(long)]
    format: String,
    /// The file to write.
    #[arg(short = 'o', long = "output")]
    output: std::path::PathBuf,
    /// The assessment's number (default: the latest).
    #[arg(long)]
    assessment: Option<i64>,
}

#[derive(Args)]
pub struct SoaReportArgs {
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// pdf, xlsx or csv.
    #[arg(long)]
    format: String,
    /// The file to write.
    #[arg(short = 'o', long = "output")]
    output: std::path::PathBuf,
    /// An approved version number (default: the latest).
    #[arg(long)]
    version: Option<i64>,
}

#[derive(Args)]
pub struct ReadinessArgs {
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
}

pub async fn run_report(store: &Store, cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ReportCommand::Risks(a) => crate::risk_cmds::run_risk_report(store, &a).await,
        ReportCommand::Treatment(a) => crate::risk_cmds::run_treatment_report(store, &a).await,
        ReportCommand::Controls(a) => crate::controls_cmds::run_controls_report(store, &a).await,
        ReportCommand::Coverage(a) => crate::controls_cmds::run_coverage_report(store, &a).await,
        ReportCommand::Metrics(a) => crate::controls_cmds::run_metrics_report(store, &a).await,
        ReportCommand::Audit(a) => crate::internal_audit_cmds::run_audit_report(store, &a).await,
        ReportCommand::ManagementReview(a) => {
            crate::internal_audit_cmds::run_review_report(store, &a).await
        }
        ReportCommand::Soa(a) => {
            let format = Format::parse(&a.format).map_err(anyhow::Error::msg)?;
            let org = store.require_org(&a.org).await?;
            let (bytes, doc) = soa_export(store, &org, a.version, format, &Actor::cli())
                .await
                .map_err(anyhow::Error::msg)?;
            std::fs::write(&a.output, &bytes)
                .with_context(|| format!("cannot write {}", a.output.display()))?;
            println!(
                "wrote the SoA of {} ({}, {} controls) to {}",
                org.name,
                doc.version_label(),
                doc.rows.len(),
                a.output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        ReportCommand::Gap(a) => {
            let format = match Format::parse(&a.format) {
                Ok(Format::Csv) | Err(_) => {
                    bail!(
                        "unknown format '{}': the gap report is pdf or xlsx",
                        a.format
                    )
                }
                Ok(f) => f,
            };
            let org = store.require_org(&a.org).await?;
            let (bytes, _) = gap_export(store, &org, a.assessment, format)
                .await
                .map_err(anyhow::Error::msg)?;
            std::fs::write(&a.output, &bytes)
                .with_context(|| format!("cannot write {}", a.output.display()))?;
            println!(
                "wrote the gap report of {} to {}",
                org.name,
                a.output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn run_readiness(store: &Store, a: ReadinessArgs) -> anyhow::Result<ExitCode> {
    let org = store.require_org(&a.org).await?;
    let r = store.readiness(org.id, &Actor::cli()).await?;
    if r.items.is_empty() {
        bail!("the readiness checklist is empty");
    }
    println!(
        "Certification readiness of {} (ISO/IEC 27001:2022): {} of {} ready ({}%)",
        org.name,
        r.ready,
        r.total,
        r.percent()
    );
    for i in &r.items {
        let mark = match i.state {
            ReadinessState::Ready => "[x]",
            ReadinessState::Incomplete => "[~]",
            ReadinessState::Missing => "[ ]",
        };
        println!(
            "{mark} {:<10} {:<40} {:<10} {}",
            i.clause,
            i.title,
            i.state.as_str(),
            i.detail
        );
    }
    if r.complete() {
        println!("ready for the certification audit: every item is present, approved and current");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "not ready: {} item(s) missing or incomplete; fix them in the web application (see /readiness)",
            r.total - r.ready
        );
        Ok(ExitCode::FAILURE)
    }
}
