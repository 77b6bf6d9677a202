//! Saved quantitative risk scenarios of an organisation (the input text of
//! `isms risk simulate`) and the report of their last run.

use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::versioned::{self, Key, Target};
use crate::{Result, Store, StoreError, is_unique_violation, now, on_pool, on_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FairScenario {
    pub id: i64,
    pub name: String,
    pub input_text: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub updated_by: String,
    #[serde(skip)]
    pub last_report_json: Option<String>,
    pub last_run_at: Option<String>,
}

const COLS: &str = "id, name, input_text, version, created_at, updated_at, updated_by, last_report_json, last_run_at";

impl Store {
    pub async fn fair_scenarios(&self, org_id: i64) -> Result<Vec<FairScenario>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, FairScenario>(
            &format!("SELECT {COLS} FROM fair_scenarios WHERE org_id = $1 ORDER BY name")
        )
        .bind(org_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn fair_scenario(&self, org_id: i64, id: i64) -> Result<Option<FairScenario>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, FairScenario>(
            &format!("SELECT {COLS} FROM fair_scenarios WHERE org_id = $1 AND id = $2")
        )
        .bind(org_id)
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// Creates a scenario set (`id` None) or updates one whose version is
    /// still `expected_version`; a stale version is a conflict and nothing
    /// is overwritten. The caller has validated `input_text`.
    pub async fn save_fair_scenario(
        &self,
        org_id: i64,
        id: Option<i64>,
        expected_version: Option<i64>,
        name: &str,
        input_text: &str,
        actor: &Actor,
    ) -> Result<FairScenario> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::Invalid(
                "give the scenario set a name (up to 200 characters)".into(),
            ));
        }
        let mut tx = self.begin().await?;
        let at = now();
        let before = match id {
            Some(id) => {
                let sent = expected_version.ok_or_else(|| versioned::version_required(""))?;
                let target = Target {
                    table: "fair_scenarios",
                    org_id,
                    keys: &[("id", Key::Int(id))],
                };
                let row = versioned::claim_and_load(
                    &mut tx,
                    &target,
                    sent,
                    &format!("scenario set {id}"),
                    async |tx| {
                        on_tx!(tx, |c| sqlx::query_as::<_, FairScenario>(&format!(
                            "SELECT {COLS} FROM fair_scenarios WHERE org_id = $1 AND id = $2"
                        ))
                        .bind(org_id)
                        .bind(id)
                        .fetch_optional(c)
                        .await)
                        .map_err(Into::into)
                    },
                    || StoreError::NotFound("no such scenario set".into()),
                )
                .await?;
                Some(row)
            }
            None => None,
        };
        let result = match &before {
            Some(b) => on_tx!(&mut tx, |c| {
                sqlx::query_as::<_, FairScenario>(&format!(
                "UPDATE fair_scenarios SET name = $1, input_text = $2, updated_at = $3, updated_by = $4 \
                 WHERE org_id = $5 AND id = $6 RETURNING {COLS}"
            ))
            .bind(name)
            .bind(input_text)
            .bind(&at)
            .bind(&actor.label)
            .bind(org_id)
            .bind(b.id)
            .fetch_one(c)
            .await
            }),
            None => on_tx!(&mut tx, |c| {
                sqlx::query_as::<_, FairScenario>(&format!(
                "INSERT INTO fair_scenarios (org_id, name, input_text, created_at, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $4, $5) RETURNING {COLS}"
            ))
            .bind(org_id)
            .bind(name)
            .bind(input_text)
            .bind(&at)
            .bind(&actor.label)
            .fetch_one(c)
            .await
            }),
        };
        let saved = match result {
            Ok(s) => s,
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "a scenario set named '{name}' exists already: choose another name"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: if before.is_some() { "update" } else { "create" },
                entity_type: "fair_scenario",
                entity_id: saved.id.to_string(),
                before: before.as_ref().map(|b| json!({"name": b.name, "input": b.input_text, "version": b.version})),
                after: Some(json!({"name": saved.name, "input": saved.input_text, "version": saved.version})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Keeps the report of a run beside its scenario set.
    pub async fn save_fair_report(
        &self,
        org_id: i64,
        id: i64,
        report_json: &str,
        summary: serde_json::Value,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE fair_scenarios SET last_report_json = $1, last_run_at = $2 WHERE org_id = $3 AND id = $4"
        )
        .bind(report_json)
        .bind(now())
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if n == 0 {
            return Err(StoreError::NotFound("no such scenario set".into()));
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "simulate",
                entity_type: "fair_scenario",
                entity_id: id.to_string(),
                before: None,
                after: Some(summary),
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn delete_fair_scenario(&self, org_id: i64, id: i64, actor: &Actor) -> Result<()> {
        let mut tx = self.begin().await?;
        let row: Option<(String, String)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "DELETE FROM fair_scenarios WHERE org_id = $1 AND id = $2 RETURNING name, input_text"
        )
        .bind(org_id)
        .bind(id)
        .fetch_optional(c)
        .await
        })?;
        let (name, input) =
            row.ok_or_else(|| StoreError::NotFound("no such scenario set".into()))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "delete",
                entity_type: "fair_scenario",
                entity_id: id.to_string(),
                before: Some(json!({"name": name, "input": input})),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }
}

versioned::versioned_record!(FairScenario);
