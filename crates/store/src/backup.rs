//! Backup and restore on both engines, through one copy routine.
//!
//! A backup is always a SQLite database file: `VACUUM INTO` for a SQLite
//! installation, and for PostgreSQL a copy of every isms table read in one
//! `REPEATABLE READ` snapshot into a new SQLite file with the same schema.
//! So a backup opens with `isms serve --database sqlite://FILE`, and
//! `isms restore FILE` copies it into a database of either engine, which is
//! also how an installation moves from SQLite to PostgreSQL.
//!
//! The copy is generic over the schema: tables in foreign-key order, values
//! read with their stored types and bound with the types the target declares,
//! all rows in one transaction on the target (nothing half-written), and
//! identity counters moved past the copied ids.
//!
//! Evidence files (a folder blob store) go beside the backup, in the folder
//! `FILE.blobs`, named by their SHA-256 like in the store; [`copy_blobs`]
//! checks every file's SHA-256 as it copies it, both ways.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::str::FromStr;

use sqlx::postgres::PgRow;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteRow};
use sqlx::{Column, Row, TypeInfo, ValueRef};

use crate::{Pool, Result, Store, StoreError, Tx, on_tx};

/// How many values one INSERT statement binds at most.
const VALUES_PER_INSERT: usize = 900;

/// One stored value, independent of the engine.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// The type a target column declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColType {
    Int,
    Bool,
    Real,
    Text,
    Blob,
}

impl ColType {
    /// From a declared type (SQLite) or `data_type` (PostgreSQL).
    fn parse(declared: &str) -> Option<ColType> {
        let d = declared.to_ascii_lowercase();
        Some(if d.contains("bool") {
            ColType::Bool
        } else if d.contains("int") {
            ColType::Int
        } else if d.contains("real") || d.contains("double") || d.contains("float") {
            ColType::Real
        } else if d.contains("text") || d.contains("char") {
            ColType::Text
        } else if d.contains("blob") || d.contains("bytea") {
            ColType::Blob
        } else {
            return None;
        })
    }
}

/// What a restore or a backup copied.
#[derive(Debug, Clone, Default)]
pub struct CopySummary {
    pub tables: usize,
    pub rows: u64,
}

/// A table of the target: its columns with their types.
#[derive(Debug, Clone)]
struct TableShape {
    name: String,
    columns: Vec<(String, ColType)>,
}

