//! Pages of tasks and reminders: the roadmap, my tasks, what is due in the
//! organisation (for managers), one task, and the inbox.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_store::{Notification, Roadmap, StepPlanInput, StoreError, Task, TaskInput};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::tasks::api::{ItemOut, item_out};
use crate::tasks::run::today_plus;

/// Active members as (email, name shown) for owner choices.
async fn members(state: &AppState, org: i64) -> Result<Vec<(String, String)>, WebError> {
    Ok(state
        .store
        .members(org)
        .await?
        .into_iter()
        .filter(|m| m.active)
        .map(|m| {
            let shown = if m.display_name.is_empty() {
                m.email.clone()
            } else {
                format!("{} ({})", m.display_name, m.email)
            };
            (m.email, shown)
        })
        .collect())
}

// ---------------------------------------------------------------- roadmap

#[derive(Template)]
#[template(path = "page_roadmap.html")]
struct RoadmapPage {
    chrome: Option<Chrome>,
    roadmap: Roadmap,
    chart: String,
    can_edit: bool,
    members: Vec<(String, String)>,
    error: Option<String>,
}

/// The progress per phase as bars (the roadmap page and the dashboard).
pub fn phase_chart(r: &Roadmap) -> String {
    let bars: Vec<(String, usize, usize)> = r
        .phases
        .iter()
        .map(|p| (p.label.to_owned(), p.done, p.total))
        .collect();
    isms_reports::svg::progress_bars("Roadmap progress by phase", &bars)
}

