//! The internal audit API: the programme, audits and findings, the report.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_store::{AuditInput, AuditPatch, FindingInput};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};
use crate::isms_reports::Format;
use crate::risk::api::body;

/// An audit to plan.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AuditIn {
    pub title: Option<String>,
    /// Requirements to audit: `8.5` (Annex A control), `9.2` or `clause 5.1`
    /// (clauses of ISO/IEC 27001:2022), or ref ids of another framework.
    #[serde(default)]
    pub scope: Vec<String>,
    /// E-mails of members; none may own an audited requirement's SoA entry.
    #[serde(default)]
    pub auditors: Vec<String>,
    /// One of the auditors (default: the first).
    pub lead_auditor: Option<String>,
    /// A framework slug (default `iso27001-2022`).
    pub framework: Option<String>,
    pub criteria: Option<String>,
    /// YYYY-MM-DD.
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

/// A change to an audit (`version` required).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AuditPatchIn {
    pub title: Option<String>,
    pub criteria: Option<String>,
    /// planned, in_progress, completed or cancelled.
    pub status: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// The audit's conclusion.
    pub summary: Option<String>,
    /// Replaces the requirements audited; a requirement with findings
    /// cannot leave the scope. Not once the audit is completed or cancelled.
    pub scope: Option<Vec<String>>,
    /// Replaces the team (e-mails of members); none may own an audited
    /// requirement's SoA entry or applied control.
    pub auditors: Option<Vec<String>>,
    /// One of the auditors.
    pub lead_auditor: Option<String>,
    pub version: Option<i64>,
}

/// A finding on a checklist item.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FindingIn {
    /// A requirement in the audit's scope, as in the scope (`8.5`).
    pub requirement: Option<String>,
    /// conform, minor_nonconformity, major_nonconformity, observation or opportunity.
    pub result: Option<String>,
    pub notes: Option<String>,
    /// Links to the evidence seen.
    #[serde(default)]
    pub evidence: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct AuditList {
    items: Vec<isms_store::AuditSummary>,
}

#[derive(Debug, Serialize)]
pub struct Programme {
    /// Every audit, latest first.
    audits: Vec<isms_store::AuditSummary>,
    /// Each clause and Annex A theme: when it was last audited and when it is next due.
    coverage: Vec<CoverageOut>,
    cycle_years: i32,
}

#[derive(Debug, Serialize)]
pub struct CoverageOut {
    area: String,
    last_audited: Option<String>,
    last_audit_id: Option<i64>,
    due: String,
    overdue: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// pdf or xlsx.
    format: String,
}

#[utoipa::path(post, path = "/audits", tag = "audit", request_body = AuditIn,
    responses((status = 201, description = "The audit with its checklist", body = Object),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad input, or an auditor who owns an audited requirement", body = Problem, content_type = "application/problem+json")))]
pub async fn create_audit(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<AuditIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let a = state
        .store
        .create_audit(
            user.0.org_id,
            &AuditInput {
                title: i.title,
                framework: i.framework,
                criteria: i.criteria,
                scope: i.scope,
                auditors: i.auditors,
                lead_auditor: i.lead_auditor,
                start_date: i.start_date,
                end_date: i.end_date,
            },
            &user.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

#[utoipa::path(get, path = "/audits", tag = "audit",
    responses((status = 200, description = "The audits, latest first", body = Object)))]
pub async fn list_audits(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<AuditList>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(AuditList {
        items: state.store.internal_audits(user.0.org_id).await?,
    }))
}

#[utoipa::path(get, path = "/audit-programme", tag = "audit",
    responses((status = 200, description = "The audits and the programme's coverage of clauses and Annex A themes", body = Object)))]
pub async fn get_audit_programme(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Programme>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let org = user.0.org_id;
    let today = isms_store::now();
    let coverage = state
        .store
        .audit_coverage(org, today.get(..10).unwrap_or(""))
        .await?
        .into_iter()
        .map(|c| CoverageOut {
            area: c.area,
            last_audited: c.last_audited,
            last_audit_id: c.last_audit_id,
            due: c.due,
            overdue: c.overdue,
        })
        .collect();
    Ok(Json(Programme {
        audits: state.store.internal_audits(org).await?,
        coverage,
        cycle_years: 3,
    }))
}

#[utoipa::path(get, path = "/audits/{audit}", tag = "audit", params(("audit" = i64, Path)),
    responses((status = 200, description = "The audit with its team, checklist and findings", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_audit(
    State(state): State<AppState>,
    user: ApiUser,
    Path(audit): Path<i64>,
) -> Result<Json<isms_store::Audit>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(
        state.store.internal_audit(user.0.org_id, audit).await?,
    ))
}

