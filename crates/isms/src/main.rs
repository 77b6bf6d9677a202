//! `isms`: the command line and the server, in one binary.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use isms_domain::Role;
use isms_store::{Actor, Store};

mod controls_cmds;
mod frameworks;
mod internal_audit_cmds;

// mimalloc: a third less CPU than the system allocator on the OSCAL and import paths.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
mod doc_cmds;
mod isms_cmds;
mod risk_cmds;
mod tasks_cmds;
mod training_cmds;

#[derive(Parser)]
#[command(
    name = "isms",
    version,
    about = "An Information Security Management System for ISO/IEC 27001:2022"
)]
struct Cli {
    /// Where the data lives: sqlite://PATH (created on first use) or postgres://USER:PASS@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "ISMS_DATABASE_URL",
        default_value = "sqlite://isms.db"
    )]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web application and API.
    Serve(ServeArgs),
    /// Bring the database schema up to date (also done by `serve`).
    Migrate,
    /// Organisations (tenants).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users and their roles.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The tamper-evident audit log.
    #[command(subcommand, name = "audit-log")]
    AuditLog(AuditCommand),
    /// Frameworks: ISO/IEC 27001:2022 built in, others imported.
    #[command(subcommand)]
    Framework(FrameworkCommand),
    /// Mappings between requirements of two frameworks.
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// Reports: the Statement of Applicability (PDF, XLSX, CSV) and the gap report (PDF, XLSX).
    #[command(subcommand)]
    Report(isms_cmds::ReportCommand),
    /// The certification readiness checklist; exits non-zero while anything is missing.
    Readiness(isms_cmds::ReadinessArgs),
    /// Risks: import the register from CSV, and FAIR analysis that needs no database.
    #[command(subcommand)]
    Risk(RiskCommand),
    /// What is due: every module's items and hand-made tasks, by date.
    Tasks(tasks_cmds::TasksArgs),
    /// Reminders and e-mail digests.
    #[command(subcommand)]
    Notify(tasks_cmds::NotifyCommand),
    /// Assets (Annex A 5.9).
    #[command(subcommand)]
    Asset(AssetCommand),
    /// Training and awareness (7.2, 7.3): the records for the auditor, reminders.
    #[command(subcommand)]
    Training(training_cmds::TrainingCommand),
    /// Applied controls (8.1): list, export the register.
    #[command(subcommand)]
    Control(controls_cmds::ControlCommand),
    /// Metrics (9.1): list, add the starter set, record measurements.
    #[command(subcommand)]
    Metric(controls_cmds::MetricCommand),
    /// Documented information: export a document (PDF, Markdown), list the register.
    #[command(subcommand)]
    Doc(doc_cmds::DocCommand),
    /// Offline OSCAL tools: validate documents, resolve profiles.
    #[command(subcommand)]
    Oscal(OscalCommand),
    /// Write a consistent backup of the database (SQLite or PostgreSQL) to a
    /// new SQLite file, which `isms restore` reads and `isms serve` can open.
    ///
    /// Evidence files of a folder blob store go to the folder FILE.blobs
    /// beside it, each one's SHA-256 checked as it is copied.
    Backup {
        /// The file to write (must not exist).
        path: String,
        #[command(flatten)]
        blobs: BackupBlobArgs,
    },
    /// Replace the content of the database (SQLite or PostgreSQL) with a
    /// backup written by `isms backup`; all or nothing. Stop every
    /// `isms serve` of that database first.
    Restore {
        /// The backup file.
        path: String,
        /// Replace a database that already holds organisations or users.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        blobs: BackupBlobArgs,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "ISMS_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// A TLS-terminating proxy is in front: mark cookies Secure, send HSTS, trust X-Forwarded-For.
    #[arg(long, env = "ISMS_BEHIND_TLS_PROXY")]
    behind_tls_proxy: bool,
    /// With --behind-tls-proxy: how many proxies in front append to X-Forwarded-For; the client
    /// address is the entry that many places from the right (0: ignore the header).
    #[arg(long, env = "ISMS_TRUSTED_PROXY_HOPS", default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=16))]
    trusted_proxy_hops: u64,
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "ISMS_SESSION_IDLE_MINUTES", default_value_t = 480, value_parser = clap::value_parser!(u64).range(5..=10080))]
    session_idle_minutes: u64,
    #[command(flatten)]
    mail: tasks_cmds::MailArgs,
    /// Minutes between two runs of the reminders and digests (0: off; run
    /// `isms notify run-once` from cron instead).
    #[arg(long, env = "ISMS_REMINDER_MINUTES", default_value_t = 15, value_parser = clap::value_parser!(u64).range(0..=1440))]
    reminder_minutes: u64,
    /// Where evidence files are kept, named by their SHA-256: file://DIR, or
    /// s3://BUCKET/PREFIX for an S3-compatible bucket (settings below, or the
    /// standard AWS_* environment variables). Default: a folder beside the
    /// SQLite file (isms.db -> isms-blobs), or ./isms-blobs with PostgreSQL.
    #[arg(long, env = "ISMS_BLOB_STORE")]
    blob_store: Option<String>,
    #[command(flatten)]
    s3: S3Args,
    /// The largest evidence file accepted, in megabytes.
    #[arg(long, env = "ISMS_MAX_UPLOAD_MB", default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    max_upload_mb: u64,
}