async fn roadmap_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "roadmap").await?;
    let roadmap = state.store.roadmap(user.0.org_id).await?;
    let chart = phase_chart(&roadmap);
    let html = render(&RoadmapPage {
        chrome: Some(chrome),
        chart,
        can_edit: user.0.role.can(Permission::EditIsms),
        members: members(state, user.0.org_id).await?,
        roadmap,
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn roadmap(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    roadmap_page(&state, &user, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    owner: String,
    #[serde(default)]
    due_date: String,
    /// Present for certification steps: "on" when closed.
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    manual: Option<String>,
    #[serde(default)]
    version: i64,
}

pub async fn plan_step(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(step): Path<String>,
    Form(f): Form<PlanForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let input = StepPlanInput {
        owner: Some(f.owner),
        due_date: Some(f.due_date),
        done: f.manual.is_some().then_some(f.done.is_some()),
        version: Some(f.version),
    };
    match state
        .store
        .plan_step(user.0.org_id, &step, &input, &user.actor())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/roadmap#step-{step}")).into_response()),
        Err(StoreError::Invalid(m)) => {
            roadmap_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(format!("Nothing was saved: {m}.")),
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            roadmap_page(&state, &user, StatusCode::CONFLICT, Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- my tasks

#[derive(Template)]
#[template(path = "page_tasks.html")]
struct TasksPage {
    chrome: Option<Chrome>,
    items: Vec<ItemOut>,
    can_create: bool,
    members: Vec<(String, String)>,
    form: NewTaskForm,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NewTaskForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    description: String,
}

async fn tasks_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    form: NewTaskForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let u = &user.0;
    let chrome = Chrome::new(state, u, "tasks").await?;
    let (today, _) = today_plus(0);
    let items = state
        .store
        .my_items(u.org_id, u.user_id, &u.email)
        .await?
        .into_iter()
        .map(|i| item_out(i, &today))
        .collect();
    let html = render(&TasksPage {
        chrome: Some(chrome),
        items,
        can_create: u.role.can(Permission::EditIsms),
        members: members(state, u.org_id).await?,
        form,
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn mine(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    let form = NewTaskForm {
        owner: user.0.email.clone(),
        ..NewTaskForm::default()
    };
    tasks_page(&state, &user, StatusCode::OK, form, None).await
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<NewTaskForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let input = TaskInput {
        title: Some(f.title.clone()),
        description: Some(f.description.clone()),
        owner: Some(f.owner.clone()),
        due_date: Some(f.due_date.clone()),
        ..TaskInput::default()
    };
    match state
        .store
        .create_task(user.0.org_id, &input, &user.actor())
        .await
    {
        Ok(t) => Ok(Redirect::to(&format!("/tasks/{}", t.id)).into_response()),
        Err(StoreError::Invalid(m)) => {
            tasks_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                Some(format!("Nothing was saved: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- due (managers)

#[derive(Template)]
#[template(path = "page_due.html")]
struct DuePage {
    chrome: Option<Chrome>,
    overdue: Vec<ItemOut>,
    upcoming: Vec<ItemOut>,
}

pub async fn due(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let chrome = Chrome::new(&state, &user.0, "due").await?;
    let (today, month) = today_plus(30);
    let (overdue, upcoming): (Vec<ItemOut>, Vec<ItemOut>) = state
        .store
        .due_items(user.0.org_id, &month)
        .await?
        .into_iter()
        .map(|i| item_out(i, &today))
        .partition(|i| i.overdue);
    Ok(render(&DuePage {
        chrome: Some(chrome),
        overdue,
        upcoming,
    })?
    .into_response())
}

// ---------------------------------------------------------------- one task

#[derive(Template)]
#[template(path = "page_task.html")]
struct TaskPage {
    chrome: Option<Chrome>,
    task: Task,
    can_edit_all: bool,
    members: Vec<(String, String)>,
    error: Option<String>,
}

async fn visible(state: &AppState, user: &CurrentUser, id: i64) -> Result<Task, WebError> {
    let t = state.store.task(user.0.org_id, id).await?;
    if !user.0.role.can(Permission::ReadIsms) && t.owner_user_id != user.0.user_id {
        return Err(WebError::not_found(format!(
            "no task {id} in this organisation"
        )));
    }
    Ok(t)
}

async fn task_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    task: Task,
    error: Option<String>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "tasks")
        .await?
        .detail(&[], task.title.clone());
    let html = render(&TaskPage {
        chrome: Some(chrome),
        can_edit_all: user.0.role.can(Permission::EditIsms),
        members: members(state, user.0.org_id).await?,
        task,
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task): Path<i64>,
) -> Result<Response, WebError> {
    let t = visible(&state, &user, task).await?;
    task_page(&state, &user, StatusCode::OK, t, None).await
}

#[derive(Deserialize)]
pub struct TaskForm {
    title: Option<String>,
    description: Option<String>,
    owner: Option<String>,
    due_date: Option<String>,
    status: Option<String>,
    version: i64,
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task): Path<i64>,
    Form(f): Form<TaskForm>,
) -> Result<Response, WebError> {
    let before = visible(&state, &user, task).await?;
    let input = TaskInput {
        title: f.title.clone(),
        description: f.description.clone(),
        owner: f.owner.clone(),
        due_date: f.due_date.clone(),
        status: f.status.clone(),
        version: Some(f.version),
    };
    match state
        .store
        .update_task(
            user.0.org_id,
            task,
            &input,
            user.0.role.can(Permission::EditIsms),
            &user.actor(),
        )
        .await
    {
        Ok(t) => Ok(Redirect::to(&format!("/tasks/{}", t.id)).into_response()),
        Err(StoreError::Invalid(m)) => {
            // Keep what was typed.
            let mut shown = before;
            if let Some(v) = f.title {
                shown.title = v;
            }
            if let Some(v) = f.description {
                shown.description = v;
            }
            if let Some(v) = f.due_date {
                shown.due_date = v;
            }
            task_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                shown,
                Some(format!("Nothing was saved: {m}.")),
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            let now = state.store.task(user.0.org_id, task).await?;
            task_page(&state, &user, StatusCode::CONFLICT, now, Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- inbox

#[derive(Template)]
#[template(path = "page_inbox.html")]
struct InboxPage {
    chrome: Option<Chrome>,
    messages: Vec<Notification>,
}

pub async fn inbox(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    let chrome = Chrome::new(&state, &user.0, "inbox").await?;
    let messages = state
        .store
        .inbox(user.0.org_id, user.0.user_id, false)
        .await?;
    Ok(render(&InboxPage {
        chrome: Some(chrome),
        messages,
    })?
    .into_response())
}

pub async fn read_all(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    state
        .store
        .mark_read(user.0.org_id, user.0.user_id, None)
        .await?;
    Ok(Redirect::to("/inbox").into_response())
}

pub async fn read_one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(notification): Path<i64>,
) -> Result<Response, WebError> {
    let n = state
        .store
        .mark_read(user.0.org_id, user.0.user_id, Some(notification))
        .await?;
    if n == 0 {
        // Unknown, another member's, or already read: read ones stay read.
        let mine = state
            .store
            .inbox(user.0.org_id, user.0.user_id, false)
            .await?
            .into_iter()
            .any(|m| m.id == notification);
        if !mine {
            return Err(WebError::not_found(
                "There is no such message in your inbox.",
            ));
        }
    }
    Ok(Redirect::to("/inbox").into_response())
}
