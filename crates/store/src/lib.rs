//! Storage for isms: one interface, SQLite and PostgreSQL behind it.
//!
//! The engine is chosen from the database URL at run time. Queries are plain
//! SQL with `$1` placeholders, which both sqlx drivers accept, dispatched by
//! the [`on_pool!`] and [`on_tx!`] macros so each is written once.
//! Every row of tenant data carries its organisation id and every query that
//! reads tenant data filters by it.

mod audit;
mod backup;
mod context;
mod control_reports;
mod controls;
mod document;
mod due;
mod fair;
mod frameworks;
mod gap;
mod internal_audit;
mod invitations;
mod library;
mod management_review;
mod metrics;
mod migrate;
mod nonconformity;
mod notifications;
mod orgs;
mod ratelimit;
mod readiness;
mod risk;
mod risk_quantitative;
mod sessions;
mod settings;
mod soa;
mod tasks;
mod tokens;
mod training;
mod users;
mod versioned;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use audit::{Actor, AuditEntry, AuditFilter, ChainReport, Via};
pub use backup::{BlobCopy, CopySummary, backup_blob_dir, copy_blobs};
pub use context::{CONTEXT_KINDS, ContextInput, ContextItem, Scope, ScopeInput};
pub use control_reports::ControlFacts;
pub use controls::{
    AppliedControl, ControlInput, ControlRef, ControlReview, CoverageRow, Covered, Evidence,
    EvidenceInput, EvidenceRevision, FrameworkCoverage, LinkedRequirement, OverdueReview,
    RequirementKey, ReviewInput as ControlReviewInput, StoredFile,
};
pub use document::{
    AckRecord, AckStatus, Acknowledgement, DocVersion, Document, DocumentInput, DocumentQuery,
    DocumentSettings, DraftInput, MAX_BODY, PersonAcks, Reminded, ToRead,
};
pub use due::DueItem;
pub use fair::FairScenario;
pub use frameworks::{
    FrameworkRow, ImportSummary, LibraryMeta, MappedRequirement, RefLookup, RequirementRow, Tenant,
};
pub use gap::{
    GAP_STATUSES, GapAssessment, GapEntry, GapMove, GapPatch, GapProgress, GapRequirement,
    gap_progress, gap_requirements, gap_status_label,
};
pub use internal_audit::{
    Audit, AuditInput, AuditPatch, AuditSummary, ChecklistItem, Finding, FindingEvidence,
    FindingInput, shown_ref, soa_control,
};
pub use invitations::{Invitation, OpenedInvitation};
pub use library::{
    InstalledLibrary, LibraryReport, LibraryThreat, MethodologyTemplate, MetricTemplate,
    PresetItem, ReferenceMeasure, methodology_from_matrix,
};
pub use management_review::{
    Decision, DecisionInput, InputContext, ManagementReview, ReviewAction, ReviewActionInput,
    ReviewInput, ReviewSummary,
};
pub use metrics::{
    Measurement, MeasurementInput, MeasurementRow, Metric, MetricInput, STARTER_METRICS,
};
pub use migrate::MIGRATION_COUNT;
pub use nonconformity::{
    NcAction, NcActionInput, NcFilter, NcInput, NcSummary, Nonconformity, Verification,
};
pub use notifications::{INBOX_PAGE, NewNotification, Notification};
pub use orgs::{DashboardCounts, Org};
pub use readiness::{Readiness, ReadinessItem, ReadinessState};
pub use risk::{
    Acceptance, ActionInput, Asset, AssetInput, AssetQuery, CursorFilter, HeatCells,
    ImportAssetRow, ImportOutcome, ImportRiskRow, MAX_PAGE, MethodologyChange, PlanCounts, Risk,
    RiskAction, RiskCursor, RiskInput, RiskPage, RiskQuery, RiskRef, RiskSnapshotInfo, RiskSort,
    RowError, register_key,
};
pub use risk_quantitative::{MAX_PORTFOLIO, QuantFigures, RiskQuantitative};
pub use sessions::{Session, SessionUser};
pub use settings::{
    CURRENCIES, DEFAULT_CURRENCY, DEFAULT_TIME_ZONE, OrgSettings, OrgSettingsInput, check_currency,
    check_time_zone, currency_symbol,
};
pub use soa::{
    ANNEX_A_CONTROL_COUNT, ControlDiff, FieldChange, SOA_REASONS, SOA_STATUSES, SoaEntry, SoaPatch,
    SoaSummary, SoaUpdate, SoaVersion, SoaVersionInfo, soa_label,
};
pub use tasks::{
    DigestClaim, FEED_PREFIX, FeedOwner, PhaseProgress, Roadmap, RoadmapStep, SchedulerLock,
    StepPlanInput, Task, TaskInput,
};
pub use tokens::{TOKEN_PREFIX, TokenInfo, TokenUser};
pub use training::{
    AssignOutcome, Assignment, AssignmentFilter, AssignmentInput, CompetenceInput,
    CompetenceRecord, CompetenceRequirement, Course, CourseInput, CourseSummary, PersonCompetence,
    RequirementInput, Submission, TrainingRecord, today as training_today,
};
pub use users::{Member, User};

