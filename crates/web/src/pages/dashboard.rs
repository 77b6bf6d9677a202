//! The dashboard: real figures for the current organisation.

use askama::Template;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use isms_store::DashboardCounts;
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

#[derive(Template)]
#[template(path = "page_dashboard.html")]
struct DashboardPage {
    chrome: Option<Chrome>,
    counts: DashboardCounts,
    /// Roles that read the ISMS see the readiness figure, which loads
    /// separately so the dashboard itself stays cheap.
    show_readiness: bool,
}

#[derive(Template)]
#[template(path = "readiness_summary_partial.html")]
struct ReadinessSummary {
    r: isms_store::Readiness,
    chart: String,
}

pub async fn show(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    let since = isms_store::time_from_now(time::Duration::days(-7));
    let (chrome, counts) = tokio::try_join!(Chrome::new(&state, &user.0, "dashboard"), async {
        Ok(state.store.dashboard_counts(user.0.org_id, &since).await?)
    },)?;
    Ok(render(&DashboardPage {
        chrome: Some(chrome),
        counts,
        show_readiness: user.0.role.can(isms_domain::Permission::ReadIsms),
    })?
    .into_response())
}

/// The readiness figure of the dashboard (an htmx fragment).
pub async fn readiness_summary(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    user.require(isms_domain::Permission::ReadIsms)?;
    let r = state.store.readiness(user.0.org_id, &user.actor()).await?;
    let chart = super::readiness::chart(&r);
    Ok(render(&ReadinessSummary { r, chart })?.into_response())
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    org: String,
}

pub async fn switch_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<SwitchForm>,
) -> Result<Response, WebError> {
    let org = state
        .store
        .org_by_slug(&f.org)
        .await?
        .ok_or_else(|| WebError::not_found("You are not a member of that organisation."))?;
    state
        .store
        .switch_session_org(user.0.session_id, user.0.user_id, org.id, &user.actor())
        .await?;
    Ok(Redirect::to("/").into_response())
}