#[utoipa::path(patch, path = "/audits/{audit}", tag = "audit", params(("audit" = i64, Path)), request_body = AuditPatchIn,
    responses((status = 200, body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version: nothing saved", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_audit(
    State(state): State<AppState>,
    user: ApiUser,
    Path(audit): Path<i64>,
    input: Result<Json<AuditPatchIn>, JsonRejection>,
) -> Result<Json<isms_store::Audit>, ApiError> {
    user.require(Permission::EditIsms)?;
    let p = body(input)?;
    Ok(Json(
        state
            .store
            .update_audit(
                user.0.org_id,
                audit,
                &AuditPatch {
                    title: p.title,
                    criteria: p.criteria,
                    status: p.status,
                    start_date: p.start_date,
                    end_date: p.end_date,
                    summary: p.summary,
                    scope: p.scope,
                    auditors: p.auditors,
                    lead_auditor: p.lead_auditor,
                    version: p.version,
                },
                &user.actor(),
            )
            .await?,
    ))
}

#[utoipa::path(post, path = "/audits/{audit}/findings", tag = "audit", params(("audit" = i64, Path)), request_body = FindingIn,
    responses((status = 201, description = "The finding, with the nonconformity_id it raised", body = Object),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad input, or a requirement outside the audit's scope", body = Problem, content_type = "application/problem+json")))]
pub async fn record_finding(
    State(state): State<AppState>,
    user: ApiUser,
    Path(audit): Path<i64>,
    input: Result<Json<FindingIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::RecordFindings)?;
    let f = body(input)?;
    let finding = state
        .store
        .record_finding(
            user.0.org_id,
            audit,
            &FindingInput {
                requirement: f.requirement,
                result: f.result,
                notes: f.notes,
                evidence: f.evidence,
            },
            &user.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(finding)).into_response())
}

#[utoipa::path(get, path = "/audits/{audit}/report", tag = "audit", params(("audit" = i64, Path), ReportQuery),
    responses((status = 200, description = "The audit report", content_type = "application/octet-stream"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn audit_report(
    State(state): State<AppState>,
    user: ApiUser,
    Path(audit): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(&q.format).map_err(WebError::invalid)?;
    if format == Format::Csv {
        return Err(ApiError(WebError::invalid(
            "format: the audit report is pdf or xlsx",
        )));
    }
    // Existence first, so an unknown audit answers 404.
    state.store.internal_audit(user.0.org_id, audit).await?;
    let bytes = super::export::audit_export(&state.store, &user.0.org(), audit, format)
        .await
        .map_err(|e| {
            tracing::error!("audit report failed: {e}");
            ApiError(WebError::internal())
        })?;
    Ok(crate::isms_reports::attachment(
        bytes,
        &format!("audit-{audit}.{}", format.extension()),
        format,
    ))
}

/// Evidence of a finding given as a link (JSON), instead of a file.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FindingEvidenceLinkIn {
    /// http or https.
    pub url: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
}

/// The upload form (multipart/form-data).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct FindingEvidenceUpload {
    /// The file; its type is sniffed from the bytes and must agree with its name.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    title: Option<String>,
    description: Option<String>,
}

/// The most bytes of a JSON link body.
const MAX_LINK_BODY: usize = 64 * 1024;

/// Reads evidence for a finding: a multipart upload (field `file`, streamed
/// into the blob store) or a JSON link. Nothing is stored on bad input.
pub(crate) async fn finding_evidence_input(
    state: &AppState,
    headers: &HeaderMap,
    request: Body,
) -> Result<(isms_store::EvidenceInput, Option<isms_store::StoredFile>), WebError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut up = crate::controls::upload::read(state, headers, request).await?;
        if up.file.is_none() && up.input.url.as_deref().is_none_or(|u| u.trim().is_empty()) {
            return Err(WebError::invalid(
                "file: required, a multipart field named `file` (or send a JSON body with a `url`)",
            ));
        }
        if up.file.is_some() {
            up.input.url = None;
        }
        up.input.controls = None;
        return Ok((up.input, up.file));
    }
    if content_type.starts_with("application/json") {
        let bytes = axum::body::to_bytes(request, MAX_LINK_BODY)
            .await
            .map_err(|_| WebError::invalid("the request body is too long for a link"))?;
        let link: FindingEvidenceLinkIn = serde_json::from_slice(&bytes)
            .map_err(|e| WebError::invalid(format!("the request body is not valid: {e}")))?;
        if link.url.as_deref().is_none_or(|u| u.trim().is_empty()) {
            return Err(WebError::invalid("url: required, an http or https address"));
        }
        return Ok((
            isms_store::EvidenceInput {
                title: link.title,
                description: link.description,
                url: link.url,
                ..isms_store::EvidenceInput::default()
            },
            None,
        ));
    }
    Err(WebError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Please check your input",
        "send multipart/form-data with the file in the field `file`, or JSON with a `url`",
    ))
}

#[utoipa::path(post, path = "/audits/{audit}/findings/{finding}/evidence", tag = "audit",
    params(("audit" = i64, Path), ("finding" = i64, Path, description = "The finding's id")),
    request_body(content(
        (FindingEvidenceUpload = "multipart/form-data"),
        (FindingEvidenceLinkIn = "application/json")
    )),
    responses((status = 201, description = "The evidence attached: file name and SHA-256, or the link", body = Object),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty file, bytes contradicting the name, or a bad link", body = Problem, content_type = "application/problem+json")))]
pub async fn add_finding_evidence(
    State(state): State<AppState>,
    user: ApiUser,
    Path((audit, finding)): Path<(i64, i64)>,
    headers: HeaderMap,
    request: Body,
) -> Result<Response, ApiError> {
    user.require(Permission::RecordFindings)?;
    let org = user.0.org_id;
    // An unknown audit or finding is refused before any byte is stored.
    state
        .store
        .audit_finding_exists(org, audit, finding)
        .await?;
    let (input, file) = finding_evidence_input(&state, &headers, request).await?;
    let item = state
        .store
        .attach_finding_evidence(org, audit, finding, &input, file.as_ref(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(item)).into_response())
}
