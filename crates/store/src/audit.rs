//! The audit log: every change, who made it, when, through which door, and
//! the row before and after, hash-chained per organisation.

use isms_domain::audit::{self, AuditFields, ChainBreak, GENESIS_HASH, StoredEntry};
use serde::Serialize;

use crate::{Result, Store, Tx, now, on_pool, on_tx};

/// The way a change came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Web,
    Api,
    Cli,
    /// Work the installation does by itself (entries created on first read,
    /// built-in content), whoever's request triggered it.
    System,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Web => "web",
            Via::Api => "api",
            Via::Cli => "cli",
            Via::System => "system",
        }
    }
}

/// Who makes a change.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    /// E-mail of the user, or a description such as "cli (root)".
    pub label: String,
    pub via: Via,
}

impl Actor {
    /// The operator at the command line, named by the operating-system user
    /// the process runs as ("cli (root)"): the effective uid's name from
    /// `/etc/passwd`; `$USER` / `$LOGNAME` only where that cannot be read.
    pub fn cli() -> Actor {
        Actor {
            user_id: None,
            label: format!("cli ({})", os_user()),
            via: Via::Cli,
        }
    }
    /// The installation itself: creations on first read and other work no
    /// person asked for, labelled "system" whoever's request triggered it.
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            label: "system".into(),
            via: Via::System,
        }
    }
    pub fn user(user_id: i64, email: &str, via: Via) -> Actor {
        Actor {
            user_id: Some(user_id),
            label: email.to_owned(),
            via,
        }
    }
}

/// The name of the operating-system user this process runs as.
fn os_user() -> String {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| effective_uid(&s));
    if let Some(uid) = uid {
        return std::fs::read_to_string("/etc/passwd")
            .ok()
            .and_then(|p| passwd_name(&p, uid))
            .unwrap_or_else(|| format!("uid {uid}"));
    }
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|n| !n.trim().is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// The effective uid from the text of `/proc/self/status`
/// (`Uid:\treal\teffective\tsaved\tfs`).
fn effective_uid(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The name of `uid` in the text of `/etc/passwd` (`name:x:uid:gid:...`).
fn passwd_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let uid_field = f.nth(1)?;
        (!name.is_empty() && !name.starts_with('#') && uid_field.parse() == Ok(uid))
            .then(|| name.to_owned())
    })
}

/// One change to record.
pub(crate) struct Change<'a> {
    pub org_id: i64,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// An entry as shown to admins and auditors.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub via: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub hash: String,
}

/// Filters for reading the log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub actor: Option<String>,
    /// Only entries with a sequence number below this (paging backwards).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// The result of verifying every organisation's chain.
#[derive(Debug, Clone)]
pub struct ChainReport {
    pub org_id: i64,
    pub org_slug: String,
    pub entries: usize,
    pub problem: Option<ChainBreak>,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    seq: i64,
    at: String,
    actor: String,
    via: String,
    action: String,
    entity_type: String,
    entity_id: String,
    before_json: Option<String>,
    after_json: Option<String>,
    prev_hash: String,
    hash: String,
}

/// The organisation id the system chain hashes with (no organisation has it).
pub const SYSTEM_CHAIN: i64 = 0;

/// Appends `change` to its organisation's chain inside `tx`.
///
/// Bumping the organisation's counter first takes a row lock (PostgreSQL) or
/// is covered by the write lock (SQLite), so concurrent appends queue up and
/// never fork the chain.
pub(crate) async fn record(tx: &mut Tx, actor: &Actor, change: Change<'_>) -> Result<()> {
    append(tx, Some(change.org_id), actor, &change).await
}

/// Appends an installation-wide change (a framework or mapping the operator
/// installs) to the installation's chain; what an organisation imports is
/// its own and goes to its chain with [`record`].
pub(crate) async fn record_installation_change(
    tx: &mut Tx,
    actor: &Actor,
    change: Change<'_>,
) -> Result<()> {
    append(tx, None, actor, &change).await
}

