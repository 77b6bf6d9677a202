//! The API of the ISMS itself: the Statement of Applicability (entries,
//! approval, versions, comparison, exports), scope and context, and
//! certification readiness.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_store::{ContextInput, Org, ScopeInput, SoaEntry, SoaPatch, SoaUpdate, SoaVersionInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};
use crate::isms_reports::{self, Format};

/// A JSON body, or a problem that says what is wrong with it, with the
/// rejection's own status: 400 for malformed JSON, 413 for too large, 415 for
/// another content type, 422 for well-formed JSON with wrong fields.
fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t).map_err(|e| {
        let detail = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            format!(
                "the request body is larger than the {} MB the API accepts",
                crate::auth::DEFAULT_BODY_BYTES / 1024 / 1024
            )
        } else {
            format!("the request body is not valid: {}", e.body_text())
        };
        ApiError(WebError::new(e.status(), "Please check your input", detail))
    })
}

/// One entry of the Statement of Applicability.
#[derive(Serialize, ToSchema)]
pub struct SoaEntryOut {
    /// Annex A control id, `5.1` .. `8.34`.
    control_id: String,
    title: String,
    /// Organizational, People, Physical or Technological.
    theme: String,
    applicable: bool,
    justification: String,
    /// A set of risk_treatment, legal_regulatory, contractual, business.
    reasons: Vec<String>,
    /// not_implemented, planned, partially_implemented or implemented.
    status: String,
    /// E-mail of the owner.
    owner: Option<String>,
    notes: String,
    /// Send it back with a change: a stale version gets 409.
    version: i64,
    updated_at: String,
    updated_by: String,
    /// The risks treated by this control (on the single entry only).
    #[serde(skip_serializing_if = "Option::is_none")]
    risks: Option<Vec<crate::risk::views::RiskRefOut>>,
    /// After a change: what the caller should know, e.g. the risks that rely
    /// on a control just excluded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    /// The applied controls linked to this Annex A control (on the single entry only).
    #[serde(skip_serializing_if = "Option::is_none")]
    controls: Option<Vec<SoaControlOut>>,
    /// The status the linked controls suggest (on the single entry only):
    /// not_implemented, planned, partially_implemented or implemented.
    #[serde(skip_serializing_if = "Option::is_none")]
    suggested_status: Option<String>,
    /// Some evidence of a linked control has expired (on the single entry only).
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence_expired: Option<bool>,
}

/// An applied control linked to an SoA entry.
#[derive(Serialize, ToSchema)]
pub struct SoaControlOut {
    id: i64,
    name: String,
    /// planned, in_progress, implemented or retired.
    status: String,
    owner: Option<String>,
    /// Some of its evidence has expired.
    evidence_expired: bool,
}

impl From<SoaEntry> for SoaEntryOut {
    fn from(e: SoaEntry) -> Self {
        let (title, theme) = isms_reports::control_title(&e.control_id);
        SoaEntryOut {
            control_id: e.control_id,
            title,
            theme,
            applicable: e.applicable,
            justification: e.justification,
            reasons: e.reasons,
            status: e.status,
            owner: e.owner,
            notes: e.notes,
            version: e.version,
            updated_at: e.updated_at,
            updated_by: e.updated_by,
            risks: None,
            warnings: Vec::new(),
            controls: None,
            suggested_status: None,
            evidence_expired: None,
        }
    }
}

/// The draft SoA.
#[derive(Serialize, ToSchema)]
pub struct SoaOut {
    /// All 93 Annex A controls, in order.
    entries: Vec<SoaEntryOut>,
    /// The latest approved version, if any.
    approved_version: Option<i64>,
    /// The draft differs from the latest approved version.
    draft_changed: bool,
}

/// A change to one entry: every field optional but `version`; a
/// justification is required whenever `applicable` is sent.
#[derive(Deserialize, ToSchema)]
pub struct SoaPatchIn {
    applicable: Option<bool>,
    justification: Option<String>,
    reasons: Option<Vec<String>>,
    status: Option<String>,
    /// E-mail of a member; "" removes the owner.
    owner: Option<String>,
    notes: Option<String>,
    /// The version you last read.
    version: Option<i64>,
}

