//! Pages of applied controls (with their evidence, reviews and coverage),
//! the evidence list, the coverage view per framework, and metrics with
//! their trend charts.

use askama::Template;
use axum::Form;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_domain::controls::{
    ControlCategory, ControlStatus, Frequency, ReviewResult, ReviewSchedule,
};
use isms_store::{
    AppliedControl, ControlInput, ControlReview, ControlReviewInput, Covered, Evidence,
    FrameworkCoverage, MeasurementInput, Metric, MetricInput, RequirementKey, StoreError,
};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::controls::reports;
use crate::error::WebError;
use crate::isms_reports::{Format, attachment};

fn today() -> String {
    isms_store::now().get(..10).unwrap_or_default().to_owned()
}

/// The control form, as typed (kept after a refusal).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ControlForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    cost: String,
    #[serde(default)]
    effort: String,
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    review_schedule: String,
    #[serde(default)]
    next_review: String,
    /// Annex A ids separated by commas or spaces.
    #[serde(default)]
    annex_a: String,
    /// One `framework ref` per line.
    #[serde(default)]
    requirements: String,
    /// The reference measure (URN) to create the control from: fills what is left blank.
    #[serde(default)]
    reference_control: String,
    #[serde(default)]
    version: Option<i64>,
}

impl ControlForm {
    fn of(c: &AppliedControl) -> ControlForm {
        ControlForm {
            name: c.name.clone(),
            description: c.description.clone(),
            owner: c.owner.clone().unwrap_or_default(),
            category: c.category.as_str().to_owned(),
            status: c.status.as_str().to_owned(),
            cost: c.cost.to_string(),
            effort: c.effort.clone(),
            start_date: c.start_date.clone(),
            due_date: c.due_date.clone(),
            review_schedule: c
                .review_schedule
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            next_review: c.next_review.clone(),
            reference_control: String::new(),
            annex_a: c.annex_a().join(", "),
            requirements: c
                .requirements
                .iter()
                .filter(|r| r.framework != isms_catalog::ISO27001_2022)
                .map(|r| format!("{} {}", r.framework, r.ref_id))
                .collect::<Vec<_>>()
                .join("\n"),
            version: Some(c.version),
        }
    }

    fn input(&self) -> Result<ControlInput, StoreError> {
        let cost =
            match self.cost.trim() {
                "" => None,
                c => Some(c.parse().map_err(|_| {
                    StoreError::Invalid(format!("cost: '{c}' is not a whole number"))
                })?),
            };
        let mut requirements = Vec::new();
        for line in self
            .requirements
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let Some((framework, ref_id)) = line.split_once(char::is_whitespace) else {
                return Err(StoreError::Invalid(format!(
                    "requirements: '{line}': write the framework, a space and the requirement, e.g. nist-csf-2.0 PR.AA-05"
                )));
            };
            requirements.push(RequirementKey {
                framework: framework.trim().to_owned(),
                ref_id: ref_id.trim().to_owned(),
            });
        }
        Ok(ControlInput {
            name: Some(self.name.clone()),
            description: Some(self.description.clone()),
            owner: Some(self.owner.clone()),
            category: Some(self.category.clone()).filter(|c| !c.is_empty()),
            status: Some(self.status.clone()).filter(|c| !c.is_empty()),
            cost,
            effort: Some(self.effort.clone()),
            start_date: Some(self.start_date.clone()),
            due_date: Some(self.due_date.clone()),
            review_schedule: Some(self.review_schedule.clone()),
            next_review: Some(self.next_review.clone()),
            annex_a: Some(
                self.annex_a
                    .split([',', ' ', ';'])
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            requirements: Some(requirements),
            reference_control: Some(self.reference_control.trim().to_owned())
                .filter(|r| !r.is_empty()),
            version: self.version,
        })
    }
}

/// Choices of the form's selects.
pub struct Choices {
    categories: &'static [ControlCategory],
    statuses: &'static [ControlStatus],
    schedules: &'static [ReviewSchedule],
    results: &'static [ReviewResult],
    frequencies: &'static [Frequency],
}

const CHOICES: Choices = Choices {
    categories: ControlCategory::ALL,
    statuses: ControlStatus::ALL,
    schedules: ReviewSchedule::ALL,
    results: ReviewResult::ALL,
    frequencies: Frequency::ALL,
};

