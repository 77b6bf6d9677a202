//! Management review pages: the list with a form to record a review, and a
//! review's page (inputs compiled from the data, attendees and minutes,
//! decisions, actions, the minutes as PDF).

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_domain::management_review::DecisionKind;
use isms_store::{
    DecisionInput, ManagementReview, ReviewActionInput, ReviewInput, ReviewSummary, StoreError,
};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::isms_reports::Format;

fn lines(s: &str) -> Vec<String> {
    s.split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What the review form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    date: String,
    /// One per line (or separated by commas).
    #[serde(default)]
    attendees: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    version: String,
}

#[derive(Template)]
#[template(path = "page_management_reviews.html")]
struct ListPage {
    chrome: Option<Chrome>,
    reviews: Vec<ReviewSummary>,
    form: ReviewForm,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
}

async fn list_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    form: Option<ReviewForm>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "management_reviews").await?;
    let today = isms_store::now();
    let html = render(&ListPage {
        chrome: Some(chrome),
        reviews: state.store.management_reviews(user.0.org_id).await?,
        form: form.unwrap_or_else(|| ReviewForm {
            date: today.get(..10).unwrap_or("").to_owned(),
            ..ReviewForm::default()
        }),
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    list_page(&state, &user, StatusCode::OK, None, None).await
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<ReviewForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = state
        .store
        .create_management_review(
            user.0.org_id,
            &ReviewInput {
                title: Some(f.title.clone()),
                date: Some(f.date.clone()),
                attendees: Some(lines(&f.attendees)),
                minutes: Some(f.minutes.clone()),
                version: None,
            },
            &user.actor(),
        )
        .await;
    match result {
        Ok(r) => {
            Ok(Redirect::to(&format!("/management-reviews/{}?saved=review", r.id)).into_response())
        }
        Err(StoreError::Invalid(m)) => {
            list_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(f),
                Some(format!("The review was not recorded: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "page_management_review.html")]
struct ReviewPage {
    chrome: Option<Chrome>,
    review: ManagementReview,
    form: ReviewForm,
    kinds: Vec<(&'static str, &'static str)>,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    saved: Option<String>,
}

async fn review_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    status: StatusCode,
    form: Option<ReviewForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let review = state.store.management_review(user.0.org_id, id).await?;
    let chrome = Chrome::new(state, &user.0, "management_reviews")
        .await?
        .detail(&[], review.title.clone());
    let html = render(&ReviewPage {
        chrome: Some(chrome),
        form: form.unwrap_or_else(|| ReviewForm {
            title: review.title.clone(),
            date: review.date.clone(),
            attendees: review.attendees.join("\n"),
            minutes: review.minutes.clone(),
            version: review.version.to_string(),
        }),
        review,
        kinds: DecisionKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(review): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let notice = q.saved.map(|s| format!("Saved: {s}."));
    review_page(&state, &user, review, StatusCode::OK, None, None, notice).await
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(review): Path<i64>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    let result = state
        .store
        .update_management_review(
            org,
            review,
            &ReviewInput {
                title: Some(f.title.clone()),
                date: Some(f.date.clone()),
                attendees: Some(lines(&f.attendees)),
                minutes: Some(f.minutes.clone()),
                version: f.version.trim().parse().ok(),
            },
            &user.actor(),
        )
        .await;
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/management-reviews/{review}?saved=record")).into_response())
        }
        Err(e @ (StoreError::Invalid(_) | StoreError::Conflict(_))) => {
            let (code, m) = match e {
                StoreError::Conflict(m) => (
                    StatusCode::CONFLICT,
                    format!("{m}. Your changes are kept below."),
                ),
                other => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("Nothing was saved: {other}."),
                ),
            };
            let current = state.store.management_review(org, review).await?;
            let f = ReviewForm {
                version: current.version.to_string(),
                ..f
            };
            review_page(&state, &user, review, code, Some(f), Some(m), None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn after(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    result: Result<ManagementReview, StoreError>,
    saved: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/management-reviews/{id}?saved={saved}")).into_response())
        }
        Err(StoreError::Invalid(m)) => {
            review_page(
                state,
                user,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(format!("Nothing was saved: {m}.")),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    text: String,
}

pub async fn add_decision(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(review): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = state
        .store
        .add_review_decision(
            user.0.org_id,
            review,
            &DecisionInput {
                kind: Some(f.kind),
                text: Some(f.text),
            },
            &user.actor(),
        )
        .await;
    after(&state, &user, review, result, "decision").await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    due_date: String,
}

pub async fn add_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(review): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = state
        .store
        .add_review_action(
            user.0.org_id,
            review,
            &ReviewActionInput {
                title: Some(f.title),
                owner: Some(f.owner),
                due_date: Some(f.due_date),
            },
            &user.actor(),
        )
        .await;
    after(&state, &user, review, result, "action").await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

pub async fn set_action_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((review, review_action)): Path<(i64, i64)>,
    Form(f): Form<StatusForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    // The action must belong to this review of this organisation.
    let r = state.store.management_review(org, review).await?;
    if !r.actions.iter().any(|a| a.id == review_action) {
        return Err(WebError::not_found(
            "There is no such action on this review.",
        ));
    }
    match state
        .store
        .set_review_action_status(org, review_action, &f.status, &user.actor())
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/management-reviews/{review}?saved=action")).into_response())
        }
        Err(StoreError::Invalid(m)) => {
            review_page(
                &state,
                &user,
                review,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(format!("Nothing was saved: {m}.")),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(review): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    state.store.management_review(user.0.org_id, review).await?;
    let org = isms_store::Org {
        id: user.0.org_id,
        slug: user.0.org_slug.clone(),
        name: user.0.org_name.clone(),
        created_at: String::new(),
    };
    let bytes =
        crate::internal_audit::export::review_export(&state.store, &org, review, Format::Pdf)
            .await
            .map_err(|e| {
                tracing::error!("review minutes failed: {e}");
                WebError::internal()
            })?;
    Ok(crate::isms_reports::attachment(
        bytes,
        &format!("management-review-{review}.pdf"),
        Format::Pdf,
    ))
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FreezeForm {
    #[serde(default)]
    version: String,
}

/// Freezes the inputs: later reads show what the meeting saw.
pub async fn freeze(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(review): Path<i64>,
    Form(f): Form<FreezeForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = state
        .store
        .freeze_review_inputs(
            user.0.org_id,
            review,
            f.version.trim().parse().ok(),
            &user.actor(),
        )
        .await;
    match result {
        Err(StoreError::Conflict(m)) => {
            review_page(
                &state,
                &user,
                review,
                StatusCode::CONFLICT,
                None,
                Some(format!("The inputs were not frozen: {m}.")),
                None,
            )
            .await
        }
        other => after(&state, &user, review, other, "inputs frozen").await,
    }
}
