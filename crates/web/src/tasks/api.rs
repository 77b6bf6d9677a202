//! The tasks API: the roadmap, hand-made tasks, the caller's tasks, the
//! managers' view of what is due, and the caller's calendar feed.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_store::{DueItem, Roadmap, StepPlanInput, TaskInput};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t).map_err(|e| {
        ApiError(WebError::new(
            e.status(),
            "Please check your input",
            format!("the request body is not valid: {}", e.body_text()),
        ))
    })
}

/// A task to create (`title` and `owner` required) or a change to one
/// (`version` required).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TaskIn {
    pub title: Option<String>,
    pub description: Option<String>,
    /// E-mail of an active member of the organisation.
    pub owner: Option<String>,
    /// YYYY-MM-DD or "".
    pub due_date: Option<String>,
    /// open, done or cancelled.
    pub status: Option<String>,
    /// The version you last read.
    pub version: Option<i64>,
}

impl From<TaskIn> for TaskInput {
    fn from(t: TaskIn) -> Self {
        TaskInput {
            title: t.title,
            description: t.description,
            owner: t.owner,
            due_date: t.due_date,
            status: t.status,
            version: t.version,
        }
    }
}

/// One item with an owner and a date, from any module or made by hand.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOut {
    /// What it is: task, roadmap_step, risk_action, risk_review, ...
    pub kind: String,
    pub id: i64,
    pub title: String,
    pub owner: Option<String>,
    /// YYYY-MM-DD, or "" for a task without a date.
    pub due_date: String,
    /// Where it is handled in the web application.
    pub link: String,
    /// Due before today.
    pub overdue: bool,
}

pub(crate) fn item_out(i: DueItem, today: &str) -> ItemOut {
    ItemOut {
        overdue: !i.due_date.is_empty() && i.due_date.as_str() < today,
        kind: i.kind.to_owned(),
        id: i.id,
        title: i.title,
        owner: i.owner,
        due_date: i.due_date,
        link: i.link,
    }
}

/// A list of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemsOut {
    pub tasks: Vec<ItemOut>,
}

#[utoipa::path(get, path = "/roadmap", tag = "tasks",
    responses((status = 200, description = "The implementation roadmap: `steps` in order, each with `title`, `status` (done, in_progress, todo), its plan and link; `phases` with progress", body = Object)))]
pub async fn get_roadmap(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Roadmap>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(state.store.roadmap(user.0.org_id).await?))
}

/// A change to a step's plan.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct StepPlanIn {
    /// E-mail of a member; "" removes the owner.
    pub owner: Option<String>,
    /// YYYY-MM-DD or "".
    pub due_date: Option<String>,
    /// Certification steps only: closed (true) or reopened (false).
    pub done: Option<bool>,
    /// The step's version from GET /roadmap (0 for a step never planned).
    pub version: Option<i64>,
}

