//! Tasks and reminders: hand-made tasks, the roadmap plan, calendar feeds,
//! e-mail opt-outs and the record of digests sent. Everything with an owner
//! and a date is read through [`Store::due_items`], so the modules' items and
//! the hand-made tasks form one list.

use isms_domain::tasks::{self as rules, Evidence, Phase, StepStatus, TaskStatus};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::due::DueItem;
use crate::users::member_id;
use crate::versioned::{self, Claim, Key, Target};
use crate::{
    ReadinessState, Result, Store, StoreError, Tx, hash_token, now, on_pool, on_tx, random_token,
};

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

/// The prefix of calendar feed secrets (recognisable in logs).
pub const FEED_PREFIX: &str = "ismscal_";

/// Open tasks listed at most per query.
const TASK_LIMIT: i64 = 1000;

/// A hand-made task.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: String,
    /// The owner's e-mail address.
    pub owner: String,
    #[serde(skip)]
    pub owner_user_id: i64,
    /// YYYY-MM-DD or "".
    pub due_date: String,
    /// open, done or cancelled.
    pub status: String,
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

/// A task to create (`title` and `owner` required) or a change to one
/// (`version` required).
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    pub title: Option<String>,
    pub description: Option<String>,
    /// E-mail of an active member of the organisation.
    pub owner: Option<String>,
    pub due_date: Option<String>,
    pub status: Option<String>,
    pub version: Option<i64>,
}

const TASK_SELECT: &str = "SELECT t.id, t.title, t.description, u.email AS owner, t.owner_user_id, \
     t.due_date, t.status, t.version, t.created_at, t.created_by, t.updated_at, t.updated_by \
     FROM tasks t JOIN users u ON u.id = t.owner_user_id WHERE t.org_id = $1";

fn task_json(t: &Task) -> serde_json::Value {
    json!({
        "title": t.title, "description": t.description, "owner": t.owner,
        "due_date": t.due_date, "status": t.status,
    })
}

fn apply(t: &mut Task, input: &TaskInput) -> Result<()> {
    if let Some(v) = &input.title {
        t.title = rules::check_title(v).map_err(invalid)?;
    }
    if let Some(v) = &input.description {
        let v = v.trim();
        if v.chars().count() > 5000 {
            return Err(invalid("description: at most 5000 characters"));
        }
        v.clone_into(&mut t.description);
    }
    if let Some(v) = &input.due_date {
        t.due_date = rules::check_date("due_date", v).map_err(invalid)?;
    }
    if let Some(v) = &input.status {
        let s: TaskStatus = v.parse().map_err(|e| invalid(format!("status: {e}")))?;
        s.as_str().clone_into(&mut t.status);
    }
    Ok(())
}