#[derive(Template)]
#[template(path = "page_controls.html")]
struct ControlsPage {
    chrome: Option<Chrome>,
    controls: Vec<AppliedControl>,
    overdue: Vec<isms_store::OverdueReview>,
    frameworks: Vec<(String, String)>,
    form: ControlForm,
    choices: Choices,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
    /// The catalog of reference measures, filtered by `ref_q` (at most 50 shown).
    measures: Vec<isms_store::ReferenceMeasure>,
    ref_q: String,
}

/// How many reference measures the controls page lists at once.
const MEASURES_SHOWN: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Words to find reference measures by.
    #[serde(default)]
    ref_q: String,
}

async fn controls_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    form: ControlForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    controls_page_with(state, user, status, form, error, "").await
}

async fn controls_page_with(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    form: ControlForm,
    error: Option<String>,
    ref_q: &str,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let chrome = Chrome::new(state, &user.0, "controls").await?;
    let frameworks = state
        .store
        .frameworks(isms_store::Tenant::Org(org))
        .await?
        .into_iter()
        .map(|f| (f.slug, f.name))
        .collect();
    let html = render(&ControlsPage {
        chrome: Some(chrome),
        controls: state.store.controls(org).await?,
        overdue: state.store.overdue_control_reviews(org, &today()).await?,
        frameworks,
        form,
        choices: CHOICES,
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
        measures: state
            .store
            .reference_measures(isms_store::Tenant::Org(org), ref_q, MEASURES_SHOWN)
            .await?,
        ref_q: ref_q.to_owned(),
    })?;
    Ok((status, html).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let form = ControlForm {
        category: "process".into(),
        status: "planned".into(),
        ..ControlForm::default()
    };
    controls_page_with(&state, &user, StatusCode::OK, form, None, q.ref_q.trim()).await
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<ControlForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = match f.input() {
        Ok(mut input) => {
            input.version = None;
            state
                .store
                .create_control(user.0.org_id, &input, &user.actor())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/controls/{}", c.id)).into_response()),
        Err(StoreError::Invalid(m)) => {
            controls_page(
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

#[derive(Template)]
#[template(path = "page_control.html")]
struct ControlPage {
    chrome: Option<Chrome>,
    control: AppliedControl,
    covered: Vec<Covered>,
    evidence: Vec<Evidence>,
    reviews: Vec<ControlReview>,
    /// The risks this control treats (linked from the risks' side).
    risks: Vec<isms_store::RiskRef>,
    form: ControlForm,
    choices: Choices,
    today: String,
    max_upload: String,
    /// The requirement a nonconformity raised from a review names: the
    /// control's first Annex A control (`8.5`), or empty.
    nc_requirement: String,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
}

async fn control_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    status: StatusCode,
    form: Option<ControlForm>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let control = state.store.control(org, id).await?;
    let chrome = Chrome::new(state, &user.0, "controls")
        .await?
        .detail(&[], control.name.clone());
    let html = render(&ControlPage {
        chrome: Some(chrome),
        covered: state.store.control_coverage(org, id).await?,
        evidence: state.store.evidence_list(org, Some(id)).await?,
        reviews: state.store.control_reviews(org, id).await?,
        risks: state.store.risks_for_applied_control(org, id).await?,
        form: form.unwrap_or_else(|| ControlForm::of(&control)),
        nc_requirement: control.annex_a().into_iter().next().unwrap_or_default(),
        control,
        choices: CHOICES,
        today: today(),
        max_upload: crate::controls::blobs::human_size(state.config.max_upload_bytes),
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    control_page(&state, &user, id, StatusCode::OK, None, None).await
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ControlForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = match f.input() {
        Ok(input) => {
            state
                .store
                .update_control(user.0.org_id, id, &input, &user.actor())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/controls/{id}")).into_response()),
        Err(StoreError::Invalid(m)) => {
            control_page(
                &state,
                &user,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(f),
                Some(format!("Nothing was saved: {m}.")),
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            control_page(&state, &user, id, StatusCode::CONFLICT, Some(f), Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Uploads evidence for a control (multipart: `file` and the evidence fields).
pub async fn upload_evidence(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    state.store.control(org, id).await?;
    let result = async {
        let mut up = crate::controls::upload::read(&state, &headers, body).await?;
        up.input.controls = Some(vec![id]);
        if up.file.is_none() && up.input.url.as_deref().is_none_or(|u| u.trim().is_empty()) {
            return Err(WebError::invalid("file: choose a file, or give a link"));
        }
        if up.file.is_some() {
            up.input.url = None;
        }
        state
            .store
            .create_evidence(org, &up.input, up.file.as_ref(), &user.actor())
            .await
            .map_err(WebError::from)
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/controls/{id}#evidence")).into_response()),
        Err(e) if e.status.is_client_error() => {
            control_page(
                &state,
                &user,
                id,
                e.status,
                None,
                Some(format!("Nothing was stored: {}", e.detail)),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    reviewed_on: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    reviewer: String,
    #[serde(default)]
    notes: String,
}

pub async fn add_review(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let input = ControlReviewInput {
        reviewed_on: Some(f.reviewed_on),
        result: Some(f.result).filter(|r| !r.is_empty()),
        reviewer: Some(f.reviewer).filter(|r| !r.trim().is_empty()),
        notes: Some(f.notes),
        evidence_id: None,
    };
    match state
        .store
        .record_control_review(user.0.org_id, id, &input, &user.actor())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/controls/{id}#reviews")).into_response()),
        Err(StoreError::Invalid(m)) => {
            control_page(
                &state,
                &user,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(format!("The review was not recorded: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
}

/// The control register as PDF, XLSX or CSV.
pub async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(q.format.as_deref().unwrap_or("csv")).map_err(WebError::invalid)?;
    let org = user.0.org();
    let doc = reports::register_document(&state.store, &org).await?;
    let bytes = reports::render_register(doc, format)
        .await
        .map_err(|e| export_failed(&e))?;
    Ok(attachment(
        bytes,
        &format!("controls-{}.{}", org.slug, format.extension()),
        format,
    ))
}

fn export_failed(e: &str) -> WebError {
    tracing::error!("control report export: {e}");
    WebError::internal()
}

/// The coverage of a framework as PDF, XLSX or CSV.
pub async fn coverage_export(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(framework): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(q.format.as_deref().unwrap_or("csv")).map_err(WebError::invalid)?;
    let org = user.0.org();
    let doc = reports::coverage_document(&state.store, &org, &framework).await?;
    let name = format!(
        "coverage-{}-{}.{}",
        doc.framework,
        org.slug,
        format.extension()
    );
    let bytes = reports::render_coverage(doc, format)
        .await
        .map_err(|e| export_failed(&e))?;
    Ok(attachment(bytes, &name, format))
}

/// The metrics report (PDF with a trend chart per metric).
pub async fn metrics_export(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let format =
        reports::metrics_format(q.format.as_deref().unwrap_or("pdf")).map_err(WebError::invalid)?;
    let org = user.0.org();
    let doc = reports::metrics_document(&state.store, &org).await?;
    let bytes = reports::render_metrics(doc)
        .await
        .map_err(|e| export_failed(&e))?;
    Ok(attachment(
        bytes,
        &format!("metrics-{}.pdf", org.slug),
        format,
    ))
}

#[derive(Template)]
#[template(path = "page_coverage.html")]
struct CoveragePage {
    chrome: Option<Chrome>,
    coverage: FrameworkCoverage,
    names: std::collections::HashMap<i64, String>,
}

// Called from the template with what it holds (references).
#[allow(clippy::trivially_copy_pass_by_ref)]
impl CoveragePage {
    fn name_of(&self, id: &i64) -> String {
        self.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    }
}

pub async fn coverage(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(framework): Path<String>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let org = user.0.org_id;
    let coverage = state.store.framework_coverage(org, &framework).await?;
    let (names, _) = state.store.control_names(org).await?;
    let chrome = Chrome::new(&state, &user.0, "controls")
        .await?
        .detail(&[], format!("Coverage of {}", coverage.name));
    Ok(render(&CoveragePage {
        chrome: Some(chrome),
        coverage,
        names,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "page_evidence.html")]
struct EvidencePage {
    chrome: Option<Chrome>,
    evidence: Vec<Evidence>,
    soon: String,
}

pub async fn evidence(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let chrome = Chrome::new(&state, &user.0, "evidence").await?;
    let soon = isms_store::time_from_now(time::Duration::days(30))
        .get(..10)
        .unwrap_or_default()
        .to_owned();
    Ok(render(&EvidencePage {
        chrome: Some(chrome),
        evidence: state.store.evidence_list(user.0.org_id, None).await?,
        soon,
    })?
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    revision: Option<i64>,
}

pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<DownloadQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    crate::controls::api::download(&state, user.0.org_id, id, q.revision).await
}

// ---------------------------------------------------------------- metrics

#[derive(Debug, Default, Clone, Deserialize)]
pub struct MetricForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    information_need: String,
    #[serde(default)]
    measured: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    red_threshold: String,
    #[serde(default)]
    frequency: String,
    #[serde(default)]
    evaluates: String,
    /// The library metric definition (URN) to create the metric from.
    #[serde(default)]
    metric_definition: String,
}

impl MetricForm {
    fn input(&self) -> Result<MetricInput, StoreError> {
        let number = |field: &str, v: &str| -> Result<Option<f64>, StoreError> {
            match v.trim() {
                "" => Ok(None),
                t => t
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| StoreError::Invalid(format!("{field}: '{t}' is not a number"))),
            }
        };
        Ok(MetricInput {
            name: Some(self.name.clone()),
            information_need: Some(self.information_need.clone()),
            measured: Some(self.measured.clone()),
            method: Some(self.method.clone()),
            unit: Some(self.unit.clone()),
            target: number("target", &self.target)?,
            direction: Some(self.direction.clone()).filter(|d| !d.is_empty()),
            red_threshold: number("red_threshold", &self.red_threshold)?,
            frequency: Some(self.frequency.clone()).filter(|d| !d.is_empty()),
            evaluates: Some(self.evaluates.clone()),
            metric_definition: Some(self.metric_definition.trim().to_owned())
                .filter(|d| !d.is_empty()),
            ..MetricInput::default()
        })
    }
}

#[derive(Template)]
#[template(path = "page_metrics.html")]
struct MetricsPage {
    chrome: Option<Chrome>,
    metrics: Vec<Metric>,
    /// Metric definitions of imported libraries to create metrics from.
    definitions: Vec<isms_store::MetricTemplate>,
    form: MetricForm,
    choices: Choices,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
}

async fn metrics_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    form: MetricForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "metrics").await?;
    let html = render(&MetricsPage {
        chrome: Some(chrome),
        metrics: state.store.metrics(user.0.org_id).await?,
        definitions: state
            .store
            .metric_templates(isms_store::Tenant::Org(user.0.org_id))
            .await?,
        form,
        choices: CHOICES,
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn metrics(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let form = MetricForm {
        direction: "higher".into(),
        frequency: "monthly".into(),
        ..MetricForm::default()
    };
    metrics_page(&state, &user, StatusCode::OK, form, None).await
}

pub async fn create_metric(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<MetricForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = match f.input() {
        Ok(input) => {
            state
                .store
                .create_metric(user.0.org_id, &input, &user.actor())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => Ok(Redirect::to(&format!("/metrics/{}", m.id)).into_response()),
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            metrics_page(
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

pub async fn starter_metrics(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    state
        .store
        .add_starter_metrics(user.0.org_id, &user.actor())
        .await?;
    Ok(Redirect::to("/metrics").into_response())
}

#[derive(Template)]
#[template(path = "page_metric.html")]
struct MetricPage {
    chrome: Option<Chrome>,
    metric: Metric,
    measurements: Vec<isms_store::Measurement>,
    chart: String,
    today: String,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
}

// Called from the template with what it holds (references).
#[allow(clippy::unused_self, clippy::trivially_copy_pass_by_ref)]
impl MetricPage {
    fn value(&self, v: &f64) -> String {
        isms_reports::svg::format_value(*v)
    }
}

async fn metric_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let metric = state.store.metric(org, id).await?;
    let measurements = state.store.measurements(org, &metric).await?;
    let points: Vec<(String, f64)> = measurements
        .iter()
        .map(|m| (m.date.clone(), m.value))
        .collect();
    let chart = isms_reports::svg::trend(
        &format!("Trend of {} against its target", metric.name),
        &metric.unit,
        &points,
        metric.target,
    );
    let chrome = Chrome::new(state, &user.0, "metrics")
        .await?
        .detail(&[], metric.name.clone());
    let html = render(&MetricPage {
        chrome: Some(chrome),
        metric,
        measurements,
        chart,
        today: today(),
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn metric(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    metric_page(&state, &user, id, StatusCode::OK, None).await
}

#[derive(Debug, Deserialize)]
pub struct MeasurementForm {
    #[serde(default)]
    value: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
}

pub async fn add_measurement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<MeasurementForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let value = f.value.trim().parse::<f64>().ok();
    if value.is_none() {
        return metric_page(
            &state,
            &user,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(format!(
                "Nothing was saved: value: '{}' is not a number.",
                f.value
            )),
        )
        .await;
    }
    let input = MeasurementInput {
        value,
        date: Some(f.date),
        unit: None,
        note: Some(f.note),
    };
    match state
        .store
        .add_measurement(user.0.org_id, id, &input, &user.actor())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/metrics/{id}")).into_response()),
        Err(StoreError::Invalid(m)) => {
            metric_page(
                &state,
                &user,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(format!("Nothing was saved: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
