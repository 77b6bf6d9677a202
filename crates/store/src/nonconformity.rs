//! Nonconformities and corrective action (10.2): the register, corrective
//! actions, verifications of effectiveness and closing. The rules (states,
//! the close rule, dates, root cause) live in `isms_domain::nonconformity`;
//! this file loads, claims the version, calls them, writes and audits.

use isms_domain::nonconformity::{
    self as rules, ActionState, NcStatus, RootCause, Severity, Source,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::due::DueItem;
use crate::risk::check_date;
use crate::users::member_id;
use crate::versioned::{self, Key, Target};
use crate::{Result, Store, StoreError, Tx, now, on_pool, on_tx};

/// The most rows the register returns.
pub const MAX_REGISTER: i64 = 2000;

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

/// A corrective action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct NcAction {
    pub id: i64,
    pub nc_id: i64,
    pub title: String,
    /// E-mail of the owner.
    pub owner: Option<String>,
    /// YYYY-MM-DD or empty.
    pub due_date: String,
    pub status: String,
    pub created_at: String,
    pub created_by: String,
    pub done_at: String,
}

impl NcAction {
    /// Open and due before `today`.
    pub fn overdue(&self, today: &str) -> bool {
        self.status == ActionState::Open.as_str()
            && !self.due_date.is_empty()
            && self.due_date.as_str() < today
    }
}

/// A verification of effectiveness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Verification {
    pub id: i64,
    pub effective: bool,
    pub notes: String,
    pub verified_by: String,
    pub verified_at: String,
}

/// A nonconformity with its actions and verifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nonconformity {
    pub id: i64,
    /// `NC-<id>`.
    pub key: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub source: Source,
    pub audit_id: Option<i64>,
    pub finding_id: Option<i64>,
    /// The management review it was raised from.
    pub review_id: Option<i64>,
    /// The control review (not effective) it was raised from, and its control.
    pub control_review_id: Option<i64>,
    pub control_id: Option<i64>,
    /// A reference to its source: an incident's number or address, a note.
    pub source_ref: String,
    /// Where its source is shown (a local path or the reference's address), or empty.
    pub source_link: String,
    /// The requirement not met, as shown (`8.5`), or empty.
    pub requirement: String,
    pub owner: Option<String>,
    #[serde(skip)]
    pub owner_user_id: Option<i64>,
    /// The immediate fix.
    pub correction: String,
    pub root_cause: RootCause,
    pub status: NcStatus,
    pub raised_at: String,
    pub raised_by: String,
    pub closed_at: String,
    pub actions: Vec<NcAction>,
    pub verifications: Vec<Verification>,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

/// A row of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct NcSummary {
    pub id: i64,
    pub title: String,
    pub severity: String,
    pub source: String,
    pub status: String,
    pub requirement: String,
    pub audit_id: Option<i64>,
    pub owner: Option<String>,
    pub raised_at: String,
    pub closed_at: String,
    pub actions: i64,
    pub overdue_actions: i64,
    /// The earliest due date of an open action.
    pub next_due: Option<String>,
}

/// Filters of the register.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NcFilter {
    /// `open` (anything not closed), or a status.
    pub status: Option<String>,
    pub severity: Option<String>,
    pub source: Option<String>,
    /// Only those with an overdue corrective action.
    #[serde(default)]
    pub overdue: bool,
}

/// What the raising of a nonconformity needs (from a finding or by hand).
#[derive(Debug, Clone)]
pub(crate) struct Raised {
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub source: Source,
    pub audit_id: Option<i64>,
    pub finding_id: Option<i64>,
    pub review_id: Option<i64>,
    pub control_review_id: Option<i64>,
    pub source_ref: String,
    pub requirement: String,
    pub owner_user_id: Option<i64>,
}

/// A nonconformity to raise by hand or a change to one (`version` to change).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NcInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Option<String>,
    /// incident, review, control_review or manual (audit ones come from findings).
    pub source: Option<String>,
    /// The management review it comes from (source `review`).
    pub review_id: Option<i64>,
    /// The control review found not effective (source `control_review`).
    pub control_review_id: Option<i64>,
    /// An incident's number or address (required for `incident`), or a note.
    pub source_ref: Option<String>,
    pub requirement: Option<String>,
    /// E-mail of a member; "" removes.
    pub owner: Option<String>,
    pub correction: Option<String>,
    pub root_cause: Option<RootCause>,
    pub version: Option<i64>,
}