/// What someone else changed, returned with a 409.
#[derive(Serialize, ToSchema)]
pub struct ConflictOut {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    /// The entry as it is now.
    current: SoaEntryOut,
    /// Field changes since the version you sent.
    #[schema(value_type = Vec<Object>)]
    changes: Vec<isms_store::FieldChange>,
}

/// An approved version.
#[derive(Serialize, ToSchema)]
pub struct SoaVersionOut {
    version: i64,
    approved_at: String,
    approved_by: String,
    note: String,
}

impl From<SoaVersionInfo> for SoaVersionOut {
    fn from(v: SoaVersionInfo) -> Self {
        SoaVersionOut {
            version: v.number,
            approved_at: v.approved_at,
            approved_by: v.approved_by,
            note: v.note,
        }
    }
}

/// An approved version with its frozen entries.
#[derive(Serialize, ToSchema)]
pub struct SoaVersionDetail {
    #[serde(flatten)]
    info: SoaVersionOut,
    entries: Vec<SoaEntryOut>,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct ApproveIn {
    /// What this version is for, e.g. "before the stage 1 audit".
    #[serde(default)]
    note: String,
}

/// The SoA, all 93 controls; created on first read for a new organisation.
#[utoipa::path(get, path = "/soa", tag = "soa",
    responses((status = 200, body = SoaOut), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn get_soa(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<SoaOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let entries = state
        .store
        .soa_entries(user.0.org_id, &user.actor())
        .await?;
    let summary = state
        .store
        .soa_summary(user.0.org_id, &user.actor())
        .await?;
    Ok(Json(SoaOut {
        entries: entries.into_iter().map(SoaEntryOut::from).collect(),
        approved_version: summary.latest.map(|v| v.number),
        draft_changed: summary.draft_changed,
    }))
}

/// One entry of the SoA.
#[utoipa::path(get, path = "/soa/{control_id}", tag = "soa",
    params(("control_id" = String, Path, description = "Annex A control id, e.g. 5.1")),
    responses((status = 200, body = SoaEntryOut), (status = 404, description = "Not an Annex A control", body = Problem, content_type = "application/problem+json")))]
pub async fn get_soa_entry(
    State(state): State<AppState>,
    user: ApiUser,
    Path(control_id): Path<String>,
) -> Result<Json<SoaEntryOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let org = user.0.org_id;
    let e = state
        .store
        .soa_entry(org, &control_id, &user.actor())
        .await?;
    let m = state.store.risk_methodology(org).await?;
    let risks = state.store.risks_for_control(org, &e.control_id).await?;
    let mut out = SoaEntryOut::from(e);
    out.risks = Some(
        risks
            .into_iter()
            .map(|r| crate::risk::views::RiskRefOut::new(&m, r))
            .collect(),
    );
    let controls = state
        .store
        .controls_for_annex_a(org, &out.control_id)
        .await?;
    let statuses: Vec<isms_domain::controls::ControlStatus> = controls
        .iter()
        .filter_map(|c| c.status.parse().ok())
        .collect();
    out.suggested_status = Some(
        isms_domain::controls::suggested_soa_status(&statuses)
            .unwrap_or("not_implemented")
            .to_owned(),
    );
    out.evidence_expired = Some(controls.iter().any(|c| c.evidence_expired));
    out.controls = Some(
        controls
            .into_iter()
            .map(|c| SoaControlOut {
                id: c.id,
                name: c.name,
                status: c.status,
                owner: c.owner,
                evidence_expired: c.evidence_expired,
            })
            .collect(),
    );
    Ok(Json(out))
}

