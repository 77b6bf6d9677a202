//! Nonconformity pages: the register (filters in the URL, overdue actions,
//! CSV/XLSX export, a form to raise one by hand) and a nonconformity's page
//! (correction, root cause by five whys or free text, corrective actions,
//! verification of effectiveness, closing).

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_domain::nonconformity::{NcStatus, RootCause, RootCauseMethod, Severity, Source};
use isms_store::{
    NcAction, NcActionInput, NcFilter, NcInput, NcSummary, Nonconformity, StoreError,
};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::isms_reports::Format;

/// The register's filters as sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    overdue: String,
}

impl Filter {
    fn store(&self) -> NcFilter {
        let opt = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        NcFilter {
            status: opt(&self.status),
            severity: opt(&self.severity),
            source: opt(&self.source),
            overdue: !self.overdue.is_empty(),
        }
    }
    fn query(&self) -> String {
        format!(
            "status={}&severity={}&source={}{}",
            self.status,
            self.severity,
            self.source,
            if self.overdue.is_empty() {
                ""
            } else {
                "&overdue=1"
            }
        )
    }
}

/// What the raise form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RaiseForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    requirement: String,
    #[serde(default)]
    owner: String,
    /// The management review it comes from (from the review's page).
    #[serde(default)]
    review_id: String,
    /// The control review it comes from (from the control's page).
    #[serde(default)]
    control_review_id: String,
    /// An incident's number or address, or a note.
    #[serde(default)]
    source_ref: String,
}

type Choices = Vec<(&'static str, &'static str)>;

#[derive(Template)]
#[template(path = "page_nonconformities.html")]
struct RegisterPage {
    chrome: Option<Chrome>,
    rows: Vec<NcSummary>,
    overdue: Vec<NcAction>,
    filter: Filter,
    export_query: String,
    statuses: Choices,
    severities: Choices,
    sources: Choices,
    form: RaiseForm,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
}

fn choices<T: Copy>(all: &[T], f: impl Fn(T) -> (&'static str, &'static str)) -> Choices {
    all.iter().map(|t| f(*t)).collect()
}