#[utoipa::path(patch, path = "/roadmap/steps/{step}", tag = "tasks", params(("step" = String, Path, description = "The step's key, e.g. scope")), request_body = StepPlanIn,
    responses((status = 200, description = "The step", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn plan_roadmap_step(
    State(state): State<AppState>,
    user: ApiUser,
    Path(step): Path<String>,
    input: Result<Json<StepPlanIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let s = state
        .store
        .plan_step(
            user.0.org_id,
            &step,
            &StepPlanInput {
                owner: i.owner,
                due_date: i.due_date,
                done: i.done,
                version: i.version,
            },
            &user.actor(),
        )
        .await?;
    Ok(Json(s).into_response())
}

#[utoipa::path(post, path = "/tasks", tag = "tasks", request_body = TaskIn,
    responses((status = 201, description = "The task, with its `id`", body = Object),
        (status = 422, description = "Bad input, e.g. an owner who is not a member of this organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn create_task(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<TaskIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let t = state
        .store
        .create_task(user.0.org_id, &body(input)?.into(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

/// Filters of the task list.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct TaskQuery {
    /// Only this member's tasks (e-mail).
    pub owner: Option<String>,
    /// Include done and cancelled tasks.
    pub all: Option<bool>,
}

#[utoipa::path(get, path = "/tasks", tag = "tasks", params(TaskQuery),
    responses((status = 200, description = "Hand-made tasks, open first by due date (at most 1,000)", body = Vec<Object>),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_tasks(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<TaskQuery>,
) -> Result<Json<Vec<isms_store::Task>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let org = user.0.org_id;
    let owner = match q.owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        None => None,
        Some(email) => {
            let found = state
                .store
                .members(org)
                .await?
                .into_iter()
                .find(|m| m.email == email.to_lowercase());
            Some(found.map(|m| m.user_id).ok_or_else(|| {
                ApiError(WebError::invalid(format!(
                    "owner: {email} is not a member of this organisation"
                )))
            })?)
        }
    };
    Ok(Json(
        state
            .store
            .tasks(org, owner, !q.all.unwrap_or(false))
            .await?,
    ))
}

/// A task the caller may see: any with ReadIsms, else only their own.
async fn visible_task(
    state: &AppState,
    user: &ApiUser,
    id: i64,
) -> Result<isms_store::Task, ApiError> {
    let t = state.store.task(user.0.org_id, id).await?;
    if !user.0.role.can(Permission::ReadIsms) && t.owner_user_id != user.0.user_id {
        return Err(ApiError(WebError::not_found(format!(
            "no task {id} in this organisation"
        ))));
    }
    Ok(t)
}

#[utoipa::path(get, path = "/tasks/{task}", tag = "tasks", params(("task" = i64, Path)),
    responses((status = 200, description = "The task", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_task(
    State(state): State<AppState>,
    user: ApiUser,
    Path(task): Path<i64>,
) -> Result<Json<isms_store::Task>, ApiError> {
    Ok(Json(visible_task(&state, &user, task).await?))
}

#[utoipa::path(patch, path = "/tasks/{task}", tag = "tasks", params(("task" = i64, Path)), request_body = TaskIn,
    responses((status = 200, description = "The task; its owner may change its status and date, those who edit the ISMS anything", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_task(
    State(state): State<AppState>,
    user: ApiUser,
    Path(task): Path<i64>,
    input: Result<Json<TaskIn>, JsonRejection>,
) -> Result<Json<isms_store::Task>, ApiError> {
    visible_task(&state, &user, task).await?;
    let t = state
        .store
        .update_task(
            user.0.org_id,
            task,
            &body(input)?.into(),
            user.0.role.can(Permission::EditIsms),
            &user.actor(),
        )
        .await?;
    Ok(Json(t))
}

#[utoipa::path(get, path = "/me/tasks", tag = "tasks",
    responses((status = 200, description = "The caller's open items of every module and their hand-made tasks, by due date", body = ItemsOut)))]
pub async fn my_tasks(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<ItemsOut>, ApiError> {
    let u = &user.0;
    let (today, _) = super::run::today_plus(0);
    let items = state.store.my_items(u.org_id, u.user_id, &u.email).await?;
    Ok(Json(ItemsOut {
        tasks: items.into_iter().map(|i| item_out(i, &today)).collect(),
    }))
}

/// Window of the managers' view.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct DueQuery {
    /// Items due on or before this day (YYYY-MM-DD; default: in 30 days).
    pub until: Option<String>,
}

#[utoipa::path(get, path = "/due-items", tag = "tasks", params(DueQuery),
    responses((status = 200, description = "Every open item of the organisation due by `until`, overdue ones flagged", body = ItemsOut),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_due_items(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<DueQuery>,
) -> Result<Json<ItemsOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let (today, month) = super::run::today_plus(30);
    let until = match q.until.as_deref() {
        None => month,
        Some(d) => isms_domain::tasks::check_date("until", d)
            .map_err(|e| ApiError(WebError::invalid(e)))?,
    };
    let items = state.store.due_items(user.0.org_id, &until).await?;
    Ok(Json(ItemsOut {
        tasks: items.into_iter().map(|i| item_out(i, &today)).collect(),
    }))
}

/// A new calendar feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedOut {
    /// The feed's address, with its secret: shown only now.
    pub url: String,
}

#[utoipa::path(post, path = "/me/calendar", tag = "tasks",
    responses((status = 201, description = "A new calendar feed of the caller's dated items (any earlier one is revoked); the `url` is shown once", body = FeedOut)))]
pub async fn create_calendar(
    State(state): State<AppState>,
    user: ApiUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let secret = state
        .store
        .create_calendar_feed(user.0.org_id, user.0.user_id, &user.actor())
        .await?;
    let url = format!("{}/calendar/{secret}", super::base_url(&state, &headers));
    Ok((StatusCode::CREATED, Json(FeedOut { url })).into_response())
}

#[utoipa::path(delete, path = "/me/calendar", tag = "tasks",
    responses((status = 204, description = "The feed is revoked: its address answers 404"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_calendar(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .revoke_calendar_feed(user.0.org_id, user.0.user_id, &user.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