/// Changes one entry, if `version` is current.
#[utoipa::path(patch, path = "/soa/{control_id}", tag = "soa",
    params(("control_id" = String, Path, description = "Annex A control id, e.g. 5.1")),
    request_body = SoaPatchIn,
    responses(
        (status = 200, body = SoaEntryOut),
        (status = 403, description = "The role cannot edit the ISMS", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not an Annex A control", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version: nothing saved; what changed since", body = ConflictOut, content_type = "application/problem+json"),
        (status = 422, description = "Missing justification or invalid field", body = Problem, content_type = "application/problem+json")))]
pub async fn patch_soa_entry(
    State(state): State<AppState>,
    user: ApiUser,
    Path(control_id): Path<String>,
    patch: Result<Json<SoaPatchIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let p = body(patch)?;
    let patch = SoaPatch {
        applicable: p.applicable,
        justification: p.justification,
        reasons: p.reasons,
        status: p.status,
        owner: p.owner,
        notes: p.notes,
        version: p.version,
    };
    match state
        .store
        .update_soa_entry(user.0.org_id, &control_id, &patch, &user.actor())
        .await?
    {
        SoaUpdate::Saved(e) => {
            // An API client cannot be asked first: the change is saved and
            // the answer names the risks that rely on the excluded control.
            let mut warnings = Vec::new();
            if !e.applicable {
                let risks = state
                    .store
                    .risks_for_control(user.0.org_id, &e.control_id)
                    .await?;
                let refs: Vec<(i64, &str)> =
                    risks.iter().map(|r| (r.id, r.title.as_str())).collect();
                warnings.extend(isms_domain::risk::exclusion_warning(&e.control_id, &refs));
            }
            let mut out = SoaEntryOut::from(e);
            out.warnings = warnings;
            Ok(Json(out).into_response())
        }
        SoaUpdate::Stale {
            current,
            sent_version,
            changes,
        } => Ok(conflict(&control_id, current, sent_version, changes)),
    }
}

/// The 409 answer: what changed, by whom, and the entry as it is now.
fn conflict(
    control_id: &str,
    current: SoaEntry,
    sent: i64,
    changes: Vec<isms_store::FieldChange>,
) -> Response {
    let mut fields: Vec<&str> = Vec::new();
    for c in &changes {
        if !fields.contains(&c.field.as_str()) {
            fields.push(&c.field);
        }
    }
    let who: Vec<&str> = changes.iter().filter_map(|c| c.by.as_deref()).collect();
    let detail = format!(
        "{control_id} was changed since your version {sent} (now version {}{}{}); nothing was saved: read it again and reapply your change",
        current.version,
        who.last()
            .map(|w| format!(", last by {w}"))
            .unwrap_or_default(),
        if fields.is_empty() {
            String::new()
        } else {
            format!("; changed: {}", fields.join(", "))
        }
    );
    let body = ConflictOut {
        kind: "urn:isms:problem:conflict".into(),
        title: "Conflict".into(),
        status: 409,
        detail,
        current: current.into(),
        changes,
    };
    (
        StatusCode::CONFLICT,
        [(header::CONTENT_TYPE, "application/problem+json")],
        serde_json::to_vec(&body).unwrap_or_default(),
    )
        .into_response()
}

/// Approves the current SoA as a new immutable version (isms_manager or admin).
#[utoipa::path(post, path = "/soa/approve", tag = "soa",
    request_body(content = ApproveIn, description = "Optional note"),
    responses(
        (status = 201, body = SoaVersionOut),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing changed since the latest approved version", body = Problem, content_type = "application/problem+json")))]
pub async fn approve_soa(
    State(state): State<AppState>,
    user: ApiUser,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    user.require(Permission::Approve)?;
    // The body is optional: nothing, `{}` or `{"note": "..."}`.
    let note = if raw.iter().all(u8::is_ascii_whitespace) {
        String::new()
    } else {
        serde_json::from_slice::<ApproveIn>(&raw)
            .map_err(|e| WebError::invalid(format!("the request body is not valid: {e}")))?
            .note
    };
    let v = state
        .store
        .approve_soa(user.0.org_id, &note, &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(SoaVersionOut::from(v))).into_response())
}

