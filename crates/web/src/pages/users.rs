//! Member management for administrators: add, change role, deactivate.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::password::{check_new_password, hash_password, normalise_email};
use isms_domain::{Permission, Role};
use isms_store::Member;
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
    let html = render(&UsersPage {
        chrome: Some(chrome),
        members,
        roles: roles(),
        me: user.0.user_id,
        form,
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    added: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<Done>,
) -> Result<Response, WebError> {
    user.require(Permission::ManageMembers)?;
    let notice = q.added.map(|e| format!("{e} was added. Give them their initial password by a separate channel; they can change it on their profile."));
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
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub password: String,
}

pub async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
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
                AddForm {
                    password: String::new(),
                    ..f
                },
                Some(m),
                None,
            )
            .await;
        }
    };
    // An existing account keeps its own password; only new accounts need one.
    let exists = state.store.user_by_email(&email).await?.is_some();
    if !exists && let Err(e) = check_new_password(&f.password, &email) {
        return page(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            AddForm {
                password: String::new(),
                ..f
            },
            Some(e.to_string()),
            None,
        )
        .await;
    }
    let hash = if exists {
        String::from("!")
    } else {
        hash_password(&f.password)
    };
    match state
        .store
        .add_member(
            user.0.org_id,
            &email,
            &f.display_name,
            &hash,
            role,
            &user.actor(),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/admin/users?{}",
            serde_urlencoded::to_string([("added", &email)]).unwrap_or_default()
        ))
        .into_response()),
        Err(isms_store::StoreError::Conflict(m) | isms_store::StoreError::Invalid(m)) => {
            page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                AddForm {
                    password: String::new(),
                    ..f
                },
                Some(m),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
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
