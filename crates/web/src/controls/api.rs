//! The API of applied controls, evidence, control reviews and metrics.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_store::{
    AppliedControl, ControlInput, ControlReview, ControlReviewInput, Covered, Evidence,
    EvidenceInput, Measurement, MeasurementInput, Metric, MetricInput, RequirementKey,
};
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

/// A requirement of an installed framework.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct RequirementRef {
    /// The framework's slug, e.g. `nist-csf-2.0`.
    pub framework: String,
    /// The requirement's id in it, e.g. `PR.AA-05`.
    pub ref_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// An applied control to create (`name` required) or a change to one (`version` required).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ControlIn {
    pub name: Option<String>,
    pub description: Option<String>,
    /// E-mail of a member; "" removes the owner.
    pub owner: Option<String>,
    /// policy, process, technical or physical.
    pub category: Option<String>,
    /// planned, in_progress, implemented or retired.
    pub status: Option<String>,
    /// Whole currency units.
    pub cost: Option<i64>,
    /// S, M, L, XL or "".
    pub effort: Option<String>,
    /// YYYY-MM-DD or "".
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    /// monthly, quarterly, half_yearly, yearly or "".
    pub review_schedule: Option<String>,
    pub next_review: Option<String>,
    /// Annex A controls it implements, e.g. `["8.5"]` (with `requirements`,
    /// the whole set of links).
    pub annex_a: Option<Vec<String>>,
    /// Requirements of any installed framework.
    pub requirements: Option<Vec<RequirementRef>>,
    /// A reference measure of an imported library (its URN or id, see
    /// `GET /api/v1/reference-controls`): on create it fills the name, description and
    /// category not given and the control keeps the link; "" removes the link.
    pub reference_control: Option<String>,
    /// The version you last read.
    pub version: Option<i64>,
}

impl From<ControlIn> for ControlInput {
    fn from(c: ControlIn) -> Self {
        ControlInput {
            name: c.name,
            description: c.description,
            owner: c.owner,
            category: c.category,
            status: c.status,
            cost: c.cost,
            effort: c.effort,
            start_date: c.start_date,
            due_date: c.due_date,
            review_schedule: c.review_schedule,
            next_review: c.next_review,
            annex_a: c.annex_a,
            requirements: c.requirements.map(|r| {
                r.into_iter()
                    .map(|r| RequirementKey {
                        framework: r.framework,
                        ref_id: r.ref_id,
                    })
                    .collect()
            }),
            reference_control: c.reference_control,
            version: c.version,
        }
    }
}

/// An applied control.
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlOut {
    id: i64,
    name: String,
    description: String,
    owner: Option<String>,
    category: String,
    status: String,
    cost: i64,
    effort: String,
    start_date: String,
    due_date: String,
    review_schedule: Option<String>,
    next_review: String,
    /// The Annex A controls it is linked to (`8.5`).
    annex_a: Vec<String>,
    /// Every linked requirement, Annex A included.
    requirements: Vec<RequirementRef>,
    /// The URN of the reference measure it was created from.
    reference_control: Option<String>,
    /// The register's risks this control treats (on a single control's
    /// read, not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    risks: Option<Vec<crate::risk::views::RiskRefOut>>,
    version: i64,
    updated_at: String,
    updated_by: String,
}