/// A corrective action to add.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NcActionInput {
    pub title: Option<String>,
    pub owner: Option<String>,
    pub due_date: Option<String>,
}

#[derive(sqlx::FromRow)]
struct NcRow {
    id: i64,
    title: String,
    description: String,
    severity: String,
    source: String,
    audit_id: Option<i64>,
    finding_id: Option<i64>,
    review_id: Option<i64>,
    control_review_id: Option<i64>,
    control_id: Option<i64>,
    source_ref: String,
    requirement: String,
    owner_user_id: Option<i64>,
    owner: Option<String>,
    correction: String,
    root_cause_json: String,
    status: String,
    raised_at: String,
    raised_by: String,
    closed_at: String,
    version: i64,
    updated_at: String,
    updated_by: String,
}

/// The source as the domain names it: the `source` column keeps four values
/// (see migration 0019); a control review is a review with its link.
const SOURCE_SQL: &str =
    "CASE WHEN n.control_review_id IS NOT NULL THEN 'control_review' ELSE n.source END";

const NC_SELECT: &str = "SELECT n.id, n.title, n.description, n.severity, \
     CASE WHEN n.control_review_id IS NOT NULL THEN 'control_review' ELSE n.source END AS source, n.audit_id, n.finding_id, \
     n.review_id, n.control_review_id, \
     (SELECT cr.applied_control_id FROM control_reviews cr WHERE cr.org_id = n.org_id AND cr.id = n.control_review_id) AS control_id, \
     n.source_ref, n.requirement, n.owner_user_id, u.email AS owner, n.correction, n.root_cause_json, n.status, n.raised_at, n.raised_by, \
     n.closed_at, n.version, n.updated_at, n.updated_by \
     FROM nonconformities n LEFT JOIN users u ON u.id = n.owner_user_id WHERE n.org_id = $1";
const ACTION_SELECT: &str = "SELECT a.id, a.nc_id, a.title, u.email AS owner, a.due_date, a.status, a.created_at, \
     a.created_by, a.done_at FROM nc_actions a LEFT JOIN users u ON u.id = a.owner_user_id WHERE a.org_id = $1";

fn nc_missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("no nonconformity {id} in this organisation"))
}

fn title(v: Option<&str>) -> Result<String> {
    let t = v.unwrap_or("").trim();
    if t.is_empty() || t.chars().count() > 300 {
        return Err(invalid("title: required, 1 to 300 characters"));
    }
    Ok(t.to_owned())
}

fn long(field: &str, v: &str) -> Result<String> {
    if v.chars().count() > 20_000 {
        return Err(invalid(format!("{field}: at most 20000 characters")));
    }
    Ok(v.trim().to_owned())
}

/// The value of the `source` column for `source` (four values on both engines).
fn stored_source(source: Source) -> &'static str {
    match source {
        Source::ControlReview => Source::Review.as_str(),
        other => other.as_str(),
    }
}

/// Where a nonconformity's source is shown.
fn source_link(row: &NcRow) -> String {
    if let Some(a) = row.audit_id {
        return format!("/audits/{a}");
    }
    if let Some(r) = row.review_id {
        return format!("/management-reviews/{r}");
    }
    if let Some(c) = row.control_id {
        return format!("/controls/{c}#reviews");
    }
    let r = row.source_ref.trim();
    if (r.starts_with("https://") || r.starts_with("http://")) && !r.contains(char::is_whitespace) {
        return r.to_owned();
    }
    String::new()
}

