//! Member management for administrators: invite, change role, deactivate.
//!
//! Adding a member creates an invitation, whether or not an account exists
//! for the address (the answer is the same either way): the account joins
//! only when it accepts (see `invite.rs`).

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::password::normalise_email;
use isms_domain::{Permission, Role};
use isms_store::{Invitation, Member};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

#[derive(Template)]
#[template(path = "page_users.html")]
struct UsersPage {
    chrome: Option<Chrome>,
    members: Vec<Member>,
    roles: Vec<(&'static str, &'static str)>,
    me: i64,
    form: AddForm,
    error: Option<String>,
    notice: Option<String>,
    invitations: Vec<InvitationView>,
}

/// An invitation as the Users page lists it.
struct InvitationView {
    id: i64,
    email: String,
    role_label: &'static str,
    state_label: &'static str,
    pending: bool,
    created_by: String,
    created_day: String,
    expires_day: String,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> InvitationView {
        let state = i.state();
        InvitationView {
            id: i.id,
            role_label: i.role.label(),
            state_label: state.label(),
            pending: state == isms_domain::invitation::InvitationState::Pending,
            created_by: i.created_by,
            created_day: i.created_at.clone(),
            expires_day: i.expires_at.get(..10).unwrap_or("").to_owned(),
            email: i.email,
        }
    }
}

/// The answer to "add member": the same page whether or not an account
/// exists for the address; only the link differs.
#[derive(Template)]
#[template(path = "page_invitation_created.html")]
struct InvitationCreated {
    chrome: Option<Chrome>,
    email: String,
    role_label: &'static str,
    link: String,
    days: i64,
}

#[derive(Template)]
#[template(path = "users_row_partial.html")]
struct UserRow {
    m: Member,
    roles: Vec<(&'static str, &'static str)>,
    me: i64,
    csrf: String,
}

fn roles() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect()
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    form: AddForm,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, &user.0, "users").await?;
    let members = state.store.members(user.0.org_id).await?;
    let invitations = state
        .store
        .invitations(user.0.org_id)
        .await?
        .into_iter()
        .map(InvitationView::from)
        .collect();
    let html = render(&UsersPage {
        chrome: Some(chrome),
        members,
        roles: roles(),
        me: user.0.user_id,
        form,
        error,
        notice,
        invitations,
    })?;
    Ok((status, html).into_response())
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    revoked: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<Done>,
) -> Result<Response, WebError> {
    user.require(Permission::ManageMembers)?;
    let notice = q
        .revoked
        .map(|e| format!("The invitation for {e} was revoked: its link no longer works."));
    page(
        &state,
        &user,
        StatusCode::OK,
        AddForm::default(),
        None,
        notice,
    )
    .await
}

#[derive(Deserialize, Default, Clone)]
pub struct AddForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
}

/// The link an invitee opens: absolute when the request named its host.
fn invite_link(state: &AppState, headers: &HeaderMap, token: &str) -> String {
    let path = format!("/invite?token={token}");
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match host {
        Some(h) => {
            let scheme = if state.config.behind_tls_proxy {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{h}{path}")
        }
        None => path,
    }
}

/// "Add member": creates an invitation. The same answer (status and page,
/// the link apart) whether or not an account exists for the address, and no
/// membership until the account accepts.
pub async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Form(f): Form<AddForm>,
) -> Result<Response, WebError> {
    user.require(Permission::ManageMembers)?;
    let checked = normalise_email(&f.email).and_then(|email| {
        let role: Role = f
            .role
            .parse()
            .map_err(|e: isms_domain::role::UnknownRole| e.to_string())?;
        Ok((email, role))
    });
    let (email, role) = match checked {
        Ok(v) => v,
        Err(m) => {
            return page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                Some(m),
                None,
            )
            .await;
        }
    };
    match state
        .store
        .create_invitation(user.0.org_id, &email, role, &user.actor())
        .await
    {
        Ok((inv, token)) => {
            let chrome = Chrome::new(&state, &user.0, "users").await?;
            let html = render(&InvitationCreated {
                chrome: Some(chrome),
                email: inv.email,
                role_label: inv.role.label(),
                link: invite_link(&state, &headers, &token),
                days: isms_domain::invitation::INVITATION_DAYS,
            })?;
            let mut resp = (StatusCode::OK, html).into_response();
            // The link is a secret: keep it out of caches.
            resp.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            Ok(resp)
        }
        Err(isms_store::StoreError::Conflict(m) | isms_store::StoreError::Invalid(m)) => {
            page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                Some(m),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Revokes a pending invitation of the caller's organisation (another
/// organisation's is a 404).
pub async fn revoke_invitation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::ManageMembers)?;
    let inv = state
        .store
        .revoke_invitation(user.0.org_id, id, &user.actor())
        .await?;
    Ok(Redirect::to(&format!(
        "/admin/users?{}",
        serde_urlencoded::to_string([("revoked", &inv.email)]).unwrap_or_default()
    ))
    .into_response())
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// Answers an htmx request with the updated row, a plain form post with a redirect.
fn row_or_redirect(
    user: &CurrentUser,
    headers: &HeaderMap,
    member: Member,
) -> Result<Response, WebError> {
    if headers.contains_key("hx-request") {
        Ok(render(&UserRow {
            m: member,
            roles: roles(),
            me: user.0.user_id,
            csrf: user.0.csrf_token.clone(),
        })?
        .into_response())
    } else {
        Ok(Redirect::to("/admin/users").into_response())
    }
}

pub async fn change_role(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(user_id): Path<i64>,
    Form(f): Form<RoleForm>,
) -> Result<Response, WebError> {
    user.require(Permission::ManageMembers)?;
    let role: Role = f
        .role
        .parse()
        .map_err(|e: isms_domain::role::UnknownRole| WebError::invalid(e.to_string()))?;
    let m = state
        .store
        .set_member_role(user.0.org_id, user_id, role, &user.actor())
        .await?;
    row_or_redirect(&user, &headers, m)
}

/// `/deactivate` and `/activate`: which one is in the route.
async fn set_active(
    state: &AppState,
    user: &CurrentUser,
    headers: &HeaderMap,
    user_id: i64,
    active: bool,
) -> Result<Response, WebError> {
    user.require(Permission::ManageMembers)?;
    let m = state
        .store
        .set_member_active(user.0.org_id, user_id, active, &user.actor())
        .await?;
    row_or_redirect(user, headers, m)
}

pub async fn deactivate(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(user_id): Path<i64>,
) -> Result<Response, WebError> {
    set_active(&state, &user, &headers, user_id, false).await
}

pub async fn activate(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(user_id): Path<i64>,
) -> Result<Response, WebError> {
    set_active(&state, &user, &headers, user_id, true).await
}
