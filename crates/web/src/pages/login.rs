//! Logging in and out, and the one-time set-up of the first administrator.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Role;
use isms_domain::audit::SessionEvent;
use isms_domain::password::{check_new_password, dummy_hash, normalise_email, verify_password};
use isms_store::Actor;
use serde::Deserialize;

use super::render;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::security::{same_origin, secrets_match};
use crate::{AppState, cookies};

#[derive(Template)]
#[template(path = "page_login.html")]
struct LoginPage {
    chrome: Option<super::Chrome>,
    csrf: String,
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Where to go after login: `next` when it is a local path, else home.
///
/// A local path starts with exactly one `/` (not `//` or `/\`, which browsers
/// read as another host), has no backslash, and only visible ASCII: no
/// whitespace or control characters (browsers drop tabs and newlines, so
/// `/\t/evil.example` becomes `//evil.example`), nothing a `Location` header
/// cannot carry. A scheme (`https:`) cannot precede the leading `/`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_local_path(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && n.chars().all(|c| c.is_ascii_graphic() && c != '\\')
}

/// The login form's token is signed, so it verifies on any instance and for
/// clients that keep no cookies; cross-site posts are refused by the
/// `Origin` / `Sec-Fetch-Site` check.
const LOGIN_TOKEN_MAX_AGE_SECS: u64 = 2 * 3600;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn login_secret(state: &AppState) -> Result<String, WebError> {
    Ok(state.store.installation_secret("login-form").await?)
}

async fn login_page(
    state: &AppState,
    status: StatusCode,
    email: &str,
    next: &str,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Response {
    let secure = state.config.behind_tls_proxy;
    let csrf = match login_secret(state).await {
        Ok(secret) => crate::security::sign_form_token(&secret, "login", unix_now()),
        Err(e) => return e.into_response(),
    };
    let page = LoginPage {
        chrome: None,
        csrf: csrf.clone(),
        email: email.to_owned(),
        next: next.to_owned(),
        error,
        notice,
    };
    match render(&page) {
        Ok(html) => {
            let mut resp = (status, html).into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookies::set(
                    cookies::login_cookie_name(secure),
                    &csrf,
                    3600,
                    secure,
                    "Strict",
                ),
            );
            resp
        }
        Err(e) => e.into_response(),
    }
}

pub async fn form(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    let notice = match q.reason.as_deref() {
        Some("expired") => Some("Your session expired. Please log in again."),
        Some("logout") => Some("You have logged out."),
        Some("password") => Some("Your password was changed. Please log in again."),
        Some("joined") => Some("Your account was created and you joined the organisation. Log in."),
        _ => None,
    };
    login_page(
        &state,
        StatusCode::OK,
        "",
        &safe_next(q.next.as_deref()),
        None,
        notice,
    )
    .await
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    next: Option<String>,
}

/// The address failed logins are counted against: behind a TLS proxy, the one
/// the trusted proxies saw (see [`crate::security::client_address`]).
fn client_addr(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    if !state.config.behind_tls_proxy {
        return peer.ip().to_string();
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    crate::security::client_address(peer.ip(), &forwarded, state.config.trusted_proxy_hops)
        .to_string()
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    let secure = state.config.behind_tls_proxy;
    let next = safe_next(f.next.as_deref());
    let signed = crate::security::form_token_valid(
        &login_secret(&state).await?,
        "login",
        &f.csrf_token,
        unix_now(),
        LOGIN_TOKEN_MAX_AGE_SECS,
    );
    // A browser that kept the form's cookie must send the same token back.
    let cookie = cookies::get(&headers, cookies::login_cookie_name(secure));
    let token_ok = signed && cookie.is_none_or(|c| secrets_match(c, &f.csrf_token));
    if !token_ok || !same_origin(&axum::http::Method::POST, &headers) {
        return Ok(login_page(
            &state,
            StatusCode::FORBIDDEN,
            &f.email,
            &next,
            Some("The login form expired or came from another site. Please try again.".into()),
            None,
        )
        .await);
    }
    let email = f.email.trim().to_lowercase();
    let account_key = format!("account:{email}");
    let client = client_addr(&state, &headers, peer);
    let address_key = format!("address:{client}");
    let window =
        time::Duration::try_from(state.config.login_window).unwrap_or(time::Duration::minutes(15));
    let since = isms_store::time_from_now(-window);
    let account_failures = state
        .store
        .login_failures_since(&account_key, &since)
        .await?;
    let address_failures = state
        .store
        .login_failures_since(&address_key, &since)
        .await?;
    if account_failures >= state.config.max_failures_per_account
        || address_failures >= state.config.max_failures_per_address
    {
        return Ok(login_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &f.email,
            &next,
            Some(format!(
                "Too many failed attempts. Wait {} minutes and try again, or ask an administrator to reset your password.",
                window.whole_minutes()
            )),
            None,
        ).await);
    }
    let user = state.store.user_by_email(&email).await?;
    // Hash even for unknown accounts so response time does not reveal them.
    let valid = if let Some(u) = &user {
        verify_password(&f.password, &u.password_hash)
    } else {
        let _ = verify_password(&f.password, dummy_hash());
        false
    };
    let orgs = match (&user, valid) {
        (Some(u), true) => state.store.orgs_of_user(u.id).await?,
        _ => Vec::new(),
    };
    let known = user.as_ref().map(|u| (u.id, u.email.clone()));
    let (Some(user), true, Some((org, _))) = (user, valid, orgs.first()) else {
        state.store.record_login_failure(&account_key).await?;
        state.store.record_login_failure(&address_key).await?;
        if let Some((id, email)) = &known {
            record_failure(&state, *id, email, &client, valid, account_failures + 1).await?;
        }
        let message = if valid {
            "Your account has no active organisation. Ask an administrator to reactivate you."
        } else {
            "The e-mail address or password is wrong."
        };
        return Ok(login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            &f.email,
            &next,
            Some(message.into()),
            None,
        )
        .await);
    };
    let idle =
        time::Duration::try_from(state.config.session_idle).unwrap_or(time::Duration::hours(8));
    let session = state
        .store
        .create_session(user.id, org.id, &isms_store::time_from_now(idle))
        .await?;
    state
        .store
        .record_session_event(
            Some(org.id),
            user.id,
            &Actor::user(user.id, &user.email, isms_store::Via::Web),
            SessionEvent::Login,
            &serde_json::json!({"email": user.email, "address": client}),
        )
        .await?;
    state
        .store
        .clear_login_failures(
            &account_key,
            &isms_store::time_from_now(time::Duration::days(-1)),
        )
        .await?;
    let mut resp = Redirect::to(&next).into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookies::set(
            cookies::session_cookie_name(secure),
            &session.token,
            idle.whole_seconds(),
            secure,
            "Lax",
        ),
    );
    h.append(
        header::SET_COOKIE,
        cookies::clear(cookies::login_cookie_name(secure), secure),
    );
    Ok(resp)
}

