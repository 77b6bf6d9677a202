//! The management review API: reviews with their compiled inputs,
//! decisions, actions, the minutes as PDF.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_store::{DecisionInput, ManagementReview, ReviewActionInput, ReviewInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};
use crate::isms_reports::Format;
use crate::risk::api::body;

/// A review to record, or a change to one (`version` required).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReviewIn {
    pub title: Option<String>,
    /// YYYY-MM-DD of the meeting.
    pub date: Option<String>,
    pub attendees: Option<Vec<String>>,
    pub minutes: Option<String>,
    pub version: Option<i64>,
}

impl From<ReviewIn> for ReviewInput {
    fn from(r: ReviewIn) -> Self {
        ReviewInput {
            title: r.title,
            date: r.date,
            attendees: r.attendees,
            minutes: r.minutes,
            version: r.version,
        }
    }
}

/// A decision of the review.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DecisionIn {
    /// improvement, change, resources or other.
    pub kind: Option<String>,
    pub text: Option<String>,
}

/// An action of the review (it appears in the next review's inputs).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReviewActionIn {
    pub title: Option<String>,
    /// E-mail of a member.
    pub owner: Option<String>,
    /// YYYY-MM-DD.
    pub due_date: Option<String>,
}

/// A review action's new status.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReviewActionPatchIn {
    /// open or done.
    pub status: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ReviewList {
    items: Vec<isms_store::ReviewSummary>,
}

#[utoipa::path(post, path = "/management-reviews", tag = "management-review", request_body = ReviewIn,
    responses((status = 201, description = "The review with its compiled inputs", body = Object),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_management_review(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<ReviewIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let r = state
        .store
        .create_management_review(user.0.org_id, &body(input)?.into(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(get, path = "/management-reviews", tag = "management-review",
    responses((status = 200, description = "The reviews, latest first", body = Object)))]
pub async fn list_management_reviews(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<ReviewList>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(ReviewList {
        items: state.store.management_reviews(user.0.org_id).await?,
    }))
}

#[utoipa::path(get, path = "/management-reviews/{review}", tag = "management-review", params(("review" = i64, Path)),
    responses((status = 200, description = "The review: attendees, decisions, actions and its inputs compiled from the data as of its date", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_management_review(
    State(state): State<AppState>,
    user: ApiUser,
    Path(review): Path<i64>,
) -> Result<Json<ManagementReview>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(
        state.store.management_review(user.0.org_id, review).await?,
    ))
}

#[utoipa::path(patch, path = "/management-reviews/{review}", tag = "management-review", params(("review" = i64, Path)), request_body = ReviewIn,
    responses((status = 200, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_management_review(
    State(state): State<AppState>,
    user: ApiUser,
    Path(review): Path<i64>,
    input: Result<Json<ReviewIn>, JsonRejection>,
) -> Result<Json<ManagementReview>, ApiError> {
    user.require(Permission::EditIsms)?;
    Ok(Json(
        state
            .store
            .update_management_review(user.0.org_id, review, &body(input)?.into(), &user.actor())
            .await?,
    ))
}

#[utoipa::path(post, path = "/management-reviews/{review}/decisions", tag = "management-review", params(("review" = i64, Path)), request_body = DecisionIn,
    responses((status = 201, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_review_decision(
    State(state): State<AppState>,
    user: ApiUser,
    Path(review): Path<i64>,
    input: Result<Json<DecisionIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let d = body(input)?;
    let r = state
        .store
        .add_review_decision(
            user.0.org_id,
            review,
            &DecisionInput {
                kind: d.kind,
                text: d.text,
            },
            &user.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(post, path = "/management-reviews/{review}/actions", tag = "management-review", params(("review" = i64, Path)), request_body = ReviewActionIn,
    responses((status = 201, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_review_action(
    State(state): State<AppState>,
    user: ApiUser,
    Path(review): Path<i64>,
    input: Result<Json<ReviewActionIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let a = body(input)?;
    let r = state
        .store
        .add_review_action(
            user.0.org_id,
            review,
            &ReviewActionInput {
                title: a.title,
                owner: a.owner,
                due_date: a.due_date,
            },
            &user.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(patch, path = "/review-actions/{review_action}", tag = "management-review", params(("review_action" = i64, Path)), request_body = ReviewActionPatchIn,
    responses((status = 200, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_review_action(
    State(state): State<AppState>,
    user: ApiUser,
    Path(review_action): Path<i64>,
    input: Result<Json<ReviewActionPatchIn>, JsonRejection>,
) -> Result<Json<isms_store::ReviewAction>, ApiError> {
    user.require(Permission::EditIsms)?;
    let p = body(input)?;
    Ok(Json(
        state
            .store
            .set_review_action_status(
                user.0.org_id,
                review_action,
                p.status.as_deref().unwrap_or(""),
                &user.actor(),
            )
            .await?,
    ))
}

#[utoipa::path(get, path = "/management-reviews/{review}/report", tag = "management-review", params(("review" = i64, Path)),
    responses((status = 200, description = "The minutes as PDF", content_type = "application/pdf"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn management_review_report(
    State(state): State<AppState>,
    user: ApiUser,
    Path(review): Path<i64>,
) -> Result<Response, ApiError> {
    user.require(Permission::ReadIsms)?;
    state.store.management_review(user.0.org_id, review).await?;
    let bytes = super::export::review_export(&state.store, &user.0.org(), review, Format::Pdf)
        .await
        .map_err(|e| {
            tracing::error!("review minutes failed: {e}");
            ApiError(WebError::internal())
        })?;
    Ok(crate::isms_reports::attachment(
        bytes,
        &format!("management-review-{review}.pdf"),
        Format::Pdf,
    ))
}

/// Freezing a review's inputs.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FreezeIn {
    /// The version you last read; without it, the current one.
    pub version: Option<i64>,
}

#[utoipa::path(post, path = "/management-reviews/{review}/freeze", tag = "management-review", params(("review" = i64, Path)), request_body = FreezeIn,
    responses((status = 200, description = "The review, its inputs kept as compiled now (inputs_frozen_at set)", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already frozen, or a stale version", body = Problem, content_type = "application/problem+json")))]
pub async fn freeze_review_inputs(
    State(state): State<AppState>,
    user: ApiUser,
    Path(review): Path<i64>,
    input: Result<Json<FreezeIn>, JsonRejection>,
) -> Result<Json<ManagementReview>, ApiError> {
    user.require(Permission::EditIsms)?;
    let f = body(input)?;
    Ok(Json(
        state
            .store
            .freeze_review_inputs(user.0.org_id, review, f.version, &user.actor())
            .await?,
    ))
}

#[utoipa::path(post, path = "/management-reviews/{review}/recompile", tag = "management-review", params(("review" = i64, Path)),
    responses((status = 200, description = "The review with its inputs compiled again from the data", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The inputs are frozen: they stay as the meeting saw them", body = Problem, content_type = "application/problem+json")))]
pub async fn recompile_review_inputs(
    State(state): State<AppState>,
    user: ApiUser,
    Path(review): Path<i64>,
) -> Result<Json<ManagementReview>, ApiError> {
    user.require(Permission::EditIsms)?;
    Ok(Json(
        state
            .store
            .recompile_review_inputs(user.0.org_id, review)
            .await?,
    ))
}
