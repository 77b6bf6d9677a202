//! Certification readiness: the documented information ISO/IEC 27001:2022
//! requires, each item computed from the data (present, approved, current),
//! never ticked by hand.

use serde::Serialize;

use crate::{Actor, Result, Store};

/// The state of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessState {
    /// Present, approved where approval applies, and current.
    Ready,
    /// Something exists but is incomplete, unapproved or out of date.
    Incomplete,
    /// Nothing there yet.
    Missing,
}

impl ReadinessState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadinessState::Ready => "ready",
            ReadinessState::Incomplete => "incomplete",
            ReadinessState::Missing => "missing",
        }
    }
}

/// One item of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct ReadinessItem {
    pub key: &'static str,
    /// The clause that requires the documented information.
    pub clause: &'static str,
    pub title: &'static str,
    pub state: ReadinessState,
    /// What was found, or what is missing.
    pub detail: String,
    /// Where to fix it in the web application.
    pub link: &'static str,
}

/// The whole checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub items: Vec<ReadinessItem>,
    pub ready: usize,
    pub total: usize,
}

impl Readiness {
    /// Percentage of items ready, rounded down.
    pub fn percent(&self) -> usize {
        (self.ready * 100).checked_div(self.total).unwrap_or(0)
    }
    pub fn complete(&self) -> bool {
        self.ready == self.total
    }
}

/// Items whose feature is not built yet: always missing, saying what will provide them.
/// Every item is computed by its module now; an item a future module
/// provides goes here until it lands.
const NOT_YET: &[(&str, &str, &str, &str)] = &[];

impl Store {
    /// Computes the checklist for one organisation.
    pub async fn readiness(&self, org_id: i64, actor: &Actor) -> Result<Readiness> {
        let mut items = Vec::new();

        // Documented information older than a year counts as out of date.
        let year_ago = crate::time_from_now(time::Duration::days(-365));
        let scope = self.scope(org_id).await?;
        let (state, detail) = if scope.version == 0 {
            (ReadinessState::Missing, "no scope statement yet".to_owned())
        } else if scope.units.is_empty() || scope.locations.is_empty() || scope.processes.is_empty()
        {
            (
                ReadinessState::Incomplete,
                "the scope statement exists but does not name the units, locations and processes it covers".to_owned(),
            )
        } else if scope.updated_at < year_ago {
            (
                ReadinessState::Incomplete,
                format!(
                    "the scope was last reviewed on {}, over a year ago: review it",
                    scope.updated_at.get(..10).unwrap_or("")
                ),
            )
        } else {
            (
                ReadinessState::Ready,
                format!(
                    "scope version {} of {}",
                    scope.version,
                    scope.updated_at.get(..10).unwrap_or("")
                ),
            )
        };
        items.push(ReadinessItem {
            key: "scope",
            clause: "4.3",
            title: "Scope of the ISMS",
            state,
            detail,
            link: "/context",
        });

        let context = self.context_items(org_id, None).await?;
        let issues = context.iter().filter(|i| i.kind == "issue").count();
        let parties = context.iter().filter(|i| i.kind == "party").count();
        let (state, detail) = match (issues, parties) {
            (0, 0) => (
                ReadinessState::Missing,
                "no issues and no interested parties recorded".to_owned(),
            ),
            (0, _) | (_, 0) => (
                ReadinessState::Incomplete,
                format!("{issues} issue(s) and {parties} interested part(ies): both are needed"),
            ),
            _ => (
                ReadinessState::Ready,
                format!("{issues} issue(s), {parties} interested part(ies)"),
            ),
        };
        items.push(ReadinessItem {
            key: "context",
            clause: "4.1, 4.2",
            title: "Issues and interested parties",
            state,
            detail,
            link: "/context",
        });

        let soa = self.soa_summary(org_id, actor).await?;
        let (state, detail) = match &soa.latest {
            None => (
                ReadinessState::Missing,
                format!(
                    "the SoA has never been approved; {} of {} controls still lack a justification",
                    soa.unjustified.len(),
                    soa.entries
                ),
            ),
            Some(v) if !soa.unjustified.is_empty() => (
                ReadinessState::Incomplete,
                format!(
                    "version {} approved, but {} control(s) lack a justification (first: {})",
                    v.number,
                    soa.unjustified.len(),
                    soa.unjustified[0]
                ),
            ),
            Some(v) if soa.draft_changed => (
                ReadinessState::Incomplete,
                format!(
                    "version {} approved, but the draft has changed since: approve it again",
                    v.number
                ),
            ),
            Some(v) if v.approved_at < year_ago => (
                ReadinessState::Incomplete,
                format!(
                    "version {} was approved on {}, over a year ago: review the SoA and approve it again",
                    v.number,
                    v.approved_at.get(..10).unwrap_or("")
                ),
            ),
            Some(v) => (
                ReadinessState::Ready,
                format!(
                    "version {} approved by {} on {}",
                    v.number,
                    v.approved_by,
                    v.approved_at.get(..10).unwrap_or("")
                ),
            ),
        };
        items.push(ReadinessItem {
            key: "soa",
            clause: "6.1.3 d",
            title: "Statement of Applicability",
            state,
            detail,
            link: "/soa",
        });

        let today = crate::now();
        let today = today.get(..10).unwrap_or("");
        let objectives: Vec<_> = context.iter().filter(|i| i.kind == "objective").collect();
        let current = objectives
            .iter()
            .filter(|o| o.due_date.as_str() >= today)
            .count();
        let (state, detail) = match (objectives.len(), current) {
            (0, _) => (
                ReadinessState::Missing,
                "no information security objectives".to_owned(),
            ),
            (n, 0) => (
                ReadinessState::Incomplete,
                format!("{n} objective(s), all past their due date: set current ones"),
            ),
            (n, c) => (
                ReadinessState::Ready,
                format!("{n} objective(s), {c} current"),
            ),
        };
        items.push(ReadinessItem {
            key: "objectives",
            clause: "6.2",
            title: "Information security objectives",
            state,
            detail,
            link: "/context",
        });

        items.extend(self.risk_readiness(org_id, &year_ago).await?);
        items.extend(self.training_readiness(org_id).await?);
        items.push(self.internal_audit_readiness(org_id, &year_ago).await?);
        items.push(self.management_review_readiness(org_id, &year_ago).await?);
        items.push(self.nonconformity_readiness(org_id).await?);
        items.extend(self.controls_readiness(org_id).await?);
        items.push(self.document_readiness(org_id, &year_ago).await?);

        for &(key, clause, title, detail) in NOT_YET {
            items.push(ReadinessItem {
                key,
                clause,
                title,
                state: ReadinessState::Missing,
                detail: detail.to_owned(),
                link: "/readiness",
            });
        }
        let ready = items
            .iter()
            .filter(|i| i.state == ReadinessState::Ready)
            .count();
        let total = items.len();
        Ok(Readiness {
            items,
            ready,
            total,
        })
    }
}