impl Store {
    /// Creates a task for an active member of the organisation and tells
    /// the owner in the inbox.
    pub async fn create_task(&self, org_id: i64, input: &TaskInput, actor: &Actor) -> Result<Task> {
        let Some(owner) = input.owner.as_deref().filter(|o| !o.trim().is_empty()) else {
            return Err(invalid("owner: required (the e-mail address of a member)"));
        };
        if input.title.is_none() {
            return Err(invalid("title: required"));
        }
        let at = now();
        let mut t = Task {
            id: 0,
            title: String::new(),
            description: String::new(),
            owner: owner.trim().to_lowercase(),
            owner_user_id: 0,
            due_date: String::new(),
            status: "open".into(),
            version: 1,
            created_at: at.clone(),
            created_by: actor.label.clone(),
            updated_at: at.clone(),
            updated_by: actor.label.clone(),
        };
        apply(&mut t, input)?;
        let mut tx = self.begin().await?;
        t.owner_user_id = member_id(&mut tx, org_id, "owner", owner).await?;
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO tasks (org_id, title, description, owner_user_id, due_date, status, version, \
             created_at, created_by, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $7, $8) RETURNING id"
        )
        .bind(org_id)
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.owner_user_id)
        .bind(&t.due_date)
        .bind(&t.status)
        .bind(&at)
        .bind(&actor.label)
        .fetch_one(c)
        .await
        })?;
        t.id = id;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "task",
                entity_id: id.to_string(),
                before: None,
                after: Some(task_json(&t)),
            },
        )
        .await?;
        tx.commit().await?;
        if actor.user_id != Some(t.owner_user_id) {
            let body = if t.due_date.is_empty() {
                format!("{} gave you a task.", actor.label)
            } else {
                format!("{} gave you a task, due {}.", actor.label, t.due_date)
            };
            self.notify(
                org_id,
                t.owner_user_id,
                &crate::NewNotification {
                    category: "task",
                    title: &format!("New task: {}", t.title),
                    body: &body,
                    link: &format!("/tasks/{id}"),
                    dedupe_key: Some(&format!("task-assigned:{id}:{}", t.owner_user_id)),
                },
            )
            .await?;
        }
        Ok(t)
    }

    /// One task of the organisation.
    pub async fn task(&self, org_id: i64, id: i64) -> Result<Task> {
        let sql = format!("{TASK_SELECT} AND t.id = $2");
        on_pool!(self, |p| sqlx::query_as::<_, Task>(&sql)
            .bind(org_id)
            .bind(id)
            .fetch_optional(p)
            .await)?
        .ok_or_else(|| StoreError::NotFound(format!("no task {id} in this organisation")))
    }

    /// The organisation's tasks, optionally of one owner, open ones first by
    /// due date (at most 1,000).
    pub async fn tasks(
        &self,
        org_id: i64,
        owner_user_id: Option<i64>,
        open_only: bool,
    ) -> Result<Vec<Task>> {
        let sql = format!(
            "{TASK_SELECT} AND ($2 IS NULL OR t.owner_user_id = $2) {} \
             ORDER BY CASE WHEN t.status = 'open' THEN 0 ELSE 1 END, \
             CASE WHEN t.due_date = '' THEN 1 ELSE 0 END, t.due_date, t.id LIMIT {TASK_LIMIT}",
            if open_only {
                "AND t.status = 'open'"
            } else {
                ""
            }
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Task>(&sql)
            .bind(org_id)
            .bind(owner_user_id)
            .fetch_all(p)
            .await)?)
    }

    /// Changes a task (`version` required). A member who is not allowed to
    /// edit the ISMS (`may_edit_all` false) may only change their own task.
    pub async fn update_task(
        &self,
        org_id: i64,
        id: i64,
        input: &TaskInput,
        may_edit_all: bool,
        actor: &Actor,
    ) -> Result<Task> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" (GET /api/v1/tasks/{task})"));
        };
        let before = self.task(org_id, id).await?;
        if !may_edit_all && actor.user_id != Some(before.owner_user_id) {
            return Err(StoreError::NotFound(format!(
                "no task {id} of yours in this organisation"
            )));
        }
        let mut tx = self.begin().await?;
        let target = Target {
            table: "tasks",
            org_id,
            keys: &[("id", Key::Int(id))],
        };
        match versioned::claim(&mut tx, &target, sent).await? {
            Claim::Won => {}
            Claim::Missing => {
                return Err(StoreError::NotFound(format!(
                    "no task {id} in this organisation"
                )));
            }
            Claim::Stale { current } => {
                drop(tx);
                let now = self.task(org_id, id).await?;
                return Err(versioned::stale(
                    &format!("task {id}"),
                    current,
                    sent,
                    &now.updated_by,
                    &now.updated_at,
                ));
            }
        }
        // Read again under the claim: the row cannot change now.
        let sql = format!("{TASK_SELECT} AND t.id = $2");
        let mut t: Task = on_tx!(&mut tx, |c| sqlx::query_as::<_, Task>(&sql)
            .bind(org_id)
            .bind(id)
            .fetch_one(c)
            .await)?;
        let old = t.clone();
        apply(&mut t, input)?;
        if let Some(owner) = input.owner.as_deref() {
            if !may_edit_all && owner.trim().to_lowercase() != old.owner {
                return Err(invalid(
                    "owner: only those who edit the ISMS may give a task to someone else",
                ));
            }
            t.owner_user_id = member_id(&mut tx, org_id, "owner", owner).await?;
            t.owner = owner.trim().to_lowercase();
        }
        let at = now();
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE tasks SET title = $3, description = $4, owner_user_id = $5, due_date = $6, \
             status = $7, updated_at = $8, updated_by = $9 WHERE org_id = $1 AND id = $2"
        )
        .bind(org_id)
        .bind(id)
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.owner_user_id)
        .bind(&t.due_date)
        .bind(&t.status)
        .bind(&at)
        .bind(&actor.label)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        t.version = old.version;
        t.updated_at = at;
        t.updated_by.clone_from(&actor.label);
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "task",
                entity_id: id.to_string(),
                before: Some(task_json(&old)),
                after: Some(task_json(&t)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Hand-made tasks and planned roadmap steps due on or before `until`.
    pub async fn tasks_due_items(&self, org_id: i64, until: &str) -> Result<Vec<DueItem>> {
        let sql = format!(
            "{TASK_SELECT} AND t.status = 'open' AND t.due_date <> '' AND t.due_date <= $2 \
             ORDER BY t.due_date, t.id"
        );
        let tasks: Vec<Task> = on_pool!(self, |p| sqlx::query_as::<_, Task>(&sql)
            .bind(org_id)
            .bind(until)
            .fetch_all(p)
            .await)?;
        let mut out: Vec<DueItem> = tasks
            .into_iter()
            .map(|t| DueItem {
                kind: "task",
                id: t.id,
                link: format!("/tasks/{}", t.id),
                title: t.title,
                owner: Some(t.owner),
                due_date: t.due_date,
            })
            .collect();
        let planned = self.roadmap_plan(org_id).await?;
        let due: Vec<&PlanRow> = planned
            .iter()
            .filter(|r| !r.due_date.is_empty() && r.due_date.as_str() <= until)
            .collect();
        if !due.is_empty() {
            let statuses = self.step_statuses(org_id, &planned).await?;
            for r in due {
                let Some((index, step)) = rules::STEPS
                    .iter()
                    .enumerate()
                    .find(|(_, s)| s.key == r.step)
                else {
                    continue;
                };
                if statuses[index] == StepStatus::Done {
                    continue;
                }
                out.push(DueItem {
                    kind: "roadmap_step",
                    id: index as i64 + 1,
                    title: format!("Roadmap: {}", step.title),
                    owner: r.owner.clone(),
                    due_date: r.due_date.clone(),
                    link: format!("/roadmap#step-{}", step.key),
                });
            }
        }
        Ok(out)
    }

    /// A member's open items of every module (any date) and their undated
    /// hand-made tasks, by date.
    pub async fn my_items(&self, org_id: i64, user_id: i64, email: &str) -> Result<Vec<DueItem>> {
        let mut out: Vec<DueItem> = self
            .due_items(org_id, "9999-12-31")
            .await?
            .into_iter()
            .filter(|i| i.owner.as_deref() == Some(email))
            .collect();
        for t in self.tasks(org_id, Some(user_id), true).await? {
            if t.due_date.is_empty() {
                out.push(DueItem {
                    kind: "task",
                    id: t.id,
                    link: format!("/tasks/{}", t.id),
                    title: t.title,
                    owner: Some(t.owner),
                    due_date: String::new(),
                });
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------- roadmap

#[derive(Debug, Clone, sqlx::FromRow)]
struct PlanRow {
    step: String,
    owner: Option<String>,
    due_date: String,
    done_on: String,
    version: i64,
    updated_at: String,
    updated_by: String,
}

/// One step as the organisation sees it.
#[derive(Debug, Clone, Serialize)]
pub struct RoadmapStep {
    pub key: &'static str,
    pub phase: Phase,
    pub phase_label: &'static str,
    pub title: &'static str,
    pub what: &'static str,
    pub why: &'static str,
    pub link: &'static str,
    /// done, in_progress or todo, computed from the data.
    pub status: StepStatus,
    /// Closed by hand (certification audits) rather than by the data.
    pub manual: bool,
    pub owner: Option<String>,
    /// YYYY-MM-DD or "".
    pub due_date: String,
    /// For a manual step: the day it was closed.
    pub done_on: String,
    /// The plan's version (0: never planned).
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

/// Progress of one phase.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseProgress {
    pub phase: Phase,
    pub label: &'static str,
    pub done: usize,
    pub total: usize,
}

/// The roadmap of an organisation.
#[derive(Debug, Clone, Serialize)]
pub struct Roadmap {
    pub steps: Vec<RoadmapStep>,
    pub phases: Vec<PhaseProgress>,
    pub done: usize,
    pub total: usize,
}

impl Roadmap {
    /// The first step not done.
    pub fn next(&self) -> Option<&RoadmapStep> {
        self.steps.iter().find(|s| s.status != StepStatus::Done)
    }
}

/// A change to a step's plan (`version` required: 0 for a step never planned).
#[derive(Debug, Clone, Default)]
pub struct StepPlanInput {
    /// E-mail of a member; "" removes the owner.
    pub owner: Option<String>,
    /// YYYY-MM-DD or "".
    pub due_date: Option<String>,
    /// For a manual step: closes (true) or reopens (false) it.
    pub done: Option<bool>,
    pub version: Option<i64>,
}

impl Store {
    async fn roadmap_plan(&self, org_id: i64) -> Result<Vec<PlanRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, PlanRow>(
            "SELECT r.step, u.email AS owner, r.due_date, r.done_on, r.version, r.updated_at, r.updated_by \
             FROM roadmap_plan r LEFT JOIN users u ON u.id = r.owner_user_id WHERE r.org_id = $1"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Each step's status, in the order of [`rules::STEPS`].
    async fn step_statuses(&self, org_id: i64, plan: &[PlanRow]) -> Result<Vec<StepStatus>> {
        let readiness = self.readiness(org_id, &Actor::system()).await?;
        let evidence = |key: &str| {
            readiness
                .items
                .iter()
                .find(|i| i.key == key)
                .map(|i| match i.state {
                    ReadinessState::Ready => Evidence::Ready,
                    ReadinessState::Incomplete => Evidence::Incomplete,
                    ReadinessState::Missing => Evidence::Missing,
                })
        };
        Ok(rules::STEPS
            .iter()
            .map(|s| {
                let closed = plan
                    .iter()
                    .any(|r| r.step == s.key && !r.done_on.is_empty());
                rules::step_status(s, evidence, closed)
            })
            .collect())
    }

    /// The roadmap: every step with its computed status and its plan.
    pub async fn roadmap(&self, org_id: i64) -> Result<Roadmap> {
        let plan = self.roadmap_plan(org_id).await?;
        let statuses = self.step_statuses(org_id, &plan).await?;
        let steps: Vec<RoadmapStep> = rules::STEPS
            .iter()
            .zip(statuses)
            .map(|(s, status)| {
                let row = plan.iter().find(|r| r.step == s.key);
                RoadmapStep {
                    key: s.key,
                    phase: s.phase,
                    phase_label: s.phase.label(),
                    title: s.title,
                    what: s.what,
                    why: s.why,
                    link: s.link,
                    status,
                    manual: s.manual(),
                    owner: row.and_then(|r| r.owner.clone()),
                    due_date: row.map(|r| r.due_date.clone()).unwrap_or_default(),
                    done_on: row.map(|r| r.done_on.clone()).unwrap_or_default(),
                    version: row.map_or(0, |r| r.version),
                    updated_at: row.map(|r| r.updated_at.clone()).unwrap_or_default(),
                    updated_by: row.map(|r| r.updated_by.clone()).unwrap_or_default(),
                }
            })
            .collect();
        let phases = Phase::ALL
            .iter()
            .map(|&phase| {
                let of: Vec<_> = steps.iter().filter(|s| s.phase == phase).collect();
                PhaseProgress {
                    phase,
                    label: phase.label(),
                    done: of.iter().filter(|s| s.status == StepStatus::Done).count(),
                    total: of.len(),
                }
            })
            .collect();
        let done = steps
            .iter()
            .filter(|s| s.status == StepStatus::Done)
            .count();
        let total = steps.len();
        Ok(Roadmap {
            steps,
            phases,
            done,
            total,
        })
    }

    /// Re-plans a step: its owner and due date, and for a certification
    /// step whether it is done. `version` 0 plans a step for the first time.
    pub async fn plan_step(
        &self,
        org_id: i64,
        key: &str,
        input: &StepPlanInput,
        actor: &Actor,
    ) -> Result<RoadmapStep> {
        let Some(step) = rules::step_by_key(key) else {
            return Err(StoreError::NotFound(format!("no roadmap step '{key}'")));
        };
        let Some(sent) = input.version else {
            return Err(versioned::version_required(
                " (the step's version in GET /api/v1/roadmap; 0 if never planned)",
            ));
        };
        if input.done.is_some() && !step.manual() {
            return Err(invalid(format!(
                "done: the step '{key}' closes itself when the data shows it done; only the certification audits are closed by hand"
            )));
        }
        let due_date = input
            .due_date
            .as_deref()
            .map(|d| rules::check_date("due_date", d))
            .transpose()
            .map_err(invalid)?;
        let at = now();
        let mut tx = self.begin().await?;
        let before: Option<(Option<i64>, String, String)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "SELECT owner_user_id, due_date, done_on FROM roadmap_plan WHERE org_id = $1 AND step = $2"
        )
        .bind(org_id)
        .bind(key)
        .fetch_optional(c)
        .await
        })?;
        if before.is_some() || sent != 0 {
            let target = Target {
                table: "roadmap_plan",
                org_id,
                keys: &[("step", Key::Text(key))],
            };
            match versioned::claim(&mut tx, &target, sent).await? {
                Claim::Won => {}
                Claim::Missing => {
                    return Err(StoreError::Conflict(format!(
                        "the step '{key}' has never been planned (version 0), you sent {sent}: nothing was saved; reload and apply your change again"
                    )));
                }
                Claim::Stale { current } => {
                    drop(tx);
                    let row = self
                        .roadmap_plan(org_id)
                        .await?
                        .into_iter()
                        .find(|r| r.step == key);
                    let (by, when) = row
                        .map(|r| (r.updated_by, r.updated_at))
                        .unwrap_or_default();
                    return Err(versioned::stale(
                        &format!("the roadmap step '{key}'"),
                        current,
                        sent,
                        &by,
                        &when,
                    ));
                }
            }
        }
        let (old_owner, old_due, old_done) = before.clone().unwrap_or_default();
        let owner = match input.owner.as_deref().map(str::trim) {
            None => old_owner,
            Some("") => None,
            Some(email) => Some(member_id(&mut tx, org_id, "owner", email).await?),
        };
        let due = due_date.unwrap_or_else(|| old_due.clone());
        let done_on = match input.done {
            Some(false) => String::new(),
            Some(true) if old_done.is_empty() => at.get(..10).unwrap_or_default().to_owned(),
            None | Some(true) => old_done.clone(),
        };
        if before.is_none() {
            let inserted = on_tx!(&mut tx, |c| {
                sqlx::query(
                "INSERT INTO roadmap_plan (org_id, step, owner_user_id, due_date, done_on, version, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, 1, $6, $7) ON CONFLICT DO NOTHING"
            )
            .bind(org_id)
            .bind(key)
            .bind(owner)
            .bind(&due)
            .bind(&done_on)
            .bind(&at)
            .bind(&actor.label)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
            })?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!(
                    "the roadmap step '{key}' was planned by someone else meanwhile: nothing was saved; reload and apply your change again"
                )));
            }
        } else {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "UPDATE roadmap_plan SET owner_user_id = $3, due_date = $4, done_on = $5, updated_at = $6, updated_by = $7 \
                 WHERE org_id = $1 AND step = $2"
            )
            .bind(org_id)
            .bind(key)
            .bind(owner)
            .bind(&due)
            .bind(&done_on)
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
                action: if before.is_none() { "create" } else { "update" },
                entity_type: "roadmap_step",
                entity_id: key.to_owned(),
                before: before.map(
                    |(o, d, done)| json!({"owner_user_id": o, "due_date": d, "done_on": done}),
                ),
                after: Some(json!({"owner_user_id": owner, "due_date": due, "done_on": done_on})),
            },
        )
        .await?;
        tx.commit().await?;
        if let Some(owner) = owner
            && actor.user_id != Some(owner)
            && !due.is_empty()
        {
            self.notify(
                org_id,
                owner,
                &crate::NewNotification {
                    category: "roadmap_step",
                    title: &format!("Roadmap step for you: {}", step.title),
                    body: &format!("{} planned it for you, due {due}.", actor.label),
                    link: &format!("/roadmap#step-{key}"),
                    dedupe_key: Some(&format!("roadmap-assigned:{key}:{owner}:{due}")),
                },
            )
            .await?;
        }
        self.roadmap(org_id)
            .await?
            .steps
            .into_iter()
            .find(|s| s.key == key)
            .ok_or_else(|| StoreError::NotFound(format!("no roadmap step '{key}'")))
    }
}

