//! Context and scope of the ISMS (ISO/IEC 27001:2022 4.1-4.3, 5.3, 6.2): the
//! scope statement (one per organisation) and typed context items: internal
//! and external issues, interested parties, RACI rows and objectives. Every
//! change is versioned (a stale version is refused) and audit-logged.

use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, Change};
use crate::versioned::{self, Claim, Key, Target};
use crate::{Result, Store, StoreError, now, on_pool, on_tx};

/// The scope statement (4.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Scope {
    pub statement: String,
    pub units: String,
    pub locations: String,
    pub processes: String,
    pub systems_in: String,
    pub systems_out: String,
    pub interfaces: String,
    /// Justification of what is excluded.
    pub exclusions: String,
    /// 0 while no scope was ever saved.
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

/// The editable fields of the scope, and the version the caller read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScopeInput {
    #[serde(default)]
    pub statement: String,
    #[serde(default)]
    pub units: String,
    #[serde(default)]
    pub locations: String,
    #[serde(default)]
    pub processes: String,
    #[serde(default)]
    pub systems_in: String,
    #[serde(default)]
    pub systems_out: String,
    #[serde(default)]
    pub interfaces: String,
    #[serde(default)]
    pub exclusions: String,
    pub version: Option<i64>,
}

/// The kinds of context item.
pub const CONTEXT_KINDS: [&str; 4] = ["issue", "party", "raci", "objective"];

/// One context item. Which fields matter depends on `kind`:
/// issue: title, category (internal/external), detail, effect;
/// party: title (the party), detail (its requirements), addressed;
/// raci: title (the activity), responsible, accountable, consulted, informed;
/// objective: title, measure, target, owner, due_date (YYYY-MM-DD).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ContextItem {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub category: String,
    pub detail: String,
    pub effect: String,
    pub addressed: bool,
    pub measure: String,
    pub target: String,
    pub owner: String,
    pub due_date: String,
    pub responsible: String,
    pub accountable: String,
    pub consulted: String,
    pub informed: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// The fields of a new or changed item (all optional on update).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContextInput {
    pub title: Option<String>,
    pub category: Option<String>,
    pub detail: Option<String>,
    pub effect: Option<String>,
    pub addressed: Option<bool>,
    pub measure: Option<String>,
    pub target: Option<String>,
    pub owner: Option<String>,
    pub due_date: Option<String>,
    pub responsible: Option<String>,
    pub accountable: Option<String>,
    pub consulted: Option<String>,
    pub informed: Option<String>,
    pub version: Option<i64>,
}

const SCOPE_COLS: &str = "statement, units, locations, processes, systems_in, systems_out, interfaces, \
     exclusions, version, updated_at, updated_by";

const ITEM_COLS: &str = "id, kind, title, category, detail, effect, addressed, measure, target, owner, due_date, \
     responsible, accountable, consulted, informed, version, created_at, updated_at";

fn check_kind(kind: &str) -> Result<()> {
    if CONTEXT_KINDS.contains(&kind) {
        Ok(())
    } else {
        Err(StoreError::NotFound(format!(
            "unknown kind of context item '{kind}': use issue, party, raci or objective"
        )))
    }
}

fn apply(item: &mut ContextItem, input: &ContextInput) {
    let set = |field: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            v.trim().clone_into(field);
        }
    };
    set(&mut item.title, &input.title);
    set(&mut item.category, &input.category);
    set(&mut item.detail, &input.detail);
    set(&mut item.effect, &input.effect);
    set(&mut item.measure, &input.measure);
    set(&mut item.target, &input.target);
    set(&mut item.owner, &input.owner);
    set(&mut item.due_date, &input.due_date);
    set(&mut item.responsible, &input.responsible);
    set(&mut item.accountable, &input.accountable);
    set(&mut item.consulted, &input.consulted);
    set(&mut item.informed, &input.informed);
    if let Some(a) = input.addressed {
        item.addressed = a;
    }
}