/// Where `isms backup` reads evidence files and `isms restore` puts them.
#[derive(Args)]
struct BackupBlobArgs {
    /// The blob store `isms serve` uses (file://DIR); default: the folder
    /// beside the SQLite file. With s3://... the files stay in the bucket
    /// (back it up with the provider's tools) and only the database is copied.
    #[arg(long, env = "ISMS_BLOB_STORE")]
    blob_store: Option<String>,
    /// Copy the database alone, not the evidence files (restore: even when
    /// files the database names are missing).
    #[arg(long)]
    without_blobs: bool,
}

impl BackupBlobArgs {
    /// The folder of the evidence files, or `None` (a bucket, or left out).
    fn dir(&self, store: &isms_store::Store) -> anyhow::Result<Option<std::path::PathBuf>> {
        if self.without_blobs {
            return Ok(None);
        }
        match self.blob_store.as_deref() {
            None => Ok(Some(store.default_blob_dir().to_path_buf())),
            Some(url) if url.starts_with("s3://") => {
                eprintln!(
                    "evidence files are in {url}: they stay there (back the bucket up with its provider's tools); only the database is copied"
                );
                Ok(None)
            }
            Some(url) => {
                let b = isms_web::controls::blobs::BlobStore::from_url(url)
                    .map_err(|e| anyhow::anyhow!(e))?;
                Ok(b.dir().map(std::path::Path::to_path_buf))
            }
        }
    }
}

/// The bucket of `--blob-store s3://BUCKET/PREFIX`; each unset one falls
/// back to the standard AWS_* environment variable.
#[derive(Args)]
struct S3Args {
    /// The S3 endpoint, e.g. http://127.0.0.1:9000 for a local S3-compatible
    /// server (default: AWS_ENDPOINT_URL, else AWS itself).
    #[arg(id = "s3_endpoint", long = "s3-endpoint", env = "ISMS_S3_ENDPOINT")]
    endpoint: Option<String>,
    /// The bucket's region (default: AWS_REGION or AWS_DEFAULT_REGION, else us-east-1).
    #[arg(id = "s3_region", long = "s3-region", env = "ISMS_S3_REGION")]
    region: Option<String>,
    /// Access key id (default: AWS_ACCESS_KEY_ID).
    #[arg(
        id = "s3_access_key_id",
        long = "s3-access-key-id",
        env = "ISMS_S3_ACCESS_KEY_ID"
    )]
    access_key_id: Option<String>,
    /// Secret access key (default: AWS_SECRET_ACCESS_KEY). Prefer the
    /// environment: a command line is visible to other users of the machine.
    #[arg(
        id = "s3_secret_access_key",
        long = "s3-secret-access-key",
        env = "ISMS_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    secret_access_key: Option<String>,
    /// Allow a plain http:// endpoint (a server on this machine or a private
    /// network); otherwise HTTPS only (also AWS_ALLOW_HTTP=true).
    #[arg(
        id = "s3_allow_http",
        long = "s3-allow-http",
        env = "ISMS_S3_ALLOW_HTTP"
    )]
    allow_http: bool,
}

