//! The nonconformity API: the register, corrective actions, verification
//! of effectiveness and closing, the register's export.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_domain::nonconformity::RootCause;
use isms_store::{NcActionInput, NcFilter, NcInput, Nonconformity};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};
use crate::isms_reports::Format;
use crate::risk::api::body;

/// A nonconformity to raise by hand, or a change to one (`version` required).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NcIn {
    pub title: Option<String>,
    pub description: Option<String>,
    /// minor or major.
    pub severity: Option<String>,
    /// incident, review (a management review), control_review (one that
    /// found a control not effective) or manual.
    pub source: Option<String>,
    /// The management review it comes from (required for `review`).
    pub review_id: Option<i64>,
    /// The control review it comes from (required for `control_review`).
    pub control_review_id: Option<i64>,
    /// The incident's number or address (required for `incident`), or a note.
    pub source_ref: Option<String>,
    pub requirement: Option<String>,
    /// E-mail of a member; "" removes.
    pub owner: Option<String>,
    /// The immediate fix.
    pub correction: Option<String>,
    /// `{"method": "five_whys", "whys": [..]}` or `{"method": "free_text", "text": ".."}`.
    #[schema(value_type = Object)]
    pub root_cause: Option<RootCause>,
    pub version: Option<i64>,
}

impl From<NcIn> for NcInput {
    fn from(n: NcIn) -> Self {
        NcInput {
            title: n.title,
            description: n.description,
            severity: n.severity,
            source: n.source,
            review_id: n.review_id,
            control_review_id: n.control_review_id,
            source_ref: n.source_ref,
            requirement: n.requirement,
            owner: n.owner,
            correction: n.correction,
            root_cause: n.root_cause,
            version: n.version,
        }
    }
}

/// A corrective action.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NcActionIn {
    pub title: Option<String>,
    /// E-mail of a member.
    pub owner: Option<String>,
    /// YYYY-MM-DD, not before the nonconformity was raised.
    pub due_date: Option<String>,
}

/// A verification of effectiveness.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct VerifyIn {
    /// false re-opens the nonconformity.
    #[serde(default)]
    pub effective: Option<bool>,
    pub notes: Option<String>,
    /// The version you last read; without it, the current one.
    pub version: Option<i64>,
}

/// Closing (needs a corrective action verified effective).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CloseIn {
    /// The version you last read; without it, the current one.
    pub version: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NcQuery {
    /// `open` (not closed) or a status: open, action_planned, verification, closed, reopened.
    status: Option<String>,
    /// minor or major.
    severity: Option<String>,
    /// audit, incident, review, control_review or manual.
    source: Option<String>,
    /// Only those with an overdue corrective action.
    overdue: Option<bool>,
}