async fn register_page(
    state: &AppState,
    user: &CurrentUser,
    filter: Filter,
    status: StatusCode,
    form: Option<RaiseForm>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let chrome = Chrome::new(state, &user.0, "nonconformities").await?;
    let (rows, error) = match state.store.nonconformities(org, &filter.store()).await {
        Ok(rows) => (rows, error),
        Err(StoreError::Invalid(m)) => (Vec::new(), Some(format!("The filter is not valid: {m}."))),
        Err(e) => return Err(e.into()),
    };
    let today = isms_store::now();
    let overdue = state
        .store
        .overdue_nc_actions(org, today.get(..10).unwrap_or(""))
        .await?;
    let html = render(&RegisterPage {
        chrome: Some(chrome),
        rows,
        overdue,
        export_query: filter.query(),
        filter,
        statuses: choices(NcStatus::ALL, |s| (s.as_str(), s.label())),
        severities: choices(Severity::ALL, |s| (s.as_str(), s.label())),
        sources: choices(Source::ALL, |s| (s.as_str(), s.label())),
        form: form.unwrap_or_else(|| RaiseForm {
            severity: "minor".into(),
            source: "manual".into(),
            ..RaiseForm::default()
        }),
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn register(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(filter): Query<Filter>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    register_page(&state, &user, filter, StatusCode::OK, None, None).await
}

pub async fn raise(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<RaiseForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let opt = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
    let id = |field: &str, s: &str| -> Result<Option<i64>, StoreError> {
        match s.trim() {
            "" => Ok(None),
            v => v
                .parse()
                .map(Some)
                .map_err(|_| StoreError::Invalid(format!("{field}: '{v}' is not an id"))),
        }
    };
    let result = match (
        id("review_id", &f.review_id),
        id("control_review_id", &f.control_review_id),
    ) {
        (Ok(review_id), Ok(control_review_id)) => {
            state
                .store
                .create_nonconformity(
                    user.0.org_id,
                    &NcInput {
                        title: Some(f.title.clone()),
                        description: opt(&f.description),
                        severity: opt(&f.severity),
                        source: opt(&f.source),
                        requirement: opt(&f.requirement),
                        owner: opt(&f.owner),
                        review_id,
                        control_review_id,
                        source_ref: opt(&f.source_ref),
                        ..NcInput::default()
                    },
                    &user.actor(),
                )
                .await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match result {
        Ok(n) => {
            Ok(Redirect::to(&format!("/nonconformities/{}?saved=raised", n.id)).into_response())
        }
        Err(StoreError::Invalid(m)) => {
            register_page(
                &state,
                &user,
                Filter::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(f),
                Some(format!("The nonconformity was not raised: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
    #[serde(flatten)]
    filter: Filter,
}

pub async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let Ok(format @ (Format::Csv | Format::Xlsx)) = Format::parse(&q.format) else {
        return Err(WebError::invalid(
            "The register is exported as CSV or XLSX.",
        ));
    };
    let filter = q.filter.store();
    state.store.nonconformities(user.0.org_id, &filter).await?;
    let org = isms_store::Org {
        id: user.0.org_id,
        slug: user.0.org_slug.clone(),
        name: user.0.org_name.clone(),
        created_at: String::new(),
    };
    let bytes = crate::internal_audit::export::nc_export(&state.store, &org, &filter, format)
        .await
        .map_err(|e| {
            tracing::error!("register export failed: {e}");
            WebError::internal()
        })?;
    Ok(crate::isms_reports::attachment(
        bytes,
        &format!("nonconformities.{}", format.extension()),
        format,
    ))
}

/// What the analysis form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AnalysisForm {
    #[serde(default)]
    description: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    correction: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    why1: String,
    #[serde(default)]
    why2: String,
    #[serde(default)]
    why3: String,
    #[serde(default)]
    why4: String,
    #[serde(default)]
    why5: String,
    #[serde(default)]
    cause: String,
    #[serde(default)]
    version: String,
}

impl AnalysisForm {
    fn from_nc(n: &Nonconformity) -> Self {
        let why = |i: usize| n.root_cause.whys.get(i).cloned().unwrap_or_default();
        AnalysisForm {
            description: n.description.clone(),
            severity: n.severity.as_str().into(),
            owner: n.owner.clone().unwrap_or_default(),
            correction: n.correction.clone(),
            method: n
                .root_cause
                .method
                .map_or("five_whys", RootCauseMethod::as_str)
                .into(),
            why1: why(0),
            why2: why(1),
            why3: why(2),
            why4: why(3),
            why5: why(4),
            cause: n.root_cause.text.clone(),
            version: n.version.to_string(),
        }
    }
    fn input(&self) -> Result<NcInput, StoreError> {
        let method: RootCauseMethod = self
            .method
            .parse()
            .map_err(|e| StoreError::Invalid(format!("method: {e}")))?;
        let root_cause = match method {
            RootCauseMethod::FiveWhys => RootCause {
                method: Some(method),
                whys: vec![
                    self.why1.clone(),
                    self.why2.clone(),
                    self.why3.clone(),
                    self.why4.clone(),
                    self.why5.clone(),
                ],
                text: String::new(),
            },
            RootCauseMethod::FreeText => RootCause {
                method: Some(method),
                whys: Vec::new(),
                text: self.cause.clone(),
            },
        };
        Ok(NcInput {
            description: Some(self.description.clone()),
            severity: Some(self.severity.clone()),
            owner: Some(self.owner.clone()),
            correction: Some(self.correction.clone()),
            root_cause: Some(root_cause),
            version: Some(
                self.version
                    .trim()
                    .parse()
                    .map_err(|_| StoreError::Invalid("version: required".into()))?,
            ),
            ..NcInput::default()
        })
    }
}

/// What the action form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    due_date: String,
}

#[derive(Template)]
#[template(path = "page_nonconformity.html")]
struct NcPage {
    chrome: Option<Chrome>,
    nc: Nonconformity,
    today: String,
    severities: Choices,
    form: AnalysisForm,
    action: ActionForm,
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

#[allow(clippy::too_many_arguments)]
async fn nc_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    status: StatusCode,
    form: Option<AnalysisForm>,
    action: Option<ActionForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let nc = state.store.nonconformity(user.0.org_id, id).await?;
    let chrome = Chrome::new(state, &user.0, "nonconformities")
        .await?
        .detail(&[], format!("{} {}", nc.key, nc.title));
    let today = isms_store::now();
    let html = render(&NcPage {
        chrome: Some(chrome),
        today: today.get(..10).unwrap_or("").to_owned(),
        severities: choices(Severity::ALL, |s| (s.as_str(), s.label())),
        form: form.unwrap_or_else(|| AnalysisForm::from_nc(&nc)),
        action: action.unwrap_or_default(),
        nc,
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
    Path(nonconformity): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let notice = q.saved.map(|s| format!("Saved: {s}."));
    nc_page(
        &state,
        &user,
        nonconformity,
        StatusCode::OK,
        None,
        None,
        None,
        notice,
    )
    .await
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(nonconformity): Path<i64>,
    Form(f): Form<AnalysisForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    let result = match f.input() {
        Ok(i) => {
            state
                .store
                .update_nonconformity(org, nonconformity, &i, &user.actor())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/nonconformities/{nonconformity}?saved=analysis"))
                .into_response(),
        ),
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
            let current = state.store.nonconformity(org, nonconformity).await?;
            let f = AnalysisForm {
                version: current.version.to_string(),
                ..f
            };
            nc_page(
                &state,
                &user,
                nonconformity,
                code,
                Some(f),
                None,
                Some(m),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// One answer for the loop's buttons: back to the page, or the page with the error.
async fn after(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    result: Result<Nonconformity, StoreError>,
    saved: &str,
    action: Option<ActionForm>,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/nonconformities/{id}?saved={saved}")).into_response()),
        Err(StoreError::Invalid(m)) => {
            nc_page(
                state,
                user,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                action,
                Some(format!("Nothing was saved: {m}.")),
                None,
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            nc_page(
                state,
                user,
                id,
                StatusCode::CONFLICT,
                None,
                action,
                Some(m),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn add_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(nonconformity): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = state
        .store
        .add_nc_action(
            user.0.org_id,
            nonconformity,
            &NcActionInput {
                title: Some(f.title.clone()),
                owner: Some(f.owner.clone()),
                due_date: Some(f.due_date.clone()),
            },
            &user.actor(),
        )
        .await;
    after(
        &state,
        &user,
        nonconformity,
        result,
        "corrective action",
        Some(f),
    )
    .await
}

pub async fn complete_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((nonconformity, action)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = state
        .store
        .complete_nc_action(user.0.org_id, nonconformity, action, &user.actor())
        .await;
    after(&state, &user, nonconformity, result, "action done", None).await
}

/// What the verification form sends.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    effective: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    version: String,
}

pub async fn verify(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(nonconformity): Path<i64>,
    Form(f): Form<VerifyForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = match f.effective.as_str() {
        "yes" | "no" => {
            state
                .store
                .verify_nonconformity(
                    user.0.org_id,
                    nonconformity,
                    f.effective == "yes",
                    &f.notes,
                    f.version.trim().parse().ok(),
                    &user.actor(),
                )
                .await
        }
        _ => Err(StoreError::Invalid(
            "effective: say whether the corrective action was effective".into(),
        )),
    };
    after(&state, &user, nonconformity, result, "verification", None).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    version: String,
}

pub async fn close(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(nonconformity): Path<i64>,
    Form(f): Form<CloseForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = state
        .store
        .close_nonconformity(
            user.0.org_id,
            nonconformity,
            f.version.trim().parse().ok(),
            &user.actor(),
        )
        .await;
    after(&state, &user, nonconformity, result, "closed", None).await
}
