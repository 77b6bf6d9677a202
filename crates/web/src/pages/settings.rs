//! Organisation settings for administrators: the time zone of every time
//! shown and the currency of every money figure.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_store::{CURRENCIES, OrgSettings, OrgSettingsInput, StoreError};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

#[derive(Template)]
#[template(path = "page_settings.html")]
struct SettingsPage {
    chrome: Option<Chrome>,
    stored: OrgSettings,
    form: SettingsForm,
    currencies: &'static [(&'static str, &'static str, &'static str)],
    zones: Vec<String>,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct SettingsForm {
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    version: String,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    saved: Option<String>,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    form: Option<SettingsForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "settings").await?;
    let stored = state.store.org_settings(user.0.org_id).await?;
    let form = form.unwrap_or_else(|| SettingsForm {
        time_zone: stored.time_zone.clone(),
        currency: stored.currency.clone(),
        version: stored.version.to_string(),
    });
    let mut zones: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_owned())
        .filter(|n| n.contains('/') || n == "UTC")
        .collect();
    zones.sort();
    let html = render(&SettingsPage {
        chrome: Some(chrome),
        stored,
        form,
        currencies: CURRENCIES,
        zones,
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    user.require(Permission::ManageMembers)?;
    let notice = q.saved.map(|_| "Saved the settings.".to_owned());
    page(&state, &user, StatusCode::OK, None, None, notice).await
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<SettingsForm>,
) -> Result<Response, WebError> {
    user.require(Permission::ManageMembers)?;
    let input = OrgSettingsInput {
        time_zone: f.time_zone.clone(),
        currency: f.currency.clone(),
        version: f.version.trim().parse().ok(),
    };
    match state
        .store
        .save_org_settings(user.0.org_id, &input, &user.actor())
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/settings?saved=1").into_response()),
        Err(StoreError::Invalid(m)) => {
            page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(f),
                Some(format!("Nothing was saved: {m}.")),
                None,
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            // Keep the choice; the next save is against the current version.
            let current = state.store.org_settings(user.0.org_id).await?;
            let f = SettingsForm {
                version: current.version.to_string(),
                ..f
            };
            page(
                &state,
                &user,
                StatusCode::CONFLICT,
                Some(f),
                Some(format!("{m}. Your choice is kept below.")),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
