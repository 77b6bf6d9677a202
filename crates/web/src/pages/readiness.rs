//! The certification readiness checklist as a page.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_store::Readiness;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

#[derive(Template)]
#[template(path = "page_readiness.html")]
struct ReadinessPage {
    chrome: Option<Chrome>,
    readiness: Readiness,
    chart: String,
}

/// The readiness figure: one bar for the checklist, one for the SoA's implementation.
pub fn chart(r: &Readiness) -> String {
    isms_reports::svg::progress_bars(
        "Certification readiness",
        &[("Documented information".to_owned(), r.ready, r.total)],
    )
}

pub async fn show(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let chrome = Chrome::new(&state, &user.0, "readiness").await?;
    let readiness = state.store.readiness(user.0.org_id, &user.actor()).await?;
    let chart = chart(&readiness);
    Ok(render(&ReadinessPage {
        chrome: Some(chrome),
        readiness,
        chart,
    })?
    .into_response())
}