/// Records a refused login of a known account in each organisation it
/// belongs to (never the password), and the lockout when this failure
/// (`failures`, counted with it) reaches the per-account limit.
async fn record_failure(
    state: &AppState,
    user_id: i64,
    email: &str,
    client: &str,
    password_ok: bool,
    failures: i64,
) -> Result<(), WebError> {
    let actor = Actor {
        user_id: None,
        label: "anonymous".into(),
        via: isms_store::Via::Web,
    };
    let reason = if password_ok {
        "no active membership"
    } else {
        "wrong password"
    };
    state
        .store
        .record_session_event(
            None,
            user_id,
            &actor,
            SessionEvent::LoginFailed,
            &serde_json::json!({"email": email, "address": client, "reason": reason}),
        )
        .await?;
    let limit = state.config.max_failures_per_account;
    if isms_domain::audit::failure_locks(failures, limit) {
        let window = time::Duration::try_from(state.config.login_window)
            .unwrap_or(time::Duration::minutes(15));
        state
            .store
            .record_session_event(
                None,
                user_id,
                &actor,
                SessionEvent::Lockout,
                &serde_json::json!({
                    "email": email, "address": client, "failures": failures,
                    "window_minutes": window.whole_minutes(),
                }),
            )
            .await?;
    }
    Ok(())
}

pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    let secure = state.config.behind_tls_proxy;
    state
        .store
        .logout_session(user.0.session_id, &user.actor())
        .await?;
    let mut resp = Redirect::to("/login?reason=logout").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear(cookies::session_cookie_name(secure), secure),
    );
    Ok(resp)
}

#[derive(Template)]
#[template(path = "page_setup.html")]
struct SetupPage {
    chrome: Option<super::Chrome>,
    token: String,
    org_name: String,
    name: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

pub async fn setup_form(
    State(state): State<AppState>,
    Query(q): Query<SetupQuery>,
) -> Result<Response, WebError> {
    if !state.store.setup_token_valid(&q.token).await? {
        return Err(WebError::forbidden(
            "This set-up link is not valid: it was already used, it expired, or an administrator exists. Log in instead, or restart `isms serve` on an empty database for a new link.",
        ));
    }
    Ok(render(&SetupPage {
        chrome: None,
        token: q.token,
        org_name: String::new(),
        name: String::new(),
        email: String::new(),
        error: None,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    org_name: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn setup_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SetupForm>,
) -> Result<Response, WebError> {
    // The set-up token is a secret only the operator saw: it doubles as the CSRF token.
    if !same_origin(&axum::http::Method::POST, &headers)
        || !state.store.setup_token_valid(&f.token).await?
    {
        return Err(WebError::forbidden("This set-up link is no longer valid."));
    }
    let problem = if f.org_name.trim().is_empty() {
        Some("Enter your organisation's name.".to_owned())
    } else {
        match normalise_email(&f.email) {
            Err(e) => Some(e),
            Ok(email) => match check_new_password(&f.password, &email) {
                Err(e) => Some(e.to_string()),
                Ok(()) if f.password != f.password_confirm => {
                    Some("The two passwords differ.".into())
                }
                Ok(()) => None,
            },
        }
    };
    if let Some(error) = problem {
        let page = SetupPage {
            chrome: None,
            token: f.token,
            org_name: f.org_name,
            name: f.name,
            email: f.email,
            error: Some(error),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let actor = Actor {
        user_id: None,
        label: format!("set-up ({})", f.email.trim().to_lowercase()),
        via: isms_store::Via::Web,
    };
    let org = state.store.create_org(&f.org_name, &actor).await?;
    let hash = isms_domain::password::hash_password(&f.password);
    state
        .store
        .add_member(org.id, &f.email, &f.name, &hash, Role::Admin, &actor)
        .await?;
    state.store.clear_setup_tokens().await?;
    Ok(Redirect::to("/login?reason=setup").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        for ok in ["/", "/soa", "/soa/A.5.1?x=1&y=/z", "/gap/3#top", "/a//b"] {
            assert_eq!(safe_next(Some(ok)), ok, "{ok:?} is local");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/x",
            "/\r\n/x",
            "/ /evil.example",
            "/x y",
            "/\u{0}x",
            "/\u{7f}x",
            "/\u{a0}/evil.example",
            "/\u{2028}x",
            "/a\\b",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            " /soa",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?} must go home");
        }
        assert_eq!(safe_next(None), "/");
    }
}