impl Store {
    /// Opens a backup file to read from, without creating or migrating it.
    pub async fn open_backup(path: &str) -> Result<Store> {
        let open_err = |reason: String| StoreError::Open {
            url: path.to_owned(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|e| open_err(e.to_string()))?;
        if !meta.is_file() {
            return Err(open_err("not a file".into()));
        }
        let mut head = [0u8; 16];
        {
            use std::io::Read;
            let mut f = std::fs::File::open(path).map_err(|e| open_err(e.to_string()))?;
            f.read_exact(&mut head)
                .map_err(|_| open_err("not an isms backup (too short)".into()))?;
        }
        if &head != b"SQLite format 3\0" {
            return Err(open_err(
                "not an isms backup: a backup is the SQLite file written by `isms backup`".into(),
            ));
        }
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(|e| open_err(e.to_string()))?
            .create_if_missing(false);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        Ok(Store {
            pool: Pool::Sqlite(pool),
            default_blob_dir: crate::default_blob_dir(&format!("sqlite://{path}")),
        })
    }

    /// Writes a consistent backup of this database to the new SQLite file
    /// `path` (refused if it exists). Returns what was copied; for SQLite
    /// sources the whole file is copied at once and only `tables` is counted.
    pub async fn backup(&self, path: &str) -> Result<CopySummary> {
        if std::path::Path::new(path).exists() {
            return Err(StoreError::Invalid(format!(
                "{path} exists: a backup never overwrites a file; choose a new name"
            )));
        }
        match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query("VACUUM INTO $1").bind(path).execute(p).await?;
                let tables = self.table_shapes().await?.len();
                Ok(CopySummary { tables, rows: 0 })
            }
            Pool::Postgres(_) => {
                let target = Store::open(&format!("sqlite://{path}")).await?;
                let result = copy_all(self, &target).await;
                target.close().await;
                if result.is_err() {
                    let _ = std::fs::remove_file(path);
                    let _ = std::fs::remove_file(format!("{path}-wal"));
                    let _ = std::fs::remove_file(format!("{path}-shm"));
                }
                result
            }
        }
    }

    /// Replaces the content of this database with the backup `from`. Refused
    /// when this database holds organisations or users, unless `force`.
    pub async fn restore_from(&self, from: &Store, force: bool) -> Result<CopySummary> {
        if !force {
            let (orgs,): (i64,) = crate::on_pool!(self, |p| sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM organisations) + (SELECT COUNT(*) FROM users)"
            )
            .fetch_one(p)
            .await)?;
            if orgs > 0 {
                return Err(StoreError::Conflict(
                    "the target database is not empty (it has organisations or users): restore into a new database, or pass --force to replace everything in it".into(),
                ));
            }
        }
        copy_all(from, self).await
    }

    /// The numbers of the migrations applied.
    async fn applied_migrations(&self) -> Result<BTreeSet<i64>> {
        let rows: Vec<(i64,)> = crate::on_pool!(self, |p| sqlx::query_as(
            "SELECT version FROM schema_migrations"
        )
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }

    /// The SHA-256 of every evidence file this database names, in order.
    pub async fn evidence_hashes(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = crate::on_pool!(self, |p| sqlx::query_as(
            "SELECT DISTINCT sha256 FROM evidence_revisions ORDER BY sha256"
        )
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(h,)| h).collect())
    }

    /// Every isms table (not the migration ledger) with its columns.
    async fn table_shapes(&self) -> Result<Vec<TableShape>> {
        let rows: Vec<(String, String, String)> = match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query_as(
                    "SELECT m.name, c.name, c.type FROM sqlite_master m JOIN pragma_table_info(m.name) c \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'schema_migrations' \
                     AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%' \
                       AND (m.name = v.name OR substr(m.name, 1, length(v.name) + 1) = v.name || '_')) \
                     ORDER BY m.name, c.cid",
                )
                .fetch_all(p)
                .await?
            }
            Pool::Postgres(p) => {
                sqlx::query_as(
                    "SELECT c.table_name::text, c.column_name::text, c.data_type::text FROM information_schema.columns c \
                     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
                       AND c.table_name <> 'schema_migrations' \
                     ORDER BY c.table_name, c.ordinal_position",
                )
                .fetch_all(p)
                .await?
            }
        };
        let mut shapes: Vec<TableShape> = Vec::new();
        for (table, column, declared) in rows {
            if DERIVED_TABLES.contains(&table.as_str()) {
                continue;
            }
            let ty = ColType::parse(&declared).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "{table}.{column}: the type '{declared}' cannot be copied"
                ))
            })?;
            match shapes.last_mut() {
                Some(s) if s.name == table => s.columns.push((column, ty)),
                _ => shapes.push(TableShape {
                    name: table,
                    columns: vec![(column, ty)],
                }),
            }
        }
        Ok(shapes)
    }

    /// (table, the table it references) for every foreign key.
    async fn foreign_keys(&self) -> Result<Vec<(String, String)>> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query_as(
                    "SELECT m.name, f.\"table\" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
                     WHERE m.type = 'table'",
                )
                .fetch_all(p)
                .await?
            }
            Pool::Postgres(p) => {
                sqlx::query_as(
                    "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c \
                     WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
                )
                .fetch_all(p)
                .await?
            }
        })
    }

    /// Starts a read-only transaction that sees one consistent snapshot.
    async fn begin_snapshot(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN DEFERRED").await?),
            Pool::Postgres(p) => Tx::Postgres(
                p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }
}