impl From<AppliedControl> for ControlOut {
    fn from(c: AppliedControl) -> Self {
        ControlOut {
            annex_a: c.annex_a(),
            id: c.id,
            name: c.name,
            description: c.description,
            owner: c.owner,
            category: c.category.as_str().to_owned(),
            status: c.status.as_str().to_owned(),
            cost: c.cost,
            effort: c.effort,
            start_date: c.start_date,
            due_date: c.due_date,
            review_schedule: c.review_schedule.map(|s| s.as_str().to_owned()),
            next_review: c.next_review,
            requirements: c
                .requirements
                .into_iter()
                .map(|r| RequirementRef {
                    framework: r.framework,
                    ref_id: r.ref_id,
                    title: Some(r.title),
                })
                .collect(),
            reference_control: c.reference_control,
            risks: None,
            version: c.version,
            updated_at: c.updated_at,
            updated_by: c.updated_by,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ControlList {
    items: Vec<ControlOut>,
}

/// A requirement a control covers, directly or through a mapping.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoveredOut {
    framework: String,
    ref_id: String,
    title: Option<String>,
    /// The linked requirement it comes through; absent when linked directly.
    via: Option<String>,
    relationship: Option<String>,
    /// Composed from other mappings by isms: never official.
    derived: bool,
}

impl From<Covered> for CoveredOut {
    fn from(c: Covered) -> Self {
        CoveredOut {
            framework: c.framework,
            ref_id: c.ref_id,
            title: c.title,
            via: c.via,
            relationship: c.relationship,
            derived: c.derived,
        }
    }
}

#[utoipa::path(post, path = "/controls", tag = "controls", request_body = ControlIn,
    responses((status = 201, body = ControlOut),
        (status = 422, description = "Invalid field, unknown owner, framework or requirement", body = Problem, content_type = "application/problem+json")))]
pub async fn create_control(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<ControlIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let c = state
        .store
        .create_control(user.0.org_id, &body(input)?.into(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(ControlOut::from(c))).into_response())
}

#[utoipa::path(get, path = "/controls", tag = "controls",
    responses((status = 200, body = ControlList)))]
pub async fn list_controls(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<ControlList>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let items = state.store.controls(user.0.org_id).await?;
    Ok(Json(ControlList {
        items: items.into_iter().map(ControlOut::from).collect(),
    }))
}

