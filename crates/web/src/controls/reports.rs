//! The control register, the coverage of a framework and the metrics report
//! as documents, shared by the pages, the API and the CLI (`isms report
//! controls|coverage|metrics`). Each document is built from a few set-based
//! queries, then rendered off the async runtime.

use std::collections::BTreeMap;

use isms_reports::controls::{
    ControlLine, ControlRegister, CoverageDocument, CoverageLine, MappedControl,
};
use isms_reports::metrics::{MetricLine, MetricsDocument};
use isms_store::{Org, Store, StoreError};

use axum::extract::{Path, Query, State};
use axum::response::Response;
use isms_domain::Permission;

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};
use crate::isms_reports::{Format, attachment};

/// The control register: every applied control with its links per
/// framework, latest review and evidence figures.
pub async fn register_document(store: &Store, org: &Org) -> Result<ControlRegister, StoreError> {
    let controls = store.controls(org.id).await?;
    let facts = store.control_facts(org.id).await?;
    let currency = store.org_settings(org.id).await?.currency;
    let date = controls
        .iter()
        .map(|c| c.updated_at.as_str())
        .max()
        .unwrap_or("")
        .to_owned();
    let lines = controls
        .into_iter()
        .map(|c| {
            let f = facts.get(&c.id).cloned().unwrap_or_default();
            let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for r in &c.requirements {
                by.entry(r.framework.clone())
                    .or_default()
                    .push(r.ref_id.clone());
            }
            for refs in by.values_mut() {
                refs.sort();
            }
            ControlLine {
                id: c.id,
                category: c.category.label().to_owned(),
                status: c.status.label().to_owned(),
                owner: c.owner.clone().unwrap_or_default(),
                cost: c.cost,
                effort: c.effort.clone(),
                start_date: c.start_date.clone(),
                due_date: c.due_date.clone(),
                review_schedule: c
                    .review_schedule
                    .map(|s| s.label().to_owned())
                    .unwrap_or_default(),
                next_review: c.next_review.clone(),
                requirements: by.into_iter().collect(),
                latest_review: f
                    .latest_review
                    .map(|(on, result, by)| {
                        let label = result
                            .parse::<isms_domain::controls::ReviewResult>()
                            .map_or(result.clone(), |r| r.label().to_owned());
                        if by.is_empty() {
                            format!("{label} on {on}")
                        } else {
                            format!("{label} on {on} by {by}")
                        }
                    })
                    .unwrap_or_default(),
                evidence: f.evidence,
                evidence_expired: f.evidence_expired,
                next_expiry: f.next_expiry,
                description: c.description,
                name: c.name,
            }
        })
        .collect();
    Ok(ControlRegister {
        organisation: org.name.clone(),
        date,
        currency,
        controls: lines,
    })
}

/// The coverage of `framework` (slug or number; 404 when not installed).
pub async fn coverage_document(
    store: &Store,
    org: &Org,
    framework: &str,
) -> Result<CoverageDocument, StoreError> {
    let c = store.framework_coverage(org.id, framework).await?;
    let (names, date) = store.control_names(org.id).await?;
    let name = |id: &i64| names.get(id).cloned().unwrap_or_else(|| format!("#{id}"));
    Ok(CoverageDocument {
        organisation: org.name.clone(),
        date,
        framework: c.framework,
        framework_name: c.name,
        implemented: c.implemented,
        planned: c.planned,
        none: c.none,
        lines: c
            .rows
            .into_iter()
            .map(|r| CoverageLine {
                coverage: r.coverage.as_str().to_owned(),
                coverage_label: r.coverage.label().to_owned(),
                controls: r.controls.iter().map(name).collect(),
                mapped: r
                    .via_mappings
                    .iter()
                    .map(|id| MappedControl {
                        name: name(id),
                        derived: r.via_derived.contains(id),
                    })
                    .collect(),
                ref_id: r.ref_id,
                title: r.title,
            })
            .collect(),
    })
}

/// Every metric with its definition, latest value, status and trend.
pub async fn metrics_document(store: &Store, org: &Org) -> Result<MetricsDocument, StoreError> {
    let metrics = store.metrics(org.id).await?;
    let mut all = store.all_measurements(org.id, &metrics).await?;
    let mut date = String::new();
    let lines = metrics
        .into_iter()
        .map(|m| {
            let points: Vec<(String, f64)> = all
                .remove(&m.id)
                .unwrap_or_default()
                .into_iter()
                .map(|x| (x.date, x.value))
                .collect();
            if m.updated_at > date {
                date.clone_from(&m.updated_at);
            }
            if let Some((d, _)) = points.last()
                && *d > date
            {
                date.clone_from(d);
            }
            MetricLine {
                information_need: m.information_need.clone(),
                measured: m.measured.clone(),
                method: m.method.clone(),
                unit: m.unit.clone(),
                target: m.target,
                higher_is_better: m.direction == isms_domain::controls::Direction::Higher,
                red_threshold: m.red_threshold,
                frequency: m.frequency.label().to_owned(),
                collector: m.collector.clone().unwrap_or_default(),
                analyst: m.analyst.clone().unwrap_or_default(),
                evaluates: m.evaluates.clone(),
                latest: m.latest.as_ref().map(|l| (l.date.clone(), l.value)),
                status: m.status.map(|s| s.as_str().to_owned()),
                overdue: m.overdue,
                points,
                name: m.name,
            }
        })
        .collect();
    Ok(MetricsDocument {
        organisation: org.name.clone(),
        date,
        metrics: lines,
    })
}