impl S3Args {
    fn settings(&self) -> isms_web::controls::blobs::S3Settings {
        isms_web::controls::blobs::S3Settings {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            allow_http: self.allow_http,
            connect_timeout: None,
        }
    }
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation; prints its slug.
    Create {
        /// The organisation's name, e.g. "Acme Ltd".
        name: String,
    },
    /// List organisations.
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user to an organisation (creating the account if new).
    Add {
        email: String,
        /// The organisation's slug (see `isms org list`).
        #[arg(long)]
        org: String,
        /// admin, isms_manager, risk_owner, control_owner, auditor or employee.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (required for new accounts).
        #[arg(long)]
        password_stdin: bool,
        /// The name shown in the application.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List the members of an organisation.
    List {
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a member; prints it once.
    Create {
        email: String,
        #[arg(long)]
        org: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "created on the command line")]
        name: String,
    },
}

#[derive(Subcommand)]
enum FrameworkCommand {
    /// List the installed frameworks.
    List,
    /// Print a framework's requirements, one per line, id first; or one requirement in full.
    Show {
        /// The framework's id (e.g. iso27001-2022) or number.
        id: String,
        /// A requirement's ref id (e.g. A.5.15, or 5.15 for an Annex A control) to show in full.
        #[arg(name = "REF")]
        reference: Option<String>,
    },
    /// Import frameworks: OSCAL catalogs or profiles (JSON or XML), CISO Assistant libraries
    /// (YAML: frameworks, mapping sets, risk matrices, threats), or CSVs. Give several files or
    /// folders: each file is imported in its own transaction and reported on its own line.
    Import {
        #[arg(required = true, num_args = 1..)]
        files: Vec<std::path::PathBuf>,
        /// oscal-catalog, oscal-profile, ciso-assistant or csv (guessed from the file when absent).
        #[arg(long)]
        format: Option<String>,
        /// For a profile: a catalog it imports (repeatable); local imports are found beside the profile.
        #[arg(long = "catalog")]
        catalogs: Vec<std::path::PathBuf>,
        /// The id to store the framework under (default: from the file; one file only).
        #[arg(long)]
        id: Option<String>,
        /// Replace a framework with the same id imported from another file.
        #[arg(long)]
        replace: bool,
        /// For each preset among the files: once every file is imported, enable what it
        /// bundles for this organisation (its slug) and report each item.
        #[arg(long = "enable-for", value_name = "ORG")]
        enable_for: Option<String>,
    },
    /// List the installed libraries: version, provider, last update, what each holds.
    Libraries,
    /// Enable for an organisation what an installed preset library bundles, in one step.
    EnablePreset {
        /// The preset library's URN.
        urn: String,
        /// The organisation's slug.
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand)]
enum MappingCommand {
    /// Import mappings from a CSV (source_framework,source_ref,target_framework,target_ref,relationship,note) or a CISO Assistant mapping library.
    Import { file: std::path::PathBuf },
    /// Show what a requirement maps to, in both directions.
    Show {
        /// The framework's id, e.g. nist-csf-2.0.
        framework: String,
        /// The requirement's ref id, e.g. PR.AA-01.
        #[arg(name = "REF")]
        reference: String,
    },
}

#[derive(Subcommand)]
enum RiskCommand {
    /// FAIR-style Monte Carlo simulation of annual loss (input: YAML or JSON; see the README).
    Simulate(isms_fair::cli::SimulateArgs),
    /// Import risks from CSV; every bad row is named and nothing is stored unless all are good.
    Import(risk_cmds::ImportArgs),
}