#[utoipa::path(get, path = "/controls/{applied_control}", tag = "controls",
    params(("applied_control" = i64, Path, description = "The control's id")),
    responses((status = 200, body = ControlOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_control(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<ControlOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let org = user.0.org_id;
    let mut out = ControlOut::from(state.store.control(org, id).await?);
    let m = state.store.risk_methodology(org).await?;
    out.risks = Some(
        state
            .store
            .risks_for_applied_control(org, id)
            .await?
            .into_iter()
            .map(|r| crate::risk::views::RiskRefOut::new(&m, r))
            .collect(),
    );
    Ok(Json(out))
}

#[utoipa::path(patch, path = "/controls/{applied_control}", tag = "controls",
    params(("applied_control" = i64, Path, description = "The control's id")),
    request_body = ControlIn,
    responses((status = 200, body = ControlOut),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version: nothing saved", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_control(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    input: Result<Json<ControlIn>, JsonRejection>,
) -> Result<Json<ControlOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let c = state
        .store
        .update_control(user.0.org_id, id, &body(input)?.into(), &user.actor())
        .await?;
    Ok(Json(c.into()))
}

/// What the control covers in every installed framework, through the mappings.
#[utoipa::path(get, path = "/controls/{applied_control}/coverage", tag = "controls",
    params(("applied_control" = i64, Path, description = "The control's id")),
    responses((status = 200, body = Vec<CoveredOut>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn control_coverage(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<CoveredOut>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let c = state.store.control_coverage(user.0.org_id, id).await?;
    Ok(Json(c.into_iter().map(CoveredOut::from).collect()))
}

/// One requirement's coverage.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageRowOut {
    ref_id: String,
    title: String,
    /// implemented, planned or none.
    coverage: String,
    controls: Vec<i64>,
    via_mappings: Vec<i64>,
    /// Of `via_mappings`, the controls that reach it only through derived
    /// mappings (composed by isms, never official).
    via_derived: Vec<i64>,
}

/// A framework's coverage by the applied controls.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageOut {
    framework: String,
    name: String,
    implemented: usize,
    planned: usize,
    none: usize,
    rows: Vec<CoverageRowOut>,
}

#[utoipa::path(get, path = "/coverage/{framework}", tag = "controls",
    params(("framework" = String, Path, description = "The framework's slug, e.g. iso27001-2022")),
    responses((status = 200, body = CoverageOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn framework_coverage(
    State(state): State<AppState>,
    user: ApiUser,
    Path(framework): Path<String>,
) -> Result<Json<CoverageOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let c = state
        .store
        .framework_coverage(user.0.org_id, &framework)
        .await?;
    Ok(Json(CoverageOut {
        framework: c.framework,
        name: c.name,
        implemented: c.implemented,
        planned: c.planned,
        none: c.none,
        rows: c
            .rows
            .into_iter()
            .map(|r| CoverageRowOut {
                ref_id: r.ref_id,
                title: r.title,
                coverage: r.coverage.as_str().to_owned(),
                controls: r.controls,
                via_mappings: r.via_mappings,
                via_derived: r.via_derived,
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------- evidence

/// One stored revision of an evidence file.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionOut {
    revision: i64,
    sha256: String,
    size: i64,
    /// Sniffed from the bytes.
    content_type: String,
    file_name: String,
    uploaded_at: String,
    uploaded_by: String,
}

/// A piece of evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceOut {
    id: i64,
    title: String,
    description: String,
    /// file or link.
    kind: String,
    url: String,
    collected_on: String,
    expires_on: String,
    expired: bool,
    /// SHA-256 of the current file (files only).
    sha256: Option<String>,
    size: Option<i64>,
    content_type: Option<String>,
    file_name: Option<String>,
    /// Newest first.
    revisions: Vec<RevisionOut>,
    controls: Vec<i64>,
    requirements: Vec<RequirementRef>,
    version: i64,
}

impl From<Evidence> for EvidenceOut {
    fn from(e: Evidence) -> Self {
        let current = e.current().cloned();
        EvidenceOut {
            id: e.id,
            title: e.title,
            description: e.description,
            kind: e.kind,
            url: e.url,
            collected_on: e.collected_on,
            expires_on: e.expires_on,
            expired: e.expired,
            sha256: current.as_ref().map(|r| r.sha256.clone()),
            size: current.as_ref().map(|r| r.size),
            content_type: current.as_ref().map(|r| r.content_type.clone()),
            file_name: current.map(|r| r.file_name),
            revisions: e
                .revisions
                .into_iter()
                .map(|r| RevisionOut {
                    revision: r.revision,
                    sha256: r.sha256,
                    size: r.size,
                    content_type: r.content_type,
                    file_name: r.file_name,
                    uploaded_at: r.uploaded_at,
                    uploaded_by: r.uploaded_by,
                })
                .collect(),
            controls: e.controls,
            requirements: e
                .requirements
                .into_iter()
                .map(|r| RequirementRef {
                    framework: r.framework,
                    ref_id: r.ref_id,
                    title: None,
                })
                .collect(),
            version: e.version,
        }
    }
}

/// The upload form (multipart/form-data).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct EvidenceUpload {
    /// The file; its type is sniffed from the bytes and must agree with its name.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    title: Option<String>,
    description: Option<String>,
    /// YYYY-MM-DD; today when absent.
    collected_on: Option<String>,
    /// YYYY-MM-DD, not before collected_on.
    expires_on: Option<String>,
}

/// Evidence given as a link.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EvidenceLinkIn {
    title: Option<String>,
    description: Option<String>,
    /// http or https.
    url: Option<String>,
    collected_on: Option<String>,
    expires_on: Option<String>,
    /// Ids of the controls it proves.
    controls: Option<Vec<i64>>,
    requirements: Option<Vec<RequirementRef>>,
}

fn refuse_missing_file(up: &crate::controls::upload::Upload) -> Result<(), ApiError> {
    if up.file.is_none() {
        return Err(ApiError(WebError::invalid(
            "file: required, a multipart field named `file`",
        )));
    }
    Ok(())
}

/// Uploads a file as evidence of a control.
#[utoipa::path(post, path = "/controls/{applied_control}/evidence", tag = "evidence",
    params(("applied_control" = i64, Path, description = "The control's id")),
    request_body(content = EvidenceUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = EvidenceOut),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty, bytes contradict the extension, or bad dates", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The blob store (an S3 bucket) could not be reached; nothing stored", body = Problem, content_type = "application/problem+json")))]
