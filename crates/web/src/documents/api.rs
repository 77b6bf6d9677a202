//! The documents API: templates, documents and their workflow,
//! acknowledgements, settings.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_domain::document::{Audience, DocStatus, DocType, VersionState};
use isms_domain::document_templates::TEMPLATES;
use isms_store::{DocVersion, Document, DocumentInput, DocumentQuery, DraftInput};
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

/// An optional JSON body: empty means none.
fn optional_body<T: serde::de::DeserializeOwned>(b: &Bytes) -> Result<Option<T>, ApiError> {
    if b.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(b).map(Some).map_err(|e| {
        ApiError(WebError::invalid(format!(
            "the request body is not valid JSON for this operation: {e}"
        )))
    })
}

fn parse<T: std::str::FromStr<Err = String>>(
    field: &str,
    v: Option<&str>,
) -> Result<Option<T>, ApiError> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|e| ApiError(WebError::invalid(format!("{field}: {e}")))),
    }
}

/// A template to start a document from.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    /// What `POST /documents {"template": ID}` takes.
    id: &'static str,
    title: &'static str,
    #[serde(rename = "type")]
    doc_type: &'static str,
    classification: &'static str,
    /// Clauses and Annex A controls it addresses.
    requirements: Vec<&'static str>,
    summary: &'static str,
}

/// One version of a document.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionOut {
    id: i64,
    /// "1.2".
    number: String,
    major: i64,
    minor: i64,
    /// draft, in_review, approved, published or superseded.
    state: String,
    /// Markdown.
    body: String,
    change_note: String,
    author: String,
    reviewers: Vec<String>,
    submitted_at: String,
    approved_by: String,
    approved_at: String,
    published_by: String,
    published_at: String,
    /// Who must acknowledge it (JSON as sent when publishing), "" for nobody.
    acknowledge: String,
    /// YYYY-MM-DD: acknowledgements are due by this day ("" while unpublished).
    read_by: String,
    created_at: String,
}

impl From<DocVersion> for VersionOut {
    fn from(v: DocVersion) -> Self {
        VersionOut {
            id: v.id,
            number: v.label,
            major: v.major,
            minor: v.minor,
            state: v.state.as_str().to_owned(),
            body: v.body,
            change_note: v.change_note,
            author: v.author,
            reviewers: v.reviewers,
            submitted_at: v.submitted_at,
            approved_by: v.approved_by,
            approved_at: v.approved_at,
            published_by: v.published_by,
            published_at: v.published_at,
            acknowledge: v.acknowledge,
            read_by: v.read_by,
            created_at: v.created_at,
        }
    }
}

/// A document, its current and published versions, and acknowledgement counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentOut {
    id: i64,
    /// DOC-007.
    key: String,
    title: String,
    /// policy, procedure, standard, record, plan or statement.
    #[serde(rename = "type")]
    doc_type: String,
    template: String,
    owner: Option<String>,
    classification: String,
    review_months: i64,
    /// Days people have to read and acknowledge a published version.
    reading_days: i64,
    /// active or retired.
    status: String,
    reviewed_at: String,
    /// YYYY-MM-DD, "" while nothing is published.
    review_due: String,
    requirements: Vec<String>,
    /// The latest version, the one the workflow moves (the published one for
    /// members who may not read drafts).
    current: Option<VersionOut>,
    published: Option<VersionOut>,
    /// People who must acknowledge the published version.
    required: i64,
    /// How many of them did.
    acknowledged: i64,
    /// When the caller acknowledged the published version, if they did.
    acknowledged_by_me: Option<String>,
    version: i64,
    created_at: String,
    created_by: String,
    updated_at: String,
    updated_by: String,
}

impl DocumentOut {
    fn new(d: Document, mine: Option<String>, drafts: bool) -> Self {
        let current = if drafts {
            d.current
        } else {
            d.published.clone()
        };
        DocumentOut {
            id: d.id,
            key: super::export::key(d.id),
            title: d.title,
            doc_type: d.doc_type.as_str().to_owned(),
            template: d.template,
            owner: d.owner,
            classification: d.classification.as_str().to_owned(),
            review_months: d.review_months,
            reading_days: d.reading_days,
            status: d.status.as_str().to_owned(),
            reviewed_at: d.reviewed_at,
            review_due: d.review_due,
            requirements: d.requirements,
            current: current.map(VersionOut::from),
            published: d.published.map(VersionOut::from),
            required: d.required,
            acknowledged: d.acknowledged,
            acknowledged_by_me: mine,
            version: d.version,
            created_at: d.created_at,
            created_by: d.created_by,
            updated_at: d.updated_at,
            updated_by: d.updated_by,
        }
    }
}

