//! Internal audits (9.2): the programme, each audit's team and checklist
//! (generated from the chosen requirements of any installed framework), and
//! findings, a nonconformity result raising its nonconformity in the same
//! transaction. The rules live in `isms_domain::internal_audit`.

use std::collections::HashMap;
use std::fmt::Write as _;

use isms_domain::internal_audit::{
    self as rules, AuditStatus, FindingResult, ISO27001, annex_a_control, resolve_ref, short_ref,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::due::DueItem;
use crate::risk::check_date;
use crate::users::member_id;
use crate::versioned::{self, Key, Target};
use crate::{Result, Store, StoreError, Tx, now, on_pool, on_tx};

/// The most requirements one audit's scope holds.
pub const MAX_SCOPE: usize = 500;
/// The most evidence links one finding holds.
pub const MAX_EVIDENCE: usize = 20;
/// Every clause and theme once in this many years.
pub const CYCLE_YEARS: i32 = 3;

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

fn is_control(id: &str) -> bool {
    isms_catalog::annex_a_control(id).is_some() && !id.starts_with("A.")
}

/// A requirement id as shown for `framework`.
pub fn shown_ref(framework: &str, ref_id: &str) -> String {
    short_ref(framework, ref_id, is_control)
}

/// One finding on a checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: i64,
    pub audit_id: i64,
    /// The requirement as shown (`8.5`, `clause 9.2`).
    pub requirement: String,
    /// The framework's ref id (`A.8.5`).
    pub ref_id: String,
    pub result: FindingResult,
    pub notes: String,
    /// Links to the evidence seen (typed with the finding).
    pub evidence: Vec<String>,
    /// Evidence files and links kept in the evidence store.
    pub evidence_items: Vec<FindingEvidence>,
    /// The nonconformity it raised.
    pub nonconformity_id: Option<i64>,
    pub created_at: String,
    pub created_by: String,
}

/// A piece of evidence of the evidence store attached to a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct FindingEvidence {
    pub finding_id: i64,
    pub evidence_id: i64,
    pub title: String,
    /// `file` or `link`.
    pub kind: String,
    /// The address of a link (empty for a file).
    pub url: String,
    /// The current file (files only).
    pub file_name: Option<String>,
    pub sha256: Option<String>,
    pub size: Option<i64>,
}

impl FindingEvidence {
    /// The first characters of the file's SHA-256, for display.
    pub fn short_sha(&self) -> String {
        self.sha256
            .as_deref()
            .map(|h| h.chars().take(12).collect())
            .unwrap_or_default()
    }

    /// Where a person opens it: the file's download, or the link.
    pub fn href(&self) -> String {
        if self.kind == "file" {
            format!("/evidence/{}/download", self.evidence_id)
        } else {
            self.url.clone()
        }
    }
}

const FINDING_EVIDENCE_SELECT: &str = "SELECT fe.finding_id, e.id AS evidence_id, e.title, e.kind, e.url, \
     r.file_name, r.sha256, r.size FROM finding_evidence fe \
     JOIN audit_findings f ON f.org_id = fe.org_id AND f.id = fe.finding_id \
     JOIN evidence e ON e.org_id = fe.org_id AND e.id = fe.evidence_id \
     LEFT JOIN evidence_revisions r ON r.org_id = e.org_id AND r.evidence_id = e.id \
       AND r.revision = (SELECT MAX(r2.revision) FROM evidence_revisions r2 WHERE r2.org_id = e.org_id AND r2.evidence_id = e.id) \
     WHERE fe.org_id = $1";

/// One item of an audit's checklist with its findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    pub requirement: String,
    pub ref_id: String,
    pub title: String,
    pub findings: Vec<Finding>,
}

/// An audit with its team and checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audit {
    pub id: i64,
    pub title: String,
    pub framework: String,
    pub criteria: String,
    pub status: AuditStatus,
    /// YYYY-MM-DD or empty.
    pub start_date: String,
    pub end_date: String,
    pub summary: String,
    pub lead_auditor: Option<String>,
    /// E-mails of the team, the lead first.
    pub auditors: Vec<String>,
    pub checklist: Vec<ChecklistItem>,
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

impl Audit {
    /// The requirements in scope, as shown.
    pub fn scope(&self) -> Vec<String> {
        self.checklist
            .iter()
            .map(|c| c.requirement.clone())
            .collect()
    }
    /// Every finding, in checklist order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.checklist.iter().flat_map(|c| c.findings.iter())
    }
}

/// An audit of the programme, without its checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditSummary {
    pub id: i64,
    pub title: String,
    pub framework: String,
    pub status: String,
    pub start_date: String,
    pub end_date: String,
    pub items: i64,
    pub findings: i64,
    pub nonconformities: i64,
    pub lead_auditor: Option<String>,
}

/// An audit to plan.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditInput {
    pub title: Option<String>,
    /// A framework slug; ISO/IEC 27001:2022 by default.
    pub framework: Option<String>,
    pub criteria: Option<String>,
    /// Requirements to audit: `8.5` (Annex A), `9.2`, `clause 5.1`, or ref ids of another framework.
    pub scope: Vec<String>,
    /// E-mails of members.
    pub auditors: Vec<String>,
    /// One of the auditors; the first by default.
    pub lead_auditor: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