/// Errors of the storage layer. Database errors keep their source for logs;
/// the others say what the caller did wrong.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {url}: {reason}")]
    Open { url: String, reason: String },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error(
        "the database is at schema version {found}, newer than this isms binary knows ({known}): upgrade isms"
    )]
    TooNew { found: i64, known: i64 },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The one handle to storage, cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// Where files go when no blob store is configured: a folder beside
    /// the SQLite file (`isms.db` -> `isms-blobs`), or `isms-blobs` in the
    /// working directory for PostgreSQL.
    default_blob_dir: std::path::PathBuf,
}

/// A write transaction on either engine.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// The bind placeholder of the `n`th parameter (from 1) of a generated multi-row
    /// statement: `?` on SQLite, `$n` on PostgreSQL. sqlx looks up the name of every
    /// parameter of a SQLite statement, and SQLite finds a name by scanning them all: with
    /// named `$n` a statement of thousands of parameters costs time quadratic in their
    /// number (most of a library import went there); anonymous `?` are bound in order
    /// without the scan. Parameters must then be bound in the order they appear.
    pub(crate) fn placeholder(&self, n: usize) -> String {
        match self {
            Tx::Sqlite(_) => "?".to_owned(),
            Tx::Postgres(_) => format!("${n}"),
        }
    }
}

/// Runs `$body` with `$p` bound to the concrete pool of either engine.
macro_rules! on_pool {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}
/// Runs `$body` with `$c` bound to the connection of either engine's transaction.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use {on_pool, on_tx};

impl Tx {
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

fn default_blob_dir(url: &str) -> std::path::PathBuf {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or_default())
        .filter(|p| !p.is_empty() && !p.contains(":memory:"));
    match path {
        Some(p) => {
            let p = std::path::Path::new(p);
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("isms");
            p.with_file_name(format!("{stem}-blobs"))
        }
        None => std::path::PathBuf::from("isms-blobs"),
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

impl Store {
    /// Opens (and for SQLite creates) the database at `url` and brings its
    /// schema up to date.
    pub async fn open(url: &str) -> Result<Store> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        store.seed_builtin_frameworks().await?;
        Ok(store)
    }

    /// Opens the database without migrating.
    pub async fn connect(url: &str) -> Result<Store> {
        let open_err = |reason: String| StoreError::Open {
            url: redact_url(url),
            reason,
        };
        let pool = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| open_err(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // 16 MiB of page cache per connection (SQLite's default is
                // 2 MiB): a filtered register page over 100,000 risks reads
                // a few MiB of index and rows, and with the default cache
                // every view read them again from the file.
                .pragma("cache_size", "-16384");
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .min_connections(1)
                .connect_with(opts)
                .await
                .map_err(|e| open_err(e.to_string()))?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url).map_err(|e| open_err(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .map_err(|e| open_err(e.to_string()))?;
            Pool::Postgres(pool)
        } else {
            return Err(open_err(
                "unsupported scheme: use sqlite://PATH or postgres://USER@HOST/DB".into(),
            ));
        };
        Ok(Store {
            pool,
            default_blob_dir: default_blob_dir(url),
        })
    }

    /// The folder for evidence files when none is configured.
    pub fn default_blob_dir(&self) -> &std::path::Path {
        &self.default_blob_dir
    }

    /// "sqlite" or "postgres".
    pub fn engine(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Answers when the database can run a query.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Starts a write transaction. SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`) so that a transaction never fails half-way when it
    /// upgrades from reading to writing.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Starts a read-only transaction (a consistent view of several reads;
    /// on SQLite it does not take the write lock).
    pub(crate) async fn begin_read(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        on_pool!(self, |p| p.close().await);
    }

    /// Test support: runs raw SQL (used to simulate tampering in tests).
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        let r = on_pool!(self, |p| sqlx::query(sql)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(r)
    }

    /// Test support: the first column of a raw query's rows, as text.
    #[doc(hidden)]
    pub async fn query_strings(&self, sql: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, |p| sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }
}

/// The current time as fixed-width RFC 3339 UTC text (sorts as it reads).
pub fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

pub(crate) fn format_time(t: time::OffsetDateTime) -> String {
    const FMT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(FMT)
        .unwrap_or_default()
}

/// `now` shifted by `d` (which may be negative), in the same format.
pub fn time_from_now(d: time::Duration) -> String {
    format_time(time::OffsetDateTime::now_utc() + d)
}

/// A random secret of `bytes` bytes, URL-safe hex.
pub fn random_token(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// SHA-256 (hex) of a high-entropy secret: tokens are stored only as this.
pub fn hash_token(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