impl NcQuery {
    fn filter(self) -> NcFilter {
        NcFilter {
            status: self.status,
            severity: self.severity,
            source: self.source,
            overdue: self.overdue.unwrap_or(false),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NcExportQuery {
    /// csv or xlsx.
    format: String,
    status: Option<String>,
    severity: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct NcList {
    items: Vec<isms_store::NcSummary>,
}

#[utoipa::path(get, path = "/nonconformities", tag = "nonconformity", params(NcQuery),
    responses((status = 200, description = "The register, newest first", body = Object),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_nonconformities(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<NcQuery>,
) -> Result<Json<NcList>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(NcList {
        items: state
            .store
            .nonconformities(user.0.org_id, &q.filter())
            .await?,
    }))
}

#[utoipa::path(post, path = "/nonconformities", tag = "nonconformity", request_body = NcIn,
    responses((status = 201, body = Object), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_nonconformity(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<NcIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let n = state
        .store
        .create_nonconformity(user.0.org_id, &body(input)?.into(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(n)).into_response())
}

#[utoipa::path(get, path = "/nonconformities/{nonconformity}", tag = "nonconformity", params(("nonconformity" = i64, Path)),
    responses((status = 200, description = "The nonconformity with its actions and verifications", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_nonconformity(
    State(state): State<AppState>,
    user: ApiUser,
    Path(nonconformity): Path<i64>,
) -> Result<Json<Nonconformity>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(
        state
            .store
            .nonconformity(user.0.org_id, nonconformity)
            .await?,
    ))
}

#[utoipa::path(patch, path = "/nonconformities/{nonconformity}", tag = "nonconformity", params(("nonconformity" = i64, Path)), request_body = NcIn,
    responses((status = 200, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_nonconformity(
    State(state): State<AppState>,
    user: ApiUser,
    Path(nonconformity): Path<i64>,
    input: Result<Json<NcIn>, JsonRejection>,
) -> Result<Json<Nonconformity>, ApiError> {
    user.require(Permission::EditIsms)?;
    Ok(Json(
        state
            .store
            .update_nonconformity(
                user.0.org_id,
                nonconformity,
                &body(input)?.into(),
                &user.actor(),
            )
            .await?,
    ))
}

#[utoipa::path(post, path = "/nonconformities/{nonconformity}/actions", tag = "nonconformity", params(("nonconformity" = i64, Path)), request_body = NcActionIn,
    responses((status = 201, description = "The nonconformity with the new action", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad input, or due before the nonconformity was raised", body = Problem, content_type = "application/problem+json")))]
pub async fn add_nc_action(
    State(state): State<AppState>,
    user: ApiUser,
    Path(nonconformity): Path<i64>,
    input: Result<Json<NcActionIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let a = body(input)?;
    let n = state
        .store
        .add_nc_action(
            user.0.org_id,
            nonconformity,
            &NcActionInput {
                title: a.title,
                owner: a.owner,
                due_date: a.due_date,
            },
            &user.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(n)).into_response())
}

#[utoipa::path(post, path = "/nonconformities/{nonconformity}/actions/{action}/done", tag = "nonconformity",
    params(("nonconformity" = i64, Path), ("action" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn complete_nc_action(
    State(state): State<AppState>,
    user: ApiUser,
    Path((nonconformity, action)): Path<(i64, i64)>,
) -> Result<Json<Nonconformity>, ApiError> {
    user.require(Permission::EditIsms)?;
    Ok(Json(
        state
            .store
            .complete_nc_action(user.0.org_id, nonconformity, action, &user.actor())
            .await?,
    ))
}

#[utoipa::path(post, path = "/nonconformities/{nonconformity}/verify", tag = "nonconformity", params(("nonconformity" = i64, Path)), request_body = VerifyIn,
    responses((status = 200, description = "Recorded: effective moves it to verification, not effective re-opens it", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No corrective action to verify, or closed", body = Problem, content_type = "application/problem+json")))]
pub async fn verify_nonconformity(
    State(state): State<AppState>,
    user: ApiUser,
    Path(nonconformity): Path<i64>,
    input: Result<Json<VerifyIn>, JsonRejection>,
) -> Result<Json<Nonconformity>, ApiError> {
    user.require(Permission::EditIsms)?;
    let v = body(input)?;
    let effective = v.effective.ok_or_else(|| {
        ApiError(WebError::invalid(
            "effective: required: true when the corrective action worked, false to re-open",
        ))
    })?;
    Ok(Json(
        state
            .store
            .verify_nonconformity(
                user.0.org_id,
                nonconformity,
                effective,
                v.notes.as_deref().unwrap_or(""),
                v.version,
                &user.actor(),
            )
            .await?,
    ))
}

#[utoipa::path(post, path = "/nonconformities/{nonconformity}/close", tag = "nonconformity", params(("nonconformity" = i64, Path)), request_body = CloseIn,
    responses((status = 200, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No corrective action verified effective yet", body = Problem, content_type = "application/problem+json")))]
pub async fn close_nonconformity(
    State(state): State<AppState>,
    user: ApiUser,
    Path(nonconformity): Path<i64>,
    input: Result<Json<CloseIn>, JsonRejection>,
) -> Result<Json<Nonconformity>, ApiError> {
    user.require(Permission::EditIsms)?;
    let c = body(input)?;
    Ok(Json(
        state
            .store
            .close_nonconformity(user.0.org_id, nonconformity, c.version, &user.actor())
            .await?,
    ))
}

#[utoipa::path(get, path = "/nonconformities/export", tag = "nonconformity", params(NcExportQuery),
    responses((status = 200, description = "The register as CSV or XLSX", content_type = "application/octet-stream"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export_nonconformities(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<NcExportQuery>,
) -> Result<Response, ApiError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(&q.format).map_err(WebError::invalid)?;
    if format == Format::Pdf {
        return Err(ApiError(WebError::invalid(
            "format: the register is exported as csv or xlsx",
        )));
    }
    let filter = NcFilter {
        status: q.status,
        severity: q.severity,
        ..NcFilter::default()
    };
    // Bad filters answer 422 before rendering.
    state.store.nonconformities(user.0.org_id, &filter).await?;
    let bytes = super::export::nc_export(&state.store, &user.0.org(), &filter, format)
        .await
        .map_err(|e| {
            tracing::error!("register export failed: {e}");
            ApiError(WebError::internal())
        })?;
    Ok(crate::isms_reports::attachment(
        bytes,
        &format!("nonconformities.{}", format.extension()),
        format,
    ))
}
