//! What the control register and the metrics report add to the controls and
//! metrics themselves: each control's latest review and evidence figures,
//! and every metric's measurements, each in one set-based query (no query
//! per control or per metric).

use std::collections::HashMap;

use serde::Serialize;

use crate::controls::today;
use crate::metrics::Measurement;
use crate::{Metric, Result, Store, on_pool};

/// The latest review and the evidence of one control.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ControlFacts {
    /// (YYYY-MM-DD, result code, reviewer e-mail) of the latest review.
    pub latest_review: Option<(String, String, String)>,
    pub evidence: i64,
    pub evidence_expired: i64,
    /// The earliest expiry of evidence that has not expired yet, or empty.
    pub next_expiry: String,
}

impl Store {
    /// Every control's latest review and evidence figures, by control id
    /// (controls without either are absent).
    pub async fn control_facts(&self, org_id: i64) -> Result<HashMap<i64, ControlFacts>> {
        let today = today();
        let reviews: Vec<(i64, String, String, Option<String>)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT r.applied_control_id, r.reviewed_on, r.result, u.email FROM control_reviews r \
                 LEFT JOIN users u ON u.id = r.reviewer_user_id \
                 WHERE r.org_id = $1 AND r.id = (SELECT x.id FROM control_reviews x WHERE x.org_id = r.org_id \
                   AND x.applied_control_id = r.applied_control_id ORDER BY x.reviewed_on DESC, x.id DESC LIMIT 1)",
            )
            .bind(org_id)
            .fetch_all(p)
            .await
        })?;
        let evidence: Vec<(i64, i64, i64, Option<String>)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT ec.applied_control_id, COUNT(*), \
                 COALESCE(SUM(CASE WHEN e.expires_on <> '' AND e.expires_on < $2 THEN 1 ELSE 0 END), 0), \
                 MIN(CASE WHEN e.expires_on >= $2 THEN e.expires_on END) \
                 FROM evidence_controls ec JOIN evidence e ON e.org_id = ec.org_id AND e.id = ec.evidence_id \
                 WHERE ec.org_id = $1 GROUP BY ec.applied_control_id",
            )
            .bind(org_id)
            .bind(&today)
            .fetch_all(p)
            .await
        })?;
        let mut out: HashMap<i64, ControlFacts> = HashMap::new();
        for (id, on, result, reviewer) in reviews {
            out.entry(id).or_default().latest_review =
                Some((on, result, reviewer.unwrap_or_default()));
        }
        for (id, n, expired, next) in evidence {
            let f = out.entry(id).or_default();
            f.evidence = n;
            f.evidence_expired = expired;
            f.next_expiry = next.unwrap_or_default();
        }
        Ok(out)
    }

    /// Every control's name by id, and the latest change of any control
    /// (RFC 3339, empty without controls): what the coverage view names.
    pub async fn control_names(&self, org_id: i64) -> Result<(HashMap<i64, String>, String)> {
        let rows: Vec<(i64, String, String)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT id, name, updated_at FROM applied_controls WHERE org_id = $1")
                .bind(org_id)
                .fetch_all(p)
                .await
        })?;
        let date = rows
            .iter()
            .map(|(_, _, d)| d.as_str())
            .max()
            .unwrap_or("")
            .to_owned();
        Ok((rows.into_iter().map(|(id, n, _)| (id, n)).collect(), date))
    }

    /// The measurements of every metric, oldest first, by metric id (at
    /// most the latest 5,000 per metric, like [`Store::measurements`]).
    pub async fn all_measurements(
        &self,
        org_id: i64,
        metrics: &[Metric],
    ) -> Result<HashMap<i64, Vec<Measurement>>> {
        let rows: Vec<(i64, i64, String, f64, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT metric_id, id, measured_on, value, note FROM metric_measurements WHERE org_id = $1 \
                 ORDER BY metric_id, measured_on, id",
            )
            .bind(org_id)
            .fetch_all(p)
            .await
        })?;
        let by_id: HashMap<i64, &Metric> = metrics.iter().map(|m| (m.id, m)).collect();
        let mut out: HashMap<i64, Vec<Measurement>> = HashMap::new();
        for (metric, id, date, value, note) in rows {
            let Some(m) = by_id.get(&metric) else {
                continue;
            };
            out.entry(metric).or_default().push(Measurement {
                id,
                date,
                value,
                note,
                status: m.thresholds().status(value),
            });
        }
        for v in out.values_mut() {
            if v.len() > 5000 {
                v.drain(..v.len() - 5000);
            }
        }
        Ok(out)
    }
}
