//! Documented information pages: the register (filters, create from a
//! template, four-eyes setting, exports), a document's page (rendered
//! Markdown, workflow buttons by permission, version history and diff,
//! acknowledgement completion and reminders), and "documents to read".

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::document::{Audience, Classification, DiffLine, DocStatus, DocType, VersionState};
use isms_domain::document_templates::{TEMPLATES, Template as DocTemplate};
use isms_domain::{Permission, Role};
use isms_store::{
    AckStatus, DocVersion, Document, DocumentInput, DocumentQuery, DraftInput, StoreError, Tenant,
    ToRead,
};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::documents::export::{self, DocFormat, key};
use crate::documents::markdown;
use crate::error::WebError;

/// The register's filters as sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    doc_type: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    saved: String,
}

#[derive(Template)]
#[template(path = "page_documents.html")]
struct RegisterPage {
    chrome: Option<Chrome>,
    docs: Vec<Document>,
    /// Acknowledgement completion per person.
    people: Vec<isms_store::PersonAcks>,
    filter: Filter,
    today: String,
    templates: &'static [DocTemplate],
    types: &'static [DocType],
    states: &'static [VersionState],
    can_edit: bool,
    is_admin: bool,
    four_eyes: bool,
    settings_version: i64,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
}

fn opt<T: std::str::FromStr<Err = String>>(field: &str, v: &str) -> Result<Option<T>, WebError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|e: String| WebError::invalid(format!("{field}: {e}")))
}

