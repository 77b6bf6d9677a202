//! One atomic version check for every versioned record.
//!
//! Every editable record carries a `version`. A save claims the row before it
//! reads it:
//!
//! ```sql
//! UPDATE <table> SET version = version + 1
//!  WHERE org_id = $1 AND <key> = $2 ... AND version = <sent>
//! ```
//!
//! One row affected: this transaction holds the row's write lock until it
//! commits, so the caller reads the row, applies its rule, writes the content
//! and the audit entry knowing that nobody can change the row in between. No
//! row affected: the version is stale (or the row is gone) and nothing is
//! written. On PostgreSQL (READ COMMITTED) a second writer that waited for the
//! lock re-checks `version = <sent>` against the row the first one committed,
//! matches nothing and loses; on SQLite `BEGIN IMMEDIATE` serialises writers
//! before they read. Either way exactly one of N same-version writers wins.
//!
//! A caller that finds, after claiming, that its change changes nothing drops
//! the transaction: the rollback undoes the claim too.

use std::fmt::Write as _;

use crate::{Result, StoreError, Tx, on_tx};

/// A value of a key column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key<'a> {
    Int(i64),
    Text(&'a str),
}

/// The record to claim: its table, its organisation and its key columns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub table: &'static str,
    pub org_id: i64,
    pub keys: &'a [(&'static str, Key<'a>)],
}

/// The outcome of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The row had the sent version; it is now locked by this transaction and
    /// its version is `sent + 1`.
    Won,
    /// The row exists with another version: nothing was changed.
    Stale { current: i64 },
    /// No such row in this organisation.
    Missing,
}

impl Target<'_> {
    fn condition(&self) -> String {
        let mut sql = String::from("org_id = $1");
        for (i, (column, _)) in self.keys.iter().enumerate() {
            let _ = write!(sql, " AND {column} = ${}", i + 2);
        }
        sql
    }
}

/// Binds the organisation and the key values, in the order of [`Target::condition`].
macro_rules! bind_keys {
    ($q:expr, $target:expr) => {{
        let mut q = $q.bind($target.org_id);
        for (_, key) in $target.keys {
            q = match *key {
                Key::Int(v) => q.bind(v),
                Key::Text(v) => q.bind(v),
            };
        }
        q
    }};
}

/// Claims `target` at version `sent` inside `tx` (see the module comment).
pub(crate) async fn claim(tx: &mut Tx, target: &Target<'_>, sent: i64) -> Result<Claim> {
    let condition = target.condition();
    let version_param = target.keys.len() + 2;
    let update = format!(
        "UPDATE {} SET version = version + 1 WHERE {condition} AND version = ${version_param}",
        target.table
    );
    let claimed = on_tx!(tx, |c| bind_keys!(sqlx::query(&update), target)
        .bind(sent)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    match claimed {
        1 => return Ok(Claim::Won),
        0 => {}
        n => {
            return Err(StoreError::Invalid(format!(
                "{} matched {n} rows for one key: the key is not unique",
                target.table
            )));
        }
    }
    let select = format!("SELECT version FROM {} WHERE {condition}", target.table);
    let current: Option<(i64,)> = on_tx!(tx, |c| bind_keys!(sqlx::query_as(&select), target)
        .fetch_optional(c)
        .await)?;
    Ok(match current {
        Some((current,)) => Claim::Stale { current },
        None => Claim::Missing,
    })
}

/// A versioned record as loaded: what a 409 names of its last change.
pub(crate) trait Versioned {
    /// Sets the version the record is read at.
    fn set_version(&mut self, version: i64);
    /// Who changed it last ("" when not recorded).
    fn changed_by(&self) -> &str;
    /// When it was changed last.
    fn changed_at(&self) -> &str;
}

/// Implements [`Versioned`] for records with `version`, `updated_by` and
/// `updated_at` fields.
macro_rules! versioned_record {
    ($($t:ty),+ $(,)?) => {$(
        impl $crate::versioned::Versioned for $t {
            fn set_version(&mut self, version: i64) {
                self.version = version;
            }
            fn changed_by(&self) -> &str {
                &self.updated_by
            }
            fn changed_at(&self) -> &str {
                &self.updated_at
            }
        }
    )+};
}
pub(crate) use versioned_record;

/// The one shape of a versioned save: claims `target` at `sent`, then loads
/// the record under the claim with `load`. The record comes back as it was
/// before the change, at version `sent`; a stale version is the 409 naming
/// `what`, who changed it and when; a record that is not there is `missing()`.
pub(crate) async fn claim_and_load<T: Versioned>(
    tx: &mut Tx,
    target: &Target<'_>,
    sent: i64,
    what: &str,
    load: impl AsyncFnOnce(&mut Tx) -> Result<Option<T>>,
    missing: impl FnOnce() -> StoreError,
) -> Result<T> {
    let claim = claim(tx, target, sent).await?;
    if claim == Claim::Missing {
        return Err(missing());
    }
    let mut record = load(tx).await?.ok_or_else(missing)?;
    if let Claim::Stale { current } = claim {
        return Err(stale(
            what,
            current,
            sent,
            record.changed_by(),
            record.changed_at(),
        ));
    }
    record.set_version(sent);
    Ok(record)
}

/// The sentence of a 409: who changed what, and what to do.
pub(crate) fn stale(what: &str, current: i64, sent: i64, by: &str, at: &str) -> StoreError {
    let who = if by.is_empty() {
        format!(" at {at}")
    } else {
        format!(" by {by} at {at}")
    };
    StoreError::Conflict(format!(
        "{what} was changed{who} (now version {current}, you sent {sent}): nothing was saved; reload, then apply your change again"
    ))
}

/// The error of a save that sent no version.
pub(crate) fn version_required(hint: &str) -> StoreError {
    StoreError::Invalid(format!(
        "version: required; send the version you last read{hint} so that nobody's change is overwritten"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_condition_numbers_keys_after_the_organisation() {
        let t = Target {
            table: "gap_entries",
            org_id: 7,
            keys: &[
                ("assessment_id", Key::Int(3)),
                ("ref_id", Key::Text("A.5.1")),
            ],
        };
        assert_eq!(
            t.condition(),
            "org_id = $1 AND assessment_id = $2 AND ref_id = $3"
        );
    }

    #[test]
    fn the_stale_sentence_names_who_when_and_both_versions() {
        let e = stale("the scope", 3, 2, "ann@x.test", "2026-01-01T00:00:00Z").to_string();
        assert_eq!(
            e,
            "the scope was changed by ann@x.test at 2026-01-01T00:00:00Z (now version 3, you sent 2): nothing was saved; reload, then apply your change again"
        );
        assert!(!stale("item 4", 3, 2, "", "t").to_string().contains(" by "));
    }
}