/// A new document: from a template, or a title, type and body.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DocumentIn {
    /// A template id from `GET /document-templates`; placeholders are filled
    /// from the organisation's data.
    template: Option<String>,
    title: Option<String>,
    /// policy, procedure, standard, record, plan or statement.
    #[serde(rename = "type")]
    doc_type: Option<String>,
    /// Markdown.
    body: Option<String>,
    /// E-mail of a member; "" removes the owner.
    owner: Option<String>,
    /// public, internal, confidential or restricted.
    classification: Option<String>,
    /// Months between reviews, 1 to 60 (default 12).
    review_months: Option<i64>,
    /// Days people have to read and acknowledge a published version, 0 to 365 (default 14).
    reading_days: Option<i64>,
    /// Clauses and Annex A controls addressed, e.g. `["5.2", "A.5.1"]` (the whole set).
    requirements: Option<Vec<String>>,
    /// For changes: the version you last read.
    version: Option<i64>,
}

impl From<DocumentIn> for DocumentInput {
    fn from(d: DocumentIn) -> Self {
        DocumentInput {
            template: d.template,
            title: d.title,
            doc_type: d.doc_type,
            body: d.body,
            owner: d.owner,
            classification: d.classification,
            review_months: d.review_months,
            reading_days: d.reading_days,
            requirements: d.requirements,
            version: d.version,
        }
    }
}

/// The text of the draft.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DraftIn {
    /// Markdown (raw HTML in it is shown as text, never run).
    body: Option<String>,
    change_note: Option<String>,
    /// After publication: make the new draft a major version (everyone acknowledges again).
    #[serde(default)]
    major: bool,
    /// The document's version you last read (optional; a stale one is refused with 409).
    version: Option<i64>,
}

/// Reviewers to name when submitting.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SubmitIn {
    /// E-mail addresses of members.
    #[serde(default)]
    reviewers: Vec<String>,
}

