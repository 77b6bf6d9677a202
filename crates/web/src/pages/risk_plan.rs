//! The risk treatment plan (clause 6.1.3), the register's downloads, and
//! the dated snapshots of the register (clause 8.2) with their comparison
//! and the chart of risks by level over time.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_domain::risk::SnapshotComparison;
use isms_reports::risk::TreatmentLine;
use isms_store::{RiskSnapshotInfo, StoreError};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::isms_reports::{Format, attachment};
use crate::risk::export::{plan_lines, risk_export, treatment_export};

/// Risks shown on one page of the plan; the next page is a link and the
/// downloads hold them all.
const SHOWN: i64 = 100;
/// Snapshots in the chart of risks by level.
const CHART_SNAPSHOTS: usize = 12;

fn today() -> String {
    isms_store::now().get(..10).unwrap_or("").to_owned()
}

#[derive(Deserialize, Default)]
pub struct PlanFilter {
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    owner: String,
    /// The `next` of the previous page.
    #[serde(default)]
    after: String,
}

#[derive(Template)]
#[template(path = "page_risk_treatment.html")]
struct PlanPage {
    chrome: Option<Chrome>,
    filter: PlanFilter,
    lines: Vec<TreatmentLine>,
    /// The address of the next page, when there is one.
    next: Option<String>,
    owners: Vec<String>,
    currency: String,
    progress: String,
    overdue: i64,
}

/// The treatment plan: the open risks with their actions a page at a time
/// (register order, filterable by owner and to the overdue ones), with the
/// progress chart (counted in SQL) and downloads.
pub async fn treatment(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(filter): Query<PlanFilter>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let chrome = Chrome::new(&state, &user.0, "risks")
        .await?
        .detail(&[("Risk register", "/risks")], "Treatment plan");
    let org = user.0.org_id;
    let today = today();
    let counts = state.store.treatment_plan_counts(org, &today).await?;
    let progress = isms_reports::svg::progress_bars(
        "Treatment progress",
        &[
            (
                "Actions done".to_owned(),
                counts.actions_done as usize,
                counts.actions_live as usize,
            ),
            (
                "Risks with a planned action".to_owned(),
                counts.planned as usize,
                counts.risks as usize,
            ),
            (
                "Risks whose residual risk is accepted".to_owned(),
                counts.accepted as usize,
                counts.risks as usize,
            ),
        ],
    );
    let owners: Vec<String> = state
        .store
        .members(org)
        .await?
        .into_iter()
        .map(|m| m.email)
        .collect();
    let only_overdue = filter.overdue == "1";
    let owner = filter.owner.trim().to_owned();
    let cursor_filter = isms_store::CursorFilter {
        open_only: true,
        overdue_before: only_overdue.then(|| today.clone()),
        owner: (!owner.is_empty()).then(|| owner.clone()),
    };
    let mut cursor = state
        .store
        .risk_cursor(org, cursor_filter, Some(filter.after.as_str()))
        .await?;
    let mut risks = cursor.next_chunk(SHOWN + 1).await?;
    let more = risks.len() as i64 > SHOWN;
    risks.truncate(SHOWN as usize);
    let next = if more {
        risks.last().map(|r| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            if only_overdue {
                q.append_pair("overdue", "1");
            }
            if !owner.is_empty() {
                q.append_pair("owner", &owner);
            }
            q.append_pair("after", &isms_store::register_key(r));
            format!("/risks/treatment?{}", q.finish())
        })
    } else {
        None
    };
    let ids: Vec<i64> = risks.iter().map(|r| r.id).collect();
    let actions = cursor.actions_of(&ids).await?;
    drop(cursor);
    let m = state.store.risk_methodology(org).await?;
    let lines = plan_lines(&m, risks, actions, &today)
        .into_iter()
        .filter(|l| !only_overdue || l.overdue)
        .filter(|l| owner.is_empty() || l.action_owner == owner || l.risk_owner == owner)
        .collect();
    let currency = state.store.org_settings(org).await?.currency;
    Ok(render(&PlanPage {
        chrome: Some(chrome),
        filter,
        lines,
        next,
        owners,
        currency,
        progress,
        overdue: counts.overdue,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
}

fn export_failed(e: &str) -> WebError {
    tracing::error!("risk export failed: {e}");
    WebError::internal()
}

/// The treatment plan as PDF, XLSX or CSV.
pub async fn treatment_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(&q.format).map_err(WebError::invalid)?;
    let org = user.0.org();
    let (bytes, _) = treatment_export(&state.store, &org, format)
        .await
        .map_err(|e| export_failed(&e))?;
    let name = format!("{}-risk-treatment-plan.{}", org.slug, format.extension());
    Ok(attachment(bytes, &name, format))
}

/// The risk register as PDF, XLSX or CSV.
pub async fn register_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(&q.format).map_err(WebError::invalid)?;
    let org = user.0.org();
    let (bytes, _) = risk_export(&state.store, &org, format)
        .await
        .map_err(|e| export_failed(&e))?;
    let name = format!("{}-risk-register.{}", org.slug, format.extension());
    Ok(attachment(bytes, &name, format))
}