/// One append to an organisation's chain (`Some(org)`) or the installation's (`None`).
async fn append(tx: &mut Tx, org: Option<i64>, actor: &Actor, change: &Change<'_>) -> Result<()> {
    let (next_seq, last_hash, insert) = match org {
        Some(_) => (
            "UPDATE organisations SET audit_seq = audit_seq + 1 WHERE id = $1 RETURNING audit_seq",
            "SELECT hash FROM audit_log WHERE org_id = $1 ORDER BY seq DESC LIMIT 1",
            "INSERT INTO audit_log (org_id, seq, at, actor_user_id, actor, via, action, entity_type, entity_id, before_json, after_json, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        ),
        None => (
            "UPDATE system_counters SET value = value + 1 WHERE name = 'audit_seq' RETURNING value",
            "SELECT hash FROM system_audit_log ORDER BY seq DESC LIMIT 1",
            "INSERT INTO system_audit_log (seq, at, actor_user_id, actor, via, action, entity_type, entity_id, before_json, after_json, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        ),
    };
    let (seq,): (i64,) = on_tx!(tx, |c| {
        let q = sqlx::query_as(next_seq);
        let q = if let Some(id) = org { q.bind(id) } else { q };
        q.fetch_one(c).await
    })?;
    let prev: Option<(String,)> = on_tx!(tx, |c| {
        let q = sqlx::query_as(last_hash);
        let q = if let Some(id) = org { q.bind(id) } else { q };
        q.fetch_optional(c).await
    })?;
    let prev_hash = prev.map_or_else(|| GENESIS_HASH.to_owned(), |(h,)| h);
    let at = now();
    let before = change.before.as_ref().map(serde_json::Value::to_string);
    let after = change.after.as_ref().map(serde_json::Value::to_string);
    let hash = audit::entry_hash(
        &prev_hash,
        &AuditFields {
            org_id: org.unwrap_or(SYSTEM_CHAIN),
            seq,
            at: &at,
            actor: &actor.label,
            via: actor.via.as_str(),
            action: change.action,
            entity_type: change.entity_type,
            entity_id: &change.entity_id,
            before: before.as_deref(),
            after: after.as_deref(),
        },
    );
    on_tx!(tx, |c| {
        let q = sqlx::query(insert);
        let q = if let Some(id) = org { q.bind(id) } else { q };
        q.bind(seq)
            .bind(&at)
            .bind(actor.user_id)
            .bind(&actor.label)
            .bind(actor.via.as_str())
            .bind(change.action)
            .bind(change.entity_type)
            .bind(&change.entity_id)
            .bind(&before)
            .bind(&after)
            .bind(&prev_hash)
            .bind(&hash)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

fn stored(rows: Vec<EntryRow>) -> Vec<StoredEntry> {
    rows.into_iter()
        .map(|r| StoredEntry {
            id: r.id,
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            via: r.via,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            before: r.before_json,
            after: r.after_json,
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
        .collect()
}

impl Store {
    /// Reads the installation's own log (framework and mapping imports), newest first.
    pub async fn system_audit_entries(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, AuditEntry>(
            "SELECT id, seq, at, actor, via, action, entity_type, entity_id, before_json, after_json, hash \
             FROM system_audit_log ORDER BY seq DESC LIMIT $1"
        )
        .bind(limit.clamp(1, 1000))
        .fetch_all(p)
        .await
        })?)
    }

    /// Reads an organisation's log, newest first.
    pub async fn audit_entries(
        &self,
        org_id: i64,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEntry>> {
        let limit = if filter.limit <= 0 {
            100
        } else {
            filter.limit.min(1000)
        };
        let rows = on_pool!(self, |p| {
            sqlx::query_as::<_, AuditEntry>(
            "SELECT id, seq, at, actor, via, action, entity_type, entity_id, before_json, after_json, hash \
             FROM audit_log WHERE org_id = $1 \
             AND ($2 IS NULL OR entity_type = $2) \
             AND ($3 IS NULL OR actor = $3) \
             AND ($4 IS NULL OR seq < $4) \
             ORDER BY seq DESC LIMIT $5"
        )
        .bind(org_id)
        .bind(filter.entity_type.as_deref())
        .bind(filter.actor.as_deref())
        .bind(filter.before_seq)
        .bind(limit)
        .fetch_all(p)
        .await
        })?;
        Ok(rows)
    }

    /// The distinct entity types and actors in an organisation's log, for filter menus.
    pub async fn audit_facets(&self, org_id: i64) -> Result<(Vec<String>, Vec<String>)> {
        let types: Vec<(String,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT DISTINCT entity_type FROM audit_log WHERE org_id = $1 ORDER BY entity_type"
        )
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        let actors: Vec<(String,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT DISTINCT actor FROM audit_log WHERE org_id = $1 ORDER BY actor"
        )
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        Ok((
            types.into_iter().map(|(t,)| t).collect(),
            actors.into_iter().map(|(a,)| a).collect(),
        ))
    }

    /// Verifies every organisation's chain, in organisation order.
    pub async fn verify_audit_log(&self) -> Result<Vec<ChainReport>> {
        let orgs: Vec<(i64, String, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id, slug, audit_seq FROM organisations ORDER BY id"
        )
        .fetch_all(p)
        .await)?;
        let mut reports = Vec::with_capacity(orgs.len());
        for (org_id, org_slug, recorded) in orgs {
            let rows = on_pool!(self, |p| {
                sqlx::query_as::<_, EntryRow>(
                "SELECT id, seq, at, actor, via, action, entity_type, entity_id, before_json, after_json, prev_hash, hash \
                 FROM audit_log WHERE org_id = $1 ORDER BY seq"
            )
            .bind(org_id)
            .fetch_all(p)
            .await
            })?;
            let entries = stored(rows);
            let problem = audit::verify_chain(org_id, &entries, recorded).err();
            reports.push(ChainReport {
                org_id,
                org_slug,
                entries: entries.len(),
                problem,
            });
        }
        let (recorded,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT value FROM system_counters WHERE name = 'audit_seq'"
        )
        .fetch_one(p)
        .await)?;
        let rows = on_pool!(self, |p| {
            sqlx::query_as::<_, EntryRow>(
            "SELECT id, seq, at, actor, via, action, entity_type, entity_id, before_json, after_json, prev_hash, hash \
             FROM system_audit_log ORDER BY seq"
        )
        .fetch_all(p)
        .await
        })?;
        let entries = stored(rows);
        reports.push(ChainReport {
            org_id: SYSTEM_CHAIN,
            org_slug: "(installation)".into(),
            entries: entries.len(),
            problem: audit::verify_chain(SYSTEM_CHAIN, &entries, recorded).err(),
        });
        Ok(reports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_user_is_the_effective_uids_name() {
        let status =
            "Name:\tisms\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n";
        assert_eq!(effective_uid(status), Some(0));
        assert_eq!(effective_uid("Name:\tx\n"), None);
        let passwd = "# comment\nroot:x:0:0:root:/root:/bin/bash\nann:x:1000:1000:Ann:/home/ann:/bin/sh\nbad line\n";
        assert_eq!(passwd_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name(passwd, 1000).as_deref(), Some("ann"));
        assert_eq!(passwd_name(passwd, 4242), None);
        // Whatever $USER says, the label names the account the process runs as.
        let label = Actor::cli().label;
        assert!(
            label.starts_with("cli (") && label.ends_with(')'),
            "{label}"
        );
        if std::path::Path::new("/proc/self/status").exists() {
            let real = std::process::Command::new("id").arg("-un").output();
            if let Some(o) = real.ok().filter(|o| o.status.success()) {
                let name = String::from_utf8_lossy(&o.stdout).trim().to_owned();
                assert_eq!(label, format!("cli ({name})"));
            }
        }
    }
}
