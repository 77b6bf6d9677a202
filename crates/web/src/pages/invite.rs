//! The invitation link: `/invite?token=…`. A logged-in account with the
//! invited address accepts with one button; anyone else sees both ways in
//! (log in with the existing account, or create one here), so the page does
//! not tell whether an account exists for the address.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::password::{check_new_password, hash_password};
use isms_store::{OpenedInvitation, SessionUser, StoreError};
use serde::Deserialize;

use super::render;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::security::same_origin;
use crate::{AppState, cookies};

#[derive(Template)]
#[template(path = "page_invite.html")]
struct InvitePage {
    chrome: Option<super::Chrome>,
    token: String,
    org_name: String,
    email: String,
    role_label: &'static str,
    /// Who is logged in in this browser, if anyone, and their session's CSRF token.
    logged_in: Option<(String, String)>,
    /// The logged-in account is the invited address's.
    is_invitee: bool,
    login_link: String,
    name: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct InviteQuery {
    #[serde(default)]
    token: String,
}

/// The session of this browser, if it has a live one.
async fn session(state: &AppState, headers: &HeaderMap) -> Option<SessionUser> {
    let token = cookies::get(
        headers,
        cookies::session_cookie_name(state.config.behind_tls_proxy),
    )?;
    let user = state.store.session_by_token(token).await.ok()??;
    (user.expires_at >= isms_store::now()).then_some(user)
}

/// The invitation behind a token, or the page that says why it cannot be used.
async fn usable(state: &AppState, token: &str) -> Result<OpenedInvitation, WebError> {
    let opened = state.store.open_invitation(token).await?;
    match opened.invitation.state().refusal() {
        None => Ok(opened),
        Some(why) => Err(WebError::new(
            StatusCode::GONE,
            "This invitation cannot be used",
            why,
        )),
    }
}

async fn page(
    state: &AppState,
    headers: &HeaderMap,
    opened: &OpenedInvitation,
    token: &str,
    status: StatusCode,
    name: String,
    error: Option<String>,
) -> Result<Response, WebError> {
    let logged_in = session(state, headers)
        .await
        .map(|u| (u.email, u.csrf_token));
    let next = format!("/invite?token={token}");
    let login_link = format!(
        "/login?{}",
        serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default()
    );
    let is_invitee = logged_in
        .as_ref()
        .is_some_and(|(me, _)| *me == opened.invitation.email);
    let html = render(&InvitePage {
        chrome: None,
        token: token.to_owned(),
        org_name: opened.org.name.clone(),
        email: opened.invitation.email.clone(),
        role_label: opened.invitation.role.label(),
        logged_in,
        is_invitee,
        login_link,
        name,
        error,
    })?;
    let mut resp = (status, html).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    Ok(resp)
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<InviteQuery>,
) -> Result<Response, WebError> {
    let opened = usable(&state, &q.token).await?;
    page(
        &state,
        &headers,
        &opened,
        &q.token,
        StatusCode::OK,
        String::new(),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct NewAccountForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// A new account for the invited address, joined to the organisation. The
/// invitation's secret doubles as the CSRF token (only the invitee has it),
/// with the same-origin check.
pub async fn create_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<NewAccountForm>,
) -> Result<Response, WebError> {
    if !same_origin(&axum::http::Method::POST, &headers) {
        return Err(WebError::forbidden(
            "This form came from another site: open the invitation link again.",
        ));
    }
    let opened = usable(&state, &f.token).await?;
    let email = opened.invitation.email.clone();
    let problem = match check_new_password(&f.password, &email) {
        Err(e) => Some(e.to_string()),
        Ok(()) if f.password != f.password_confirm => Some("The two passwords differ.".into()),
        Ok(()) => None,
    };
    let refuse = |status, error| {
        page(
            &state,
            &headers,
            &opened,
            &f.token,
            status,
            f.name.clone(),
            Some(error),
        )
    };
    if let Some(error) = problem {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, error).await;
    }
    let hash = hash_password(&f.password);
    match state
        .store
        .accept_invitation_new_account(&f.token, &f.name, &hash)
        .await
    {
        Ok(_) => Ok(Redirect::to("/login?reason=joined").into_response()),
        Err(StoreError::Conflict(m)) => refuse(StatusCode::CONFLICT, m).await,
        Err(StoreError::Invalid(m)) => refuse(StatusCode::UNPROCESSABLE_ENTITY, m).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    token: String,
}

/// Accepts as the logged-in account (the session layer checked the CSRF
/// token) and moves the session to the organisation joined.
pub async fn accept(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<AcceptForm>,
) -> Result<Response, WebError> {
    usable(&state, &f.token).await?;
    let org_id = state
        .store
        .accept_invitation(&f.token, user.0.user_id, &user.actor())
        .await?;
    state
        .store
        .switch_session_org(user.0.session_id, user.0.user_id, org_id, &user.actor())
        .await?;
    Ok(Redirect::to("/").into_response())
}