/// Checks an item's fields for its kind; names the first problem.
fn validate(item: &ContextItem) -> Result<()> {
    let bad = |m: String| Err(StoreError::Invalid(m));
    if item.title.is_empty() {
        return bad("title: required".into());
    }
    if item.title.chars().count() > 500 {
        return bad("title: 500 characters at most".into());
    }
    match item.kind.as_str() {
        "issue" if !matches!(item.category.as_str(), "internal" | "external") => {
            bad("category: an issue is internal or external".into())
        }
        "objective" => {
            for (name, v) in [
                ("measure", &item.measure),
                ("target", &item.target),
                ("owner", &item.owner),
                ("due_date", &item.due_date),
            ] {
                if v.is_empty() {
                    return bad(format!("{name}: required for an objective"));
                }
            }
            let ok = item.due_date.len() == 10
                && time::Date::parse(
                    &item.due_date,
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .is_ok();
            if ok {
                Ok(())
            } else {
                bad(format!(
                    "due_date: '{}' is not a date: use YYYY-MM-DD",
                    item.due_date
                ))
            }
        }
        "raci" if item.accountable.is_empty() => {
            bad("accountable: a RACI row needs the one who is accountable".into())
        }
        _ => Ok(()),
    }
}

impl Store {
    /// The scope statement; an empty one with version 0 if never saved.
    pub async fn scope(&self, org_id: i64) -> Result<Scope> {
        let row = on_pool!(self, |p| {
            sqlx::query_as::<_, Scope>(&format!(
                "SELECT {SCOPE_COLS} FROM isms_scope WHERE org_id = $1"
            ))
            .bind(org_id)
            .fetch_optional(p)
            .await
        })?;
        Ok(row.unwrap_or_default())
    }

    /// Saves the scope if `input.version` is the current version (0 the first time).
    pub async fn save_scope(
        &self,
        org_id: i64,
        input: &ScopeInput,
        actor: &Actor,
    ) -> Result<Scope> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" (0 for a new scope)"));
        };
        if input.statement.trim().is_empty() {
            return Err(StoreError::Invalid(
                "statement: the scope needs a statement of what the ISMS covers".into(),
            ));
        }
        let at = now();
        let mut tx = self.begin().await?;
        let won = if sent == 0 {
            // The first save creates the row: of two first saves, one inserts.
            on_tx!(&mut tx, |c| sqlx::query(
                "INSERT INTO isms_scope (org_id, version, updated_at) VALUES ($1, 1, $2) \
                 ON CONFLICT (org_id) DO NOTHING"
            )
            .bind(org_id)
            .bind(&at)
            .execute(c)
            .await
            .map(|r| r.rows_affected() == 1))?
        } else {
            let target = Target {
                table: "isms_scope",
                org_id,
                keys: &[],
            };
            versioned::claim(&mut tx, &target, sent).await? == Claim::Won
        };
        let before = on_tx!(&mut tx, |c| sqlx::query_as::<_, Scope>(&format!(
            "SELECT {SCOPE_COLS} FROM isms_scope WHERE org_id = $1"
        ))
        .bind(org_id)
        .fetch_optional(c)
        .await)?;
        if !won {
            let (current, by, when) = before
                .map(|s| (s.version, s.updated_by, s.updated_at))
                .unwrap_or_default();
            return Err(versioned::stale("the scope", current, sent, &by, &when));
        }
        let before = before.filter(|_| sent > 0).map(|mut b| {
            b.version = sent;
            b
        });
        let after = Scope {
            statement: input.statement.trim().to_owned(),
            units: input.units.trim().to_owned(),
            locations: input.locations.trim().to_owned(),
            processes: input.processes.trim().to_owned(),
            systems_in: input.systems_in.trim().to_owned(),
            systems_out: input.systems_out.trim().to_owned(),
            interfaces: input.interfaces.trim().to_owned(),
            exclusions: input.exclusions.trim().to_owned(),
            version: sent + 1,
            updated_at: at,
            updated_by: actor.label.clone(),
        };
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE isms_scope SET statement = $1, units = $2, locations = $3, processes = $4, \
                 systems_in = $5, systems_out = $6, interfaces = $7, exclusions = $8, version = $9, \
                 updated_at = $10, updated_by = $11 WHERE org_id = $12",
            )
            .bind(&after.statement)
            .bind(&after.units)
            .bind(&after.locations)
            .bind(&after.processes)
            .bind(&after.systems_in)
            .bind(&after.systems_out)
            .bind(&after.interfaces)
            .bind(&after.exclusions)
            .bind(after.version)
            .bind(&after.updated_at)
            .bind(&after.updated_by)
            .bind(org_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: if before.is_some() { "update" } else { "create" },
                entity_type: "scope",
                entity_id: org_id.to_string(),
                before: before.map(|b| serde_json::to_value(b).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The items of one kind (or all kinds), oldest first.
    pub async fn context_items(&self, org_id: i64, kind: Option<&str>) -> Result<Vec<ContextItem>> {
        if let Some(k) = kind {
            check_kind(k)?;
        }
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, ContextItem>(&format!(
            "SELECT {ITEM_COLS} FROM isms_context_items WHERE org_id = $1 AND ($2 IS NULL OR kind = $2) ORDER BY kind, id"
        ))
        .bind(org_id)
        .bind(kind)
        .fetch_all(p)
        .await
        })?)
    }

    pub async fn context_item(&self, org_id: i64, id: i64) -> Result<ContextItem> {
        on_pool!(self, |p| sqlx::query_as::<_, ContextItem>(&format!(
            "SELECT {ITEM_COLS} FROM isms_context_items WHERE org_id = $1 AND id = $2"
        ))
        .bind(org_id)
        .bind(id)
        .fetch_optional(p)
        .await)?
        .ok_or_else(|| StoreError::NotFound(format!("no context item {id} in this organisation")))
    }

    pub async fn create_context_item(
        &self,
        org_id: i64,
        kind: &str,
        input: &ContextInput,
        actor: &Actor,
    ) -> Result<ContextItem> {
        check_kind(kind)?;
        let mut item = ContextItem {
            kind: kind.to_owned(),
            ..ContextItem::default()
        };
        apply(&mut item, input);
        validate(&item)?;
        let at = now();
        let mut tx = self.begin().await?;
        let created = on_tx!(&mut tx, |c| {
            sqlx::query_as::<_, ContextItem>(&format!(
            "INSERT INTO isms_context_items (org_id, kind, title, category, detail, effect, addressed, measure, target, \
             owner, due_date, responsible, accountable, consulted, informed, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16) RETURNING {ITEM_COLS}"
        ))
        .bind(org_id)
        .bind(&item.kind)
        .bind(&item.title)
        .bind(&item.category)
        .bind(&item.detail)
        .bind(&item.effect)
        .bind(item.addressed)
        .bind(&item.measure)
        .bind(&item.target)
        .bind(&item.owner)
        .bind(&item.due_date)
        .bind(&item.responsible)
        .bind(&item.accountable)
        .bind(&item.consulted)
        .bind(&item.informed)
        .bind(&at)
        .fetch_one(c)
        .await
        })?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "context_item",
                entity_id: created.id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&created).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Updates an item if `input.version` is current.
    pub async fn update_context_item(
        &self,
        org_id: i64,
        id: i64,
        input: &ContextInput,
        actor: &Actor,
    ) -> Result<ContextItem> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(""));
        };
        let mut tx = self.begin().await?;
        let target = Target {
            table: "isms_context_items",
            org_id,
            keys: &[("id", Key::Int(id))],
        };
        let before = versioned::claim_and_load(
            &mut tx,
            &target,
            sent,
            &format!("item {id}"),
            async |tx| {
                on_tx!(tx, |c| sqlx::query_as::<_, ContextItem>(&format!(
                    "SELECT {ITEM_COLS} FROM isms_context_items WHERE org_id = $1 AND id = $2"
                ))
                .bind(org_id)
                .bind(id)
                .fetch_optional(c)
                .await)
                .map_err(Into::into)
            },
            || StoreError::NotFound(format!("no context item {id} in this organisation")),
        )
        .await?;
        let mut after = before.clone();
        apply(&mut after, input);
        validate(&after)?;
        after.version += 1;
        after.updated_at = now();
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE isms_context_items SET title = $1, category = $2, detail = $3, effect = $4, addressed = $5, \
             measure = $6, target = $7, owner = $8, due_date = $9, responsible = $10, accountable = $11, \
             consulted = $12, informed = $13, version = $14, updated_at = $15 \
             WHERE org_id = $16 AND id = $17"
        )
        .bind(&after.title)
        .bind(&after.category)
        .bind(&after.detail)
        .bind(&after.effect)
        .bind(after.addressed)
        .bind(&after.measure)
        .bind(&after.target)
        .bind(&after.owner)
        .bind(&after.due_date)
        .bind(&after.responsible)
        .bind(&after.accountable)
        .bind(&after.consulted)
        .bind(&after.informed)
        .bind(after.version)
        .bind(&after.updated_at)
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "context_item",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

impl crate::versioned::Versioned for ContextItem {
    fn set_version(&mut self, version: i64) {
        self.version = version;
    }
    fn changed_by(&self) -> &'static str {
        ""
    }
    fn changed_at(&self) -> &str {
        &self.updated_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_need_measure_target_owner_and_a_real_due_date() {
        let mut o = ContextItem {
            kind: "objective".into(),
            title: "Patch faster".into(),
            ..ContextItem::default()
        };
        assert!(
            validate(&o)
                .unwrap_err()
                .to_string()
                .starts_with("measure:")
        );
        o.measure = "median days to patch".into();
        o.target = "7".into();
        o.owner = "ann@acme.test".into();
        o.due_date = "2026-13-01".into();
        assert!(
            validate(&o)
                .unwrap_err()
                .to_string()
                .contains("'2026-13-01'")
        );
        o.due_date = "2026-12-01".into();
        validate(&o).unwrap();
    }
}