#[derive(Deserialize, Default)]
pub struct CompareQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Template)]
#[template(path = "page_risk_snapshots.html")]
struct SnapshotsPage {
    chrome: Option<Chrome>,
    snapshots: Vec<RiskSnapshotInfo>,
    chart: String,
    from: i64,
    to: i64,
    comparison: Option<SnapshotComparison>,
    can_edit: bool,
    error: Option<String>,
    title: String,
}

async fn snapshots_page(
    state: &AppState,
    user: &CurrentUser,
    q: CompareQuery,
    status: StatusCode,
    error: Option<String>,
    title: String,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let chrome = Chrome::new(state, &user.0, "risks")
        .await?
        .detail(&[("Risk register", "/risks")], "Snapshots");
    let snapshots = state.store.risk_snapshots(org).await?;
    let m = state.store.risk_methodology(org).await?;
    let levels = state
        .store
        .risk_snapshot_levels(org, CHART_SNAPSHOTS)
        .await?;
    let series: Vec<(String, String)> = m
        .levels
        .iter()
        .map(|l| (l.name.clone(), l.colour.clone()))
        .collect();
    let columns: Vec<(String, Vec<usize>)> = levels
        .iter()
        .map(|(info, counts)| {
            (
                info.taken_at.get(..10).unwrap_or("").to_owned(),
                m.levels
                    .iter()
                    .map(|l| counts.get(&l.name).copied().unwrap_or(0))
                    .collect(),
            )
        })
        .collect();
    let chart = if columns.is_empty() {
        String::new()
    } else {
        isms_reports::svg::stacked_columns(
            "Open risks by inherent level at each snapshot",
            &series,
            &columns,
        )
    };
    let parse = |s: &str| s.trim().parse::<i64>().ok();
    let (from, to) = match (parse(&q.from), parse(&q.to)) {
        (Some(f), Some(t)) => (f, t),
        // By default: the two latest.
        _ => (
            snapshots.get(1).map_or(0, |s| s.id),
            snapshots.first().map_or(0, |s| s.id),
        ),
    };
    let comparison = if from > 0 && to > 0 && from != to {
        match state.store.compare_risk_snapshots(org, from, to).await {
            Ok(c) => Some(c),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let html = render(&SnapshotsPage {
        chrome: Some(chrome),
        snapshots,
        chart,
        from,
        to,
        comparison,
        can_edit: user.0.role.can(Permission::EditIsms),
        error,
        title,
    })?;
    Ok((status, html).into_response())
}

/// The snapshots: list, take one, compare two, the chart over time.
pub async fn snapshots(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CompareQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    snapshots_page(&state, &user, q, StatusCode::OK, None, String::new()).await
}

#[derive(Deserialize)]
pub struct SnapshotForm {
    #[serde(default)]
    title: String,
}

/// Freezes the register under a title.
pub async fn take_snapshot(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<SnapshotForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    match state
        .store
        .take_risk_snapshot(user.0.org_id, &form.title, &user.actor())
        .await
    {
        Ok(_) => Ok(Redirect::to("/risks/snapshots").into_response()),
        Err(StoreError::Invalid(m)) => {
            snapshots_page(
                &state,
                &user,
                CompareQuery::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(format!("The snapshot was not taken: {m}.")),
                form.title,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "page_risk_portfolio.html")]
struct PortfolioPage {
    chrome: Option<Chrome>,
    out: crate::risk::quantitative::PortfolioOut,
    chart: String,
}

/// The quantified risks together: the portfolio's loss exceedance curve and
/// annual loss, each risk's share.
pub async fn portfolio(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let chrome = Chrome::new(&state, &user.0, "risks")
        .await?
        .detail(&[("Risk register", "/risks")], "Portfolio");
    let out = crate::risk::quantitative::portfolio(&state, &state.store, user.0.org_id).await?;
    let chart = out.portfolio.as_ref().map_or_else(String::new, |p| {
        isms_fair::lec_svg(&[("All quantified risks", &p.lec)], None, 640, 320)
    });
    Ok(render(&PortfolioPage {
        chrome: Some(chrome),
        out,
        chart,
    })?
    .into_response())
}