/// Why two sets of applied migrations differ, if they do (the migrations
/// are compared one by one, not by the highest number: branches merged in
/// any order may leave the same highest number over different sets).
fn migrations_differ(backup: &BTreeSet<i64>, here: &BTreeSet<i64>) -> Option<String> {
    let list = |s: Vec<&i64>| {
        s.iter()
            .map(|v| format!("{v:04}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let only_backup: Vec<&i64> = backup.difference(here).collect();
    let only_here: Vec<&i64> = here.difference(backup).collect();
    let mut why = Vec::new();
    if !only_here.is_empty() {
        why.push(format!(
            "the backup lacks migration {} that this isms has",
            list(only_here)
        ));
    }
    if !only_backup.is_empty() {
        why.push(format!(
            "the backup has migration {} that this isms does not know",
            list(only_backup)
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// The folder of a backup's evidence files: `FILE.blobs` beside `FILE`.
pub fn backup_blob_dir(path: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{path}.blobs"))
}

/// What [`copy_blobs`] did.
#[derive(Debug, Clone, Default)]
pub struct BlobCopy {
    /// Files copied (each one's SHA-256 checked).
    pub copied: Vec<String>,
    /// Files the target held already (same name, so same content).
    pub present: usize,
    /// Files found in neither folder.
    pub missing: Vec<String>,
    /// Bytes copied.
    pub bytes: u64,
}

/// Copies the evidence files `hashes` from the folder `from` to the folder
/// `to` (created if needed), reading each one once: its SHA-256 is computed
/// while it is copied to a temporary file, and only a file whose bytes match
/// its name is renamed into place. A mismatch stops the copy with an error
/// naming the file (what was copied before stays: content-addressed files
/// are never wrong). Files `to` holds already are kept; files `from` lacks
/// are listed in [`BlobCopy::missing`].
pub fn copy_blobs(
    hashes: &[String],
    from: &std::path::Path,
    to: &std::path::Path,
) -> Result<BlobCopy> {
    use sha2::Digest as _;
    use std::io::{Read as _, Write as _};
    let io = |what: String, e: std::io::Error| StoreError::Invalid(format!("{what}: {e}"));
    let mut done = BlobCopy::default();
    let tmp_dir = to.join(".tmp");
    for sha in hashes {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Invalid(format!(
                "evidence file name '{sha}' is not a SHA-256"
            )));
        }
        let target = to.join(sha);
        if target.exists() {
            done.present += 1;
            continue;
        }
        let source = from.join(sha);
        let mut input = match std::fs::File::open(&source) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                done.missing.push(sha.clone());
                continue;
            }
            Err(e) => return Err(io(source.display().to_string(), e)),
        };
        std::fs::create_dir_all(&tmp_dir).map_err(|e| io(tmp_dir.display().to_string(), e))?;
        let tmp = tmp_dir.join(format!("copy-{}", crate::random_token(12)));
        let copied = (|| -> std::io::Result<(String, u64)> {
            let mut out =
                std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(&tmp)?);
            let mut h = sha2::Sha256::new();
            let mut buf = vec![0u8; 256 * 1024];
            let mut n_total = 0u64;
            loop {
                let n = input.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
                out.write_all(&buf[..n])?;
                n_total += n as u64;
            }
            out.into_inner()
                .map_err(std::io::IntoInnerError::into_error)?
                .sync_all()?;
            Ok((hex::encode(h.finalize()), n_total))
        })();
        let (actual, n) = match copied {
            Ok(x) => x,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(io(source.display().to_string(), e));
            }
        };
        if !actual.eq_ignore_ascii_case(sha) {
            let _ = std::fs::remove_file(&tmp);
            return Err(StoreError::Invalid(format!(
                "evidence file {} is damaged: its bytes hash to {actual}, not to its name; nothing more was copied",
                source.display()
            )));
        }
        std::fs::rename(&tmp, &target).map_err(|e| io(target.display().to_string(), e))?;
        done.copied.push(sha.clone());
        done.bytes += n;
    }
    let _ = std::fs::remove_dir(&tmp_dir);
    Ok(done)
}

/// Parents before children; ties by name, so the order is stable.
fn dependency_order(tables: &[String], fks: &[(String, String)]) -> Result<Vec<String>> {
    let known: BTreeSet<&str> = tables.iter().map(String::as_str).collect();
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|t| (t.as_str(), BTreeSet::new()))
        .collect();
    for (child, parent) in fks {
        if child != parent && known.contains(parent.as_str()) {
            if let Some(p) = parents.get_mut(child.as_str()) {
                p.insert(parent.as_str());
            }
        }
    }
    let mut order = Vec::with_capacity(tables.len());
    let mut done: BTreeSet<&str> = BTreeSet::new();
    while order.len() < tables.len() {
        let ready: Vec<&str> = parents
            .iter()
            .filter(|(t, ps)| !done.contains(*t) && ps.iter().all(|p| done.contains(p)))
            .map(|(t, _)| *t)
            .collect();
        if ready.is_empty() {
            return Err(StoreError::Invalid(
                "the tables' foreign keys form a cycle: cannot order the copy".into(),
            ));
        }
        for t in ready {
            done.insert(t);
            order.push(t.to_owned());
        }
    }
    Ok(order)
}