pub async fn upload_evidence(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    request: Body,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    // An unknown control is refused before any byte is stored.
    state.store.control(user.0.org_id, id).await?;
    let mut up = crate::controls::upload::read(&state, &headers, request).await?;
    refuse_missing_file(&up)?;
    up.input.controls = Some(vec![id]);
    let e = state
        .store
        .create_evidence(user.0.org_id, &up.input, up.file.as_ref(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(EvidenceOut::from(e))).into_response())
}

/// Records evidence given as a link.
#[utoipa::path(post, path = "/evidence", tag = "evidence", request_body = EvidenceLinkIn,
    responses((status = 201, body = EvidenceOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_evidence_link(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<EvidenceLinkIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let input = EvidenceInput {
        title: i.title,
        description: i.description,
        url: Some(i.url.unwrap_or_default()),
        collected_on: i.collected_on,
        expires_on: i.expires_on,
        controls: i.controls,
        requirements: i.requirements.map(|r| {
            r.into_iter()
                .map(|r| RequirementKey {
                    framework: r.framework,
                    ref_id: r.ref_id,
                })
                .collect()
        }),
    };
    let e = state
        .store
        .create_evidence(user.0.org_id, &input, None, &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(EvidenceOut::from(e))).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EvidenceQuery {
    /// Only evidence expired or expiring on or before this date (YYYY-MM-DD).
    expiring_by: Option<String>,
    /// Only evidence of this control.
    control: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceList {
    items: Vec<EvidenceOut>,
}

#[utoipa::path(get, path = "/evidence", tag = "evidence", params(EvidenceQuery),
    responses((status = 200, body = EvidenceList)))]
pub async fn list_evidence(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<EvidenceQuery>,
) -> Result<Json<EvidenceList>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let items = match q.expiring_by.as_deref() {
        Some(d) => {
            let d = isms_domain::controls::Date::parse("expiring_by", d)
                .map_err(|e| ApiError(WebError::invalid(e.to_string())))?;
            state
                .store
                .expiring_evidence(user.0.org_id, &d.to_string())
                .await?
        }
        None => state.store.evidence_list(user.0.org_id, q.control).await?,
    };
    Ok(Json(EvidenceList {
        items: items.into_iter().map(EvidenceOut::from).collect(),
    }))
}

#[utoipa::path(get, path = "/evidence/{evidence}", tag = "evidence",
    params(("evidence" = i64, Path, description = "The evidence's id")),
    responses((status = 200, body = EvidenceOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_evidence(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<EvidenceOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(state.store.evidence(user.0.org_id, id).await?.into()))
}

/// Replaces the file by a new revision; the older ones are kept.
#[utoipa::path(post, path = "/evidence/{evidence}/revisions", tag = "evidence",
    params(("evidence" = i64, Path, description = "The evidence's id")),
    request_body(content = EvidenceUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = EvidenceOut),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The blob store could not be reached; nothing stored", body = Problem, content_type = "application/problem+json")))]
pub async fn revise_evidence(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    request: Body,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    state.store.evidence(user.0.org_id, id).await?;
    let up = crate::controls::upload::read(&state, &headers, request).await?;
    refuse_missing_file(&up)?;
    let Some(file) = up.file else {
        return Err(ApiError(WebError::invalid("file: required")));
    };
    let e = state
        .store
        .add_evidence_revision(user.0.org_id, id, &file, &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(EvidenceOut::from(e))).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DownloadQuery {
    /// An older revision; the current one when absent.
    revision: Option<i64>,
}

/// The file of a piece of evidence, as an attachment.
#[utoipa::path(get, path = "/evidence/{evidence}/download", tag = "evidence",
    params(("evidence" = i64, Path, description = "The evidence's id"), DownloadQuery),
    responses((status = 200, description = "The file's bytes", content_type = "application/octet-stream"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn download_evidence(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<DownloadQuery>,
) -> Result<Response, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(download(&state, user.0.org_id, id, q.revision).await?)
}

/// The response of a download, shared with the pages.
pub(crate) async fn download(
    state: &AppState,
    org_id: i64,
    id: i64,
    revision: Option<i64>,
) -> Result<Response, WebError> {
    let e = state.store.evidence(org_id, id).await?;
    let rev = match revision {
        None => e.current(),
        Some(n) => e.revisions.iter().find(|r| r.revision == n),
    }
    .ok_or_else(|| WebError::not_found(format!("evidence {id} has no such file revision")))?;
    let body = state.blobs.open(&rev.sha256).await?;
    let ascii: String = rev
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = rev
        .file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&rev.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    } else {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(rev.size));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", rev.sha256)) {
        h.insert(header::ETAG, v);
    }
    Ok(resp)
}

// ---------------------------------------------------------------- reviews

/// A review to record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewIn {
    /// YYYY-MM-DD; today when absent.
    reviewed_on: Option<String>,
    /// effective, partially_effective or not_effective.
    result: Option<String>,
    /// E-mail of a member; the caller when absent.
    reviewer: Option<String>,
    notes: Option<String>,
    evidence_id: Option<i64>,
}

/// A recorded review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    id: i64,
    control: i64,
    reviewed_on: String,
    result: String,
    reviewer: String,
    notes: String,
    evidence_id: Option<i64>,
    /// A not effective review should raise a nonconformity (10.2).
    raise_nonconformity: bool,
}

