//! `isms doc export`, `isms doc list` and `isms doc remind`: documented
//! information on the command line.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use isms_store::{DocumentQuery, Store};
use isms_web::documents::export::{self, DocFormat};

#[derive(Subcommand)]
pub enum DocCommand {
    /// Write a document (its published version, or --version) as PDF or Markdown, with its
    /// approval block and revision history.
    Export(ExportArgs),
    /// List the document register.
    List(ListArgs),
    /// Remind everyone who has not yet acknowledged the published version: an inbox message
    /// (at most one a day) and, with --smtp-url, an e-mail.
    Remind(RemindArgs),
}

#[derive(Args)]
pub struct RemindArgs {
    /// The document's id (the number in DOC-007 or /documents/7).
    id: String,
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    #[command(flatten)]
    mail: crate::tasks_cmds::MailArgs,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The document's id (the number in DOC-007 or /documents/7).
    id: String,
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// pdf or md.
    #[arg(long)]
    format: String,
    /// A version number (default: the published version, else the latest).
    #[arg(long)]
    version: Option<String>,
    /// The file to write.
    #[arg(short = 'o', long = "output")]
    output: std::path::PathBuf,
}

#[derive(Args)]
pub struct ListArgs {
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
}

fn parse_id(s: &str) -> anyhow::Result<i64> {
    let t = s.trim();
    let t = t
        .strip_prefix("DOC-")
        .or_else(|| t.strip_prefix("doc-"))
        .unwrap_or(t);
    t.parse()
        .with_context(|| format!("'{s}' is not a document id: use its number, e.g. 7 or DOC-007"))
}

pub async fn run(store: &Store, cmd: DocCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DocCommand::Export(a) => {
            let org = store.require_org(&a.org).await?;
            let format = DocFormat::parse(&a.format).map_err(anyhow::Error::msg)?;
            let id = parse_id(&a.id)?;
            let (bytes, _) =
                export::document_file(store, &org, id, a.version.as_deref(), format).await?;
            std::fs::write(&a.output, &bytes)
                .with_context(|| format!("cannot write {}", a.output.display()))?;
            println!(
                "wrote {} ({} bytes) to {}",
                export::key(id),
                bytes.len(),
                a.output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        DocCommand::Remind(a) => {
            let org = store.require_org(&a.org).await?;
            let id = parse_id(&a.id)?;
            let mailer = a.mail.mailer()?;
            let base = a
                .mail
                .public_url
                .clone()
                .unwrap_or_else(|| "http://localhost:8080".to_owned());
            let o =
                isms_web::documents::remind::remind_late(store, mailer.as_ref(), &base, &org, id)
                    .await?;
            println!(
                "{} reminder(s) written, {} e-mail(s) sent for {}",
                o.sent,
                o.emailed,
                export::key(id)
            );
            if mailer.is_none() {
                println!("no --smtp-url: no e-mail sent");
            }
            if let Some(e) = o.mail_error {
                eprintln!("error: {e}; the inbox messages were written");
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        DocCommand::List(a) => {
            let org = store.require_org(&a.org).await?;
            for d in store.documents(org.id, &DocumentQuery::default()).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    export::key(d.id),
                    d.doc_type,
                    d.published.as_ref().map_or("-", |p| p.label.as_str()),
                    d.status,
                    d.title
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
