//! Versioned schema migrations, embedded in the binary, one set per engine
//! with the same numbers. Each runs in its own transaction; a database that
//! has a migration this binary does not know is refused.

use crate::{Pool, Result, Store, StoreError, on_pool};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! migration {
    ($v:expr, $name:literal) => {
        Migration {
            version: $v,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_foundation"),
    migration!(2, "0002_frameworks"),
    migration!(3, "0003_isms"),
    migration!(4, "0004_fair"),
    migration!(5, "0005_secrets"),
    migration!(6, "0006_framework_tenancy"),
    migration!(7, "0007_invitations"),
    migration!(8, "0008_risk"),
    migration!(9, "0009_org_settings"),
    migration!(10, "0010_notifications"),
    migration!(11, "0011_controls"),
    migration!(12, "0012_documents"),
    migration!(13, "0013_training"),
    migration!(14, "0014_internal_audit"),
    migration!(15, "0015_tasks"),
    migration!(16, "0016_library_urns"),
    migration!(17, "0017_risk_quantitative"),
    migration!(18, "0018_document_reading"),
    migration!(19, "0019_audit_evidence_sources"),
    migration!(20, "0020_risk_search"),
    migration!(21, "0021_reference_measures"),
    migration!(22, "0022_risk_heat"),
];

/// How many migrations this binary carries.
pub const MIGRATION_COUNT: usize = MIGRATIONS.len();

/// A constant key for the PostgreSQL advisory lock that serialises
/// migrations when several instances start at once.
const PG_MIGRATION_LOCK: i64 = 0x0069_736d_736d_6967;

impl Store {
    /// Applies every migration not yet applied. Returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        on_pool!(self, |p| {
            sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        .execute(p)
        .await.map(|r| r.rows_affected())
        })?;
        if let Pool::Postgres(p) = &self.pool {
            // Hold the lock on one connection for the whole run.
            let mut conn = p.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(PG_MIGRATION_LOCK)
                .execute(&mut *conn)
                .await?;
            let result = self.apply_pending().await;
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(PG_MIGRATION_LOCK)
                .execute(&mut *conn)
                .await?;
            return result;
        }
        self.apply_pending().await
    }

    async fn apply_pending(&self) -> Result<usize> {
        let applied: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT version FROM schema_migrations ORDER BY version"
        )
        .fetch_all(p)
        .await)?;
        let known = MIGRATIONS.last().map_or(0, |m| m.version);
        if let Some(&(found,)) = applied.last()
            && found > known
        {
            return Err(StoreError::TooNew { found, known });
        }
        let mut ran = 0;
        for m in MIGRATIONS {
            if applied.iter().any(|&(v,)| v == m.version) {
                continue;
            }
            let mut tx = self.begin().await?;
            match &mut tx {
                crate::Tx::Sqlite(t) => {
                    sqlx::raw_sql(m.sqlite).execute(&mut **t).await?;
                }
                crate::Tx::Postgres(t) => {
                    sqlx::raw_sql(m.postgres).execute(&mut **t).await?;
                }
            }
            crate::on_tx!(&mut tx, |c| sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)"
            )
            .bind(m.version)
            .bind(m.name)
            .bind(crate::now())
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
            tx.commit().await?;
            tracing::info!(version = m.version, name = m.name, "applied migration");
            ran += 1;
        }
        Ok(ran)
    }

    /// The tables and their columns, sorted, for comparing the two engines' schemas.
    pub async fn schema_outline(&self) -> Result<Vec<(String, String)>> {
        let mut cols: Vec<(String, String)> =
            match &self.pool {
                Pool::Sqlite(p) => sqlx::query_as(
                    "SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                     AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%' \
                       AND (m.name = v.name OR substr(m.name, 1, length(v.name) + 1) = v.name || '_'))",
                )
                .fetch_all(p)
                .await?,
                Pool::Postgres(p) => sqlx::query_as(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema()",
                )
                .fetch_all(p)
                .await?,
            };
        cols.sort();
        Ok(cols)
    }
}