/// A change to an audit; `version` required.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditPatch {
    pub title: Option<String>,
    pub criteria: Option<String>,
    pub status: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub summary: Option<String>,
    /// The requirements audited (replaces the scope; a requirement with
    /// findings cannot leave it).
    pub scope: Option<Vec<String>>,
    /// E-mails of the team (replaces it).
    pub auditors: Option<Vec<String>>,
    /// One of the auditors.
    pub lead_auditor: Option<String>,
    pub version: Option<i64>,
}

/// A finding to record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FindingInput {
    pub requirement: Option<String>,
    pub result: Option<String>,
    pub notes: Option<String>,
    /// Links (http, https, or a local path).
    #[serde(default)]
    pub evidence: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    title: String,
    framework: String,
    criteria: String,
    status: String,
    start_date: String,
    end_date: String,
    summary: String,
    version: i64,
    created_at: String,
    created_by: String,
    updated_at: String,
    updated_by: String,
}

#[derive(sqlx::FromRow)]
struct FindingRow {
    id: i64,
    audit_id: i64,
    ref_id: String,
    result: String,
    notes: String,
    evidence: String,
    nonconformity_id: Option<i64>,
    created_at: String,
    created_by: String,
}

impl FindingRow {
    fn into_finding(self, framework: &str) -> Result<Finding> {
        Ok(Finding {
            id: self.id,
            audit_id: self.audit_id,
            requirement: shown_ref(framework, &self.ref_id),
            ref_id: self.ref_id,
            result: self.result.parse().map_err(invalid)?,
            notes: self.notes,
            evidence: self
                .evidence
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            evidence_items: Vec::new(),
            nonconformity_id: self.nonconformity_id,
            created_at: self.created_at,
            created_by: self.created_by,
        })
    }
}

const AUDIT_COLS: &str = "id, title, framework, criteria, status, start_date, end_date, summary, version, \
     created_at, created_by, updated_at, updated_by";
const FINDING_SELECT: &str = "SELECT f.id, f.audit_id, f.ref_id, f.result, f.notes, f.evidence, \
     (SELECT MIN(n.id) FROM nonconformities n WHERE n.org_id = f.org_id AND n.finding_id = f.id) AS nonconformity_id, \
     f.created_at, f.created_by FROM audit_findings f WHERE f.org_id = $1";

fn audit_missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("no audit {id} in this organisation"))
}

fn text(field: &str, v: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.chars().count() > max {
        return Err(invalid(format!("{field}: at most {max} characters")));
    }
    Ok(v.to_owned())
}

fn title(v: Option<&str>) -> Result<String> {
    let t = v.unwrap_or("").trim();
    if t.is_empty() || t.chars().count() > 300 {
        return Err(invalid("title: required, 1 to 300 characters"));
    }
    Ok(t.to_owned())
}

fn evidence_links(list: &[String]) -> Result<String> {
    if list.len() > MAX_EVIDENCE {
        return Err(invalid(format!(
            "evidence: at most {MAX_EVIDENCE} links per finding"
        )));
    }
    let mut out = Vec::new();
    for l in list.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        let ok = (l.starts_with("https://") || l.starts_with("http://") || l.starts_with('/'))
            && l.len() <= 2000
            && !l.chars().any(char::is_whitespace);
        if !ok {
            return Err(invalid(format!(
                "evidence: '{l}' is not a link: use an http(s) address or a path in this application"
            )));
        }
        out.push(l.to_owned());
    }
    Ok(out.join("\n"))
}