fn sqlite_val(row: &SqliteRow, i: usize) -> Result<Val> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Val::Null);
    }
    let kind = raw.type_info().name().to_owned();
    Ok(match kind.as_str() {
        "INTEGER" | "BOOLEAN" => Val::Int(row.try_get(i)?),
        "REAL" => Val::Real(row.try_get(i)?),
        "BLOB" => Val::Blob(row.try_get(i)?),
        _ => Val::Text(row.try_get(i)?),
    })
}

fn pg_val(row: &PgRow, i: usize) -> Result<Val> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Val::Null);
    }
    let kind = raw.type_info().name().to_owned();
    Ok(match kind.as_str() {
        "INT8" => Val::Int(row.try_get(i)?),
        "INT4" => Val::Int(i64::from(row.try_get::<i32, _>(i)?)),
        "INT2" => Val::Int(i64::from(row.try_get::<i16, _>(i)?)),
        "BOOL" => Val::Int(i64::from(row.try_get::<bool, _>(i)?)),
        "FLOAT8" => Val::Real(row.try_get(i)?),
        "FLOAT4" => Val::Real(f64::from(row.try_get::<f32, _>(i)?)),
        "BYTEA" => Val::Blob(row.try_get(i)?),
        "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" => Val::Text(row.try_get(i)?),
        other => {
            return Err(StoreError::Invalid(format!(
                "column {}: values of type {other} cannot be copied",
                row.column(i).name()
            )));
        }
    })
}

/// Binds `v` as the target column's type; a value that does not fit is an
/// error naming the table and column.
macro_rules! bind_val {
    ($q:expr, $v:expr, $ty:expr, $table:expr, $col:expr) => {{
        let bad = || {
            StoreError::Invalid(format!(
                "{}.{}: the value {:?} does not fit the column's type",
                $table, $col, $v
            ))
        };
        match ($ty, $v) {
            (ColType::Int, Val::Null) => $q.bind(None::<i64>),
            (ColType::Bool, Val::Null) => $q.bind(None::<bool>),
            (ColType::Real, Val::Null) => $q.bind(None::<f64>),
            (ColType::Text, Val::Null) => $q.bind(None::<String>),
            (ColType::Blob, Val::Null) => $q.bind(None::<Vec<u8>>),
            (ColType::Int, Val::Int(n)) => $q.bind(*n),
            (ColType::Bool, Val::Int(n)) => $q.bind(*n != 0),
            (ColType::Real, Val::Real(x)) => $q.bind(*x),
            #[allow(clippy::cast_precision_loss)]
            (ColType::Real, Val::Int(n)) => $q.bind(*n as f64),
            (ColType::Text, Val::Text(s)) => $q.bind(s.clone()),
            (ColType::Blob, Val::Blob(b)) => $q.bind(b.clone()),
            _ => return Err(bad()),
        }
    }};
}

