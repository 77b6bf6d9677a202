//! The user's own profile: name, password, API tokens.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::password::{check_new_password, hash_password, verify_password};
use isms_store::TokenInfo;
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

#[derive(Template)]
#[template(path = "page_profile.html")]
struct ProfilePage {
    chrome: Option<Chrome>,
    tokens: Vec<TokenInfo>,
    /// Documents the member must still read and acknowledge.
    to_read: Vec<isms_store::ToRead>,
    new_token: Option<String>,
    error: Option<String>,
    notice: Option<&'static str>,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    new_token: Option<String>,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "profile").await?;
    let tokens = state.store.tokens_of(user.0.org_id, user.0.user_id).await?;
    let to_read = state
        .store
        .documents_to_read(user.0.org_id, user.0.user_id)
        .await?;
    let html = render(&ProfilePage {
        chrome: Some(chrome),
        tokens,
        to_read,
        new_token,
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<Notice>,
) -> Result<Response, WebError> {
    let notice = match q.done.as_deref() {
        Some("name") => Some("Your name was saved."),
        Some("password") => Some(
            "Your password was changed. Your other sessions were logged out and your API tokens (in every organisation) revoked: create new ones where you need them.",
        ),
        Some("revoked") => Some("The token was revoked."),
        _ => None,
    };
    page(&state, &user, StatusCode::OK, None, None, notice).await
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    display_name: String,
}

pub async fn change_name(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<NameForm>,
) -> Result<Response, WebError> {
    match state
        .store
        .set_display_name(
            user.0.org_id,
            user.0.user_id,
            &f.display_name,
            &user.actor(),
        )
        .await
    {
        Ok(()) => Ok(Redirect::to("/profile?done=name").into_response()),
        Err(isms_store::StoreError::Invalid(m)) => {
            page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(m),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let account = state
        .store
        .user_by_id(user.0.user_id)
        .await?
        .ok_or_else(|| WebError::unauthorized("Your account no longer exists."))?;
    let problem = if !verify_password(&f.current, &account.password_hash) {
        Some("Your current password is not right.".to_owned())
    } else if f.new_password != f.confirm {
        Some("The new password and its confirmation differ.".to_owned())
    } else {
        check_new_password(&f.new_password, &account.email)
            .err()
            .map(|e| e.to_string())
    };
    if let Some(error) = problem {
        return page(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(error),
            None,
        )
        .await;
    }
    let hash = hash_password(&f.new_password);
    state
        .store
        .set_password(
            user.0.org_id,
            user.0.user_id,
            &hash,
            Some(user.0.session_id),
            &user.actor(),
        )
        .await?;
    Ok(Redirect::to("/profile?done=password").into_response())
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<TokenForm>,
) -> Result<Response, WebError> {
    if f.name.chars().count() > 100 {
        return page(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some("The token name is too long (100 characters at most).".into()),
            None,
        )
        .await;
    }
    let (_, secret) = state
        .store
        .create_token(user.0.org_id, user.0.user_id, &f.name, &user.actor())
        .await?;
    page(&state, &user, StatusCode::CREATED, Some(secret), None, None).await
}

pub async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    state
        .store
        .revoke_token(user.0.org_id, user.0.user_id, id, &user.actor())
        .await?;
    Ok(Redirect::to("/profile?done=revoked").into_response())
}