// ---------------------------------------------------------------- calendar feeds

/// The member behind a calendar feed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedOwner {
    pub org_id: i64,
    pub user_id: i64,
    pub email: String,
    pub org_name: String,
}

impl Store {
    /// Creates the member's calendar feed (revoking any earlier one);
    /// returns the secret, which is stored only hashed.
    pub async fn create_calendar_feed(
        &self,
        org_id: i64,
        user_id: i64,
        actor: &Actor,
    ) -> Result<String> {
        let secret = format!("{FEED_PREFIX}{}", random_token(32));
        let at = now();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE calendar_feeds SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL"
        )
        .bind(org_id)
        .bind(user_id)
        .bind(&at)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO calendar_feeds (org_id, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id"
        )
        .bind(org_id)
        .bind(user_id)
        .bind(hash_token(&secret))
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
                entity_type: "calendar_feed",
                entity_id: id.to_string(),
                before: None,
                after: Some(json!({"user_id": user_id})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Revokes the member's calendar feed; not found when there is none.
    pub async fn revoke_calendar_feed(
        &self,
        org_id: i64,
        user_id: i64,
        actor: &Actor,
    ) -> Result<()> {
        let at = now();
        let mut tx = self.begin().await?;
        let ids: Vec<(i64,)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "UPDATE calendar_feeds SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id"
        )
        .bind(org_id)
        .bind(user_id)
        .bind(&at)
        .fetch_all(c)
        .await
        })?;
        if ids.is_empty() {
            return Err(StoreError::NotFound(
                "you have no calendar feed to revoke".into(),
            ));
        }
        for (id,) in ids {
            audit::record(
                &mut tx,
                actor,
                Change {
                    org_id,
                    action: "revoke",
                    entity_type: "calendar_feed",
                    entity_id: id.to_string(),
                    before: Some(json!({"user_id": user_id, "revoked_at": null})),
                    after: Some(json!({"user_id": user_id, "revoked_at": at})),
                },
            )
            .await?;
        }
        tx.commit().await
    }

    /// When the member's live calendar feed was created, if they have one.
    pub async fn calendar_feed_created(&self, org_id: i64, user_id: i64) -> Result<Option<String>> {
        let row: Option<(String,)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT created_at FROM calendar_feeds WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL \
             ORDER BY id DESC LIMIT 1"
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(p)
        .await
        })?;
        Ok(row.map(|(c,)| c))
    }

    /// The member behind a live feed secret, while their membership is active.
    pub async fn calendar_feed_owner(&self, secret: &str) -> Result<Option<FeedOwner>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, FeedOwner>(
            "SELECT f.org_id, f.user_id, u.email, o.name AS org_name FROM calendar_feeds f \
             JOIN users u ON u.id = f.user_id JOIN organisations o ON o.id = f.org_id \
             JOIN memberships m ON m.org_id = f.org_id AND m.user_id = f.user_id AND m.active \
             WHERE f.token_hash = $1 AND f.revoked_at IS NULL"
        )
        .bind(hash_token(secret))
        .fetch_optional(p)
        .await)?)
    }
}