async fn audit_row(tx: &mut Tx, org_id: i64, id: i64) -> Result<Option<AuditRow>> {
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, AuditRow>(&format!(
        "SELECT {AUDIT_COLS} FROM audits WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

impl Store {
    /// The requirements of `framework` for `typed` ids, in the framework's
    /// order: (ref id, title, position); an unknown id is refused by name.
    async fn scope_requirements(
        &self,
        org_id: i64,
        framework: &str,
        typed: &[String],
    ) -> Result<Vec<(String, String, i64)>> {
        let fw = self
            .framework(framework, crate::Tenant::Org(org_id))
            .await?
            .ok_or_else(|| {
                invalid(format!(
                    "framework: '{framework}' is not installed: see /frameworks"
                ))
            })?;
        let refs: Vec<String> = typed
            .iter()
            .map(|t| resolve_ref(&fw.slug, t, is_control))
            .collect();
        rules::check_scope(&refs, MAX_SCOPE).map_err(invalid)?;
        let all: Vec<(String, String, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT ref_id, title, position FROM requirements WHERE framework_id = $1"
        )
        .bind(fw.id)
        .fetch_all(p)
        .await)?;
        let by_ref: HashMap<&str, &(String, String, i64)> =
            all.iter().map(|r| (r.0.as_str(), r)).collect();
        let mut out = Vec::new();
        for (r, t) in refs.iter().zip(typed) {
            let found = by_ref.get(r.as_str()).ok_or_else(|| {
                invalid(format!(
                    "scope: '{}' is not a requirement of {}",
                    t.trim(),
                    fw.name
                ))
            })?;
            out.push((*found).clone());
        }
        out.sort_by_key(|r| r.2);
        Ok(out)
    }

    /// Who owns what per requirement (as shown), for the independence rule:
    /// SoA entry owners for Annex A controls. Modules that own things per
    /// requirement (applied controls) add their pairs here.
    /// Who owns what an audit of `framework` may cover, as (requirement as
    /// shown, owner's e-mail, what they own): SoA entries (Annex A) and the
    /// applied controls linked to the framework's requirements.
    async fn requirement_owners(
        &self,
        org_id: i64,
        framework: &str,
    ) -> Result<Vec<(String, String, String)>> {
        let mut out = Vec::new();
        if framework == ISO27001 {
            let soa: Vec<(String, String)> = on_pool!(self, |p| {
                sqlx::query_as(
                "SELECT s.control_id, u.email FROM soa_entries s JOIN users u ON u.id = s.owner_user_id \
                 WHERE s.org_id = $1"
            )
            .bind(org_id)
            .fetch_all(p)
            .await
            })?;
            out.extend(soa.into_iter().map(|(c, e)| (c, e, "SoA entry".to_owned())));
        }
        let controls: Vec<(String, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT cr.ref_id, u.email, c.name FROM control_requirements cr \
             JOIN applied_controls c ON c.org_id = cr.org_id AND c.id = cr.applied_control_id \
             JOIN users u ON u.id = c.owner_user_id \
             WHERE cr.org_id = $1 AND cr.framework = $2 AND c.status <> 'retired'",
            )
            .bind(org_id)
            .bind(framework)
            .fetch_all(p)
            .await
        })?;
        out.extend(controls.into_iter().map(|(r, e, name)| {
            (
                shown_ref(framework, &r),
                e,
                format!("applied control \u{201c}{name}\u{201d}"),
            )
        }));
        Ok(out)
    }

    /// Plans an audit: its checklist is generated from the scope; auditors
    /// who own an audited requirement are refused, naming the conflict.
    pub async fn create_audit(
        &self,
        org_id: i64,
        input: &AuditInput,
        actor: &Actor,
    ) -> Result<Audit> {
        let title = title(input.title.as_deref())?;
        let framework = input
            .framework
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .unwrap_or(ISO27001)
            .to_owned();
        let criteria = text("criteria", input.criteria.as_deref().unwrap_or(""), 2000)?;
        let start = input.start_date.as_deref().unwrap_or("").trim().to_owned();
        let end = input.end_date.as_deref().unwrap_or("").trim().to_owned();
        check_date("start_date", &start)?;
        check_date("end_date", &end)?;
        if !start.is_empty() && !end.is_empty() && end < start {
            return Err(invalid(format!(
                "end_date: {end} is before the start date {start}"
            )));
        }
        let items = self
            .scope_requirements(org_id, &framework, &input.scope)
            .await?;
        let auditors: Vec<String> = input
            .auditors
            .iter()
            .map(|a| a.trim().to_lowercase())
            .filter(|a| !a.is_empty())
            .collect();
        if auditors.is_empty() {
            return Err(invalid(
                "auditors: name at least one auditor (a member's e-mail)",
            ));
        }
        let lead = input
            .lead_auditor
            .as_deref()
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| auditors[0].clone());
        if !auditors.contains(&lead) {
            return Err(invalid(format!(
                "lead_auditor: {lead} is not one of the auditors"
            )));
        }
        let scope: Vec<String> = items.iter().map(|i| shown_ref(&framework, &i.0)).collect();
        let owners = self.requirement_owners(org_id, &framework).await?;
        rules::independence(&rules::independence_conflicts(&scope, &owners, &auditors))
            .map_err(invalid)?;

        let mut tx = self.begin().await?;
        let mut ids = Vec::new();
        for a in &auditors {
            let id = member_id(&mut tx, org_id, "auditors", a).await?;
            if ids.contains(&id) {
                return Err(invalid(format!("auditors: {a} is named twice")));
            }
            ids.push(id);
        }
        let at = now();
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO audits (org_id, title, framework, criteria, start_date, end_date, created_at, created_by, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $8) RETURNING id"
        )
        .bind(org_id)
        .bind(&title)
        .bind(&framework)
        .bind(&criteria)
        .bind(&start)
        .bind(&end)
        .bind(&at)
        .bind(&actor.label)
        .fetch_one(c)
        .await
        })?;
        for (a, uid) in auditors.iter().zip(&ids) {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "INSERT INTO audit_auditors (org_id, audit_id, user_id, lead) VALUES ($1, $2, $3, $4)"
            )
            .bind(org_id)
            .bind(id)
            .bind(uid)
            .bind(*a == lead)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        // One statement for the whole checklist.
        let mut sql =
            String::from("INSERT INTO audit_items (org_id, audit_id, ref_id, ord, title) VALUES ");
        for i in 0..items.len() {
            let b = i * 3;
            let _ = write!(
                sql,
                "{}($1, $2, ${}, ${}, ${})",
                if i == 0 { "" } else { ", " },
                b + 3,
                b + 4,
                b + 5
            );
        }
        on_tx!(&mut tx, |c| {
            let mut q = sqlx::query(&sql).bind(org_id).bind(id);
            for (n, (r, t, _)) in items.iter().enumerate() {
                q = q.bind(r).bind(n as i64).bind(t);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
        let audit = self.audit_in_tx(&mut tx, org_id, id).await?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "internal_audit",
                entity_id: id.to_string(),
                before: None,
                after: Some(json!({"title": audit.title, "framework": audit.framework,
                    "scope": audit.scope(), "auditors": audit.auditors, "lead_auditor": audit.lead_auditor,
                    "start_date": audit.start_date, "end_date": audit.end_date})),
            },
        )
        .await?;
        tx.commit().await?;
        self.notify_audit_team(org_id, &audit).await;
        Ok(audit)
    }

    /// Tells each member of the team (once per audit) that they audit it; a
    /// failed message does not undo the change.
    async fn notify_audit_team(&self, org_id: i64, audit: &Audit) {
        let team: Vec<(i64,)> = match on_pool!(self, |p| sqlx::query_as(
            "SELECT user_id FROM audit_auditors WHERE org_id = $1 AND audit_id = $2"
        )
        .bind(org_id)
        .bind(audit.id)
        .fetch_all(p)
        .await)
        {
            Ok(t) => t,
            Err(_) => return,
        };
        let title = format!("You audit \u{201c}{}\u{201d}", audit.title);
        let body = format!("Scope: {}", audit.scope().join(", "));
        let link = format!("/audits/{}", audit.id);
        for (uid,) in team {
            let key = format!("audit_team:{}:{uid}", audit.id);
            let _ = self
                .notify(
                    org_id,
                    uid,
                    &crate::NewNotification {
                        category: "audit",
                        title: &title,
                        body: &body,
                        link: &link,
                        dedupe_key: Some(&key),
                    },
                )
                .await;
        }
    }

    async fn audit_in_tx(&self, tx: &mut Tx, org_id: i64, id: i64) -> Result<Audit> {
        let row = audit_row(tx, org_id, id)
            .await?
            .ok_or_else(|| audit_missing(id))?;
        let team: Vec<(String, bool)> = on_tx!(tx, |c| sqlx::query_as(
            "SELECT u.email, a.lead FROM audit_auditors a JOIN users u ON u.id = a.user_id \
             WHERE a.org_id = $1 AND a.audit_id = $2 ORDER BY a.lead DESC, u.email"
        )
        .bind(org_id)
        .bind(id)
        .fetch_all(c)
        .await)?;
        let items: Vec<(String, String)> = on_tx!(tx, |c| {
            sqlx::query_as(
            "SELECT ref_id, title FROM audit_items WHERE org_id = $1 AND audit_id = $2 ORDER BY ord"
        )
        .bind(org_id)
        .bind(id)
        .fetch_all(c)
        .await
        })?;
        let findings: Vec<FindingRow> = on_tx!(tx, |c| sqlx::query_as::<_, FindingRow>(&format!(
            "{FINDING_SELECT} AND f.audit_id = $2 ORDER BY f.id"
        ))
        .bind(org_id)
        .bind(id)
        .fetch_all(c)
        .await)?;
        let evidence: Vec<FindingEvidence> = on_tx!(tx, |c| sqlx::query_as::<_, FindingEvidence>(
            &format!("{FINDING_EVIDENCE_SELECT} AND f.audit_id = $2 ORDER BY fe.finding_id, e.id")
        )
        .bind(org_id)
        .bind(id)
        .fetch_all(c)
        .await)?;
        let mut by_finding: HashMap<i64, Vec<FindingEvidence>> = HashMap::new();
        for e in evidence {
            by_finding.entry(e.finding_id).or_default().push(e);
        }
        let mut by_ref: HashMap<String, Vec<Finding>> = HashMap::new();
        for f in findings {
            let mut f = f.into_finding(&row.framework)?;
            f.evidence_items = by_finding.remove(&f.id).unwrap_or_default();
            by_ref.entry(f.ref_id.clone()).or_default().push(f);
        }
        let checklist = items
            .into_iter()
            .map(|(ref_id, title)| ChecklistItem {
                requirement: shown_ref(&row.framework, &ref_id),
                findings: by_ref.remove(&ref_id).unwrap_or_default(),
                ref_id,
                title,
            })
            .collect();
        Ok(Audit {
            id: row.id,
            title: row.title,
            criteria: row.criteria,
            status: row.status.parse().map_err(invalid)?,
            start_date: row.start_date,
            end_date: row.end_date,
            summary: row.summary,
            lead_auditor: team.iter().find(|t| t.1).map(|t| t.0.clone()),
            auditors: team.into_iter().map(|t| t.0).collect(),
            checklist,
            framework: row.framework,
            version: row.version,
            created_at: row.created_at,
            created_by: row.created_by,
            updated_at: row.updated_at,
            updated_by: row.updated_by,
        })
    }

    /// One audit with its team, checklist and findings.
    pub async fn internal_audit(&self, org_id: i64, id: i64) -> Result<Audit> {
        let mut tx = self.read_tx().await?;
        self.audit_in_tx(&mut tx, org_id, id).await
    }

    /// The programme: every audit, latest start first.
    pub async fn internal_audits(&self, org_id: i64) -> Result<Vec<AuditSummary>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, AuditSummary>(
            "SELECT a.id, a.title, a.framework, a.status, a.start_date, a.end_date, \
             (SELECT COUNT(*) FROM audit_items i WHERE i.org_id = a.org_id AND i.audit_id = a.id) AS items, \
             (SELECT COUNT(*) FROM audit_findings f WHERE f.org_id = a.org_id AND f.audit_id = a.id) AS findings, \
             (SELECT COUNT(*) FROM nonconformities n WHERE n.org_id = a.org_id AND n.audit_id = a.id) AS nonconformities, \
             (SELECT u.email FROM audit_auditors t JOIN users u ON u.id = t.user_id \
               WHERE t.org_id = a.org_id AND t.audit_id = a.id AND t.lead) AS lead_auditor \
             FROM audits a WHERE a.org_id = $1 ORDER BY a.start_date DESC, a.id DESC LIMIT 1000"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Changes an audit (title, criteria, dates, summary, status) if `version` is current.
    pub async fn update_audit(
        &self,
        org_id: i64,
        id: i64,
        patch: &AuditPatch,
        actor: &Actor,
    ) -> Result<Audit> {
        let Some(sent) = patch.version else {
            return Err(versioned::version_required(" of the audit"));
        };
        let team =
            if patch.scope.is_some() || patch.auditors.is_some() || patch.lead_auditor.is_some() {
                Some(self.plan_team(org_id, id, patch).await?)
            } else {
                None
            };
        let mut tx = self.begin().await?;
        let before = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "audits",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("audit {id}"),
            async |tx| self.audit_in_tx(tx, org_id, id).await.map(Some),
            || audit_missing(id),
        )
        .await?;
        let mut after = before.clone();
        if let Some(t) = &patch.title {
            after.title = title(Some(t))?;
        }
        if let Some(c) = &patch.criteria {
            after.criteria = text("criteria", c, 2000)?;
        }
        if let Some(s) = &patch.summary {
            after.summary = text("summary", s, 20_000)?;
        }
        if let Some(d) = &patch.start_date {
            check_date("start_date", d.trim())?;
            d.trim().clone_into(&mut after.start_date);
        }
        if let Some(d) = &patch.end_date {
            check_date("end_date", d.trim())?;
            d.trim().clone_into(&mut after.end_date);
        }
        if !after.start_date.is_empty()
            && !after.end_date.is_empty()
            && after.end_date < after.start_date
        {
            return Err(invalid(format!(
                "end_date: {} is before the start date {}",
                after.end_date, after.start_date
            )));
        }
        if let Some(s) = &patch.status {
            let to: AuditStatus = s.parse().map_err(|e| invalid(format!("status: {e}")))?;
            after.status = before.status.transition(to).map_err(invalid)?;
            if after.status == AuditStatus::Completed && after.end_date.is_empty() {
                now()
                    .get(..10)
                    .unwrap_or("")
                    .clone_into(&mut after.end_date);
            }
        }
        let team = match team {
            Some(t) if !t.same_as(&before) => Some(t),
            _ => None,
        };
        if after == before && team.is_none() {
            return Ok(before);
        }
        if let Some(t) = &team {
            if matches!(
                before.status,
                AuditStatus::Completed | AuditStatus::Cancelled
            ) {
                return Err(invalid(format!(
                    "scope: the audit is {}: its scope and team stay as they were",
                    before.status.label().to_lowercase()
                )));
            }
            write_team(&mut tx, org_id, &before, t).await?;
        }
        after.version = sent + 1;
        after.updated_at = now();
        after.updated_by.clone_from(&actor.label);
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE audits SET title = $1, criteria = $2, summary = $3, start_date = $4, end_date = $5, status = $6, \
             updated_at = $7, updated_by = $8 WHERE org_id = $9 AND id = $10"
        )
        .bind(&after.title)
        .bind(&after.criteria)
        .bind(&after.summary)
        .bind(&after.start_date)
        .bind(&after.end_date)
        .bind(after.status.as_str())
        .bind(&after.updated_at)
        .bind(&after.updated_by)
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if team.is_some() {
            let mut reloaded = self.audit_in_tx(&mut tx, org_id, id).await?;
            reloaded.updated_at.clone_from(&after.updated_at);
            reloaded.updated_by.clone_from(&after.updated_by);
            after = reloaded;
        }
        let brief = |a: &Audit| {
            json!({"title": a.title, "criteria": a.criteria, "summary": a.summary, "status": a.status,
                "start_date": a.start_date, "end_date": a.end_date, "version": a.version,
                "scope": a.scope(), "auditors": a.auditors, "lead_auditor": a.lead_auditor})
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "internal_audit",
                entity_id: id.to_string(),
                before: Some(brief(&before)),
                after: Some(brief(&after)),
            },
        )
        .await?;
        tx.commit().await?;
        if team.is_some() {
            self.notify_audit_team(org_id, &after).await;
        }
        Ok(after)
    }

    /// The new team and scope of `patch`, checked against the independence
    /// rule before any write.
    async fn plan_team(&self, org_id: i64, id: i64, patch: &AuditPatch) -> Result<TeamPlan> {
        let current = self.internal_audit(org_id, id).await?;
        let items = match &patch.scope {
            Some(scope) => Some(
                self.scope_requirements(org_id, &current.framework, scope)
                    .await?,
            ),
            None => None,
        };
        let auditors: Vec<String> = match &patch.auditors {
            Some(list) => list
                .iter()
                .map(|a| a.trim().to_lowercase())
                .filter(|a| !a.is_empty())
                .collect(),
            None => current.auditors.clone(),
        };
        if auditors.is_empty() {
            return Err(invalid(
                "auditors: name at least one auditor (a member's e-mail)",
            ));
        }
        let lead = match patch
            .lead_auditor
            .as_deref()
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty())
        {
            Some(l) => l,
            None => current
                .lead_auditor
                .clone()
                .filter(|l| auditors.contains(l))
                .unwrap_or_else(|| auditors[0].clone()),
        };
        if !auditors.contains(&lead) {
            return Err(invalid(format!(
                "lead_auditor: {lead} is not one of the auditors"
            )));
        }
        let scope: Vec<String> = match &items {
            Some(items) => items
                .iter()
                .map(|i| shown_ref(&current.framework, &i.0))
                .collect(),
            None => current.scope(),
        };
        let owners = self.requirement_owners(org_id, &current.framework).await?;
        rules::independence(&rules::independence_conflicts(&scope, &owners, &auditors))
            .map_err(invalid)?;
        Ok(TeamPlan {
            items,
            auditors,
            lead,
        })
    }

    /// Attaches evidence (a file already in the blob store, or a link) to a
    /// finding of an audit: the evidence is recorded in the evidence store
    /// and linked to the finding in one transaction.
    pub async fn attach_finding_evidence(
        &self,
        org_id: i64,
        audit_id: i64,
        finding_id: i64,
        input: &crate::EvidenceInput,
        file: Option<&crate::StoredFile>,
        actor: &Actor,
    ) -> Result<FindingEvidence> {
        let mut tx = self.begin().await?;
        self.finding_in_audit(&mut tx, org_id, audit_id, finding_id)
            .await?;
        let (count,): (i64,) = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT COUNT(*) FROM finding_evidence WHERE org_id = $1 AND finding_id = $2"
        )
        .bind(org_id)
        .bind(finding_id)
        .fetch_one(c)
        .await)?;
        if count >= MAX_EVIDENCE as i64 {
            return Err(invalid(format!(
                "evidence: at most {MAX_EVIDENCE} pieces of evidence per finding"
            )));
        }
        let mut input = crate::EvidenceInput {
            controls: None,
            requirements: None,
            ..input.clone()
        };
        if file.is_none() && input.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
            // A link without a title is named by its address.
            input.title = input
                .url
                .as_deref()
                .map(|u| u.trim().chars().take(300).collect());
        }
        let e =
            crate::controls::create_evidence_in_tx(&mut tx, org_id, &input, file, actor).await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO finding_evidence (org_id, finding_id, evidence_id) VALUES ($1, $2, $3)"
        )
        .bind(org_id)
        .bind(finding_id)
        .bind(e.id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        let item: FindingEvidence = on_tx!(&mut tx, |c| sqlx::query_as::<_, FindingEvidence>(
            &format!("{FINDING_EVIDENCE_SELECT} AND fe.finding_id = $2 AND fe.evidence_id = $3")
        )
        .bind(org_id)
        .bind(finding_id)
        .bind(e.id)
        .fetch_one(c)
        .await)?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "add_evidence",
                entity_type: "audit_finding",
                entity_id: finding_id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&item).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(item)
    }

    /// Checks that `finding_id` is a finding of `audit_id` (404 otherwise).
    async fn finding_in_audit(
        &self,
        tx: &mut Tx,
        org_id: i64,
        audit_id: i64,
        finding_id: i64,
    ) -> Result<()> {
        audit_row(tx, org_id, audit_id)
            .await?
            .ok_or_else(|| audit_missing(audit_id))?;
        let found: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
            "SELECT id FROM audit_findings WHERE org_id = $1 AND audit_id = $2 AND id = $3"
        )
        .bind(org_id)
        .bind(audit_id)
        .bind(finding_id)
        .fetch_optional(c)
        .await)?;
        found.map(|_| ()).ok_or_else(|| {
            StoreError::NotFound(format!(
                "no finding {finding_id} on audit {audit_id} in this organisation"
            ))
        })
    }

    /// Whether `finding_id` is a finding of `audit_id` (for checks before an upload).
    pub async fn audit_finding_exists(
        &self,
        org_id: i64,
        audit_id: i64,
        finding_id: i64,
    ) -> Result<()> {
        let mut tx = self.read_tx().await?;
        self.finding_in_audit(&mut tx, org_id, audit_id, finding_id)
            .await
    }

    /// Records a finding on a requirement in the audit's scope; a
    /// nonconformity result raises its nonconformity in the same transaction.
    pub async fn record_finding(
        &self,
        org_id: i64,
        audit_id: i64,
        input: &FindingInput,
        actor: &Actor,
    ) -> Result<Finding> {
        let result: FindingResult = input
            .result
            .as_deref()
            .ok_or_else(|| {
                invalid("result: required: conform, minor_nonconformity, major_nonconformity, observation or opportunity")
            })?
            .parse()
            .map_err(|e| invalid(format!("result: {e}")))?;
        let typed = input.requirement.as_deref().unwrap_or("").trim();
        if typed.is_empty() {
            return Err(invalid("requirement: required, e.g. \"8.5\""));
        }
        let notes = text("notes", input.notes.as_deref().unwrap_or(""), 20_000)?;
        let evidence = evidence_links(&input.evidence)?;
        let mut tx = self.begin().await?;
        let row = audit_row(&mut tx, org_id, audit_id)
            .await?
            .ok_or_else(|| audit_missing(audit_id))?;
        let ref_id = resolve_ref(&row.framework, typed, is_control);
        let item: Option<(String,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT title FROM audit_items WHERE org_id = $1 AND audit_id = $2 AND ref_id = $3"
        )
        .bind(org_id)
        .bind(audit_id)
        .bind(&ref_id)
        .fetch_optional(c)
        .await)?;
        let Some((req_title,)) = item else {
            let scope: Vec<(String,)> = on_tx!(&mut tx, |c| {
                sqlx::query_as(
                "SELECT ref_id FROM audit_items WHERE org_id = $1 AND audit_id = $2 ORDER BY ord"
            )
            .bind(org_id)
            .bind(audit_id)
            .fetch_all(c)
            .await
            })?;
            let scope: Vec<String> = scope
                .iter()
                .map(|(r,)| shown_ref(&row.framework, r))
                .collect();
            return Err(invalid(format!(
                "requirement: {typed} is outside this audit's scope ({}): findings are recorded on the requirements audited",
                scope.join(", ")
            )));
        };
        let status: AuditStatus = row.status.parse().map_err(invalid)?;
        let next = status.on_finding().map_err(invalid)?;
        let at = now();
        if next != status {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "UPDATE audits SET status = $1, version = version + 1, updated_at = $2, updated_by = $3, \
                 start_date = CASE WHEN start_date = '' THEN $4 ELSE start_date END WHERE org_id = $5 AND id = $6"
            )
            .bind(next.as_str())
            .bind(&at)
            .bind(&actor.label)
            .bind(at.get(..10).unwrap_or(""))
            .bind(org_id)
            .bind(audit_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO audit_findings (org_id, audit_id, ref_id, result, notes, evidence, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
        )
        .bind(org_id)
        .bind(audit_id)
        .bind(&ref_id)
        .bind(result.as_str())
        .bind(&notes)
        .bind(&evidence)
        .bind(&at)
        .bind(&actor.label)
        .fetch_one(c)
        .await
        })?;
        let shown = shown_ref(&row.framework, &ref_id);
        let mut finding = Finding {
            id,
            audit_id,
            requirement: shown.clone(),
            ref_id,
            result,
            notes,
            evidence: evidence.lines().map(str::to_owned).collect(),
            evidence_items: Vec::new(),
            nonconformity_id: None,
            created_at: at.clone(),
            created_by: actor.label.clone(),
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "audit_finding",
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&finding).unwrap_or_default()),
            },
        )
        .await?;
        if let Some(severity) = result.raises() {
            let nc_title = format!("{shown} {req_title}: {}", result.label().to_lowercase());
            let nc_title: String = nc_title.chars().take(300).collect();
            let nc = crate::nonconformity::raise_in_tx(
                &mut tx,
                org_id,
                &crate::nonconformity::Raised {
                    title: nc_title,
                    description: finding.notes.clone(),
                    severity,
                    source: isms_domain::nonconformity::Source::Audit,
                    audit_id: Some(audit_id),
                    finding_id: Some(id),
                    review_id: None,
                    control_review_id: None,
                    source_ref: String::new(),
                    requirement: shown,
                    owner_user_id: None,
                },
                actor,
            )
            .await?;
            finding.nonconformity_id = Some(nc);
        }
        tx.commit().await?;
        Ok(finding)
    }

    /// The programme's coverage of ISO/IEC 27001:2022 clauses and Annex A
    /// themes by audits running or completed.
    pub async fn audit_coverage(
        &self,
        org_id: i64,
        today: &str,
    ) -> Result<Vec<rules::CoverageRow>> {
        let rows: Vec<(i64, String, String, String, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT a.id, a.start_date, a.end_date, a.created_at, i.ref_id FROM audits a \
             JOIN audit_items i ON i.org_id = a.org_id AND i.audit_id = a.id \
             WHERE a.org_id = $1 AND a.framework = $2 AND a.status IN ('in_progress', 'completed')"
        )
        .bind(org_id)
        .bind(ISO27001)
        .fetch_all(p)
        .await)?;
        let audited: Vec<(i64, String, String)> = rows
            .into_iter()
            .map(|(id, s, e, c, r)| {
                let d = [e, s, c.get(..10).unwrap_or("").to_owned()]
                    .into_iter()
                    .find(|d| !d.is_empty())
                    .unwrap_or_default();
                (id, d, r)
            })
            .collect();
        Ok(rules::coverage(&audited, today, CYCLE_YEARS))
    }

    /// The next planned audit (earliest start on or after `today`, or the
    /// earliest planned without a date): (id, title, start date).
    pub async fn next_audit(&self, org_id: i64) -> Result<Option<(i64, String, String)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, title, start_date FROM audits WHERE org_id = $1 AND status = 'planned' \
             ORDER BY start_date = '', start_date, id LIMIT 1"
        )
        .bind(org_id)
        .fetch_optional(p)
        .await)?)
    }

    /// Planned audits starting on or before `until`, owned by their lead auditor.
    pub async fn internal_audit_due_items(&self, org_id: i64, until: &str) -> Result<Vec<DueItem>> {
        let rows: Vec<(i64, String, String, Option<String>)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT a.id, a.title, a.start_date, (SELECT u.email FROM audit_auditors t JOIN users u ON u.id = t.user_id \
               WHERE t.org_id = a.org_id AND t.audit_id = a.id AND t.lead) \
             FROM audits a WHERE a.org_id = $1 AND a.status = 'planned' AND a.start_date <> '' AND a.start_date <= $2 \
             ORDER BY a.start_date, a.id"
        )
        .bind(org_id)
        .bind(until)
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, title, start, owner)| DueItem {
                kind: "audit_planned",
                id,
                title: format!("Audit: {title}"),
                owner,
                due_date: start,
                link: format!("/audits/{id}"),
            })
            .collect())
    }

    /// The readiness item of clause 9.2.
    pub(crate) async fn internal_audit_readiness(
        &self,
        org_id: i64,
        year_ago: &str,
    ) -> Result<crate::ReadinessItem> {
        let (audits, last): (i64, Option<String>) = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*), MAX(CASE WHEN status = 'completed' THEN \
               CASE WHEN end_date <> '' THEN end_date WHEN start_date <> '' THEN start_date ELSE substr(updated_at, 1, 10) END END) \
             FROM audits WHERE org_id = $1 AND status <> 'cancelled'"
        )
        .bind(org_id)
        .fetch_one(p)
        .await
        })?;
        let today = now();
        let today = today.get(..10).unwrap_or("");
        let areas_due = self
            .audit_coverage(org_id, today)
            .await?
            .iter()
            .filter(|r| r.overdue)
            .count();
        let (state, detail) = rules::audit_readiness(
            &rules::AuditFacts {
                audits,
                last_completed: last,
                areas_due,
            },
            year_ago,
        );
        Ok(crate::ReadinessItem {
            key: "internal_audit",
            clause: "9.2",
            title: "Audit programme and audit results",
            state: readiness_state(state),
            detail,
            link: "/audits",
        })
    }
}