/// Reads every row of `table` (the target's columns) inside the snapshot.
async fn read_table(src: &mut Tx, shape: &TableShape) -> Result<Vec<Vec<Val>>> {
    let cols = shape
        .columns
        .iter()
        .map(|(c, _)| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    // Ordered by the first column (the key of every table) for a stable copy.
    let sql = format!("SELECT {cols} FROM \"{}\" ORDER BY 1", shape.name);
    let n = shape.columns.len();
    match src {
        Tx::Sqlite(t) => sqlx::query(&sql)
            .fetch_all(&mut **t)
            .await?
            .iter()
            .map(|r| (0..n).map(|i| sqlite_val(r, i)).collect())
            .collect(),
        Tx::Postgres(t) => sqlx::query(&sql)
            .fetch_all(&mut **t)
            .await?
            .iter()
            .map(|r| (0..n).map(|i| pg_val(r, i)).collect())
            .collect(),
    }
}

/// Copies every table of `from` into `to`, replacing what `to` holds, in
/// one transaction on `to`.
async fn copy_all(from: &Store, to: &Store) -> Result<CopySummary> {
    let m_from = from.applied_migrations().await.map_err(|_| {
        StoreError::Invalid(
            "not an isms backup: the file has no isms schema (it was not written by `isms backup`)"
                .into(),
        )
    })?;
    let m_to = to.applied_migrations().await?;
    if let Some(why) = migrations_differ(&m_from, &m_to) {
        return Err(StoreError::Invalid(format!(
            "the backup and this isms have different schemas ({why}): use the isms version that wrote the backup, or bring the backup up to date first with `isms migrate --database sqlite://FILE` on a copy"
        )));
    }
    let shapes = to.table_shapes().await?;
    let source_tables: BTreeSet<String> = from
        .table_shapes()
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    let names: Vec<String> = shapes.iter().map(|s| s.name.clone()).collect();
    if let Some(missing) = names.iter().find(|n| !source_tables.contains(*n)) {
        return Err(StoreError::Invalid(format!(
            "the backup has no table {missing}: it is not an isms backup of this version"
        )));
    }
    let order = dependency_order(&names, &to.foreign_keys().await?)?;
    let by_name: BTreeMap<&str, &TableShape> =
        shapes.iter().map(|s| (s.name.as_str(), s)).collect();

    let mut src = from.begin_snapshot().await?;
    let mut dst = to.begin().await?;
    // What the target holds goes (children first), in the same transaction.
    for table in order.iter().rev() {
        let sql = format!("DELETE FROM \"{table}\"");
        on_tx!(&mut dst, |c| sqlx::query(&sql)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    let is_pg = matches!(dst, Tx::Postgres(_));
    let mut summary = CopySummary::default();
    for table in &order {
        let shape = by_name[table.as_str()];
        let rows = read_table(&mut src, shape).await?;
        summary.tables += 1;
        summary.rows += rows.len() as u64;
        insert_rows(&mut dst, shape, &rows, is_pg).await?;
        if is_pg && shape.columns.iter().any(|(c, _)| c == "id") {
            // Identity columns continue after the copied ids.
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false) \
                 WHERE pg_get_serial_sequence('\"{table}\"', 'id') IS NOT NULL"
            );
            on_tx!(&mut dst, |c| sqlx::query(&sql)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
    }
    drop(src);
    crate::risk::recount_risk_heat(&mut dst).await?;
    dst.commit().await?;
    Ok(summary)
}

/// Tables computed from others (kept by triggers): not copied, recounted
/// after a restore.
const DERIVED_TABLES: &[&str] = &["risk_heat"];

async fn insert_rows(
    dst: &mut Tx,
    shape: &TableShape,
    rows: &[Vec<Val>],
    is_pg: bool,
) -> Result<()> {
    let n = shape.columns.len();
    if rows.is_empty() || n == 0 {
        return Ok(());
    }
    let cols = shape
        .columns
        .iter()
        .map(|(c, _)| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    // PostgreSQL refuses explicit values for GENERATED ALWAYS identity columns
    // unless told that the copy knows what it does.
    let overriding = if is_pg {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    let per_insert = (VALUES_PER_INSERT / n).max(1);
    for chunk in rows.chunks(per_insert) {
        let mut sql = format!(
            "INSERT INTO \"{}\" ({cols}){overriding} VALUES ",
            shape.name
        );
        let mut param = 1;
        for (r, _) in chunk.iter().enumerate() {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..n {
                if c > 0 {
                    sql.push_str(", ");
                }
                let _ = write!(sql, "${param}");
                param += 1;
            }
            sql.push(')');
        }
        on_tx!(dst, |c| {
            let mut q = sqlx::query(&sql);
            for row in chunk {
                for ((col, ty), v) in shape.columns.iter().zip(row) {
                    q = bind_val!(q, v, *ty, shape.name, col);
                }
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_compared_as_sets() {
        let set = |v: &[i64]| v.iter().copied().collect::<BTreeSet<i64>>();
        assert_eq!(migrations_differ(&set(&[1, 2, 3]), &set(&[1, 2, 3])), None);
        // Same highest number, different sets: refused.
        let why = migrations_differ(&set(&[1, 2, 4]), &set(&[1, 3, 4])).unwrap();
        assert!(why.contains("lacks migration 0003"), "{why}");
        assert!(why.contains("has migration 0002"), "{why}");
    }

    #[test]
    fn blobs_are_copied_only_when_their_bytes_match_their_name() {
        use sha2::Digest as _;
        let root = std::env::temp_dir().join(format!("isms_copy_blobs_{}", std::process::id()));
        let (from, to) = (root.join("from"), root.join("to"));
        std::fs::create_dir_all(&from).unwrap();
        let good = hex::encode(sha2::Sha256::digest(b"evidence"));
        std::fs::write(from.join(&good), b"evidence").unwrap();
        let absent = "0".repeat(64);
        let done = copy_blobs(&[good.clone(), absent.clone()], &from, &to).unwrap();
        assert_eq!(done.copied, vec![good.clone()]);
        assert_eq!(done.missing, vec![absent]);
        assert_eq!(std::fs::read(to.join(&good)).unwrap(), b"evidence");
        // Copying again finds it present.
        assert_eq!(
            copy_blobs(std::slice::from_ref(&good), &from, &to)
                .unwrap()
                .present,
            1
        );
        // A damaged file is refused and not put in place.
        let bad = hex::encode(sha2::Sha256::digest(b"original"));
        std::fs::write(from.join(&bad), b"tampered").unwrap();
        let e = copy_blobs(std::slice::from_ref(&bad), &from, &to).unwrap_err();
        assert!(e.to_string().contains("damaged"), "{e}");
        assert!(!to.join(&bad).exists());
        assert_eq!(
            std::fs::read_dir(to.join(".tmp")).map_or(0, Iterator::count),
            0
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn parents_are_copied_before_children() {
        let tables: Vec<String> = ["memberships", "organisations", "users", "login_failures"]
            .map(String::from)
            .to_vec();
        let fks = vec![
            ("memberships".to_owned(), "users".to_owned()),
            ("memberships".to_owned(), "organisations".to_owned()),
        ];
        let order = dependency_order(&tables, &fks).unwrap();
        let pos = |t: &str| order.iter().position(|o| o == t).unwrap();
        assert!(pos("users") < pos("memberships"));
        assert!(pos("organisations") < pos("memberships"));
        assert_eq!(order.len(), 4);
    }

    #[test]
    fn a_foreign_key_cycle_is_refused() {
        let tables: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let fks = vec![
            ("a".to_owned(), "b".to_owned()),
            ("b".to_owned(), "a".to_owned()),
        ];
        assert!(dependency_order(&tables, &fks).is_err());
    }

    #[test]
    fn declared_types_of_both_engines_are_understood() {
        assert_eq!(ColType::parse("BIGINT"), Some(ColType::Int));
        assert_eq!(ColType::parse("INTEGER"), Some(ColType::Int));
        assert_eq!(ColType::parse("bigint"), Some(ColType::Int));
        assert_eq!(ColType::parse("BOOLEAN"), Some(ColType::Bool));
        assert_eq!(ColType::parse("boolean"), Some(ColType::Bool));
        assert_eq!(ColType::parse("TEXT"), Some(ColType::Text));
        assert_eq!(ColType::parse("double precision"), Some(ColType::Real));
        assert_eq!(ColType::parse("bytea"), Some(ColType::Blob));
        assert_eq!(ColType::parse("tsvector"), None);
    }
}
