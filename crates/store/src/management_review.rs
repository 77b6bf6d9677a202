//! Management reviews (9.3): the meeting record (attendees, minutes,
//! decisions, actions) and its inputs, compiled from the data as of the
//! review's date. Each input section comes from one small function below;
//! a module adds its section with one function and one line in
//! [`Store::review_inputs`].

use isms_domain::management_review::{
    self as rules, DecisionKind, InputSection, ReviewActionStatus,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::due::DueItem;
use crate::risk::check_date;
use crate::users::member_id;
use crate::versioned::{self, Key, Target};
use crate::{Result, Store, StoreError, Tx, now, on_pool, on_tx};

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

/// A decision of a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Decision {
    pub id: i64,
    pub kind: String,
    pub text: String,
    pub created_at: String,
    pub created_by: String,
}

/// An action a review decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ReviewAction {
    pub id: i64,
    pub review_id: i64,
    pub title: String,
    pub owner: Option<String>,
    pub due_date: String,
    pub status: String,
    pub created_at: String,
}

/// A management review with its compiled inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagementReview {
    pub id: i64,
    pub title: String,
    /// YYYY-MM-DD of the meeting.
    pub date: String,
    pub attendees: Vec<String>,
    pub minutes: String,
    pub decisions: Vec<Decision>,
    pub actions: Vec<ReviewAction>,
    /// What the review considered (9.3.2): compiled from the data at every
    /// read until the inputs are frozen, then as they were when frozen.
    pub inputs: Vec<InputSection>,
    /// When the inputs were frozen (RFC 3339), empty while they are compiled live.
    pub inputs_frozen_at: String,
    pub inputs_frozen_by: String,
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

/// A review in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ReviewSummary {
    pub id: i64,
    pub title: String,
    pub review_date: String,
    pub decisions: i64,
    pub actions: i64,
    pub open_actions: i64,
}

/// A review to record, or a change to one (`version` to change).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReviewInput {
    pub title: Option<String>,
    pub date: Option<String>,
    pub attendees: Option<Vec<String>>,
    pub minutes: Option<String>,
    pub version: Option<i64>,
}

/// A decision to record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DecisionInput {
    pub kind: Option<String>,
    pub text: Option<String>,
}

/// An action to record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReviewActionInput {
    pub title: Option<String>,
    pub owner: Option<String>,
    pub due_date: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    id: i64,
    title: String,
    review_date: String,
    attendees: String,
    minutes: String,
    version: i64,
    created_at: String,
    created_by: String,
    updated_at: String,
    updated_by: String,
    inputs_json: String,
    inputs_frozen_at: String,
    inputs_frozen_by: String,
}

const REVIEW_COLS: &str = "id, title, review_date, attendees, minutes, version, created_at, created_by, updated_at, updated_by, \
     inputs_json, inputs_frozen_at, inputs_frozen_by";
const ACTION_SELECT: &str = "SELECT a.id, a.review_id, a.title, u.email AS owner, a.due_date, a.status, a.created_at \
     FROM review_actions a LEFT JOIN users u ON u.id = a.owner_user_id WHERE a.org_id = $1";

fn already_frozen(r: &ManagementReview) -> StoreError {
    StoreError::Conflict(format!(
        "the inputs of management review {} were frozen on {} by {}: they stay as the meeting saw them",
        r.id, r.inputs_frozen_at, r.inputs_frozen_by
    ))
}

fn review_of(
    row: ReviewRow,
    decisions: Vec<Decision>,
    actions: Vec<ReviewAction>,
    inputs: Vec<InputSection>,
) -> ManagementReview {
    ManagementReview {
        id: row.id,
        title: row.title,
        date: row.review_date,
        attendees: row.attendees.lines().map(str::to_owned).collect(),
        minutes: row.minutes,
        decisions,
        actions,
        inputs,
        inputs_frozen_at: row.inputs_frozen_at,
        inputs_frozen_by: row.inputs_frozen_by,
        version: row.version,
        created_at: row.created_at,
        created_by: row.created_by,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
    }
}

fn review_missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("no management review {id} in this organisation"))
}