async fn register(
    state: &AppState,
    user: &CurrentUser,
    filter: Filter,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, WebError> {
    let query = DocumentQuery {
        q: Some(filter.q.clone()),
        doc_type: opt("type", &filter.doc_type)?,
        status: opt("status", &filter.status)?,
        state: opt("state", &filter.state)?,
        overdue: filter.overdue == "1" || filter.overdue == "true",
    };
    let docs = state.store.documents(user.0.org_id, &query).await?;
    let settings = state.store.document_settings(user.0.org_id).await?;
    let today = isms_store::now().get(..10).unwrap_or("").to_owned();
    let notice = match filter.saved.as_str() {
        "" => None,
        s => Some(format!("Saved: {s}.")),
    };
    let people = state
        .store
        .acknowledgements_by_person(user.0.org_id)
        .await?;
    let html = render(&RegisterPage {
        chrome: Some(Chrome::new(state, &user.0, "documents").await?),
        docs,
        people,
        filter,
        today,
        templates: TEMPLATES,
        types: DocType::ALL,
        states: &[
            VersionState::Draft,
            VersionState::InReview,
            VersionState::Approved,
            VersionState::Published,
        ],
        can_edit: user.0.role.can(Permission::EditIsms),
        is_admin: user.0.role.can(Permission::ManageMembers),
        four_eyes: settings.four_eyes,
        settings_version: settings.version,
        csrf: user.0.csrf_token.clone(),
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(filter): Query<Filter>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    register(&state, &user, filter, StatusCode::OK, None).await
}

/// What the create form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    template: String,
    #[serde(default)]
    title: String,
    #[serde(default, rename = "type")]
    doc_type: String,
}

fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<CreateForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let input = DocumentInput {
        template: some(&f.template),
        title: some(&f.title),
        doc_type: some(&f.doc_type),
        ..Default::default()
    };
    match state
        .store
        .create_document(user.0.org_id, &input, &user.actor())
        .await
    {
        Ok(d) => Ok(Redirect::to(&format!("/documents/{}?saved=created", d.id)).into_response()),
        Err(StoreError::Invalid(m)) => {
            register(
                &state,
                &user,
                Filter::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(format!("Nothing was created: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    four_eyes: String,
    #[serde(default)]
    version: String,
}

pub async fn save_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<SettingsForm>,
) -> Result<Response, WebError> {
    user.require(Permission::ManageMembers)?;
    let version = f.version.trim().parse().unwrap_or(0);
    state
        .store
        .set_document_settings(user.0.org_id, f.four_eyes == "on", version, &user.actor())
        .await?;
    Ok(Redirect::to("/documents?saved=settings").into_response())
}

/// A link to a clause or control the document addresses.
#[derive(Debug, Clone)]
struct RefLink {
    label: String,
    href: Option<String>,
}

#[derive(Template)]
#[template(path = "page_document.html")]
#[allow(clippy::struct_excessive_bools)]
struct DocumentPage {
    chrome: Option<Chrome>,
    d: Document,
    key: String,
    shown: Option<DocVersion>,
    shown_html: String,
    versions: Vec<DocVersion>,
    diff: Option<(String, String, Vec<DiffLine>)>,
    acks: Vec<AckStatus>,
    my_ack: Option<String>,
    must_ack: bool,
    refs: Vec<RefLink>,
    types: &'static [DocType],
    classifications: &'static [Classification],
    roles: Vec<(&'static str, &'static str)>,
    overdue: bool,
    can_read: bool,
    can_edit: bool,
    can_approve: bool,
    four_eyes: bool,
    draft_body: String,
    draft_note: String,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
}

impl DocumentPage {
    fn state_of(&self) -> Option<VersionState> {
        self.d.current.as_ref().map(|v| v.state)
    }
    fn is_draft(&self) -> bool {
        self.state_of() == Some(VersionState::Draft)
    }
    fn in_review(&self) -> bool {
        self.state_of() == Some(VersionState::InReview)
    }
    fn approved(&self) -> bool {
        self.state_of() == Some(VersionState::Approved)
    }
    fn active(&self) -> bool {
        self.d.status == DocStatus::Active
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    version: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    saved: String,
}

#[allow(clippy::too_many_arguments)]
async fn document_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    q: &ShowQuery,
    status: StatusCode,
    draft: Option<(String, String)>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let d = state.store.document(org, id).await?;
    let can_read = user.0.role.can(Permission::ReadIsms);
    if !can_read && d.published.is_none() {
        return Err(WebError::not_found("There is no such document."));
    }
    let versions = if can_read {
        state.store.document_versions(org, id).await?
    } else {
        d.published.iter().cloned().collect()
    };
    let shown = match q.version.trim() {
        "" if can_read => d.current.clone(),
        "" => d.published.clone(),
        l => Some(
            versions
                .iter()
                .find(|v| v.label == l)
                .cloned()
                .ok_or_else(|| WebError::not_found(format!("This document has no version {l}.")))?,
        ),
    };
    let shown_html = shown
        .as_ref()
        .map(|v| markdown::to_html(&v.body))
        .unwrap_or_default();
    let diff = if can_read && (!q.from.is_empty() || !q.to.is_empty()) {
        let (a, b) = crate::documents::api::diff_pair(&versions, Some(&q.from), Some(&q.to))?;
        Some((
            a.label.clone(),
            b.label.clone(),
            isms_domain::document::diff(&a.body, &b.body),
        ))
    } else {
        None
    };
    let acks = if can_read {
        state.store.document_ack_status(org, id).await?
    } else {
        Vec::new()
    };
    let my_ack = state.store.acknowledged_at(org, id, user.0.user_id).await?;
    let must_ack = my_ack.is_none()
        && d.status == DocStatus::Active
        && state
            .store
            .documents_to_read(org, user.0.user_id)
            .await?
            .iter()
            .any(|t| t.document_id == id);
    let mut refs = Vec::new();
    for r in &d.requirements {
        let href = match r.strip_prefix("A.") {
            Some(c) if can_read => Some(format!("/soa/{c}")),
            _ => state
                .store
                .requirement_by_ref("iso27001-2022", r, Tenant::Org(org))
                .await?
                .map(|x| format!("/requirements/{}", x.id)),
        };
        refs.push(RefLink {
            label: r.clone(),
            href,
        });
    }
    let (draft_body, draft_note) = draft.unwrap_or_else(|| match &d.current {
        Some(v) => (
            v.body.clone(),
            if v.state == VersionState::Published {
                String::new()
            } else {
                v.change_note.clone()
            },
        ),
        None => (String::new(), String::new()),
    });
    let today = isms_store::now();
    let overdue = d.review_overdue(today.get(..10).unwrap_or(""));
    let settings = state.store.document_settings(org).await?;
    let notice = match q.saved.as_str() {
        "" => None,
        s => Some(format!("Done: {s}.")),
    };
    let title = d.title.clone();
    let chrome = Chrome::new(
        state,
        &user.0,
        if can_read { "documents" } else { "to-read" },
    )
    .await?
    .detail(&[], title);
    let html = render(&DocumentPage {
        chrome: Some(chrome),
        key: key(d.id),
        d,
        shown,
        shown_html,
        versions,
        diff,
        acks,
        my_ack,
        must_ack,
        refs,
        types: DocType::ALL,
        classifications: Classification::ALL,
        roles: Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
        overdue,
        can_read,
        can_edit: user.0.role.can(Permission::EditIsms),
        can_approve: user.0.role.can(Permission::Approve),
        four_eyes: settings.four_eyes,
        draft_body,
        draft_note,
        csrf: user.0.csrf_token.clone(),
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, WebError> {
    document_page(&state, &user, document, &q, StatusCode::OK, None, None).await
}

/// What the draft form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DraftForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    change_note: String,
    #[serde(default)]
    major: String,
    #[serde(default)]
    version: String,
}

fn done(id: i64, what: &str) -> Response {
    Redirect::to(&format!("/documents/{id}?saved={what}")).into_response()
}

/// A step's outcome: back to the page, or the page again with the reason.
async fn outcome(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    r: Result<Document, StoreError>,
    what: &str,
    draft: Option<(String, String)>,
) -> Result<Response, WebError> {
    match r {
        Ok(_) => Ok(done(id, what)),
        Err(StoreError::Invalid(m)) => {
            document_page(
                state,
                user,
                id,
                &ShowQuery::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                draft,
                Some(format!("Nothing was saved: {m}.")),
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            document_page(
                state,
                user,
                id,
                &ShowQuery::default(),
                StatusCode::CONFLICT,
                draft,
                Some(format!("Nothing was saved: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn save_draft(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
    Form(f): Form<DraftForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let r = state
        .store
        .save_document_draft(
            user.0.org_id,
            document,
            &DraftInput {
                body: Some(f.body.replace("\r\n", "\n")),
                change_note: Some(f.change_note.clone()),
                major: f.major == "on",
                version: f.version.trim().parse().ok(),
            },
            &user.actor(),
        )
        .await;
    outcome(
        &state,
        &user,
        document,
        r,
        "draft saved",
        Some((f.body, f.change_note)),
    )
    .await
}

/// What the details form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DetailsForm {
    #[serde(default)]
    title: String,
    #[serde(default, rename = "type")]
    doc_type: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    classification: String,
    #[serde(default)]
    review_months: String,
    #[serde(default)]
    reading_days: String,
    /// Separated by commas, semicolons or spaces.
    #[serde(default)]
    requirements: String,
    #[serde(default)]
    version: String,
}

pub async fn save_details(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
    Form(f): Form<DetailsForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let months = match f.review_months.trim() {
        "" => None,
        m => Some(m.parse::<i64>().map_err(|_| {
            WebError::invalid(format!("review_months: '{m}' is not a whole number"))
        })?),
    };
    let reading_days = match f.reading_days.trim() {
        "" => None,
        d => Some(d.parse::<i64>().map_err(|_| {
            WebError::invalid(format!("reading_days: '{d}' is not a whole number of days"))
        })?),
    };
    let input = DocumentInput {
        title: Some(f.title),
        doc_type: some(&f.doc_type),
        owner: Some(f.owner),
        classification: some(&f.classification),
        review_months: months,
        reading_days,
        requirements: Some(
            f.requirements
                .split([',', ';', ' ', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        version: f.version.trim().parse().ok(),
        ..Default::default()
    };
    let r = state
        .store
        .update_document(user.0.org_id, document, &input, &user.actor())
        .await;
    outcome(&state, &user, document, r, "details saved", None).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SubmitForm {
    #[serde(default)]
    reviewers: String,
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
    Form(f): Form<SubmitForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let reviewers: Vec<String> = f
        .reviewers
        .split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let r = state
        .store
        .submit_document(user.0.org_id, document, &reviewers, &user.actor())
        .await;
    outcome(&state, &user, document, r, "submitted for review", None).await
}

pub async fn reject(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::Approve)?;
    let r = state
        .store
        .reject_document(user.0.org_id, document, &user.actor())
        .await;
    outcome(&state, &user, document, r, "sent back to draft", None).await
}

pub async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::Approve)?;
    let r = state
        .store
        .approve_document(user.0.org_id, document, &user.actor())
        .await;
    outcome(&state, &user, document, r, "approved", None).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PublishForm {
    /// "", "all", "employees", a role, or "people".
    #[serde(default)]
    acknowledge: String,
    /// With "people": e-mail addresses.
    #[serde(default)]
    people: String,
    /// Days to acknowledge ("" for the document's reading period).
    #[serde(default)]
    reading_days: String,
}

pub async fn publish(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
    Form(f): Form<PublishForm>,
) -> Result<Response, WebError> {
    user.require(Permission::Approve)?;
    let audience = match f.acknowledge.trim() {
        "" => None,
        "people" => {
            let list: Vec<serde_json::Value> = f
                .people
                .split([',', ';', ' ', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| serde_json::Value::String(s.to_owned()))
                .collect();
            Some(Audience::parse(&serde_json::Value::Array(list)).map_err(WebError::invalid)?)
        }
        other => Some(
            Audience::parse(&serde_json::Value::String(other.to_owned()))
                .map_err(WebError::invalid)?,
        ),
    };
    let reading_days = match f.reading_days.trim() {
        "" => None,
        d => Some(d.parse::<i64>().map_err(|_| {
            WebError::invalid(format!("reading_days: '{d}' is not a whole number of days"))
        })?),
    };
    let r = state
        .store
        .publish_document(
            user.0.org_id,
            document,
            audience.as_ref(),
            reading_days,
            &user.actor(),
        )
        .await;
    outcome(&state, &user, document, r, "published", None).await
}

pub async fn retire(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::Approve)?;
    let r = state
        .store
        .retire_document(user.0.org_id, document, &user.actor())
        .await;
    outcome(&state, &user, document, r, "retired", None).await
}

pub async fn reviewed(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let r = state
        .store
        .mark_document_reviewed(user.0.org_id, document, &user.actor())
        .await;
    outcome(&state, &user, document, r, "review recorded", None).await
}

pub async fn remind(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let o = crate::documents::remind::remind_late(
        &state.store,
        state.config.mailer.as_ref(),
        &crate::tasks::base_url(&state, &headers),
        &user.0.org(),
        document,
    )
    .await?;
    let mail = match (&state.config.mailer, &o.mail_error) {
        (None, _) => " in the inbox (no e-mail: no SMTP relay is configured)".to_owned(),
        (Some(_), None) => format!(", {} by e-mail", o.emailed),
        (Some(_), Some(_)) => format!(
            ", {} by e-mail before the SMTP relay failed (see the server log)",
            o.emailed
        ),
    };
    Ok(done(
        document,
        &format!(
            "{} reminder(s) sent{mail} (anyone reminded today is not sent another)",
            o.sent
        ),
    ))
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AckForm {
    /// Where to go afterwards: "list" for the documents to read.
    #[serde(default)]
    back: String,
}

pub async fn acknowledge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
    Form(f): Form<AckForm>,
) -> Result<Response, WebError> {
    let d = state.store.document(user.0.org_id, document).await?;
    if d.published.is_none() && !user.0.role.can(Permission::ReadIsms) {
        return Err(WebError::not_found("There is no such document."));
    }
    let a = state
        .store
        .acknowledge_document(user.0.org_id, document, user.0.user_id, &user.actor())
        .await?;
    let what = format!("acknowledged version {}", a.version);
    if f.back == "list" {
        return Ok(Redirect::to(&format!("/me/documents?saved={what}")).into_response());
    }
    Ok(done(document, &what))
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
    #[serde(default)]
    version: String,
}

pub async fn export_document(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(document): Path<i64>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let format = DocFormat::parse(if q.format.is_empty() {
        "pdf"
    } else {
        &q.format
    })
    .map_err(WebError::invalid)?;
    let org = user.0.org();
    let (bytes, name) = export::document_file(
        &state.store,
        &org,
        document,
        Some(q.version.as_str()),
        format,
    )
    .await?;
    Ok(export::attachment(bytes, &name, format.content_type()))
}

async fn table_export(
    state: &AppState,
    user: &CurrentUser,
    what: &str,
    q: &ExportQuery,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let format = crate::isms_reports::Format::parse(if q.format.is_empty() {
        "csv"
    } else {
        &q.format
    })
    .map_err(WebError::invalid)?;
    let org = user.0.org();
    let (bytes, name) = export::table_file(&state.store, &org, what, format).await?;
    Ok(export::attachment(bytes, &name, format.content_type()))
}

pub async fn export_register(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    table_export(&state, &user, "register", &q).await
}

pub async fn export_acknowledgements(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    table_export(&state, &user, "acknowledgements", &q).await
}

#[derive(Template)]
#[template(path = "page_documents_to_read.html")]
struct ToReadPage {
    chrome: Option<Chrome>,
    items: Vec<ToRead>,
    notice: Option<String>,
}

pub async fn to_read(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filter>,
) -> Result<Response, WebError> {
    let items = state
        .store
        .documents_to_read(user.0.org_id, user.0.user_id)
        .await?;
    Ok(render(&ToReadPage {
        chrome: Some(Chrome::new(&state, &user.0, "to-read").await?),
        items,
        notice: (!f.saved.is_empty()).then(|| format!("Done: {}.", f.saved)),
    })?
    .into_response())
}