/// Who must acknowledge the published version.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PublishIn {
    /// "all", "employees", a role name, or a list of members' e-mail
    /// addresses. Absent: the previous version's group (nobody for the first).
    acknowledge: Option<serde_json::Value>,
    /// Days they have to acknowledge it, 0 to 365 (absent: the document's `reading_days`).
    reading_days: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DocumentListQuery {
    /// Text the title contains, or a requirement (e.g. A.5.1).
    q: Option<String>,
    /// policy, procedure, standard, record, plan or statement.
    #[serde(rename = "type")]
    doc_type: Option<String>,
    /// active or retired.
    status: Option<String>,
    /// The current version's state: draft, in_review, approved or published.
    state: Option<String>,
    /// true: only documents whose review is overdue.
    overdue: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentList {
    items: Vec<DocumentOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DiffQuery {
    /// A version number, e.g. 1.0 (default: the published version, or the first).
    from: Option<String>,
    /// A version number (default: the latest).
    to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiffLineOut {
    /// same, added or removed.
    change: &'static str,
    text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiffOut {
    from: String,
    to: String,
    lines: Vec<DiffLineOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcknowledgementOut {
    document_id: i64,
    version: String,
    acknowledged_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AckStatusOut {
    email: String,
    display_name: String,
    role: String,
    /// The version acknowledged, if any.
    version: Option<String>,
    acknowledged_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ToReadOut {
    document_id: i64,
    title: String,
    #[serde(rename = "type")]
    doc_type: String,
    version: String,
    published_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemindOut {
    /// Messages sent (people already reminded today are not sent another).
    sent: usize,
    /// E-mails sent to them (0 when no SMTP relay is configured or they opted out).
    emailed: usize,
    /// Why e-mail stopped, when it did (the inbox messages are written regardless).
    #[serde(skip_serializing_if = "Option::is_none")]
    mail_error: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DocumentSettingsIo {
    /// Authors and last editors may not approve their own versions.
    four_eyes: bool,
    /// The version you last read (0 before the first save).
    #[serde(default)]
    version: i64,
}

fn problem(status: StatusCode, detail: &str) -> ApiError {
    ApiError(WebError::new(status, "Not found", detail.to_owned()))
}

#[utoipa::path(get, path = "/document-templates", tag = "documents",
    responses((status = 200, body = [TemplateOut])))]
pub async fn list_document_templates(user: ApiUser) -> Result<Json<Vec<TemplateOut>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(
        TEMPLATES
            .iter()
            .map(|t| TemplateOut {
                id: t.id,
                title: t.title,
                doc_type: t.doc_type.as_str(),
                classification: t.classification.as_str(),
                requirements: t.requirements.to_vec(),
                summary: t.summary,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/documents", tag = "documents", params(DocumentListQuery),
    responses((status = 200, body = DocumentList),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_documents(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<DocumentListQuery>,
) -> Result<Json<DocumentList>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let query = DocumentQuery {
        q: q.q,
        doc_type: parse::<DocType>("type", q.doc_type.as_deref())?,
        status: parse::<DocStatus>("status", q.status.as_deref())?,
        state: parse::<VersionState>("state", q.state.as_deref())?,
        overdue: q.overdue.unwrap_or(false),
    };
    let docs = state.store.documents(user.0.org_id, &query).await?;
    Ok(Json(DocumentList {
        items: docs
            .into_iter()
            .map(|d| {
                let mut d = DocumentOut::new(d, None, true);
                // The register carries no bodies; GET /documents/{document} does.
                d.current
                    .iter_mut()
                    .chain(d.published.iter_mut())
                    .for_each(|v| v.body.clear());
                d
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/documents", tag = "documents", request_body = DocumentIn,
    responses((status = 201, body = DocumentOut),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_document(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<DocumentIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let d = state
        .store
        .create_document(user.0.org_id, &body(input)?.into(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(DocumentOut::new(d, None, true))).into_response())
}

/// A document; members who may not read the ISMS see its published version only.
async fn visible(state: &AppState, user: &ApiUser, id: i64) -> Result<DocumentOut, ApiError> {
    let d = state.store.document(user.0.org_id, id).await?;
    let drafts = user.0.role.can(Permission::ReadIsms);
    if !drafts && d.published.is_none() {
        return Err(problem(
            StatusCode::NOT_FOUND,
            &format!("document {id}: no such document in this organisation"),
        ));
    }
    let mine = state
        .store
        .acknowledged_at(user.0.org_id, id, user.0.user_id)
        .await?;
    Ok(DocumentOut::new(d, mine, drafts))
}

#[utoipa::path(get, path = "/documents/{document}", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")),
    responses((status = 200, body = DocumentOut),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_document(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
) -> Result<Json<DocumentOut>, ApiError> {
    Ok(Json(visible(&state, &user, document).await?))
}

#[utoipa::path(patch, path = "/documents/{document}", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")), request_body = DocumentIn,
    responses((status = 200, body = DocumentOut),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_document(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
    input: Result<Json<DocumentIn>, JsonRejection>,
) -> Result<Json<DocumentOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let d = state
        .store
        .update_document(user.0.org_id, document, &body(input)?.into(), &user.actor())
        .await?;
    Ok(Json(DocumentOut::new(d, None, true)))
}

#[utoipa::path(put, path = "/documents/{document}/draft", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")), request_body = DraftIn,
    responses((status = 200, description = "The draft saved (a new draft version after publication)", body = DocumentOut),
        (status = 409, description = "The version is in review or approved, or the document is retired", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_document_draft(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
    input: Result<Json<DraftIn>, JsonRejection>,
) -> Result<Json<DocumentOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let d = state
        .store
        .save_document_draft(
            user.0.org_id,
            document,
            &DraftInput {
                body: i.body,
                change_note: i.change_note,
                major: i.major,
                version: i.version,
            },
            &user.actor(),
        )
        .await?;
    Ok(Json(DocumentOut::new(d, None, true)))
}

#[utoipa::path(post, path = "/documents/{document}/submit", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")), request_body(content = SubmitIn, description = "Optional"),
    responses((status = 200, body = DocumentOut),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn submit_document(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
    raw: Bytes,
) -> Result<Json<DocumentOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let i: SubmitIn = optional_body(&raw)?.unwrap_or_default();
    let d = state
        .store
        .submit_document(user.0.org_id, document, &i.reviewers, &user.actor())
        .await?;
    Ok(Json(DocumentOut::new(d, None, true)))
}

#[utoipa::path(post, path = "/documents/{document}/reject", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")),
    responses((status = 200, description = "Back to draft", body = DocumentOut),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn reject_document(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
) -> Result<Json<DocumentOut>, ApiError> {
    user.require(Permission::Approve)?;
    let d = state
        .store
        .reject_document(user.0.org_id, document, &user.actor())
        .await?;
    Ok(Json(DocumentOut::new(d, None, true)))
}

#[utoipa::path(post, path = "/documents/{document}/approve", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")),
    responses((status = 200, body = DocumentOut),
        (status = 409, description = "Not in review, or your own version under four-eyes", body = Problem, content_type = "application/problem+json")))]
pub async fn approve_document(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
) -> Result<Json<DocumentOut>, ApiError> {
    user.require(Permission::Approve)?;
    let d = state
        .store
        .approve_document(user.0.org_id, document, &user.actor())
        .await?;
    Ok(Json(DocumentOut::new(d, None, true)))
}

#[utoipa::path(post, path = "/documents/{document}/publish", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")), request_body(content = PublishIn, description = "Optional"),
    responses((status = 200, body = DocumentOut),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn publish_document(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
    raw: Bytes,
) -> Result<Json<DocumentOut>, ApiError> {
    user.require(Permission::Approve)?;
    let i: PublishIn = optional_body(&raw)?.unwrap_or_default();
    let audience = match i.acknowledge {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(Audience::parse(&v).map_err(|e| ApiError(WebError::invalid(e)))?),
    };
    let d = state
        .store
        .publish_document(
            user.0.org_id,
            document,
            audience.as_ref(),
            i.reading_days,
            &user.actor(),
        )
        .await?;
    Ok(Json(DocumentOut::new(d, None, true)))
}

#[utoipa::path(post, path = "/documents/{document}/retire", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")),
    responses((status = 200, body = DocumentOut),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn retire_document(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
) -> Result<Json<DocumentOut>, ApiError> {
    user.require(Permission::Approve)?;
    let d = state
        .store
        .retire_document(user.0.org_id, document, &user.actor())
        .await?;
    Ok(Json(DocumentOut::new(d, None, true)))
}

#[utoipa::path(post, path = "/documents/{document}/review", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")),
    responses((status = 200, description = "The published version was reviewed and still holds; the next review is due one interval later", body = DocumentOut),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn review_document(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
) -> Result<Json<DocumentOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let d = state
        .store
        .mark_document_reviewed(user.0.org_id, document, &user.actor())
        .await?;
    Ok(Json(DocumentOut::new(d, None, true)))
}

#[utoipa::path(get, path = "/documents/{document}/versions", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")),
    responses((status = 200, description = "Every version, oldest first", body = [VersionOut])))]
pub async fn list_document_versions(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
) -> Result<Json<Vec<VersionOut>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    state.store.document(user.0.org_id, document).await?;
    let v = state
        .store
        .document_versions(user.0.org_id, document)
        .await?;
    Ok(Json(v.into_iter().map(VersionOut::from).collect()))
}

/// The two versions a diff compares, by number (defaults: the published
/// version, else the first, against the latest).
pub(crate) fn diff_pair<'a>(
    versions: &'a [DocVersion],
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(&'a DocVersion, &'a DocVersion), WebError> {
    let find = |field: &str, l: &str| {
        versions
            .iter()
            .find(|v| v.label == l.trim())
            .ok_or_else(|| WebError::invalid(format!("{field}: there is no version {l}")))
    };
    let last = versions
        .last()
        .ok_or_else(|| WebError::not_found("the document has no version"))?;
    let to = match to.filter(|t| !t.trim().is_empty()) {
        Some(t) => find("to", t)?,
        None => last,
    };
    let from = match from.filter(|t| !t.trim().is_empty()) {
        Some(f) => find("from", f)?,
        None => versions
            .iter()
            .rev()
            .find(|v| matches!(v.state, VersionState::Published) && v.id != to.id)
            .unwrap_or(&versions[0]),
    };
    Ok((from, to))
}

#[utoipa::path(get, path = "/documents/{document}/diff", tag = "documents",
    params(("document" = i64, Path, description = "The document's id"), DiffQuery),
    responses((status = 200, body = DiffOut),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn compare_document_versions(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
    Query(q): Query<DiffQuery>,
) -> Result<Json<DiffOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    state.store.document(user.0.org_id, document).await?;
    let versions = state
        .store
        .document_versions(user.0.org_id, document)
        .await?;
    let (from, to) = diff_pair(&versions, q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(DiffOut {
        from: from.label.clone(),
        to: to.label.clone(),
        lines: isms_domain::document::diff(&from.body, &to.body)
            .into_iter()
            .map(|l| DiffLineOut {
                change: l.change,
                text: l.text,
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/documents/{document}/acknowledge", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")),
    responses((status = 201, description = "Recorded: who, which version, when", body = AcknowledgementOut),
        (status = 409, description = "Already acknowledged (this major version), or nothing published", body = Problem, content_type = "application/problem+json")))]
pub async fn acknowledge_document(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
) -> Result<Response, ApiError> {
    // Any member may read a published document; employees need no role to acknowledge.
    visible(&state, &user, document).await?;
    let a = state
        .store
        .acknowledge_document(user.0.org_id, document, user.0.user_id, &user.actor())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AcknowledgementOut {
            document_id: a.document_id,
            version: a.version,
            acknowledged_at: a.acknowledged_at,
        }),
    )
        .into_response())
}

#[utoipa::path(get, path = "/documents/{document}/acknowledgements", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")),
    responses((status = 200, description = "Everyone asked to acknowledge the published version, and who did", body = [AckStatusOut])))]
pub async fn list_document_acknowledgements(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
) -> Result<Json<Vec<AckStatusOut>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    state.store.document(user.0.org_id, document).await?;
    let rows = state
        .store
        .document_ack_status(user.0.org_id, document)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AckStatusOut {
                email: r.email,
                display_name: r.display_name,
                role: r.role,
                version: r.version,
                acknowledged_at: r.acknowledged_at,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/documents/{document}/remind", tag = "documents",
    params(("document" = i64, Path, description = "The document's id")),
    responses((status = 200, body = RemindOut),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn remind_document(
    State(state): State<AppState>,
    user: ApiUser,
    Path(document): Path<i64>,
    headers: axum::http::HeaderMap,
) -> Result<Json<RemindOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let o = super::remind::remind_late(
        &state.store,
        state.config.mailer.as_ref(),
        &crate::tasks::base_url(&state, &headers),
        &user.0.org(),
        document,
    )
    .await?;
    Ok(Json(RemindOut {
        sent: o.sent,
        emailed: o.emailed,
        mail_error: o.mail_error,
    }))
}

/// One person's acknowledgements of the versions in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonAcksOut {
    email: String,
    display_name: String,
    /// Published versions they are asked to acknowledge.
    required: i64,
    acknowledged: i64,
    percent: i64,
}

#[utoipa::path(get, path = "/acknowledgements", tag = "documents",
    responses((status = 200, description = "Acknowledgement completion per person over the versions in force", body = [PersonAcksOut])))]
pub async fn acknowledgements_by_person(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<PersonAcksOut>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let rows = state
        .store
        .acknowledgements_by_person(user.0.org_id)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|p| PersonAcksOut {
                percent: p.percent(),
                email: p.email,
                display_name: p.display_name,
                required: p.required,
                acknowledged: p.acknowledged,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/me/documents", tag = "documents",
    responses((status = 200, description = "What the caller must still read and acknowledge", body = [ToReadOut])))]
pub async fn my_documents(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<ToReadOut>>, ApiError> {
    let rows = state
        .store
        .documents_to_read(user.0.org_id, user.0.user_id)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ToReadOut {
                document_id: r.document_id,
                title: r.title,
                doc_type: r.doc_type,
                version: r.version,
                published_at: r.published_at,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/document-settings", tag = "documents",
    responses((status = 200, body = DocumentSettingsIo)))]
pub async fn get_document_settings(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<DocumentSettingsIo>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let s = state.store.document_settings(user.0.org_id).await?;
    Ok(Json(DocumentSettingsIo {
        four_eyes: s.four_eyes,
        version: s.version,
    }))
}

#[utoipa::path(put, path = "/document-settings", tag = "documents", request_body = DocumentSettingsIo,
    responses((status = 200, body = DocumentSettingsIo),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn put_document_settings(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<DocumentSettingsIo>, JsonRejection>,
) -> Result<Json<DocumentSettingsIo>, ApiError> {
    user.require(Permission::ManageMembers)?;
    let i = body(input)?;
    let s = state
        .store
        .set_document_settings(user.0.org_id, i.four_eyes, i.version, &user.actor())
        .await?;
    Ok(Json(DocumentSettingsIo {
        four_eyes: s.four_eyes,
        version: s.version,
    }))
}