fn attendees(list: &[String]) -> Result<String> {
    let list: Vec<&str> = list
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .collect();
    if list.len() > 100
        || list
            .iter()
            .any(|a| a.chars().count() > 200 || a.contains('\n'))
    {
        return Err(invalid(
            "attendees: at most 100, one line of up to 200 characters each",
        ));
    }
    Ok(list.join("\n"))
}

/// What every input function knows: the review's cut-off and the previous review.
pub struct InputContext {
    pub review_id: i64,
    /// RFC 3339: data recorded after this is not an input.
    pub cutoff: String,
    /// The previous review's cut-off (empty when this is the first).
    pub since: String,
    pub previous_review: Option<(i64, String)>,
    /// YYYY-MM-DD of this review.
    pub review_date: String,
    pub today: String,
}

async fn review_row(tx: &mut Tx, org_id: i64, id: i64) -> Result<ReviewRow> {
    on_tx!(tx, |c| sqlx::query_as::<_, ReviewRow>(&format!(
        "SELECT {REVIEW_COLS} FROM management_reviews WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?
    .ok_or_else(|| review_missing(id))
}

impl Store {
    /// Records a management review (its inputs are compiled when read).
    pub async fn create_management_review(
        &self,
        org_id: i64,
        input: &ReviewInput,
        actor: &Actor,
    ) -> Result<ManagementReview> {
        let title = input.title.as_deref().unwrap_or("").trim().to_owned();
        let date = input.date.as_deref().unwrap_or("").trim().to_owned();
        rules::check_review(&title, &date).map_err(invalid)?;
        check_date("date", &date)?;
        let people = attendees(input.attendees.as_deref().unwrap_or(&[]))?;
        let minutes = input.minutes.as_deref().unwrap_or("").trim().to_owned();
        if minutes.chars().count() > 50_000 {
            return Err(invalid("minutes: at most 50000 characters"));
        }
        let mut tx = self.begin().await?;
        let at = now();
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO management_reviews (org_id, title, review_date, attendees, minutes, created_at, created_by, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $7) RETURNING id"
        )
        .bind(org_id)
        .bind(&title)
        .bind(&date)
        .bind(&people)
        .bind(&minutes)
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
                entity_type: "management_review",
                entity_id: id.to_string(),
                before: None,
                after: Some(
                    json!({"title": title, "date": date, "attendees": people, "minutes": minutes}),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        self.management_review(org_id, id).await
    }

    /// Changes the title, date, attendees or minutes if `version` is current.
    pub async fn update_management_review(
        &self,
        org_id: i64,
        id: i64,
        input: &ReviewInput,
        actor: &Actor,
    ) -> Result<ManagementReview> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" of the review"));
        };
        let mut tx = self.begin().await?;
        let before = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "management_reviews",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("management review {id}"),
            async |tx| review_row(tx, org_id, id).await.map(Some),
            || review_missing(id),
        )
        .await?;
        let title = input
            .title
            .as_deref()
            .map_or(before.title.clone(), |t| t.trim().to_owned());
        let date = input
            .date
            .as_deref()
            .map_or(before.review_date.clone(), |d| d.trim().to_owned());
        rules::check_review(&title, &date).map_err(invalid)?;
        check_date("date", &date)?;
        if date != before.review_date && !before.inputs_frozen_at.is_empty() {
            return Err(invalid(format!(
                "date: the inputs were frozen as of {} on {}: the date of the meeting they describe cannot change",
                before.review_date, before.inputs_frozen_at
            )));
        }
        let people = match &input.attendees {
            Some(a) => attendees(a)?,
            None => before.attendees.clone(),
        };
        let minutes = input
            .minutes
            .as_deref()
            .map_or(before.minutes.clone(), |m| m.trim().to_owned());
        if minutes.chars().count() > 50_000 {
            return Err(invalid("minutes: at most 50000 characters"));
        }
        let at = now();
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE management_reviews SET title = $1, review_date = $2, attendees = $3, minutes = $4, \
             updated_at = $5, updated_by = $6 WHERE org_id = $7 AND id = $8"
        )
        .bind(&title)
        .bind(&date)
        .bind(&people)
        .bind(&minutes)
        .bind(&at)
        .bind(&actor.label)
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
                entity_type: "management_review",
                entity_id: id.to_string(),
                before: Some(json!({"title": before.title, "date": before.review_date,
                    "attendees": before.attendees, "minutes": before.minutes, "version": sent})),
                after: Some(json!({"title": title, "date": date, "attendees": people,
                    "minutes": minutes, "version": sent + 1})),
            },
        )
        .await?;
        tx.commit().await?;
        self.management_review(org_id, id).await
    }

    /// Records a decision of a review.
    pub async fn add_review_decision(
        &self,
        org_id: i64,
        review_id: i64,
        input: &DecisionInput,
        actor: &Actor,
    ) -> Result<ManagementReview> {
        let kind: DecisionKind = input
            .kind
            .as_deref()
            .unwrap_or("improvement")
            .parse()
            .map_err(|e| invalid(format!("kind: {e}")))?;
        let text = input.text.as_deref().unwrap_or("").trim().to_owned();
        if text.is_empty() || text.chars().count() > 2000 {
            return Err(invalid("text: required, up to 2000 characters"));
        }
        let mut tx = self.begin().await?;
        review_row(&mut tx, org_id, review_id).await?;
        let at = now();
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO review_decisions (org_id, review_id, kind, text, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
        )
        .bind(org_id)
        .bind(review_id)
        .bind(kind.as_str())
        .bind(&text)
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
                entity_type: "review_decision",
                entity_id: id.to_string(),
                before: None,
                after: Some(json!({"review": review_id, "kind": kind, "text": text})),
            },
        )
        .await?;
        tx.commit().await?;
        self.management_review(org_id, review_id).await
    }

    /// Records an action of a review (it appears in the next review's inputs).
    pub async fn add_review_action(
        &self,
        org_id: i64,
        review_id: i64,
        input: &ReviewActionInput,
        actor: &Actor,
    ) -> Result<ManagementReview> {
        let title = input.title.as_deref().unwrap_or("").trim().to_owned();
        if title.is_empty() || title.chars().count() > 300 {
            return Err(invalid("title: required, 1 to 300 characters"));
        }
        let due = input.due_date.as_deref().unwrap_or("").trim().to_owned();
        check_date("due_date", &due)?;
        let mut tx = self.begin().await?;
        let review = review_row(&mut tx, org_id, review_id).await?;
        if !due.is_empty() && due < review.review_date {
            return Err(invalid(format!(
                "due_date: {due} is before the review ({}): an action cannot be due before it was decided",
                review.review_date
            )));
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
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO review_actions (org_id, review_id, title, owner_user_id, due_date, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
        )
        .bind(org_id)
        .bind(review_id)
        .bind(&title)
        .bind(owner)
        .bind(&due)
        .bind(now())
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
                entity_type: "review_action",
                entity_id: id.to_string(),
                before: None,
                after: Some(json!({"review": review_id, "title": title, "owner": input.owner, "due_date": due})),
            },
        )
        .await?;
        tx.commit().await?;
        self.management_review(org_id, review_id).await
    }

    /// Sets a review action's status (open or done).
    pub async fn set_review_action_status(
        &self,
        org_id: i64,
        action_id: i64,
        status: &str,
        actor: &Actor,
    ) -> Result<ReviewAction> {
        let status: ReviewActionStatus = status
            .parse()
            .map_err(|e| invalid(format!("status: {e}")))?;
        let mut tx = self.begin().await?;
        let before: ReviewAction = on_tx!(&mut tx, |c| sqlx::query_as::<_, ReviewAction>(
            &format!("{ACTION_SELECT} AND a.id = $2")
        )
        .bind(org_id)
        .bind(action_id)
        .fetch_optional(c)
        .await)?
        .ok_or_else(|| {
            StoreError::NotFound(format!("no review action {action_id} in this organisation"))
        })?;
        if before.status == status.as_str() {
            return Ok(before);
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE review_actions SET status = $1 WHERE org_id = $2 AND id = $3"
        )
        .bind(status.as_str())
        .bind(org_id)
        .bind(action_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "review_action",
                entity_id: action_id.to_string(),
                before: Some(json!({"status": before.status})),
                after: Some(json!({"status": status})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ReviewAction {
            status: status.as_str().to_owned(),
            ..before
        })
    }

    /// One review, its decisions, actions and compiled inputs.
    pub async fn management_review(&self, org_id: i64, id: i64) -> Result<ManagementReview> {
        let mut tx = self.read_tx().await?;
        let row = review_row(&mut tx, org_id, id).await?;
        drop(tx);
        let decisions: Vec<Decision> = on_pool!(self, |p| {
            sqlx::query_as::<_, Decision>(
            "SELECT id, kind, text, created_at, created_by FROM review_decisions WHERE org_id = $1 AND review_id = $2 ORDER BY id"
        )
        .bind(org_id)
        .bind(id)
        .fetch_all(p)
        .await
        })?;
        let actions: Vec<ReviewAction> = on_pool!(self, |p| sqlx::query_as::<_, ReviewAction>(
            &format!("{ACTION_SELECT} AND a.review_id = $2 ORDER BY a.id")
        )
        .bind(org_id)
        .bind(id)
        .fetch_all(p)
        .await)?;
        let previous: Option<(i64, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, review_date, created_at FROM management_reviews WHERE org_id = $1 \
             AND (review_date < $2 OR (review_date = $2 AND id < $3)) ORDER BY review_date DESC, id DESC LIMIT 1"
        )
        .bind(org_id)
        .bind(&row.review_date)
        .bind(id)
        .fetch_optional(p)
        .await
        })?;
        if !row.inputs_frozen_at.is_empty() {
            let inputs: Vec<InputSection> =
                serde_json::from_str(&row.inputs_json).map_err(|e| {
                    invalid(format!(
                        "the frozen inputs of review {id} cannot be read: {e}"
                    ))
                })?;
            return Ok(review_of(row, decisions, actions, inputs));
        }
        let today = now();
        let ctx = InputContext {
            review_id: id,
            cutoff: rules::cutoff(&row.review_date, &row.created_at),
            since: previous
                .as_ref()
                .map(|(_, d, c)| rules::cutoff(d, c))
                .unwrap_or_default(),
            previous_review: previous.map(|(i, d, _)| (i, d)),
            review_date: row.review_date.clone(),
            today: today.get(..10).unwrap_or("").to_owned(),
        };
        let inputs = self.review_inputs(org_id, &ctx).await?;
        Ok(review_of(row, decisions, actions, inputs))
    }

    /// Freezes a review's inputs: compiles them now and keeps them, so
    /// later reads show what the meeting saw. `version` is the review's
    /// (the current one when absent); freezing twice is refused.
    pub async fn freeze_review_inputs(
        &self,
        org_id: i64,
        id: i64,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<ManagementReview> {
        let compiled = self.management_review(org_id, id).await?;
        if !compiled.inputs_frozen_at.is_empty() {
            return Err(already_frozen(&compiled));
        }
        let sent = version.unwrap_or(compiled.version);
        let mut tx = self.begin().await?;
        let before = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "management_reviews",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("management review {id}"),
            async |tx| review_row(tx, org_id, id).await.map(Some),
            || review_missing(id),
        )
        .await?;
        if !before.inputs_frozen_at.is_empty() || before.review_date != compiled.date {
            // Changed between the compiling and the claim: compile again.
            return Err(StoreError::Conflict(format!(
                "management review {id} changed while its inputs were compiled: try again"
            )));
        }
        let json = serde_json::to_string(&compiled.inputs).map_err(invalid)?;
        let at = now();
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE management_reviews SET inputs_json = $1, inputs_frozen_at = $2, inputs_frozen_by = $3, \
                 updated_at = $2, updated_by = $3 WHERE org_id = $4 AND id = $5",
            )
            .bind(&json)
            .bind(&at)
            .bind(&actor.label)
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
                action: "freeze_inputs",
                entity_type: "management_review",
                entity_id: id.to_string(),
                before: Some(json!({"inputs_frozen_at": "", "version": sent})),
                after: Some(json!({"inputs_frozen_at": at, "version": sent + 1,
                    "inputs": compiled.inputs})),
            },
        )
        .await?;
        tx.commit().await?;
        self.management_review(org_id, id).await
    }

    /// Compiles a review's inputs again from the data as it stands: allowed
    /// only while they are not frozen (a frozen review keeps what the
    /// meeting saw).
    pub async fn recompile_review_inputs(&self, org_id: i64, id: i64) -> Result<ManagementReview> {
        let r = self.management_review(org_id, id).await?;
        if !r.inputs_frozen_at.is_empty() {
            return Err(already_frozen(&r));
        }
        Ok(r)
    }

    /// Every review, latest first.
    pub async fn management_reviews(&self, org_id: i64) -> Result<Vec<ReviewSummary>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, ReviewSummary>(
            "SELECT r.id, r.title, r.review_date, \
             (SELECT COUNT(*) FROM review_decisions d WHERE d.org_id = r.org_id AND d.review_id = r.id) AS decisions, \
             (SELECT COUNT(*) FROM review_actions a WHERE a.org_id = r.org_id AND a.review_id = r.id) AS actions, \
             (SELECT COUNT(*) FROM review_actions a WHERE a.org_id = r.org_id AND a.review_id = r.id AND a.status = 'open') AS open_actions \
             FROM management_reviews r WHERE r.org_id = $1 ORDER BY r.review_date DESC, r.id DESC LIMIT 500"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// The inputs of clause 9.3.2, one section per function, in the
    /// standard's order. A module adds its section with one line here.
    pub async fn review_inputs(
        &self,
        org_id: i64,
        ctx: &InputContext,
    ) -> Result<Vec<InputSection>> {
        Ok(vec![
            self.input_previous_actions(org_id, ctx).await?,
            self.input_context_changes(org_id, ctx, "issue").await?,
            self.input_context_changes(org_id, ctx, "party").await?,
            self.input_nonconformities(org_id, ctx).await?,
            self.input_measurements(org_id, ctx).await?,
            self.input_audits(org_id, ctx).await?,
            self.input_objectives(org_id, ctx).await?,
            self.input_risks(org_id, ctx).await?,
            self.input_improvements(org_id, ctx).await?,
            self.input_readiness(org_id).await?,
        ])
    }

    /// 9.3.2 a): the status of actions from previous reviews.
    async fn input_previous_actions(
        &self,
        org_id: i64,
        ctx: &InputContext,
    ) -> Result<InputSection> {
        let mut s = InputSection::new(
            "previous_actions",
            "9.3.2 a)",
            "Status of actions from previous management reviews",
        );
        let rows: Vec<(ReviewAction, String)> = {
            let actions: Vec<ReviewAction> = on_pool!(self, |p| {
                sqlx::query_as::<_, ReviewAction>(&format!(
                    // Earlier reviews' actions: still open, or decided by the previous one.
                    "{ACTION_SELECT} AND a.created_at <= $3 AND (a.status = 'open' OR a.review_id = $4) \
                 AND EXISTS (SELECT 1 FROM management_reviews r WHERE r.org_id = a.org_id AND r.id = a.review_id \
                   AND (r.review_date < $5 OR (r.review_date = $5 AND r.id < $2))) \
                 ORDER BY a.review_id, a.id LIMIT 500"
                ))
                .bind(org_id)
                .bind(ctx.review_id)
                .bind(&ctx.cutoff)
                .bind(ctx.previous_review.as_ref().map_or(-1, |p| p.0))
                .bind(&ctx.review_date)
                .fetch_all(p)
                .await
            })?;
            actions.into_iter().map(|a| (a, String::new())).collect()
        };
        let open = rows.iter().filter(|(a, _)| a.status == "open").count();
        s.summary = match (&ctx.previous_review, rows.len()) {
            (None, 0) => "This is the first management review: no earlier actions.".into(),
            (_, 0) => "The previous reviews decided no actions.".into(),
            (_, n) => format!("{n} action(s) from earlier reviews, {open} still open."),
        };
        for (a, _) in rows {
            let overdue = a.status == "open" && !a.due_date.is_empty() && a.due_date < ctx.today;
            s.line(
                format!(
                    "{} ({}{}{}){}",
                    a.title,
                    a.status,
                    a.owner
                        .as_deref()
                        .map(|o| format!(", {o}"))
                        .unwrap_or_default(),
                    if a.due_date.is_empty() {
                        String::new()
                    } else {
                        format!(", due {}", a.due_date)
                    },
                    if overdue { ": overdue" } else { "" }
                ),
                format!("/management-reviews/{}", a.review_id),
            );
        }
        Ok(s)
    }

    /// 9.3.2 b) and c): issues and interested parties changed since the last review.
    async fn input_context_changes(
        &self,
        org_id: i64,
        ctx: &InputContext,
        kind: &str,
    ) -> Result<InputSection> {
        let mut s = if kind == "issue" {
            InputSection::new(
                "context_changes",
                "9.3.2 b)",
                "Changes in external and internal issues",
            )
        } else {
            InputSection::new(
                "interested_parties",
                "9.3.2 c)",
                "Changes in the needs and expectations of interested parties",
            )
        };
        let items = self.context_items(org_id, Some(kind)).await?;
        let changed: Vec<_> = items
            .iter()
            .filter(|i| i.updated_at.as_str() > ctx.since.as_str() && i.created_at <= ctx.cutoff)
            .collect();
        s.summary = if ctx.since.is_empty() {
            format!("{} recorded (first review: all are listed).", items.len())
        } else {
            format!(
                "{} of {} changed since the previous review.",
                changed.len(),
                items.len()
            )
        };
        for i in changed {
            let new = i.created_at.as_str() > ctx.since.as_str();
            s.line(
                format!(
                    "{}{}{}",
                    i.title,
                    if i.category.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", i.category)
                    },
                    if new { ": new" } else { ": changed" }
                ),
                format!("/context/items/{}", i.id),
            );
        }
        Ok(s)
    }

    /// 9.3.2 d) 1): nonconformities and corrective actions, with trends.
    async fn input_nonconformities(&self, org_id: i64, ctx: &InputContext) -> Result<InputSection> {
        let mut s = InputSection::new(
            "nonconformities",
            "9.3.2 d) 1)",
            "Nonconformities and corrective actions",
        );
        let rows: Vec<(i64, String, String, String, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, title, severity, status, raised_at, closed_at FROM nonconformities WHERE org_id = $1 \
             AND raised_at <= $2 AND (status <> 'closed' OR closed_at > $3) ORDER BY id LIMIT 1000"
        )
        .bind(org_id)
        .bind(&ctx.cutoff)
        .bind(&ctx.since)
        .fetch_all(p)
        .await
        })?;
        let raised = rows.iter().filter(|r| r.4 > ctx.since).count();
        let closed = rows.iter().filter(|r| r.3 == "closed").count();
        let open = rows.len() - closed;
        let overdue = self.overdue_nc_actions(org_id, &ctx.today).await?.len();
        s.summary = format!(
            "{raised} raised and {closed} closed since the previous review; {open} open; {overdue} corrective action(s) overdue."
        );
        for (id, title, severity, status, _, _) in rows {
            s.line(
                format!("NC-{id} {title} ({severity}, {})", status.replace('_', " ")),
                format!("/nonconformities/{id}"),
            );
        }
        Ok(s)
    }

    /// 9.3.2 d) 3): audit results since the previous review.
    async fn input_audits(&self, org_id: i64, ctx: &InputContext) -> Result<InputSection> {
        let mut s = InputSection::new("audits", "9.3.2 d) 3)", "Audit results");
        let rows: Vec<(i64, String, String, i64, i64, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT a.id, a.title, a.status, \
             (SELECT COUNT(*) FROM audit_findings f WHERE f.org_id = a.org_id AND f.audit_id = a.id AND f.created_at <= $3), \
             (SELECT COUNT(*) FROM audit_findings f WHERE f.org_id = a.org_id AND f.audit_id = a.id AND f.created_at <= $3 \
               AND f.result IN ('minor_nonconformity', 'major_nonconformity')), \
             (SELECT COUNT(*) FROM audit_findings f WHERE f.org_id = a.org_id AND f.audit_id = a.id AND f.created_at <= $3 \
               AND f.result IN ('observation', 'opportunity')) \
             FROM audits a WHERE a.org_id = $1 AND a.created_at <= $3 AND a.status <> 'cancelled' \
             AND (a.updated_at > $2 OR EXISTS (SELECT 1 FROM audit_findings f WHERE f.org_id = a.org_id \
               AND f.audit_id = a.id AND f.created_at > $2)) ORDER BY a.id LIMIT 500"
        )
        .bind(org_id)
        .bind(&ctx.since)
        .bind(&ctx.cutoff)
        .fetch_all(p)
        .await
        })?;
        s.summary = format!(
            "{} audit(s) ran or changed since the previous review.",
            rows.len()
        );
        for (id, title, status, findings, ncs, notes) in rows {
            s.line(
                format!(
                    "{title} ({}): {findings} finding(s), {ncs} nonconformit(ies), {notes} observation(s) or opportunit(ies)",
                    status.replace('_', " ")
                ),
                format!("/audits/{id}"),
            );
        }
        Ok(s)
    }

    /// 9.3.2 d) 4): fulfilment of information security objectives.
    /// 9.3.2 d) 2): each metric's latest result up to the review date
    /// against its target.
    async fn input_measurements(&self, org_id: i64, ctx: &InputContext) -> Result<InputSection> {
        let mut s = InputSection::new(
            "monitoring",
            "9.3.2 d) 2)",
            "Monitoring and measurement results",
        );
        let metrics = self.metrics(org_id).await?;
        let (mut off_target, mut measured) = (0, 0);
        for m in &metrics {
            let latest = m
                .latest
                .as_ref()
                .filter(|l| l.date.as_str() <= ctx.review_date.as_str());
            let text = match latest {
                Some(l) => {
                    measured += 1;
                    if l.status != isms_domain::controls::Rag::Green {
                        off_target += 1;
                    }
                    format!(
                        "{}: {} {} on {} (target {} {}), {}",
                        m.name,
                        l.value,
                        m.unit,
                        l.date,
                        m.target,
                        m.unit,
                        l.status.label()
                    )
                }
                None => format!("{}: no measurement up to the review date", m.name),
            };
            s.line(text, format!("/metrics/{}", m.id));
        }
        s.summary = if metrics.is_empty() {
            "No metric is defined yet: define metrics (Check \u{203a} Metrics) to report here."
                .to_owned()
        } else {
            format!(
                "{} metric(s), {measured} measured up to the review date, {off_target} of those off target.",
                metrics.len()
            )
        };
        Ok(s)
    }

    async fn input_objectives(&self, org_id: i64, ctx: &InputContext) -> Result<InputSection> {
        let mut s = InputSection::new(
            "objectives",
            "9.3.2 d) 4)",
            "Fulfilment of information security objectives",
        );
        let items = self.context_items(org_id, Some("objective")).await?;
        let past = items
            .iter()
            .filter(|o| !o.due_date.is_empty() && o.due_date < ctx.today)
            .count();
        s.summary = format!("{} objective(s), {past} past their due date.", items.len());
        for o in items {
            s.line(
                format!(
                    "{}{}{}",
                    o.title,
                    if o.target.is_empty() {
                        String::new()
                    } else {
                        format!(": target {}", o.target)
                    },
                    if o.due_date.is_empty() {
                        String::new()
                    } else {
                        format!(" by {}", o.due_date)
                    }
                ),
                format!("/context/items/{}", o.id),
            );
        }
        Ok(s)
    }

    /// 9.3.2 f): risk assessment results and the treatment plan's status.
    async fn input_risks(&self, org_id: i64, ctx: &InputContext) -> Result<InputSection> {
        let mut s = InputSection::new(
            "risks",
            "9.3.2 f)",
            "Results of risk assessment and status of the risk treatment plan",
        );
        let by_status: Vec<(String, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT status, COUNT(*) FROM risks WHERE org_id = $1 GROUP BY status ORDER BY status"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?;
        let (open_actions, overdue): (i64, i64) = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN due_date <> '' AND due_date < $2 THEN 1 ELSE 0 END), 0) \
             FROM risk_actions WHERE org_id = $1 AND status IN ('open', 'in_progress')"
        )
        .bind(org_id)
        .bind(&ctx.today)
        .fetch_one(p)
        .await
        })?;
        let total: i64 = by_status.iter().map(|r| r.1).sum();
        s.summary = format!(
            "{total} risk(s) in the register; {open_actions} treatment action(s) pending, {overdue} overdue."
        );
        for (status, n) in by_status {
            s.line(format!("{n} {status}"), format!("/risks?status={status}"));
        }
        if overdue > 0 {
            s.line(format!("{overdue} overdue treatment action(s)"), "/risks");
        }
        Ok(s)
    }

    /// 9.3.2 g): opportunities for improvement (observations and opportunities found by audits).
    async fn input_improvements(&self, org_id: i64, ctx: &InputContext) -> Result<InputSection> {
        let mut s = InputSection::new(
            "improvement",
            "9.3.2 g)",
            "Opportunities for continual improvement",
        );
        let rows: Vec<(i64, String, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT f.audit_id, f.ref_id, f.result, f.notes FROM audit_findings f WHERE f.org_id = $1 \
             AND f.result IN ('observation', 'opportunity') AND f.created_at > $2 AND f.created_at <= $3 \
             ORDER BY f.id LIMIT 500"
        )
        .bind(org_id)
        .bind(&ctx.since)
        .bind(&ctx.cutoff)
        .fetch_all(p)
        .await
        })?;
        s.summary = format!(
            "{} observation(s) and opportunit(ies) from audits since the previous review.",
            rows.len()
        );
        for (audit_id, ref_id, result, notes) in rows {
            let shown =
                crate::internal_audit::shown_ref(isms_domain::internal_audit::ISO27001, &ref_id);
            let notes: String = notes.chars().take(200).collect();
            s.line(
                format!("{shown} ({}): {notes}", result.replace('_', " ")),
                format!("/audits/{audit_id}"),
            );
        }
        Ok(s)
    }

    /// Where the ISMS stands against the certification checklist.
    async fn input_readiness(&self, org_id: i64) -> Result<InputSection> {
        let mut s = InputSection::new("readiness", "9.3.2", "Certification readiness");
        let r = self.readiness(org_id, &Actor::system()).await?;
        s.summary = format!("{} of {} items ready ({}%).", r.ready, r.total, r.percent());
        for i in r
            .items
            .iter()
            .filter(|i| i.state != crate::ReadinessState::Ready)
        {
            s.line(format!("{} ({}): {}", i.title, i.clause, i.detail), i.link);
        }
        Ok(s)
    }

    /// Open review actions due on or before `until`.
    pub async fn management_review_due_items(
        &self,
        org_id: i64,
        until: &str,
    ) -> Result<Vec<DueItem>> {
        let rows: Vec<ReviewAction> = on_pool!(self, |p| {
            sqlx::query_as::<_, ReviewAction>(&format!(
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
                kind: "review_action",
                id: a.id,
                title: format!("Management review action: {}", a.title),
                owner: a.owner,
                due_date: a.due_date,
                link: format!("/management-reviews/{}", a.review_id),
            })
            .collect())
    }

    /// The readiness item of clause 9.3.
    pub(crate) async fn management_review_readiness(
        &self,
        org_id: i64,
        year_ago: &str,
    ) -> Result<crate::ReadinessItem> {
        let today = now();
        let today = today.get(..10).unwrap_or("");
        let (reviews, last): (i64, Option<String>) = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*), MAX(CASE WHEN review_date <= $2 THEN review_date END) FROM management_reviews WHERE org_id = $1"
        )
        .bind(org_id)
        .bind(today)
        .fetch_one(p)
        .await
        })?;
        let (decisions, overdue): (i64, i64) = match &last {
            None => (0, 0),
            Some(d) => on_pool!(self, |p| {
                sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM review_decisions x JOIN management_reviews r ON r.org_id = x.org_id AND r.id = x.review_id \
                   WHERE x.org_id = $1 AND r.review_date = $2), \
                 (SELECT COUNT(*) FROM review_actions a WHERE a.org_id = $1 AND a.status = 'open' AND a.due_date <> '' AND a.due_date < $3)"
            )
            .bind(org_id)
            .bind(d)
            .bind(today)
            .fetch_one(p)
            .await
            })?,
        };
        let (state, detail) = rules::review_readiness(
            &rules::ReviewFacts {
                reviews,
                last_held: last,
                last_has_decisions: decisions > 0,
                open_actions_overdue: overdue,
            },
            year_ago,
        );
        Ok(crate::ReadinessItem {
            key: "management_review",
            clause: "9.3",
            title: "Management review results",
            state: crate::internal_audit::readiness_state(state),
            detail,
            link: "/management-reviews",
        })
    }
}

versioned::versioned_record!(ReviewRow);
