//! `isms tasks` (what is due, per organisation or member) and
//! `isms notify run-once` (reminders and e-mail digests, for cron).

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use isms_store::Store;
use isms_web::tasks::{DEFAULT_FROM, Mailer};

/// E-mail settings shared by `serve` and `notify run-once`.
#[derive(Args, Clone, Debug)]
pub struct MailArgs {
    /// Send e-mail digests through this SMTP relay: smtp://[user:pass@]host[:port] (STARTTLS
    /// when the server offers it) or smtps://... (TLS). Without it no e-mail is sent.
    #[arg(long, env = "ISMS_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of e-mails, e.g. "isms <isms@example.com>".
    #[arg(long, env = "ISMS_SMTP_FROM", default_value = DEFAULT_FROM)]
    pub smtp_from: String,
    /// The address people open isms at, for links in e-mails and calendar feeds,
    /// e.g. https://isms.example.com.
    #[arg(long, env = "ISMS_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl MailArgs {
    /// The mailer, or one clear line on what is wrong with the settings.
    pub fn mailer(&self) -> anyhow::Result<Option<Mailer>> {
        if let Some(u) = &self.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            bail!("--public-url '{u}' must start with http:// or https://");
        }
        match &self.smtp_url {
            None => Ok(None),
            Some(url) => Mailer::new(url, &self.smtp_from)
                .map(Some)
                .map_err(anyhow::Error::msg),
        }
    }
}

#[derive(Subcommand)]
pub enum NotifyCommand {
    /// Write in-app reminders for items due within a week and send each member with overdue
    /// items one e-mail digest (at most one per day, whatever runs it); for cron.
    RunOnce(MailArgs),
}

#[derive(Args)]
pub struct TasksArgs {
    /// The organisation's slug (see `isms org list`).
    #[arg(long)]
    org: String,
    /// Only this member's items.
    #[arg(long)]
    user: Option<String>,
    /// Items due on or before this day (YYYY-MM-DD); default: in 30 days.
    #[arg(long)]
    until: Option<String>,
}

pub async fn run_notify(store: &Store, cmd: NotifyCommand) -> anyhow::Result<ExitCode> {
    let NotifyCommand::RunOnce(args) = cmd;
    let mailer = args.mailer()?;
    let base = args
        .public_url
        .clone()
        .unwrap_or_else(|| "http://localhost:8080".to_owned());
    let s = isms_web::tasks::run_once(store, mailer.as_ref(), &base).await?;
    println!(
        "{} reminder(s) written, {} digest(s) sent, {} already sent today",
        s.reminders, s.digests_sent, s.digests_skipped
    );
    if mailer.is_none() {
        println!("no --smtp-url: no e-mail sent");
    }
    if let Some(e) = s.mail_error {
        eprintln!("error: {e}; nothing was marked sent, the next run tries again");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_tasks(store: &Store, args: TasksArgs) -> anyhow::Result<ExitCode> {
    let org = store.require_org(&args.org).await?;
    let (today, month) = isms_web::tasks::run::today_plus(30);
    let until = match args.until.as_deref() {
        None => month,
        Some(d) => isms_domain::tasks::check_date("--until", d).map_err(anyhow::Error::msg)?,
    };
    let items = match args.user.as_deref() {
        None => store.due_items(org.id, &until).await?,
        Some(email) => {
            let email = email.trim().to_lowercase();
            let member = store
                .members(org.id)
                .await?
                .into_iter()
                .find(|m| m.email == email)
                .with_context(|| format!("{email} is not a member of {}", org.slug))?;
            store
                .my_items(org.id, member.user_id, &member.email)
                .await?
                .into_iter()
                .filter(|i| i.due_date.is_empty() || i.due_date <= until)
                .collect()
        }
    };
    if items.is_empty() {
        println!("nothing due by {until}");
    }
    for i in items {
        let flag = if !i.due_date.is_empty() && i.due_date < today {
            "OVERDUE"
        } else {
            "due"
        };
        let date = if i.due_date.is_empty() {
            "(no date)"
        } else {
            &i.due_date
        };
        println!(
            "{date}\t{flag}\t{}\t{}-{}\t{}\t{}",
            i.owner.as_deref().unwrap_or("-"),
            i.kind,
            i.id,
            i.title,
            i.link
        );
    }
    Ok(ExitCode::SUCCESS)
}