#[derive(Subcommand)]
enum AssetCommand {
    /// Import assets from CSV (name,type[,description,owner,location,classification]).
    Import(risk_cmds::ImportArgs),
}

#[derive(Subcommand)]
enum OscalCommand {
    /// Check an OSCAL JSON/XML document against the OSCAL 1.1.2 schema.
    Validate(isms_oscal::cli::ValidateArgs),
    /// Resolve an OSCAL profile against its catalog(s) into a resolved catalog.
    Resolve(isms_oscal::cli::ResolveArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every organisation's hash chain; exits non-zero if any is broken.
    Verify,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Offline commands need neither a database nor an async runtime.
    match &cli.command {
        Command::Risk(RiskCommand::Simulate(args)) => {
            return report(isms_fair::cli::run_simulate(args));
        }
        Command::Oscal(OscalCommand::Validate(args)) => {
            return match isms_oscal::cli::run_validate(args) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(e) => report(Err(e)),
            };
        }
        Command::Oscal(OscalCommand::Resolve(args)) => {
            return report(isms_oscal::cli::run_resolve(args));
        }
        _ => {}
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in log files or journals.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn open(url: &str) -> anyhow::Result<Store> {
    Ok(Store::open(url).await?)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve(&cli.database, args).await,
        Command::Migrate => {
            let store = Store::connect(&cli.database).await?;
            let ran = store.migrate().await?;
            println!(
                "{ran} migration(s) applied; the schema of {} is up to date",
                isms_store::redact_url(&cli.database)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Org(OrgCommand::Create { name }) => {
            let store = open(&cli.database).await?;
            let org = store.create_org(&name, &Actor::cli()).await?;
            println!("{}", org.slug);
            Ok(ExitCode::SUCCESS)
        }
        Command::Org(OrgCommand::List) => {
            let store = open(&cli.database).await?;
            for o in store.list_orgs().await? {
                println!("{}\t{}", o.slug, o.name);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Add {
            email,
            org,
            role,
            password_stdin,
            name,
        }) => {
            let role: Role = role.parse()?;
            let email =
                isms_domain::password::normalise_email(&email).map_err(anyhow::Error::msg)?;
            let store = open(&cli.database).await?;
            let org = store.require_org(&org).await?;
            let exists = store.user_by_email(&email).await?.is_some();
            let hash = if password_stdin {
                let mut password = String::new();
                std::io::stdin()
                    .read_to_string(&mut password)
                    .context("cannot read the password from standard input")?;
                let password = password.trim_end_matches(['\n', '\r']);
                isms_domain::password::check_new_password(password, &email)?;
                isms_domain::password::hash_password(password)
            } else if exists {
                String::from("!")
            } else {
                bail!(
                    "a new account needs a password: pipe it in and pass --password-stdin, e.g. `printf '%s' \"$PW\" | isms user add {email} --org {} --role {role} --password-stdin`",
                    org.slug
                );
            };
            let (user, created) = store
                .add_member(org.id, &email, &name, &hash, role, &Actor::cli())
                .await?;
            if created {
                println!("created {} as {role} in {}", user.email, org.slug);
            } else {
                println!(
                    "added the existing account {} as {role} in {} (their password is unchanged)",
                    user.email, org.slug
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::List { org }) => {
            let store = open(&cli.database).await?;
            let org = store.require_org(&org).await?;
            for m in store.members(org.id).await? {
                let state = if m.active { "active" } else { "deactivated" };
                println!("{}\t{}\t{}", m.email, m.role, state);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Create { email, org, name }) => {
            let store = open(&cli.database).await?;
            let org = store.require_org(&org).await?;
            let user = store
                .user_by_email(&email)
                .await?
                .with_context(|| format!("no user {email}: add them with `isms user add`"))?;
            let (_, secret) = store
                .create_token(org.id, user.id, &name, &Actor::cli())
                .await?;
            println!("{secret}");
            eprintln!("Keep this token secret: it is shown only once.");
            Ok(ExitCode::SUCCESS)
        }
        Command::AuditLog(AuditCommand::Verify) => {
            let store = open(&cli.database).await?;
            let reports = store.verify_audit_log().await?;
            let mut broken = 0;
            for r in &reports {
                match &r.problem {
                    None => println!("ok\t{}\t{} entries", r.org_slug, r.entries),
                    Some(p) => {
                        broken += 1;
                        println!("BROKEN\t{}\t{p}", r.org_slug);
                    }
                }
            }
            if broken > 0 {
                eprintln!(
                    "error: the audit log of {broken} organisation(s) does not verify: it was altered outside isms"
                );
                return Ok(ExitCode::FAILURE);
            }
            println!("all {} audit chain(s) intact", reports.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Framework(cmd) => frameworks::run(&open(&cli.database).await?, cmd).await,
        Command::Report(cmd) => isms_cmds::run_report(&open(&cli.database).await?, cmd).await,
        Command::Readiness(args) => {
            isms_cmds::run_readiness(&open(&cli.database).await?, args).await
        }
        Command::Mapping(cmd) => frameworks::run_mapping(&open(&cli.database).await?, cmd).await,
        Command::Risk(RiskCommand::Import(args)) => {
            risk_cmds::run_risk_import(&open(&cli.database).await?, &args).await
        }
        Command::Tasks(args) => tasks_cmds::run_tasks(&open(&cli.database).await?, args).await,
        Command::Notify(cmd) => tasks_cmds::run_notify(&open(&cli.database).await?, cmd).await,
        Command::Doc(cmd) => doc_cmds::run(&open(&cli.database).await?, cmd).await,
        Command::Asset(AssetCommand::Import(args)) => {
            risk_cmds::run_asset_import(&open(&cli.database).await?, &args).await
        }
        Command::Training(cmd) => training_cmds::run(&open(&cli.database).await?, cmd).await,
        Command::Control(cmd) => controls_cmds::run_control(&open(&cli.database).await?, cmd).await,
        Command::Metric(cmd) => controls_cmds::run_metric(&open(&cli.database).await?, cmd).await,
        Command::Risk(RiskCommand::Simulate(_)) | Command::Oscal(_) => {
            unreachable!("handled before the runtime starts")
        }
        Command::Backup { path, blobs } => {
            let blob_copy = isms_store::backup_blob_dir(&path);
            if std::path::Path::new(&path).exists() {
                bail!("{path} already exists: choose a new file name");
            }
            if blob_copy.exists() {
                bail!(
                    "{} already exists: choose a new file name",
                    blob_copy.display()
                );
            }
            let store = open(&cli.database).await?;
            let source = blobs.dir(&store)?;
            eprintln!("backing up {} ...", isms_store::redact_url(&cli.database));
            let copied = store.backup(&path).await?;
            if copied.rows > 0 {
                println!(
                    "backed up {} rows of {} tables to {path}",
                    copied.rows, copied.tables
                );
            } else {
                println!("backed up {} tables to {path}", copied.tables);
            }
            if let Some(source) = source {
                // The files the backup's rows name (its own snapshot).
                let backup = isms_store::Store::open_backup(&path).await?;
                let hashes = backup.evidence_hashes().await;
                backup.close().await;
                let result = hashes.map_err(anyhow::Error::from).and_then(|h| {
                    let done = isms_store::copy_blobs(&h, &source, &blob_copy)?;
                    if let Some(first) = done.missing.first() {
                        bail!(
                            "{} evidence file(s) the database names are missing from {} (first: {first}); no backup was written. Run with --without-blobs to back up the database alone",
                            done.missing.len(),
                            source.display()
                        );
                    }
                    Ok(done)
                });
                match result {
                    Ok(done) => println!(
                        "backed up {} evidence files ({}) to {}, each SHA-256 checked",
                        done.copied.len(),
                        isms_web::controls::blobs::human_size(done.bytes),
                        blob_copy.display()
                    ),
                    Err(e) => {
                        // Nothing half-written: the backup goes with its files.
                        let _ = std::fs::remove_file(&path);
                        let _ = std::fs::remove_dir_all(&blob_copy);
                        return Err(e);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { path, force, blobs } => {
            let backup = isms_store::Store::open_backup(&path)
                .await
                .with_context(|| format!("cannot read the backup {path}"))?;
            let store = open(&cli.database).await?;
            let target = blobs.dir(&store)?;
            // The evidence files first (each SHA-256 checked), so a backup
            // whose files are damaged or missing restores nothing.
            let mut placed = None;
            if let Some(target) = &target {
                let hashes = backup.evidence_hashes().await.map_err(|_| {
                    anyhow::anyhow!(
                        "not an isms backup: the file has no isms schema (it was not written by `isms backup`)"
                    )
                })?;
                let from = isms_store::backup_blob_dir(&path);
                let done = isms_store::copy_blobs(&hashes, &from, target)?;
                if let Some(first) = done.missing.first() {
                    for sha in &done.copied {
                        let _ = std::fs::remove_file(target.join(sha));
                    }
                    bail!(
                        "{} evidence file(s) the backup names are in neither {} nor {} (first: {first}); nothing was restored. Run with --without-blobs to restore the database alone",
                        done.missing.len(),
                        from.display(),
                        target.display()
                    );
                }
                placed = Some(done);
            }
            eprintln!(
                "restoring {path} into {} ...",
                isms_store::redact_url(&cli.database)
            );
            let copied = match store.restore_from(&backup, force).await {
                Ok(c) => c,
                Err(e) => {
                    // The files copied for this restore go again.
                    if let (Some(done), Some(target)) = (&placed, &target) {
                        for sha in &done.copied {
                            let _ = std::fs::remove_file(target.join(sha));
                        }
                    }
                    return Err(e.into());
                }
            };
            backup.close().await;
            println!(
                "restored {} rows of {} tables from {path}; check it with `isms audit-log verify`",
                copied.rows, copied.tables
            );
            if let (Some(done), Some(target)) = (placed, target) {
                println!(
                    "restored {} evidence files ({}, each SHA-256 checked) into {}; {} were there already",
                    done.copied.len(),
                    isms_web::controls::blobs::human_size(done.bytes),
                    target.display(),
                    done.present
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(database: &str, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Bad mail settings stop the start with one line, before anything else.
    let mailer = args.mail.mailer()?;
    let store = open(database).await?;
    let s3 = args.s3.settings();
    let blob_store = args
        .blob_store
        .as_deref()
        .map(|url| isms_web::controls::blobs::BlobStore::from_url_with(url, &s3))
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))?;
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: is another program using it? Choose another with --bind",
                args.bind
            )
        })?;
    let addr = listener.local_addr()?;
    let config = isms_web::Config {
        behind_tls_proxy: args.behind_tls_proxy,
        trusted_proxy_hops: usize::try_from(args.trusted_proxy_hops).unwrap_or(1),
        session_idle: std::time::Duration::from_secs(args.session_idle_minutes * 60),
        // Unset: calendar feed links follow the request's host (right
        // behind a proxy), e-mail links the listening address.
        public_url: args.mail.public_url.clone(),
        mailer,
        reminder_interval: (args.reminder_minutes > 0)
            .then(|| std::time::Duration::from_secs(args.reminder_minutes * 60)),
        blob_store,
        max_upload_bytes: args.max_upload_mb * 1024 * 1024,
        ..isms_web::Config::default()
    };
    println!(
        "isms is listening on http://{addr} (database: {})",
        isms_store::redact_url(database)
    );
    if store.count_users().await? == 0 {
        let token = store
            .create_setup_token(&isms_store::time_from_now(time::Duration::hours(24)))
            .await?;
        println!(
            "No users yet. Open this one-time link within 24 hours to create your organisation and first administrator:"
        );
        println!("  http://{addr}/setup?token={token}");
        println!("(or use `isms org create` and `isms user add --password-stdin`)");
    }
    isms_web::serve(listener, store.clone(), config).await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
