//! The quantitative bridge of the risk register: FAIR inputs on a register
//! risk and the annualised loss computed from them. The web runs the
//! simulation (bounded, off the async threads) and hands the figures here;
//! the store checks the risk is the organisation's, saves and audits.

use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::{Result, Store, StoreError, now, on_pool, on_tx};

/// A risk's FAIR inputs and their result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskQuantitative {
    pub risk_id: i64,
    /// `{"lef": DIST, "lm": DIST}` in the FAIR engine's input format.
    pub input: serde_json::Value,
    /// Annualised loss expectancy (mean annual loss).
    pub ale_mean: f64,
    /// The annual loss exceeded one year in ten.
    pub ale_p90: f64,
    pub iterations: i64,
    pub computed_at: String,
    pub updated_by: String,
}

type Row = (i64, String, f64, f64, i64, String, String);
type TitledRow = (String, i64, String, f64, f64, i64, String, String);

/// What a simulation of a risk's inputs gave, to save.
#[derive(Debug, Clone, Copy)]
pub struct QuantFigures<'a> {
    /// `{"lef": DIST, "lm": DIST}`.
    pub input: &'a serde_json::Value,
    pub ale_mean: f64,
    pub ale_p90: f64,
    pub iterations: i64,
}

fn from_row(r: Row) -> RiskQuantitative {
    RiskQuantitative {
        risk_id: r.0,
        input: serde_json::from_str(&r.1).unwrap_or_default(),
        ale_mean: r.2,
        ale_p90: r.3,
        iterations: r.4,
        computed_at: r.5,
        updated_by: r.6,
    }
}

const COLS: &str = "risk_id, input_json, ale_mean, ale_p90, iterations, computed_at, updated_by";

/// Quantified risks a portfolio takes at most (the simulation is bounded
/// again by the web before it runs).
pub const MAX_PORTFOLIO: i64 = 2000;

impl Store {
    /// A risk's FAIR inputs and result, if it has any.
    pub async fn risk_quantitative(
        &self,
        org_id: i64,
        risk_id: i64,
    ) -> Result<Option<RiskQuantitative>> {
        let row: Option<Row> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {COLS} FROM risk_quantitative WHERE org_id = $1 AND risk_id = $2"
        ))
        .bind(org_id)
        .bind(risk_id)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(from_row))
    }

    /// Every quantified risk of the organisation with its title, highest
    /// annualised loss first (at most [`MAX_PORTFOLIO`]).
    pub async fn quantified_risks(&self, org_id: i64) -> Result<Vec<(String, RiskQuantitative)>> {
        let rows: Vec<TitledRow> = on_pool!(self, |p| {
            sqlx::query_as(&format!(
                "SELECT r.title, q.risk_id, q.input_json, q.ale_mean, q.ale_p90, q.iterations, q.computed_at, q.updated_by \
                 FROM risk_quantitative q JOIN risks r ON r.org_id = q.org_id AND r.id = q.risk_id \
                 WHERE q.org_id = $1 AND r.status <> 'closed' ORDER BY q.ale_mean DESC, q.risk_id LIMIT {MAX_PORTFOLIO}"
            ))
            .bind(org_id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| (r.0, from_row((r.1, r.2, r.3, r.4, r.5, r.6, r.7))))
            .collect())
    }

    /// Saves a risk's FAIR inputs with the figures simulated from them
    /// (replacing earlier ones), in the audit log.
    pub async fn set_risk_quantitative(
        &self,
        org_id: i64,
        risk_id: i64,
        figures: QuantFigures<'_>,
        actor: &Actor,
    ) -> Result<RiskQuantitative> {
        let QuantFigures {
            input,
            ale_mean,
            ale_p90,
            iterations,
        } = figures;
        if !(ale_mean.is_finite() && ale_p90.is_finite() && ale_mean >= 0.0 && ale_p90 >= 0.0) {
            return Err(StoreError::Invalid(
                "the simulated annual loss is not a finite amount: use smaller inputs".into(),
            ));
        }
        let mut tx = self.begin().await?;
        let exists: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT id FROM risks WHERE org_id = $1 AND id = $2"
        )
        .bind(org_id)
        .bind(risk_id)
        .fetch_optional(c)
        .await)?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!(
                "no risk {risk_id} in this organisation"
            )));
        }
        let before: Option<Row> = on_tx!(&mut tx, |c| sqlx::query_as(&format!(
            "SELECT {COLS} FROM risk_quantitative WHERE org_id = $1 AND risk_id = $2"
        ))
        .bind(org_id)
        .bind(risk_id)
        .fetch_optional(c)
        .await)?;
        let text = input.to_string();
        let at = now();
        let who = actor.label.clone();
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "INSERT INTO risk_quantitative (org_id, risk_id, input_json, ale_mean, ale_p90, iterations, computed_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (org_id, risk_id) DO UPDATE SET input_json = excluded.input_json, ale_mean = excluded.ale_mean, \
             ale_p90 = excluded.ale_p90, iterations = excluded.iterations, computed_at = excluded.computed_at, updated_by = excluded.updated_by"
        )
        .bind(org_id)
        .bind(risk_id)
        .bind(&text)
        .bind(ale_mean)
        .bind(ale_p90)
        .bind(iterations)
        .bind(&at)
        .bind(&who)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        let after = RiskQuantitative {
            risk_id,
            input: input.clone(),
            ale_mean,
            ale_p90,
            iterations,
            computed_at: at,
            updated_by: who,
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "quantify",
                entity_type: "risk",
                entity_id: risk_id.to_string(),
                before: before.map(|b| json!(from_row(b))),
                after: Some(json!(after)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes a risk's FAIR inputs. Returns whether there were any.
    pub async fn clear_risk_quantitative(
        &self,
        org_id: i64,
        risk_id: i64,
        actor: &Actor,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let before: Option<Row> = on_tx!(&mut tx, |c| sqlx::query_as(&format!(
            "SELECT {COLS} FROM risk_quantitative WHERE org_id = $1 AND risk_id = $2"
        ))
        .bind(org_id)
        .bind(risk_id)
        .fetch_optional(c)
        .await)?;
        let Some(before) = before else {
            return Ok(false);
        };
        on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM risk_quantitative WHERE org_id = $1 AND risk_id = $2"
        )
        .bind(org_id)
        .bind(risk_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "unquantify",
                entity_type: "risk",
                entity_id: risk_id.to_string(),
                before: Some(json!(from_row(before))),
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
