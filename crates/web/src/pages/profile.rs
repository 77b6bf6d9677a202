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
    /// The member's own assigned courses (clause 7.3).
    training: Vec<isms_store::Assignment>,
    /// Documents the member must still read and acknowledge.
    to_read: Vec<isms_store::ToRead>,
    new_token: Option<String>,
    error: Option<String>,
    notice: Option<&'static str>,
    /// When the live calendar feed was created, if there is one.
    calendar: Option<String>,
    /// The address of a feed just created (shown once).
    new_feed: Option<String>,
    /// E-mail categories: (category, label, opted out).
    categories: Vec<(String, String, bool)>,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    new_token: Option<String>,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, WebError> {
    page_with_feed(state, user, status, new_token, None, error, notice).await
}

async fn page_with_feed(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    new_token: Option<String>,
    new_feed: Option<String>,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, WebError> {
    let (org, me) = (user.0.org_id, user.0.user_id);
    let chrome = Chrome::new(state, &user.0, "profile").await?;
    let training = state
        .store
        .assignments(
            user.0.org_id,
            &isms_store::AssignmentFilter {
                user_id: Some(user.0.user_id),
                ..isms_store::AssignmentFilter::default()
            },
        )
        .await?;
    let tokens = state.store.tokens_of(org, me).await?;
    let to_read = state.store.documents_to_read(org, me).await?;
    let calendar = state.store.calendar_feed_created(org, me).await?;
    let optouts = state.store.optouts(org, me).await?;
    let mut categories: Vec<(String, String, bool)> = isms_domain::tasks::CATEGORIES
        .iter()
        .map(|(c, l)| {
            (
                (*c).to_owned(),
                (*l).to_owned(),
                optouts.iter().any(|o| o == c),
            )
        })
        .collect();
    for o in &optouts {
        if !categories.iter().any(|(c, _, _)| c == o) {
            categories.push((o.clone(), crate::human::identifier(o), true));
        }
    }
    let html = render(&ProfilePage {
        chrome: Some(chrome),
        tokens,
        training,
        to_read,
        new_token,
        error,
        notice,
        calendar,
        new_feed,
        categories,
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
        Some("calendar-revoked") => {
            Some("The calendar feed was revoked: its address no longer answers.")
        }
        Some("notifications") => Some("Your e-mail choices were saved."),
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

pub async fn create_calendar(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let secret = state
        .store
        .create_calendar_feed(user.0.org_id, user.0.user_id, &user.actor())
        .await?;
    let url = format!(
        "{}/calendar/{secret}",
        crate::tasks::base_url(&state, &headers)
    );
    page_with_feed(
        &state,
        &user,
        StatusCode::CREATED,
        None,
        Some(url),
        None,
        None,
    )
    .await
}

pub async fn revoke_calendar(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    state
        .store
        .revoke_calendar_feed(user.0.org_id, user.0.user_id, &user.actor())
        .await?;
    Ok(Redirect::to("/profile?done=calendar-revoked").into_response())
}

/// The ticked boxes are the categories the member still wants by e-mail.
pub async fn save_optouts(
    State(state): State<AppState>,
    user: CurrentUser,
    body: String,
) -> Result<Response, WebError> {
    let wanted: Vec<String> = url::form_urlencoded::parse(body.as_bytes())
        .filter(|(k, _)| k == "email")
        .map(|(_, v)| v.into_owned())
        .collect();
    let known: Vec<String> = url::form_urlencoded::parse(body.as_bytes())
        .filter(|(k, _)| k == "shown")
        .map(|(_, v)| v.into_owned())
        .collect();
    let out: Vec<String> = known.into_iter().filter(|c| !wanted.contains(c)).collect();
    match state
        .store
        .set_optouts(user.0.org_id, user.0.user_id, &out, &user.actor())
        .await
    {
        Ok(()) => Ok(Redirect::to("/profile?done=notifications").into_response()),
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