/// A checked change of an audit's team and scope.
struct TeamPlan {
    /// The new checklist (ref id, title, position), or `None` to keep it.
    items: Option<Vec<(String, String, i64)>>,
    auditors: Vec<String>,
    lead: String,
}

impl TeamPlan {
    fn same_as(&self, a: &Audit) -> bool {
        let scope_same = self.items.as_ref().is_none_or(|items| {
            items.iter().map(|i| i.0.as_str()).collect::<Vec<_>>()
                == a.checklist
                    .iter()
                    .map(|c| c.ref_id.as_str())
                    .collect::<Vec<_>>()
        });
        let mut mine = self.auditors.clone();
        mine.sort();
        let mut theirs = a.auditors.clone();
        theirs.sort();
        scope_same && mine == theirs && a.lead_auditor.as_deref() == Some(self.lead.as_str())
    }
}

/// Writes a new team and checklist; a requirement with findings cannot
/// leave the scope (refused by name, nothing written).
async fn write_team(tx: &mut Tx, org_id: i64, before: &Audit, t: &TeamPlan) -> Result<()> {
    if let Some(items) = &t.items {
        let removed: Vec<&ChecklistItem> = before
            .checklist
            .iter()
            .filter(|c| !items.iter().any(|i| i.0 == c.ref_id))
            .collect();
        let kept: Vec<String> = removed
            .iter()
            .filter(|c| !c.findings.is_empty())
            .map(|c| format!("{} ({} finding(s))", c.requirement, c.findings.len()))
            .collect();
        if !kept.is_empty() {
            return Err(invalid(format!(
                "scope: {} cannot leave the audit's scope: findings were recorded on it",
                kept.join(", ")
            )));
        }
        if !removed.is_empty() {
            let mut sql = String::from(
                "DELETE FROM audit_items WHERE org_id = $1 AND audit_id = $2 AND ref_id IN (",
            );
            for i in 0..removed.len() {
                let _ = write!(sql, "{}${}", if i == 0 { "" } else { ", " }, i + 3);
            }
            sql.push(')');
            on_tx!(tx, |c| {
                let mut q = sqlx::query(&sql).bind(org_id).bind(before.id);
                for r in &removed {
                    q = q.bind(&r.ref_id);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        let mut sql =
            String::from("INSERT INTO audit_items (org_id, audit_id, ref_id, ord, title) VALUES ");
        for i in 0..items.len() {
            let b = i * 3;
            let _ = write!(
                sql,
                "{}($1, $2, ${}, ${}, ${})",
                if i == 0 { "" } else { ", " },
                b + 3,
                b + 4,
                b + 5
            );
        }
        sql.push_str(
            " ON CONFLICT (org_id, audit_id, ref_id) DO UPDATE SET ord = excluded.ord, title = excluded.title",
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql).bind(org_id).bind(before.id);
            for (n, (r, title, _)) in items.iter().enumerate() {
                q = q.bind(r).bind(n as i64).bind(title);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    let mut ids = Vec::new();
    for a in &t.auditors {
        let id = member_id(tx, org_id, "auditors", a).await?;
        if ids.contains(&id) {
            return Err(invalid(format!("auditors: {a} is named twice")));
        }
        ids.push(id);
    }
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM audit_auditors WHERE org_id = $1 AND audit_id = $2"
    )
    .bind(org_id)
    .bind(before.id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    for (a, uid) in t.auditors.iter().zip(&ids) {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO audit_auditors (org_id, audit_id, user_id, lead) VALUES ($1, $2, $3, $4)"
        )
        .bind(org_id)
        .bind(before.id)
        .bind(uid)
        .bind(*a == t.lead)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// The store's readiness state of a domain rule's answer.
pub(crate) fn readiness_state(r: isms_domain::risk::Readiness) -> crate::ReadinessState {
    use isms_domain::risk::Readiness as R;
    match r {
        R::Ready => crate::ReadinessState::Ready,
        R::Incomplete => crate::ReadinessState::Incomplete,
        R::Missing => crate::ReadinessState::Missing,
    }
}

/// The Annex A control of a ref id, for links to the SoA.
pub fn soa_control(framework: &str, ref_id: &str) -> Option<String> {
    annex_a_control(framework, ref_id)
}

versioned::versioned_record!(Audit);
