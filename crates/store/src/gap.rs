//! Gap analysis: assessments of an organisation against ISO/IEC 27001:2022
//! (every clause requirement of 4-10 and every Annex A control). Each
//! requirement gets a status, a maturity, notes, owner, target date and
//! actions; progress is summed by clause and by Annex A theme; two
//! assessments can be compared.

use std::collections::HashMap;

use isms_catalog::{NodeKind, RequirementNode};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::versioned::{self, Key, Target};
use crate::{Result, Store, StoreError, now, on_pool, on_tx};

/// Statuses of a requirement, in order of progress (not applicable last).
pub const GAP_STATUSES: [&str; 4] = ["not_started", "partial", "implemented", "not_applicable"];

pub fn gap_status_label(s: &str) -> &'static str {
    match s {
        "not_started" => "Not started",
        "partial" => "Partial",
        "implemented" => "Implemented",
        "not_applicable" => "Not applicable",
        _ => "",
    }
}

/// One assessable requirement of the framework.
#[derive(Debug, Clone, Serialize)]
pub struct GapRequirement {
    pub ref_id: String,
    pub title: String,
    /// "Clause 4 Context of the organisation" or "A.5 Organizational controls".
    pub group: String,
}

/// The assessable requirements of ISO/IEC 27001:2022 in reading order:
/// the leaf clauses of 4-10, then the 93 Annex A controls.
pub fn gap_requirements() -> Vec<GapRequirement> {
    let tree = isms_catalog::iso27001_2022();
    let has_children = |n: &RequirementNode| {
        tree.nodes
            .iter()
            .any(|c| c.parent_ref_id.as_deref() == Some(n.ref_id.as_str()))
    };
    let title_of = |r: &str| tree.node(r).map(|n| n.title.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for n in &tree.nodes {
        match n.kind {
            NodeKind::Clause if !has_children(n) => {
                let top = n.ref_id.split('.').next().unwrap_or("");
                out.push(GapRequirement {
                    ref_id: n.ref_id.clone(),
                    title: n.title.clone(),
                    group: format!("Clause {top} {}", title_of(top)),
                });
            }
            NodeKind::Control => {
                let id = n
                    .control_id
                    .clone()
                    .unwrap_or_else(|| n.ref_id.trim_start_matches("A.").to_owned());
                let theme = isms_catalog::annex_a_control(&id).map_or("", |c| c.theme.as_str());
                let clause = id.split('.').next().unwrap_or("");
                out.push(GapRequirement {
                    ref_id: n.ref_id.clone(),
                    title: n.title.clone(),
                    group: format!("A.{clause} {theme} controls"),
                });
            }
            _ => {}
        }
    }
    out
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct GapAssessment {
    pub id: i64,
    pub title: String,
    pub framework_id: String,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct GapEntry {
    pub ref_id: String,
    pub status: String,
    pub maturity: i64,
    pub notes: String,
    pub owner: String,
    /// YYYY-MM-DD or empty.
    pub target_date: String,
    /// Linked actions, free text until the actions module lands.
    pub actions: String,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

impl GapEntry {
    /// 1 (highest) to 3: not started with low maturity first.
    pub fn priority(&self) -> u8 {
        match (self.status.as_str(), self.maturity) {
            ("not_started", m) if m <= 1 => 1,
            ("not_started" | "partial", m) if m <= 3 => 2,
            _ => 3,
        }
    }
    pub fn is_gap(&self) -> bool {
        matches!(self.status.as_str(), "not_started" | "partial")
    }
}

/// A change to one requirement's assessment; `version` is required.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GapPatch {
    pub status: Option<String>,
    pub maturity: Option<i64>,
    pub notes: Option<String>,
    pub owner: Option<String>,
    pub target_date: Option<String>,
    pub actions: Option<String>,
    pub version: Option<i64>,
}

/// Progress of one group: implemented of applicable.
#[derive(Debug, Clone, Serialize)]
pub struct GapProgress {
    pub group: String,
    pub implemented: usize,
    pub partial: usize,
    pub applicable: usize,
    pub not_applicable: usize,
}

/// How one requirement moved between two assessments.
#[derive(Debug, Clone, Serialize)]
pub struct GapMove {
    pub ref_id: String,
    pub from_status: String,
    pub to_status: String,
    pub from_maturity: i64,
    pub to_maturity: i64,
    /// "improved", "regressed" or "changed".
    pub direction: &'static str,
}

fn rank(status: &str) -> i64 {
    match status {
        "partial" => 1,
        "implemented" => 2,
        _ => 0,
    }
}

/// Progress by group, in reading order.
pub fn gap_progress(entries: &[GapEntry]) -> Vec<GapProgress> {
    let reqs = gap_requirements();
    let by_ref: HashMap<&str, &GapEntry> = entries.iter().map(|e| (e.ref_id.as_str(), e)).collect();
    let mut out: Vec<GapProgress> = Vec::new();
    for r in &reqs {
        let Some(e) = by_ref.get(r.ref_id.as_str()) else {
            continue;
        };
        if out.last().is_none_or(|p| p.group != r.group) {
            out.push(GapProgress {
                group: r.group.clone(),
                implemented: 0,
                partial: 0,
                applicable: 0,
                not_applicable: 0,
            });
        }
        if let Some(p) = out.last_mut() {
            match e.status.as_str() {
                "not_applicable" => p.not_applicable += 1,
                s => {
                    p.applicable += 1;
                    if s == "implemented" {
                        p.implemented += 1;
                    } else if s == "partial" {
                        p.partial += 1;
                    }
                }
            }
        }
    }
    out
}

const ENTRY_COLS: &str =
    "ref_id, status, maturity, notes, owner, target_date, actions, version, updated_at, updated_by";

impl Store {
    /// Starts an assessment with every requirement not started, or a copy of
    /// the values of assessment `copy_from` (to measure progress from it).
    pub async fn create_gap_assessment(
        &self,
        org_id: i64,
        title: &str,
        copy_from: Option<i64>,
        actor: &Actor,
    ) -> Result<GapAssessment> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(StoreError::Invalid("title: 1 to 200 characters".into()));
        }
        let source = match copy_from {
            Some(id) => Some(self.gap_entries(org_id, id).await?),
            None => None,
        };
        let at = now();
        let mut tx = self.begin().await?;
        let a: GapAssessment = on_tx!(&mut tx, |c| sqlx::query_as(
            "INSERT INTO gap_assessments (org_id, title, framework_id, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id, title, framework_id, created_at, created_by"
        )
        .bind(org_id)
        .bind(title)
        .bind(isms_catalog::ISO27001_2022)
        .bind(&at)
        .bind(&actor.label)
        .fetch_one(c)
        .await)?;
        let copied: HashMap<String, GapEntry> = source
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.ref_id.clone(), e))
            .collect();
        for (i, r) in gap_requirements().iter().enumerate() {
            let e = copied.get(&r.ref_id);
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "INSERT INTO gap_entries (assessment_id, org_id, ref_id, ord, status, maturity, notes, owner, target_date, actions, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            )
            .bind(a.id)
            .bind(org_id)
            .bind(&r.ref_id)
            .bind(i as i64)
            .bind(e.map_or("not_started", |e| e.status.as_str()))
            .bind(e.map_or(0, |e| e.maturity))
            .bind(e.map_or("", |e| e.notes.as_str()))
            .bind(e.map_or("", |e| e.owner.as_str()))
            .bind(e.map_or("", |e| e.target_date.as_str()))
            .bind(e.map_or("", |e| e.actions.as_str()))
            .bind(&at)
            .bind(&actor.label)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "gap_assessment",
                entity_id: a.id.to_string(),
                before: None,
                after: Some(json!({"title": a.title, "framework_id": a.framework_id, "copied_from": copy_from})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(a)
    }

    /// The assessments, newest first.
    pub async fn gap_assessments(&self, org_id: i64) -> Result<Vec<GapAssessment>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, GapAssessment>(
            "SELECT id, title, framework_id, created_at, created_by FROM gap_assessments \
             WHERE org_id = $1 ORDER BY id DESC"
        )
        .bind(org_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn gap_assessment(&self, org_id: i64, id: i64) -> Result<GapAssessment> {
        on_pool!(self, |p| sqlx::query_as::<_, GapAssessment>(
            "SELECT id, title, framework_id, created_at, created_by FROM gap_assessments \
             WHERE org_id = $1 AND id = $2"
        )
        .bind(org_id)
        .bind(id)
        .fetch_optional(p)
        .await)?
        .ok_or_else(|| StoreError::NotFound(format!("no gap assessment {id} in this organisation")))
    }

    /// The entries of an assessment in reading order.
    pub async fn gap_entries(&self, org_id: i64, id: i64) -> Result<Vec<GapEntry>> {
        self.gap_assessment(org_id, id).await?;
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, GapEntry>(&format!(
            "SELECT {ENTRY_COLS} FROM gap_entries WHERE org_id = $1 AND assessment_id = $2 ORDER BY ord"
        ))
        .bind(org_id)
        .bind(id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Changes one requirement's assessment if `version` is current.
    pub async fn update_gap_entry(
        &self,
        org_id: i64,
        id: i64,
        ref_id: &str,
        patch: &GapPatch,
        actor: &Actor,
    ) -> Result<GapEntry> {
        let Some(sent) = patch.version else {
            return Err(versioned::version_required(""));
        };
        let mut tx = self.begin().await?;
        let target = Target {
            table: "gap_entries",
            org_id,
            keys: &[
                ("assessment_id", Key::Int(id)),
                ("ref_id", Key::Text(ref_id)),
            ],
        };
        let before = versioned::claim_and_load(
            &mut tx,
            &target,
            sent,
            ref_id,
            async |tx| {
                on_tx!(tx, |c| sqlx::query_as::<_, GapEntry>(&format!(
                    "SELECT {ENTRY_COLS} FROM gap_entries WHERE org_id = $1 AND assessment_id = $2 AND ref_id = $3"
                ))
                .bind(org_id)
                .bind(id)
                .bind(ref_id)
                .fetch_optional(c)
                .await)
                .map_err(Into::into)
            },
            || {
                StoreError::NotFound(format!(
                    "'{ref_id}' is not a requirement of gap assessment {id}: use a clause (4.1 .. 10.2) or an Annex A control (A.5.1 .. A.8.34)"
                ))
            },
        )
        .await?;
        let mut after = before.clone();
        if let Some(s) = &patch.status {
            let s = s.trim();
            if !GAP_STATUSES.contains(&s) {
                return Err(StoreError::Invalid(format!(
                    "status: unknown status '{s}': use not_started, partial, implemented or not_applicable"
                )));
            }
            s.clone_into(&mut after.status);
        }
        if let Some(m) = patch.maturity {
            if !(0..=5).contains(&m) {
                return Err(StoreError::Invalid(format!(
                    "maturity: {m} is outside 0 to 5"
                )));
            }
            after.maturity = m;
        }
        for (field, value) in [
            (&mut after.notes, &patch.notes),
            (&mut after.owner, &patch.owner),
            (&mut after.actions, &patch.actions),
        ] {
            if let Some(v) = value {
                v.trim().clone_into(field);
            }
        }
        if let Some(d) = &patch.target_date {
            let d = d.trim();
            let ok = d.is_empty()
                || (d.len() == 10
                    && time::Date::parse(
                        d,
                        time::macros::format_description!("[year]-[month]-[day]"),
                    )
                    .is_ok());
            if !ok {
                return Err(StoreError::Invalid(format!(
                    "target_date: '{d}' is not a date: use YYYY-MM-DD"
                )));
            }
            d.clone_into(&mut after.target_date);
        }
        if after == before {
            // Dropping the transaction rolls the claim back: nothing changed.
            return Ok(before);
        }
        after.version += 1;
        after.updated_at = now();
        after.updated_by.clone_from(&actor.label);
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE gap_entries SET status = $1, maturity = $2, notes = $3, owner = $4, target_date = $5, \
             actions = $6, version = $7, updated_at = $8, updated_by = $9 \
             WHERE org_id = $10 AND assessment_id = $11 AND ref_id = $12"
        )
        .bind(&after.status)
        .bind(after.maturity)
        .bind(&after.notes)
        .bind(&after.owner)
        .bind(&after.target_date)
        .bind(&after.actions)
        .bind(after.version)
        .bind(&after.updated_at)
        .bind(&after.updated_by)
        .bind(org_id)
        .bind(id)
        .bind(ref_id)
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
                entity_type: "gap_entry",
                entity_id: format!("{id}/{ref_id}"),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// What moved from assessment `from` to assessment `to`.
    pub async fn compare_gap(&self, org_id: i64, from: i64, to: i64) -> Result<Vec<GapMove>> {
        let older = self.gap_entries(org_id, from).await?;
        let newer = self.gap_entries(org_id, to).await?;
        let before: HashMap<&str, &GapEntry> =
            older.iter().map(|e| (e.ref_id.as_str(), e)).collect();
        Ok(newer
            .iter()
            .filter_map(|latest| {
                let was = before.get(latest.ref_id.as_str())?;
                if was.status == latest.status && was.maturity == latest.maturity {
                    return None;
                }
                let delta = (
                    rank(&latest.status) - rank(&was.status),
                    latest.maturity - was.maturity,
                );
                let direction = match delta {
                    (s, m) if s > 0 || (s == 0 && m > 0) => "improved",
                    (s, m) if s < 0 || (s == 0 && m < 0) => "regressed",
                    _ => "changed",
                };
                Some(GapMove {
                    ref_id: latest.ref_id.clone(),
                    from_status: was.status.clone(),
                    to_status: latest.status.clone(),
                    from_maturity: was.maturity,
                    to_maturity: latest.maturity,
                    direction,
                })
            })
            .collect())
    }
}

versioned::versioned_record!(GapEntry);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requirements_are_the_leaf_clauses_and_all_93_controls() {
        let reqs = gap_requirements();
        let controls = reqs.iter().filter(|r| r.ref_id.starts_with("A.")).count();
        assert_eq!(controls, 93);
        assert!(reqs.iter().any(|r| r.ref_id == "6.1.2"));
        assert!(
            !reqs.iter().any(|r| r.ref_id == "6" || r.ref_id == "6.1"),
            "groups are not assessed"
        );
        assert_eq!(reqs[0].ref_id, "4.1");
        assert!(reqs[0].group.starts_with("Clause 4 "));
        assert_eq!(reqs.last().unwrap().group, "A.8 Technological controls");
    }
}