// ---------------------------------------------------------------- opt-outs and digests

/// A digest about to be sent: the row in `digests_sent` is written but not
/// committed. [`DigestClaim::sent`] commits it; dropping it (the mail could
/// not be sent) rolls it back, so the next run tries again. While it is
/// held, another instance deciding the same digest waits on the row (on
/// PostgreSQL) or on the write lock (on SQLite) and then finds it sent.
pub struct DigestClaim {
    tx: Tx,
}

impl DigestClaim {
    pub async fn sent(self) -> Result<()> {
        self.tx.commit().await
    }
}

impl Store {
    /// The categories a member receives no e-mail for.
    pub async fn optouts(&self, org_id: i64, user_id: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT category FROM notification_optouts WHERE org_id = $1 AND user_id = $2 ORDER BY category"
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_all(p)
        .await
        })?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// Replaces a member's opt-outs.
    pub async fn set_optouts(
        &self,
        org_id: i64,
        user_id: i64,
        categories: &[String],
        actor: &Actor,
    ) -> Result<()> {
        let mut cats: Vec<String> = Vec::new();
        for c in categories {
            let c = c.trim();
            if c.is_empty() {
                continue;
            }
            if c.len() > 64
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(invalid(format!(
                    "categories: '{c}' is not a category (lower-case letters, digits and _)"
                )));
            }
            if !cats.iter().any(|x| x == c) {
                cats.push(c.to_owned());
            }
        }
        cats.sort();
        let before = self.optouts(org_id, user_id).await?;
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM notification_optouts WHERE org_id = $1 AND user_id = $2"
        )
        .bind(org_id)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        for cat in &cats {
            on_tx!(&mut tx, |c| sqlx::query(
                "INSERT INTO notification_optouts (org_id, user_id, category) VALUES ($1, $2, $3)"
            )
            .bind(org_id)
            .bind(user_id)
            .bind(cat)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "notification_optouts",
                entity_id: user_id.to_string(),
                before: Some(json!({ "categories": before })),
                after: Some(json!({ "categories": cats })),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Decides to send a member's digest of `day`: writes the row that says
    /// so, uncommitted. `None` when that day's digest was already sent.
    pub async fn claim_digest(
        &self,
        org_id: i64,
        user_id: i64,
        day: &str,
        items: i64,
    ) -> Result<Option<DigestClaim>> {
        let mut tx = self.begin().await?;
        let written = on_tx!(&mut tx, |c| {
            sqlx::query(
            "INSERT INTO digests_sent (org_id, user_id, day, items, sent_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING"
        )
        .bind(org_id)
        .bind(user_id)
        .bind(day)
        .bind(items)
        .bind(now())
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok((written == 1).then_some(DigestClaim { tx }))
    }

    /// Whether a member's digest of `day` was sent.
    pub async fn digest_sent(&self, org_id: i64, user_id: i64, day: &str) -> Result<bool> {
        let row: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT items FROM digests_sent WHERE org_id = $1 AND user_id = $2 AND day = $3"
        )
        .bind(org_id)
        .bind(user_id)
        .bind(day)
        .fetch_optional(p)
        .await)?;
        Ok(row.is_some())
    }
}

// ---------------------------------------------------------------- the scheduler's lock

/// A PostgreSQL advisory lock key for the scheduler (one instance runs it).
const PG_SCHEDULER_LOCK: i64 = 0x0069_736d_7461_736b;

/// The scheduler's lock, held on one connection while it lives.
pub struct SchedulerLock {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
}

impl Store {
    /// Takes the scheduler's lock if free. On PostgreSQL only the instance
    /// holding `pg_try_advisory_lock` gets it (and keeps it while the
    /// returned value lives, on its own connection); on SQLite the one
    /// process always gets it.
    pub async fn try_scheduler_lock(&self) -> Result<Option<SchedulerLock>> {
        match &self.pool {
            crate::Pool::Sqlite(_) => Ok(Some(SchedulerLock { conn: None })),
            crate::Pool::Postgres(p) => {
                let mut conn = p.acquire().await?;
                let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
                    .bind(PG_SCHEDULER_LOCK)
                    .fetch_one(&mut *conn)
                    .await?;
                if got {
                    Ok(Some(SchedulerLock { conn: Some(conn) }))
                } else {
                    Ok(None)
                }
            }
        }
    }
}

impl Drop for SchedulerLock {
    fn drop(&mut self) {
        // A session-level advisory lock lives as long as its connection:
        // detach the connection from the pool and close it so the lock is
        // released for another instance.
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}