/// Inserts a nonconformity and its audit entry inside `tx`; returns its id.
pub(crate) async fn raise_in_tx(
    tx: &mut Tx,
    org_id: i64,
    r: &Raised,
    actor: &Actor,
) -> Result<i64> {
    let at = now();
    let (id,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO nonconformities (org_id, title, description, severity, source, audit_id, finding_id, requirement, \
         owner_user_id, raised_at, raised_by, updated_at, updated_by, review_id, control_review_id, source_ref) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10, $11, $12, $13, $14) RETURNING id"
    )
    .bind(org_id)
    .bind(&r.title)
    .bind(&r.description)
    .bind(r.severity.as_str())
    .bind(stored_source(r.source))
    .bind(r.audit_id)
    .bind(r.finding_id)
    .bind(&r.requirement)
    .bind(r.owner_user_id)
    .bind(&at)
    .bind(&actor.label)
    .bind(r.review_id)
    .bind(r.control_review_id)
    .bind(&r.source_ref)
    .fetch_one(c)
    .await
    })?;
    audit::record(
        tx,
        actor,
        Change {
            org_id,
            action: "create",
            entity_type: "nonconformity",
            entity_id: id.to_string(),
            before: None,
            after: Some(
                json!({"title": r.title, "description": r.description, "severity": r.severity,
                "source": r.source, "audit_id": r.audit_id, "finding_id": r.finding_id,
                "review_id": r.review_id, "control_review_id": r.control_review_id, "source_ref": r.source_ref,
                "requirement": r.requirement, "status": NcStatus::Open}),
            ),
        },
    )
    .await?;
    Ok(id)
}