/// The approved versions, newest first.
#[utoipa::path(get, path = "/soa/versions", tag = "soa",
    responses((status = 200, body = Vec<SoaVersionOut>)))]
pub async fn list_soa_versions(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<SoaVersionOut>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let v = state.store.soa_versions(user.0.org_id).await?;
    Ok(Json(v.into_iter().map(SoaVersionOut::from).collect()))
}

/// One approved version with its entries.
#[utoipa::path(get, path = "/soa/versions/{number}", tag = "soa",
    params(("number" = i64, Path, description = "Version number")),
    responses((status = 200, body = SoaVersionDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_soa_version(
    State(state): State<AppState>,
    user: ApiUser,
    Path(number): Path<i64>,
) -> Result<Json<SoaVersionDetail>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let v = state.store.soa_version(user.0.org_id, number).await?;
    Ok(Json(SoaVersionDetail {
        info: v.info.into(),
        entries: v.entries.into_iter().map(SoaEntryOut::from).collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CompareQuery {
    /// A version number; omitted: the draft.
    from: Option<i64>,
    /// A version number; omitted: the draft.
    to: Option<i64>,
}

/// What changed per control between two versions (or a version and the draft).
#[derive(Serialize, ToSchema)]
pub struct CompareOut {
    from: Option<i64>,
    to: Option<i64>,
    #[schema(value_type = Vec<Object>)]
    controls: Vec<isms_store::ControlDiff>,
}

/// Compares two versions of the SoA (omit one side for the draft).
#[utoipa::path(get, path = "/soa/compare", tag = "soa", params(CompareQuery),
    responses((status = 200, body = CompareOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn compare_soa(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<CompareQuery>,
) -> Result<Json<CompareOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let controls = state
        .store
        .compare_soa(user.0.org_id, q.from, q.to, &user.actor())
        .await?;
    Ok(Json(CompareOut {
        from: q.from,
        to: q.to,
        controls,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// pdf, xlsx or csv.
    format: String,
    /// A version number; omitted: the latest approved version (the draft if none).
    version: Option<i64>,
}

/// The SoA as a PDF, XLSX or CSV file.
#[utoipa::path(get, path = "/soa/export", tag = "soa", params(ExportQuery),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export_soa(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(&q.format).map_err(WebError::invalid)?;
    file_response(&state, &user.0.org(), q.version, format, &user.actor())
        .await
        .map_err(ApiError)
}

/// A download of the SoA, shared with the web page.
pub async fn file_response(
    state: &AppState,
    org: &Org,
    version: Option<i64>,
    format: Format,
    actor: &isms_store::Actor,
) -> Result<Response, WebError> {
    let doc = isms_reports::soa_document(&state.store, org, version, actor).await?;
    // Rendering a workbook or PDF is CPU work: off the async runtime.
    let slug = org.slug.clone();
    let (bytes, name) =
        tokio::task::spawn_blocking(move || isms_reports::render(&doc, &slug, format))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r)
            .map_err(|e| {
                tracing::error!("export failed: {e}");
                WebError::internal()
            })?;
    Ok(crate::isms_reports::attachment(bytes, &name, format))
}

/// The scope statement (clause 4.3).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ScopeOut {
    statement: String,
    units: String,
    locations: String,
    processes: String,
    systems_in: String,
    systems_out: String,
    interfaces: String,
    exclusions: String,
    /// 0 until first saved.
    version: i64,
    updated_at: String,
    updated_by: String,
}

impl From<isms_store::Scope> for ScopeOut {
    fn from(s: isms_store::Scope) -> Self {
        ScopeOut {
            statement: s.statement,
            units: s.units,
            locations: s.locations,
            processes: s.processes,
            systems_in: s.systems_in,
            systems_out: s.systems_out,
            interfaces: s.interfaces,
            exclusions: s.exclusions,
            version: s.version,
            updated_at: s.updated_at,
            updated_by: s.updated_by,
        }
    }
}

/// A text field that may also be sent as a list of lines.
fn text_or_lines<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrLines {
        Text(String),
        Lines(Vec<String>),
    }
    Ok(match TextOrLines::deserialize(d)? {
        TextOrLines::Text(t) => t,
        TextOrLines::Lines(l) => l.join("\n"),
    })
}

/// The scope fields and the version you last read (0, or none, for the
/// first save: without a version only a scope not yet written is saved).
/// The list fields take text, one entry per line, or a list of strings.
#[derive(Deserialize, ToSchema)]
pub struct ScopeIn {
    statement: String,
    #[serde(default, deserialize_with = "text_or_lines")]
    units: String,
    #[serde(default, deserialize_with = "text_or_lines")]
    locations: String,
    #[serde(default, deserialize_with = "text_or_lines")]
    processes: String,
    #[serde(default, deserialize_with = "text_or_lines")]
    systems_in: String,
    #[serde(default, deserialize_with = "text_or_lines")]
    systems_out: String,
    #[serde(default, deserialize_with = "text_or_lines")]
    interfaces: String,
    #[serde(default, deserialize_with = "text_or_lines")]
    exclusions: String,
    version: Option<i64>,
}

#[utoipa::path(get, path = "/scope", tag = "context", responses((status = 200, body = ScopeOut)))]
pub async fn get_scope(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<ScopeOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(state.store.scope(user.0.org_id).await?.into()))
}

/// Replaces the scope statement, if `version` is current.
#[utoipa::path(put, path = "/scope", tag = "context", request_body = ScopeIn,
    responses((status = 200, body = ScopeOut), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_scope(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<ScopeIn>, JsonRejection>,
) -> Result<Json<ScopeOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let s = state
        .store
        .save_scope(
            user.0.org_id,
            &ScopeInput {
                statement: i.statement,
                units: i.units,
                locations: i.locations,
                processes: i.processes,
                systems_in: i.systems_in,
                systems_out: i.systems_out,
                interfaces: i.interfaces,
                exclusions: i.exclusions,
                // No version: the first save only (a scope already written
                // answers 409, so nobody's change is overwritten).
                version: Some(i.version.unwrap_or(0)),
            },
            &user.actor(),
        )
        .await?;
    Ok(Json(s.into()))
}

/// An issue, interested party, RACI row or objective.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ContextItemOut {
    id: i64,
    /// issue, party, raci or objective.
    kind: String,
    title: String,
    category: String,
    detail: String,
    effect: String,
    addressed: bool,
    measure: String,
    target: String,
    owner: String,
    due_date: String,
    responsible: String,
    accountable: String,
    consulted: String,
    informed: String,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl From<isms_store::ContextItem> for ContextItemOut {
    fn from(i: isms_store::ContextItem) -> Self {
        ContextItemOut {
            id: i.id,
            kind: i.kind,
            title: i.title,
            category: i.category,
            detail: i.detail,
            effect: i.effect,
            addressed: i.addressed,
            measure: i.measure,
            target: i.target,
            owner: i.owner,
            due_date: i.due_date,
            responsible: i.responsible,
            accountable: i.accountable,
            consulted: i.consulted,
            informed: i.informed,
            version: i.version,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// Fields of an item; `kind` on create, `version` on update.
#[derive(Deserialize, ToSchema, Default)]
pub struct ContextItemIn {
    kind: Option<String>,
    title: Option<String>,
    /// Issues: internal or external.
    category: Option<String>,
    detail: Option<String>,
    effect: Option<String>,
    addressed: Option<bool>,
    measure: Option<String>,
    target: Option<String>,
    owner: Option<String>,
    /// YYYY-MM-DD.
    due_date: Option<String>,
    responsible: Option<String>,
    accountable: Option<String>,
    consulted: Option<String>,
    informed: Option<String>,
    version: Option<i64>,
}

impl ContextItemIn {
    fn into_input(self) -> ContextInput {
        ContextInput {
            title: self.title,
            category: self.category,
            detail: self.detail,
            effect: self.effect,
            addressed: self.addressed,
            measure: self.measure,
            target: self.target,
            owner: self.owner,
            due_date: self.due_date,
            responsible: self.responsible,
            accountable: self.accountable,
            consulted: self.consulted,
            informed: self.informed,
            version: self.version,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct KindQuery {
    /// issue, party, raci or objective; omitted: all.
    kind: Option<String>,
}

#[utoipa::path(get, path = "/context-items", tag = "context", params(KindQuery),
    responses((status = 200, body = Vec<ContextItemOut>)))]
pub async fn list_context_items(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<KindQuery>,
) -> Result<Json<Vec<ContextItemOut>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let items = state
        .store
        .context_items(user.0.org_id, q.kind.as_deref())
        .await?;
    Ok(Json(items.into_iter().map(ContextItemOut::from).collect()))
}

#[utoipa::path(post, path = "/context-items", tag = "context", request_body = ContextItemIn,
    responses((status = 201, body = ContextItemOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_context_item(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<ContextItemIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let mut i = body(input)?;
    let kind = i
        .kind
        .take()
        .ok_or_else(|| WebError::invalid("kind: required (issue, party, raci or objective)"))?;
    let item = state
        .store
        .create_context_item(user.0.org_id, &kind, &i.into_input(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(ContextItemOut::from(item))).into_response())
}

#[utoipa::path(get, path = "/context-items/{id}", tag = "context", params(("id" = i64, Path)),
    responses((status = 200, body = ContextItemOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_context_item(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<ContextItemOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(
        state.store.context_item(user.0.org_id, id).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/context-items/{id}", tag = "context", params(("id" = i64, Path)), request_body = ContextItemIn,
    responses((status = 200, body = ContextItemOut), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_context_item(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    input: Result<Json<ContextItemIn>, JsonRejection>,
) -> Result<Json<ContextItemOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let item = state
        .store
        .update_context_item(user.0.org_id, id, &i.into_input(), &user.actor())
        .await?;
    Ok(Json(item.into()))
}

/// One item of the readiness checklist.
#[derive(Serialize, ToSchema)]
pub struct ReadinessItemOut {
    key: String,
    clause: String,
    title: String,
    /// ready, incomplete or missing.
    state: String,
    detail: String,
    /// Where to fix it in the web application.
    link: String,
}

/// The certification readiness checklist.
#[derive(Serialize, ToSchema)]
pub struct ReadinessOut {
    ready: usize,
    total: usize,
    percent: usize,
    items: Vec<ReadinessItemOut>,
}

#[utoipa::path(get, path = "/readiness", tag = "readiness", responses((status = 200, body = ReadinessOut)))]
pub async fn get_readiness(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<ReadinessOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let r = state.store.readiness(user.0.org_id, &user.actor()).await?;
    Ok(Json(ReadinessOut {
        ready: r.ready,
        total: r.total,
        percent: r.percent(),
        items: r
            .items
            .into_iter()
            .map(|i| ReadinessItemOut {
                key: i.key.into(),
                clause: i.clause.into(),
                title: i.title.into(),
                state: i.state.as_str().into(),
                detail: i.detail,
                link: i.link.into(),
            })
            .collect(),
    }))
}

/// A gap assessment with its overall progress.
#[derive(Serialize, ToSchema)]
pub struct GapAssessmentOut {
    id: i64,
    title: String,
    framework_id: String,
    created_at: String,
    created_by: String,
    /// Requirements implemented, of those applicable.
    implemented: usize,
    applicable: usize,
    percent: usize,
}

async fn assessment_out(
    state: &AppState,
    org_id: i64,
    a: isms_store::GapAssessment,
) -> Result<GapAssessmentOut, ApiError> {
    let entries = state.store.gap_entries(org_id, a.id).await?;
    let p = isms_store::gap_progress(&entries);
    let implemented: usize = p.iter().map(|g| g.implemented).sum();
    let applicable: usize = p.iter().map(|g| g.applicable).sum();
    Ok(GapAssessmentOut {
        id: a.id,
        title: a.title,
        framework_id: a.framework_id,
        created_at: a.created_at,
        created_by: a.created_by,
        implemented,
        applicable,
        percent: (implemented * 100).checked_div(applicable).unwrap_or(0),
    })
}

#[derive(Deserialize, ToSchema)]
pub struct GapAssessmentIn {
    title: String,
    /// Start from the values of this earlier assessment.
    copy_from: Option<i64>,
}

/// One requirement's assessment.
#[derive(Serialize, ToSchema)]
pub struct GapEntryOut {
    /// `4.1` .. `10.2`, `A.5.1` .. `A.8.34`.
    ref_id: String,
    title: String,
    /// The clause or Annex A theme.
    group: String,
    /// not_started, partial, implemented or not_applicable.
    status: String,
    /// 0 to 5.
    maturity: i64,
    notes: String,
    owner: String,
    target_date: String,
    actions: String,
    /// 1 (highest) to 3.
    priority: u8,
    version: i64,
    updated_at: String,
    updated_by: String,
}

/// Progress of a clause or theme.
#[derive(Serialize, ToSchema)]
pub struct GapProgressOut {
    group: String,
    implemented: usize,
    partial: usize,
    applicable: usize,
    not_applicable: usize,
}

#[derive(Serialize, ToSchema)]
pub struct GapAssessmentDetail {
    assessment: GapAssessmentOut,
    progress: Vec<GapProgressOut>,
    entries: Vec<GapEntryOut>,
}

#[derive(Deserialize, ToSchema)]
pub struct GapPatchIn {
    status: Option<String>,
    maturity: Option<i64>,
    notes: Option<String>,
    owner: Option<String>,
    /// YYYY-MM-DD, or "" for none.
    target_date: Option<String>,
    actions: Option<String>,
    version: Option<i64>,
}

fn entry_out(e: isms_store::GapEntry, req: Option<&isms_store::GapRequirement>) -> GapEntryOut {
    GapEntryOut {
        title: req.map(|r| r.title.clone()).unwrap_or_default(),
        group: req.map(|r| r.group.clone()).unwrap_or_default(),
        priority: e.priority(),
        ref_id: e.ref_id,
        status: e.status,
        maturity: e.maturity,
        notes: e.notes,
        owner: e.owner,
        target_date: e.target_date,
        actions: e.actions,
        version: e.version,
        updated_at: e.updated_at,
        updated_by: e.updated_by,
    }
}

/// The gap assessments, newest first.
#[utoipa::path(get, path = "/gap-assessments", tag = "gap", responses((status = 200, body = Vec<GapAssessmentOut>)))]
pub async fn list_gap_assessments(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<GapAssessmentOut>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let mut out = Vec::new();
    for a in state.store.gap_assessments(user.0.org_id).await? {
        out.push(assessment_out(&state, user.0.org_id, a).await?);
    }
    Ok(Json(out))
}

/// Starts an assessment against ISO/IEC 27001:2022 (clauses 4-10 and Annex A).
#[utoipa::path(post, path = "/gap-assessments", tag = "gap", request_body = GapAssessmentIn,
    responses((status = 201, body = GapAssessmentOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_gap_assessment(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<GapAssessmentIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let a = state
        .store
        .create_gap_assessment(user.0.org_id, &i.title, i.copy_from, &user.actor())
        .await?;
    let out = assessment_out(&state, user.0.org_id, a).await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// One assessment: progress by clause and theme, and every requirement.
#[utoipa::path(get, path = "/gap-assessments/{id}", tag = "gap", params(("id" = i64, Path)),
    responses((status = 200, body = GapAssessmentDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_gap_assessment(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<GapAssessmentDetail>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let a = state.store.gap_assessment(user.0.org_id, id).await?;
    let entries = state.store.gap_entries(user.0.org_id, id).await?;
    let progress = isms_store::gap_progress(&entries)
        .into_iter()
        .map(|p| GapProgressOut {
            group: p.group,
            implemented: p.implemented,
            partial: p.partial,
            applicable: p.applicable,
            not_applicable: p.not_applicable,
        })
        .collect();
    let reqs = isms_store::gap_requirements();
    let entries = entries
        .into_iter()
        .map(|e| {
            let r = reqs.iter().find(|r| r.ref_id == e.ref_id);
            entry_out(e, r)
        })
        .collect();
    Ok(Json(GapAssessmentDetail {
        assessment: assessment_out(&state, user.0.org_id, a).await?,
        progress,
        entries,
    }))
}

/// Assesses one requirement, if `version` is current.
#[utoipa::path(patch, path = "/gap-assessments/{id}/entries/{ref_id}", tag = "gap",
    params(("id" = i64, Path), ("ref_id" = String, Path, description = "e.g. 6.1.2 or A.5.15")),
    request_body = GapPatchIn,
    responses((status = 200, body = GapEntryOut), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_gap_entry(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, ref_id)): Path<(i64, String)>,
    input: Result<Json<GapPatchIn>, JsonRejection>,
) -> Result<Json<GapEntryOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let patch = isms_store::GapPatch {
        status: i.status,
        maturity: i.maturity,
        notes: i.notes,
        owner: i.owner,
        target_date: i.target_date,
        actions: i.actions,
        version: i.version,
    };
    let e = state
        .store
        .update_gap_entry(user.0.org_id, id, &ref_id, &patch, &user.actor())
        .await?;
    let reqs = isms_store::gap_requirements();
    let r = reqs.iter().find(|r| r.ref_id == e.ref_id);
    Ok(Json(entry_out(e, r)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct GapCompareQuery {
    from: i64,
    to: i64,
}

/// What improved (or regressed) from one assessment to another.
#[derive(Serialize, ToSchema)]
pub struct GapCompareOut {
    from: i64,
    to: i64,
    improved: usize,
    regressed: usize,
    #[schema(value_type = Vec<Object>)]
    moves: Vec<isms_store::GapMove>,
}

#[utoipa::path(get, path = "/gap-assessments/compare", tag = "gap", params(GapCompareQuery),
    responses((status = 200, body = GapCompareOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn compare_gap_assessments(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<GapCompareQuery>,
) -> Result<Json<GapCompareOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let moves = state.store.compare_gap(user.0.org_id, q.from, q.to).await?;
    Ok(Json(GapCompareOut {
        from: q.from,
        to: q.to,
        improved: moves.iter().filter(|m| m.direction == "improved").count(),
        regressed: moves.iter().filter(|m| m.direction == "regressed").count(),
        moves,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct GapReportQuery {
    /// pdf or xlsx.
    format: String,
}

/// The gap report: every requirement not implemented, by group and priority.
#[utoipa::path(get, path = "/gap-assessments/{id}/report", tag = "gap", params(("id" = i64, Path), GapReportQuery),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn gap_report(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<GapReportQuery>,
) -> Result<Response, ApiError> {
    user.require(Permission::ReadIsms)?;
    gap_file(&state, &user.0.org(), id, &q.format)
        .await
        .map_err(ApiError)
}

/// A download of the gap report, shared with the web page.
pub async fn gap_file(
    state: &AppState,
    org: &Org,
    id: i64,
    format: &str,
) -> Result<Response, WebError> {
    let format = match Format::parse(format) {
        Ok(Format::Csv) | Err(_) => {
            return Err(WebError::invalid(format!(
                "unknown format '{format}': the gap report is pdf or xlsx"
            )));
        }
        Ok(f) => f,
    };
    state.store.gap_assessment(org.id, id).await?;
    let (bytes, name) = isms_reports::gap_export(&state.store, org, Some(id), format)
        .await
        .map_err(|e| {
            tracing::error!("gap export failed: {e}");
            WebError::internal()
        })?;
    Ok(crate::isms_reports::attachment(bytes, &name, format))
}