impl From<ControlReview> for ReviewOut {
    fn from(r: ControlReview) -> Self {
        ReviewOut {
            id: r.id,
            control: r.applied_control_id,
            reviewed_on: r.reviewed_on,
            raise_nonconformity: r.result == isms_domain::controls::ReviewResult::NotEffective,
            result: r.result.as_str().to_owned(),
            reviewer: r.reviewer,
            notes: r.notes,
            evidence_id: r.evidence_id,
        }
    }
}

#[utoipa::path(post, path = "/controls/{applied_control}/reviews", tag = "controls",
    params(("applied_control" = i64, Path, description = "The control's id")),
    request_body = ReviewIn,
    responses((status = 201, body = ReviewOut),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad result or date, reviewer not a member", body = Problem, content_type = "application/problem+json")))]
pub async fn create_control_review(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    input: Result<Json<ReviewIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let r = state
        .store
        .record_control_review(
            user.0.org_id,
            id,
            &ControlReviewInput {
                reviewed_on: i.reviewed_on,
                result: i.result,
                reviewer: i.reviewer,
                notes: i.notes,
                evidence_id: i.evidence_id,
            },
            &user.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ReviewOut::from(r))).into_response())
}

#[utoipa::path(get, path = "/controls/{applied_control}/reviews", tag = "controls",
    params(("applied_control" = i64, Path, description = "The control's id")),
    responses((status = 200, body = Vec<ReviewOut>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_control_reviews(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ReviewOut>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    state.store.control(user.0.org_id, id).await?;
    let r = state.store.control_reviews(user.0.org_id, id).await?;
    Ok(Json(r.into_iter().map(ReviewOut::from).collect()))
}

/// A control whose review is overdue.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueOut {
    id: i64,
    name: String,
    owner: Option<String>,
    next_review: String,
}

#[utoipa::path(get, path = "/control-reviews/overdue", tag = "controls",
    responses((status = 200, body = Vec<OverdueOut>)))]
