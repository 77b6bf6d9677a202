//! The risk methodology page: the organisation's scales, levels and matrix, and the risk
//! matrices imported from libraries as templates. Choosing one goes through the same explicit
//! re-score step as the API: a preview lists the risks whose level would change, then apply
//! saves the methodology and re-scores them in one transaction.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_domain::risk::{LevelMove, Methodology};
use isms_store::{MethodologyTemplate, StoreError, Tenant, methodology_from_matrix};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

/// A template as the page shows it: the methodology it would give.
struct TemplateView {
    t: MethodologyTemplate,
    methodology: Methodology,
}

// Askama hands loop values over by reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
impl TemplateView {
    fn level_name(&self, level: &usize) -> &str {
        self.methodology.level_name(*level)
    }
    fn level_colour(&self, level: &usize) -> &str {
        self.methodology.level_colour(*level)
    }
}

#[derive(Template)]
#[template(path = "page_risk_methodology.html")]
struct MethodologyPage {
    chrome: Option<Chrome>,
    current: Methodology,
    /// The highest level the risk owner accepts, by name.
    acceptable: String,
    version: i64,
    templates: Vec<TemplateView>,
    can_choose: bool,
    csrf: String,
    /// A previewed template: its id and the risks that would change level.
    preview: Option<(i64, Vec<LevelMove>)>,
    notice: Option<String>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    preview: Option<(i64, Vec<LevelMove>)>,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let current = state.store.risk_methodology(org).await?;
    let templates = state
        .store
        .methodology_templates(Tenant::Org(org))
        .await?
        .into_iter()
        .map(|t| TemplateView {
            methodology: methodology_from_matrix(&t.matrix, Some(current.max_acceptable_level)),
            t,
        })
        .collect();
    let html = render(&MethodologyPage {
        chrome: Some(Chrome::new(state, &user.0, "methodology").await?),
        version: state.store.risk_methodology_version(org).await?,
        acceptable: current.level_name(current.max_acceptable_level).to_owned(),
        current,
        templates,
        can_choose: user.0.role.can(Permission::Approve),
        csrf: user.0.csrf_token.clone(),
        preview,
        notice,
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn show(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    page(&state, &user, StatusCode::OK, None, None, None).await
}

/// Preview or apply a template.
#[derive(Debug, Deserialize)]
pub struct ChooseForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    apply: Option<String>,
}

pub async fn choose(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(template): Path<i64>,
    Form(f): Form<ChooseForm>,
) -> Result<Response, WebError> {
    user.require(Permission::Approve)?;
    let org = user.0.org_id;
    let t = state
        .store
        .methodology_template(template, Tenant::Org(org))
        .await?
        .ok_or_else(|| WebError::not_found("There is no such methodology template."))?;
    let current = state.store.risk_methodology(org).await?;
    let to = methodology_from_matrix(&t.matrix, Some(current.max_acceptable_level));
    let apply = f.apply.is_some();
    let sent = f.version.trim().parse().unwrap_or(-1);
    match state
        .store
        .change_risk_methodology(org, &to, sent, apply, &user.actor())
        .await
    {
        Ok(c) if c.applied => {
            let notice = format!(
                "The methodology is now {}; {} risks changed level.",
                t.name,
                c.moves.len()
            );
            page(&state, &user, StatusCode::OK, None, Some(notice), None).await
        }
        Ok(c) => {
            page(
                &state,
                &user,
                StatusCode::OK,
                Some((template, c.moves)),
                None,
                None,
            )
            .await
        }
        Err(StoreError::Invalid(m)) => {
            page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                None,
                Some(m),
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            page(&state, &user, StatusCode::CONFLICT, None, None, Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}