async fn nc_in_tx(tx: &mut Tx, org_id: i64, id: i64) -> Result<Nonconformity> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, NcRow>(&format!(
        "{NC_SELECT} AND n.id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?
    .ok_or_else(|| nc_missing(id))?;
    let actions: Vec<NcAction> = on_tx!(tx, |c| sqlx::query_as::<_, NcAction>(&format!(
        "{ACTION_SELECT} AND a.nc_id = $2 ORDER BY a.id"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_all(c)
    .await)?;
    let verifications: Vec<Verification> = on_tx!(tx, |c| sqlx::query_as::<_, Verification>(
        "SELECT id, effective, notes, verified_by, verified_at FROM nc_verifications \
         WHERE org_id = $1 AND nc_id = $2 ORDER BY id"
    )
    .bind(org_id)
    .bind(id)
    .fetch_all(c)
    .await)?;
    let link = source_link(&row);
    Ok(Nonconformity {
        source_link: link,
        review_id: row.review_id,
        control_review_id: row.control_review_id,
        control_id: row.control_id,
        source_ref: row.source_ref,
        id: row.id,
        key: format!("NC-{}", row.id),
        title: row.title,
        description: row.description,
        severity: row.severity.parse().map_err(invalid)?,
        source: row.source.parse().map_err(invalid)?,
        audit_id: row.audit_id,
        finding_id: row.finding_id,
        requirement: row.requirement,
        owner: row.owner,
        owner_user_id: row.owner_user_id,
        correction: row.correction,
        root_cause: serde_json::from_str(&row.root_cause_json).unwrap_or_default(),
        status: row.status.parse().map_err(invalid)?,
        raised_at: row.raised_at,
        raised_by: row.raised_by,
        closed_at: row.closed_at,
        actions,
        verifications,
        version: row.version,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
    })
}

/// The record as the audit log keeps it.
fn logged(n: &Nonconformity) -> serde_json::Value {
    json!({"title": n.title, "description": n.description, "severity": n.severity, "owner": n.owner,
        "correction": n.correction, "root_cause": n.root_cause, "status": n.status,
        "closed_at": n.closed_at, "version": n.version})
}

impl Store {
    /// Claims a nonconformity at `sent` (or at its current version when
    /// none is sent) and loads it.
    async fn claim_nc(
        &self,
        tx: &mut Tx,
        org_id: i64,
        id: i64,
        sent: Option<i64>,
    ) -> Result<Nonconformity> {
        let sent = match sent {
            Some(v) => v,
            None => nc_in_tx(tx, org_id, id).await?.version,
        };
        versioned::claim_and_load(
            tx,
            &Target {
                table: "nonconformities",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("nonconformity NC-{id}"),
            async |tx| nc_in_tx(tx, org_id, id).await.map(Some),
            || nc_missing(id),
        )
        .await
    }

    /// Writes the editable fields and the status of `after` (claimed) and
    /// its audit entry.
    async fn save_nc(
        &self,
        tx: &mut Tx,
        org_id: i64,
        before: &Nonconformity,
        after: &mut Nonconformity,
        action: &str,
        actor: &Actor,
    ) -> Result<()> {
        after.version = before.version + 1;
        after.updated_at = now();
        after.updated_by.clone_from(&actor.label);
        let root = serde_json::to_string(&after.root_cause).unwrap_or_else(|_| "{}".into());
        on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE nonconformities SET title = $1, description = $2, severity = $3, correction = $4, \
             root_cause_json = $5, status = $6, closed_at = $7, updated_at = $8, updated_by = $9, \
             requirement = $10, owner_user_id = $11 WHERE org_id = $12 AND id = $13"
        )
        .bind(&after.title)
        .bind(&after.description)
        .bind(after.severity.as_str())
        .bind(&after.correction)
        .bind(&root)
        .bind(after.status.as_str())
        .bind(&after.closed_at)
        .bind(&after.updated_at)
        .bind(&after.updated_by)
        .bind(&after.requirement)
        .bind(after.owner_user_id)
        .bind(org_id)
        .bind(after.id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        audit::record(
            tx,
            actor,
            Change {
                org_id,
                action,
                entity_type: "nonconformity",
                entity_id: after.id.to_string(),
                before: Some(logged(before)),
                after: Some(logged(after)),
            },
        )
        .await
    }

    /// Raises a nonconformity by hand (or from an incident or a review).
    pub async fn create_nonconformity(
        &self,
        org_id: i64,
        input: &NcInput,
        actor: &Actor,
    ) -> Result<Nonconformity> {
        let t = title(input.title.as_deref())?;
        let severity: Severity = input
            .severity
            .as_deref()
            .unwrap_or("minor")
            .parse()
            .map_err(|e| invalid(format!("severity: {e}")))?;
        let source: Source = input
            .source
            .as_deref()
            .unwrap_or("manual")
            .parse()
            .map_err(|e| invalid(format!("source: {e}")))?;
        if source == Source::Audit {
            return Err(invalid(
                "source: nonconformities from an audit are raised by recording the finding on the audit",
            ));
        }
        let description = long("description", input.description.as_deref().unwrap_or(""))?;
        let requirement = long("requirement", input.requirement.as_deref().unwrap_or(""))?;
        let source_ref = input.source_ref.as_deref().unwrap_or("").trim().to_owned();
        rules::check_source_ref(source, &source_ref).map_err(invalid)?;
        let (review_id, control_review_id) = match source {
            Source::Review => (
                Some(input.review_id.ok_or_else(|| {
                    invalid("review_id: required: the management review the nonconformity was raised from")
                })?),
                None,
            ),
            Source::ControlReview => (
                None,
                Some(input.control_review_id.ok_or_else(|| {
                    invalid("control_review_id: required: the control review that found the control not effective")
                })?),
            ),
            _ => {
                if input.review_id.is_some() || input.control_review_id.is_some() {
                    return Err(invalid(format!(
                        "source: a link to a review needs the source review or control_review, not {}",
                        source.as_str()
                    )));
                }
                (None, None)
            }
        };
        let mut tx = self.begin().await?;
        if let Some(r) = review_id {
            let found: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(
                "SELECT id FROM management_reviews WHERE org_id = $1 AND id = $2"
            )
            .bind(org_id)
            .bind(r)
            .fetch_optional(c)
            .await)?;
            if found.is_none() {
                return Err(invalid(format!(
                    "review_id: there is no management review {r} in this organisation"
                )));
            }
        }
        if let Some(r) = control_review_id {
            let found: Option<(String,)> = on_tx!(&mut tx, |c| sqlx::query_as(
                "SELECT result FROM control_reviews WHERE org_id = $1 AND id = $2"
            )
            .bind(org_id)
            .bind(r)
            .fetch_optional(c)
            .await)?;
            match found {
                None => {
                    return Err(invalid(format!(
                        "control_review_id: there is no control review {r} in this organisation"
                    )));
                }
                Some((result,)) if result == "effective" => {
                    return Err(invalid(format!(
                        "control_review_id: control review {r} found the control effective: raise a nonconformity from a review that found it not effective"
                    )));
                }
                Some(_) => {}
            }
        }
        let owner = match input
            .owner
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            Some(e) => Some(member_id(&mut tx, org_id, "owner", e).await?),
            None => None,
        };
        let id = raise_in_tx(
            &mut tx,
            org_id,
            &Raised {
                title: t,
                description,
                severity,
                source,
                audit_id: None,
                finding_id: None,
                review_id,
                control_review_id,
                source_ref,
                requirement,
                owner_user_id: owner,
            },
            actor,
        )
        .await?;
        let n = nc_in_tx(&mut tx, org_id, id).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// One nonconformity with its actions and verifications.
    pub async fn nonconformity(&self, org_id: i64, id: i64) -> Result<Nonconformity> {
        let mut tx = self.read_tx().await?;
        nc_in_tx(&mut tx, org_id, id).await
    }

    /// Changes the description, severity, owner, correction or root cause
    /// if `version` is current.
    pub async fn update_nonconformity(
        &self,
        org_id: i64,
        id: i64,
        input: &NcInput,
        actor: &Actor,
    ) -> Result<Nonconformity> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" of the nonconformity"));
        };
        let mut tx = self.begin().await?;
        let before = self.claim_nc(&mut tx, org_id, id, Some(sent)).await?;
        if before.status == NcStatus::Closed {
            return Err(invalid(
                "status: the nonconformity is closed: it can no longer change",
            ));
        }
        let mut after = before.clone();
        if let Some(t) = &input.title {
            after.title = title(Some(t))?;
        }
        if let Some(d) = &input.description {
            after.description = long("description", d)?;
        }
        if let Some(s) = &input.severity {
            after.severity = s.parse().map_err(|e| invalid(format!("severity: {e}")))?;
        }
        if let Some(c) = &input.correction {
            after.correction = long("correction", c)?;
        }
        if let Some(r) = &input.requirement {
            after.requirement = long("requirement", r)?;
        }
        if let Some(r) = &input.root_cause {
            after.root_cause = r.clone().normalised().map_err(invalid)?;
            for w in after.root_cause.whys.iter().chain([&after.root_cause.text]) {
                long("root_cause", w)?;
            }
        }
        match input.owner.as_deref().map(str::trim) {
            None => {}
            Some("") => {
                after.owner = None;
                after.owner_user_id = None;
            }
            Some(e) => {
                after.owner_user_id = Some(member_id(&mut tx, org_id, "owner", e).await?);
                after.owner = Some(e.to_lowercase());
            }
        }
        if after == before {
            return Ok(before);
        }
        self.save_nc(&mut tx, org_id, &before, &mut after, "update", actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Adds a corrective action (not due before the nonconformity was raised).
    pub async fn add_nc_action(
        &self,
        org_id: i64,
        nc_id: i64,
        input: &NcActionInput,
        actor: &Actor,
    ) -> Result<Nonconformity> {
        let t = title(input.title.as_deref())?;
        let due = input.due_date.as_deref().unwrap_or("").trim().to_owned();
        check_date("due_date", &due)?;
        let mut tx = self.begin().await?;
        let before = self.claim_nc(&mut tx, org_id, nc_id, None).await?;
        rules::check_action_due(&before.raised_at, &due).map_err(invalid)?;
        let status = before.status.on_action().map_err(invalid)?;
        let owner = match input
            .owner
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            Some(e) => Some(member_id(&mut tx, org_id, "owner", e).await?),
            None => None,
        };
        let at = now();
        let (action_id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO nc_actions (org_id, nc_id, title, owner_user_id, due_date, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
        )
        .bind(org_id)
        .bind(nc_id)
        .bind(&t)
        .bind(owner)
        .bind(&due)
        .bind(&at)
        .bind(&actor.label)
        .fetch_one(c)
        .await
        })?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "nc_action",
                entity_id: action_id.to_string(),
                before: None,
                after: Some(json!({"nonconformity": nc_id, "title": t, "owner": input.owner, "due_date": due})),
            },
        )
        .await?;
        let mut after = before.clone();
        after.status = status;
        self.save_nc(&mut tx, org_id, &before, &mut after, "update", actor)
            .await?;
        let n = nc_in_tx(&mut tx, org_id, nc_id).await?;
        tx.commit().await?;
        if let Some(uid) = owner {
            // Tell the owner; a failed message does not undo the action.
            let title = format!("Corrective action for NC-{nc_id}: {t}");
            let body = if due.is_empty() {
                String::new()
            } else {
                format!("Due {due}")
            };
            let link = format!("/nonconformities/{nc_id}");
            let key = format!("nc_action:{action_id}");
            let _ = self
                .notify(
                    org_id,
                    uid,
                    &crate::NewNotification {
                        category: "nc_action",
                        title: &title,
                        body: &body,
                        link: &link,
                        dedupe_key: Some(&key),
                    },
                )
                .await;
        }
        Ok(n)
    }

    /// Marks a corrective action done.
    pub async fn complete_nc_action(
        &self,
        org_id: i64,
        nc_id: i64,
        action_id: i64,
        actor: &Actor,
    ) -> Result<Nonconformity> {
        let mut tx = self.begin().await?;
        let before = self.claim_nc(&mut tx, org_id, nc_id, None).await?;
        if before.status == NcStatus::Closed {
            return Err(invalid("status: the nonconformity is closed"));
        }
        let at = now();
        let n = on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE nc_actions SET status = 'done', done_at = $1 WHERE org_id = $2 AND nc_id = $3 AND id = $4 AND status = 'open'"
        )
        .bind(&at)
        .bind(org_id)
        .bind(nc_id)
        .bind(action_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "no open corrective action {action_id} on NC-{nc_id}"
            )));
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "nc_action",
                entity_id: action_id.to_string(),
                before: Some(json!({"status": "open"})),
                after: Some(json!({"status": "done", "done_at": at})),
            },
        )
        .await?;
        let n = nc_in_tx(&mut tx, org_id, nc_id).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Records a verification of effectiveness: effective moves the
    /// nonconformity to verification (its open actions done); not effective
    /// re-opens it.
    pub async fn verify_nonconformity(
        &self,
        org_id: i64,
        nc_id: i64,
        effective: bool,
        notes: &str,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<Nonconformity> {
        let notes = long("notes", notes)?;
        let mut tx = self.begin().await?;
        let before = self.claim_nc(&mut tx, org_id, nc_id, version).await?;
        let status = before
            .status
            .on_verification(before.actions.len(), effective)
            .map_err(invalid)?;
        let at = now();
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "INSERT INTO nc_verifications (org_id, nc_id, effective, notes, verified_by_user_id, verified_by, verified_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(org_id)
        .bind(nc_id)
        .bind(effective)
        .bind(&notes)
        .bind(actor.user_id)
        .bind(&actor.label)
        .bind(&at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if effective {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "UPDATE nc_actions SET status = 'done', done_at = $1 WHERE org_id = $2 AND nc_id = $3 AND status = 'open'"
            )
            .bind(&at)
            .bind(org_id)
            .bind(nc_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            })?;
        }
        let mut after = before.clone();
        after.status = status;
        self.save_nc(&mut tx, org_id, &before, &mut after, "verify", actor)
            .await?;
        let n = nc_in_tx(&mut tx, org_id, nc_id).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Closes a nonconformity whose corrective action was verified effective.
    pub async fn close_nonconformity(
        &self,
        org_id: i64,
        nc_id: i64,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<Nonconformity> {
        let mut tx = self.begin().await?;
        let before = self.claim_nc(&mut tx, org_id, nc_id, version).await?;
        let mut after = before.clone();
        after.status = before.status.close().map_err(invalid)?;
        after.closed_at = now();
        self.save_nc(&mut tx, org_id, &before, &mut after, "close", actor)
            .await?;
        let n = nc_in_tx(&mut tx, org_id, nc_id).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The register, newest first, filtered.
    pub async fn nonconformities(&self, org_id: i64, f: &NcFilter) -> Result<Vec<NcSummary>> {
        let today = now();
        let today = today.get(..10).unwrap_or("").to_owned();
        let status = f.status.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = status
            && s != "open"
        {
            s.parse::<NcStatus>()
                .map_err(|e| invalid(format!("status: {e}")))?;
        }
        let severity = f
            .severity
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(s) = severity {
            s.parse::<Severity>()
                .map_err(|e| invalid(format!("severity: {e}")))?;
        }
        let source = f.source.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = source {
            s.parse::<Source>()
                .map_err(|e| invalid(format!("source: {e}")))?;
        }
        let rows: Vec<NcSummary> = on_pool!(self, |p| {
            sqlx::query_as::<_, NcSummary>(&format!(
            "SELECT * FROM (SELECT n.id, n.title, n.severity, {SOURCE_SQL} AS source, n.status, n.requirement, n.audit_id, \
             u.email AS owner, n.raised_at, n.closed_at, \
             (SELECT COUNT(*) FROM nc_actions a WHERE a.org_id = n.org_id AND a.nc_id = n.id) AS actions, \
             (SELECT COUNT(*) FROM nc_actions a WHERE a.org_id = n.org_id AND a.nc_id = n.id AND a.status = 'open' \
               AND a.due_date <> '' AND a.due_date < $2) AS overdue_actions, \
             (SELECT MIN(a.due_date) FROM nc_actions a WHERE a.org_id = n.org_id AND a.nc_id = n.id AND a.status = 'open' \
               AND a.due_date <> '') AS next_due \
             FROM nonconformities n LEFT JOIN users u ON u.id = n.owner_user_id WHERE n.org_id = $1 \
             AND ($3 IS NULL OR ($3 = 'open' AND n.status <> 'closed') OR n.status = $3) \
             AND ($4 IS NULL OR n.severity = $4) AND ($5 IS NULL OR {SOURCE_SQL} = $5)) x \
             WHERE ($6 = 0 OR x.overdue_actions > 0) ORDER BY x.id DESC LIMIT {MAX_REGISTER}"
        ))
        .bind(org_id)
        .bind(&today)
        .bind(status)
        .bind(severity)
        .bind(source)
        .bind(i64::from(f.overdue))
        .fetch_all(p)
        .await
        })?;
        Ok(rows)
    }

    /// Open corrective actions due before `today`, oldest first.
    pub async fn overdue_nc_actions(&self, org_id: i64, today: &str) -> Result<Vec<NcAction>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, NcAction>(
            &format!(
                "{ACTION_SELECT} AND a.status = 'open' AND a.due_date <> '' AND a.due_date < $2 \
             ORDER BY a.due_date, a.id LIMIT {MAX_REGISTER}"
            )
        )
        .bind(org_id)
        .bind(today)
        .fetch_all(p)
        .await)?)
    }

    /// Open nonconformities by severity: (minor, major).
    pub async fn open_nonconformity_counts(&self, org_id: i64) -> Result<(i64, i64)> {
        let (minor, major): (i64, i64) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN severity = 'minor' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN severity = 'major' THEN 1 ELSE 0 END), 0) \
             FROM nonconformities WHERE org_id = $1 AND status <> 'closed'"
        )
        .bind(org_id)
        .fetch_one(p)
        .await)?;
        Ok((minor, major))
    }

    /// Open corrective actions due on or before `until`.
    pub async fn nonconformity_due_items(&self, org_id: i64, until: &str) -> Result<Vec<DueItem>> {
        let rows: Vec<NcAction> = on_pool!(self, |p| {
            sqlx::query_as::<_, NcAction>(&format!(
            "{ACTION_SELECT} AND a.status = 'open' AND a.due_date <> '' AND a.due_date <= $2 ORDER BY a.due_date, a.id"
        ))
        .bind(org_id)
        .bind(until)
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|a| DueItem {
                kind: "nc_action",
                id: a.id,
                title: format!("Corrective action for NC-{}: {}", a.nc_id, a.title),
                owner: a.owner,
                due_date: a.due_date,
                link: format!("/nonconformities/{}", a.nc_id),
            })
            .collect())
    }

    /// The readiness item of clause 10.2.
    pub(crate) async fn nonconformity_readiness(
        &self,
        org_id: i64,
    ) -> Result<crate::ReadinessItem> {
        let today = now();
        let today = today.get(..10).unwrap_or("");
        let row: (i64, i64, i64, i64, i64) = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN n.status <> 'closed' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN n.status = 'closed' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN n.status <> 'closed' AND NOT EXISTS (SELECT 1 FROM nc_actions a \
               WHERE a.org_id = n.org_id AND a.nc_id = n.id) THEN 1 ELSE 0 END), 0), \
             (SELECT COUNT(*) FROM audits a WHERE a.org_id = $1 AND a.status IN ('in_progress', 'completed')) \
             FROM nonconformities n WHERE n.org_id = $1"
        )
        .bind(org_id)
        .fetch_one(p)
        .await
        })?;
        let overdue = self.overdue_nc_actions(org_id, today).await?.len() as i64;
        let (state, detail) = rules::register_readiness(&rules::RegisterFacts {
            raised: row.0,
            open: row.1,
            closed: row.2,
            without_action: row.3,
            audits: row.4,
            overdue_actions: overdue,
        });
        Ok(crate::ReadinessItem {
            key: "nonconformities",
            clause: "10.2",
            title: "Nonconformities and corrective actions",
            state: crate::internal_audit::readiness_state(state),
            detail,
            link: "/nonconformities",
        })
    }
}

versioned::versioned_record!(Nonconformity);