pub async fn overdue_control_reviews(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<OverdueOut>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let today = isms_store::now();
    let r = state
        .store
        .overdue_control_reviews(user.0.org_id, today.get(..10).unwrap_or_default())
        .await?;
    Ok(Json(
        r.into_iter()
            .map(|o| OverdueOut {
                id: o.id,
                name: o.name,
                owner: o.owner,
                next_review: o.next_review,
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------- metrics

/// A metric to define (`name`, `unit`, `target` required) or a change (`version` required).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct MetricIn {
    name: Option<String>,
    /// What the organisation wants to know.
    information_need: Option<String>,
    /// What is measured.
    measured: Option<String>,
    /// The method or formula.
    method: Option<String>,
    /// e.g. % or days.
    unit: Option<String>,
    target: Option<f64>,
    /// higher or lower: which side of the target is good.
    direction: Option<String>,
    /// Where amber ends and red begins, on the bad side of the target.
    red_threshold: Option<f64>,
    /// weekly, monthly, quarterly, half_yearly or yearly.
    frequency: Option<String>,
    /// E-mail of who collects.
    collector: Option<String>,
    /// E-mail of who analyses.
    analyst: Option<String>,
    /// The objective or control it evaluates, in words.
    evaluates: Option<String>,
    /// An applied control it evaluates (0 removes).
    control: Option<i64>,
    /// On create, a metric definition of an imported library (its URN or id, see
    /// `GET /api/v1/metric-definitions`): fills what is not given and keeps the link.
    metric_definition: Option<String>,
    version: Option<i64>,
}

impl From<MetricIn> for MetricInput {
    fn from(m: MetricIn) -> Self {
        MetricInput {
            name: m.name,
            information_need: m.information_need,
            measured: m.measured,
            method: m.method,
            unit: m.unit,
            target: m.target,
            direction: m.direction,
            red_threshold: m.red_threshold,
            clear_red_threshold: false,
            frequency: m.frequency,
            collector: m.collector,
            analyst: m.analyst,
            evaluates: m.evaluates,
            applied_control_id: m.control,
            metric_definition: m.metric_definition,
            version: m.version,
        }
    }
}

/// A recorded value.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasurementOut {
    id: i64,
    date: String,
    value: f64,
    note: String,
    /// green, amber or red against the target.
    status: String,
}

impl From<Measurement> for MeasurementOut {
    fn from(m: Measurement) -> Self {
        MeasurementOut {
            id: m.id,
            date: m.date,
            value: m.value,
            note: m.note,
            status: m.status.as_str().to_owned(),
        }
    }
}

/// A metric.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricOut {
    id: i64,
    name: String,
    information_need: String,
    measured: String,
    method: String,
    unit: String,
    target: f64,
    direction: String,
    red_threshold: Option<f64>,
    frequency: String,
    collector: Option<String>,
    analyst: Option<String>,
    evaluates: String,
    control: Option<i64>,
    /// The URN of the library metric definition it was created from.
    metric_definition: Option<String>,
    /// The latest value's status: green, amber or red.
    status: Option<String>,
    latest: Option<MeasurementOut>,
    /// Not measured within its frequency.
    overdue: bool,
    /// Oldest first (on the single metric only).
    #[serde(skip_serializing_if = "Option::is_none")]
    measurements: Option<Vec<MeasurementOut>>,
    version: i64,
}

impl From<Metric> for MetricOut {
    fn from(m: Metric) -> Self {
        MetricOut {
            id: m.id,
            name: m.name,
            information_need: m.information_need,
            measured: m.measured,
            method: m.method,
            unit: m.unit,
            target: m.target,
            direction: m.direction.as_str().to_owned(),
            red_threshold: m.red_threshold,
            frequency: m.frequency.as_str().to_owned(),
            collector: m.collector,
            analyst: m.analyst,
            evaluates: m.evaluates,
            control: m.applied_control_id,
            metric_definition: m.metric_definition,
            status: m.status.map(|s| s.as_str().to_owned()),
            latest: m.latest.map(MeasurementOut::from),
            overdue: m.overdue,
            measurements: None,
            version: m.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricList {
    items: Vec<MetricOut>,
}

#[utoipa::path(post, path = "/metrics", tag = "metrics", request_body = MetricIn,
    responses((status = 201, body = MetricOut),
        (status = 409, description = "A metric of that name exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_metric(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<MetricIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let m = state
        .store
        .create_metric(user.0.org_id, &body(input)?.into(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(MetricOut::from(m))).into_response())
}

#[utoipa::path(get, path = "/metrics", tag = "metrics",
    responses((status = 200, body = MetricList)))]
pub async fn list_metrics(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<MetricList>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let items = state.store.metrics(user.0.org_id).await?;
    Ok(Json(MetricList {
        items: items.into_iter().map(MetricOut::from).collect(),
    }))
}

#[utoipa::path(get, path = "/metrics/{metric}", tag = "metrics",
    params(("metric" = i64, Path, description = "The metric's id")),
    responses((status = 200, body = MetricOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_metric(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<MetricOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let m = state.store.metric(user.0.org_id, id).await?;
    let values = state.store.measurements(user.0.org_id, &m).await?;
    let mut out = MetricOut::from(m);
    out.measurements = Some(values.into_iter().map(MeasurementOut::from).collect());
    Ok(Json(out))
}

#[utoipa::path(patch, path = "/metrics/{metric}", tag = "metrics",
    params(("metric" = i64, Path, description = "The metric's id")),
    request_body = MetricIn,
    responses((status = 200, body = MetricOut),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_metric(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    input: Result<Json<MetricIn>, JsonRejection>,
) -> Result<Json<MetricOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let m = state
        .store
        .update_metric(user.0.org_id, id, &body(input)?.into(), &user.actor())
        .await?;
    Ok(Json(m.into()))
}

/// A value to record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MeasurementIn {
    value: Option<f64>,
    /// YYYY-MM-DD, not in the future.
    date: Option<String>,
    /// When sent, must be the metric's unit.
    unit: Option<String>,
    note: Option<String>,
}

#[utoipa::path(post, path = "/metrics/{metric}/measurements", tag = "metrics",
    params(("metric" = i64, Path, description = "The metric's id")),
    request_body = MeasurementIn,
    responses((status = 201, body = MeasurementOut),
        (status = 404, description = "No such metric", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing value, bad date or wrong unit", body = Problem, content_type = "application/problem+json")))]
pub async fn create_measurement(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    input: Result<Json<MeasurementIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let m = state
        .store
        .add_measurement(
            user.0.org_id,
            id,
            &MeasurementInput {
                value: i.value,
                date: i.date,
                unit: i.unit,
                note: i.note,
            },
            &user.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(MeasurementOut::from(m))).into_response())
}

/// Records measurements from CSV (`metric,date,value`, a header line first;
/// the metric by id or name): all or nothing, errors name the row.
#[utoipa::path(post, path = "/measurements/import", tag = "metrics",
    request_body(content = String, content_type = "text/csv", description = "metric,date,value[,unit]"),
    responses((status = 201, body = ImportedOut),
        (status = 422, description = "A row names no metric, or a bad date or value", body = Problem, content_type = "application/problem+json")))]
pub async fn import_measurements(
    State(state): State<AppState>,
    user: ApiUser,
    csv: String,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let rows = parse_measurements_csv(&csv).map_err(|e| ApiError(WebError::invalid(e)))?;
    let recorded = state
        .store
        .import_measurements(user.0.org_id, &rows, &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(ImportedOut { recorded })).into_response())
}

/// Reads a measurement CSV: a header naming the columns `metric`, `date`
/// and `value`, and optionally `unit` (checked against the metric's unit),
/// in any order; quoted cells may hold commas.
pub fn parse_measurements_csv(text: &str) -> Result<Vec<isms_store::MeasurementRow>, String> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| format!("file: {e}"))?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(metric), Some(date), Some(value)) = (col("metric"), col("date"), col("value")) else {
        return Err(format!(
            "file: the first line must name the columns metric, date and value (and optionally unit), not '{}'",
            header.join(",")
        ));
    };
    let unit = col("unit");
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("row {}: {e}", i + 2))?;
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let cell = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").to_owned();
        rows.push((
            cell(Some(metric)),
            cell(Some(date)),
            cell(Some(value)),
            cell(unit),
        ));
    }
    Ok(rows)
}

/// How many measurements an import recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedOut {
    recorded: usize,
}