/// Renders off the async runtime (a large PDF takes a while).
async fn blocking(
    f: impl FnOnce() -> Result<Vec<u8>, isms_reports::ReportError> + Send + 'static,
) -> Result<Vec<u8>, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// The register rendered in `format`.
pub async fn render_register(doc: ControlRegister, format: Format) -> Result<Vec<u8>, String> {
    blocking(move || match format {
        Format::Pdf => Ok(isms_reports::controls::controls_pdf(&doc)),
        Format::Xlsx => isms_reports::controls::controls_xlsx(&doc),
        Format::Csv => isms_reports::controls::controls_csv(&doc),
    })
    .await
}

/// The coverage rendered in `format`.
pub async fn render_coverage(doc: CoverageDocument, format: Format) -> Result<Vec<u8>, String> {
    blocking(move || match format {
        Format::Pdf => Ok(isms_reports::controls::coverage_pdf(&doc)),
        Format::Xlsx => isms_reports::controls::coverage_xlsx(&doc),
        Format::Csv => isms_reports::controls::coverage_csv(&doc),
    })
    .await
}

/// The metrics report (PDF only).
pub async fn render_metrics(doc: MetricsDocument) -> Result<Vec<u8>, String> {
    blocking(move || Ok(isms_reports::metrics::metrics_pdf(&doc))).await
}

/// The metrics report takes only `pdf`.
pub fn metrics_format(s: &str) -> Result<Format, String> {
    match Format::parse(s)? {
        Format::Pdf => Ok(Format::Pdf),
        other => Err(format!(
            "format '{}': the metrics report is a PDF (its charts do not fit a spreadsheet); use pdf",
            other.extension()
        )),
    }
}

// ---------------------------------------------------------------- API

/// The format of a report download.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// pdf, xlsx or csv (default: pdf).
    format: Option<String>,
}

fn failed(e: &str) -> ApiError {
    tracing::error!("control report export: {e}");
    ApiError(WebError::internal())
}

fn format_of(q: &ReportQuery) -> Result<Format, ApiError> {
    Format::parse(q.format.as_deref().unwrap_or("pdf")).map_err(|e| ApiError(WebError::invalid(e)))
}

#[utoipa::path(get, path = "/controls/export", tag = "controls", params(ReportQuery),
    responses((status = 200, description = "The control register as PDF, XLSX or CSV", content_type = "application/octet-stream"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export_controls(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    user.require(Permission::ReadIsms)?;
    let format = format_of(&q)?;
    let org = user.0.org();
    let doc = register_document(&state.store, &org).await?;
    let bytes = render_register(doc, format).await.map_err(|e| failed(&e))?;
    Ok(attachment(
        bytes,
        &format!("controls-{}.{}", org.slug, format.extension()),
        format,
    ))
}

#[utoipa::path(get, path = "/coverage/{framework}/export", tag = "controls",
    params(("framework" = String, Path, description = "The framework's slug, e.g. iso27001-2022"), ReportQuery),
    responses((status = 200, description = "The framework's coverage as PDF, XLSX or CSV", content_type = "application/octet-stream"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export_coverage(
    State(state): State<AppState>,
    user: ApiUser,
    Path(framework): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    user.require(Permission::ReadIsms)?;
    let format = format_of(&q)?;
    let org = user.0.org();
    let doc = coverage_document(&state.store, &org, &framework).await?;
    let name = format!(
        "coverage-{}-{}.{}",
        doc.framework,
        org.slug,
        format.extension()
    );
    let bytes = render_coverage(doc, format).await.map_err(|e| failed(&e))?;
    Ok(attachment(bytes, &name, format))
}

#[utoipa::path(get, path = "/metrics/export", tag = "controls", params(ReportQuery),
    responses((status = 200, description = "The metrics report as PDF, a trend chart per metric", content_type = "application/pdf"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export_metrics(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    user.require(Permission::ReadIsms)?;
    let format = metrics_format(q.format.as_deref().unwrap_or("pdf"))
        .map_err(|e| ApiError(WebError::invalid(e)))?;
    let org = user.0.org();
    let doc = metrics_document(&state.store, &org).await?;
    let bytes = render_metrics(doc).await.map_err(|e| failed(&e))?;
    Ok(attachment(
        bytes,
        &format!("metrics-{}.pdf", org.slug),
        format,
    ))
}
