//! Who is calling: the session layer for pages (with its CSRF check) and the
//! bearer-token layer for the API. Handlers take the typed extractors
//! [`CurrentUser`] and [`ApiUser`] and check permissions with `require`.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_store::{Actor, SessionUser, TokenUser, Via};

use crate::error::{ApiError, WebError};
use crate::security::{same_origin, secrets_match};
use crate::{AppState, cookies};

/// The logged-in user in their current organisation (page routes).
#[derive(Clone, Debug)]
pub struct CurrentUser(pub SessionUser);

impl CurrentUser {
    pub fn require(&self, p: Permission) -> Result<(), WebError> {
        if self.0.role.can(p) {
            Ok(())
        } else {
            Err(WebError::forbidden(format!(
                "Your role ({}) in {} does not allow this. Ask an administrator if you need it.",
                self.0.role.label(),
                self.0.org_name
            )))
        }
    }
    pub fn actor(&self) -> Actor {
        Actor::user(self.0.user_id, &self.0.email, Via::Web)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| WebError::unauthorized("Log in to continue."))
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Largest request body a route takes unless it says otherwise (see [`BodyLimit`]).
pub const DEFAULT_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The body limit of a group of routes, for the CSRF check, which reads a
/// form's body before the handler does: set it with a `route_layer` outside
/// the session layer (next to `DefaultBodyLimit`, which the extractors read).
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

fn too_large(limit: usize) -> WebError {
    WebError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Too large",
        if limit >= 1024 * 1024 {
            format!(
                "The form is larger than this page accepts ({} MB); nothing was changed.",
                limit / 1024 / 1024
            )
        } else {
            format!(
                "The form is larger than this page accepts ({} KB); nothing was changed.",
                limit / 1024
            )
        },
    )
}

/// Reads a request body up to `limit` bytes: a declared length above the limit
/// is refused before anything is read, an undeclared one once the limit is passed.
async fn read_body(
    req: Request,
    limit: usize,
) -> Result<(axum::http::request::Parts, axum::body::Bytes), WebError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit))?;
    Ok((parts, bytes))
}

/// Loads the session from its cookie, refreshes its expiry, and checks the
/// CSRF token of every state-changing request before the handler runs.
pub async fn session_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let secure = state.config.behind_tls_proxy;
    let token =
        cookies::get(req.headers(), cookies::session_cookie_name(secure)).map(str::to_owned);
    let wants_page = is_safe(req.method()) && !req.headers().contains_key("hx-request");
    let next_path = req
        .uri()
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str)
        .to_owned();
    let login_redirect = |reason: &str| -> Response {
        if wants_page {
            let target = format!(
                "/login?{}",
                serde_urlencoded::to_string([("next", next_path.as_str()), ("reason", reason)])
                    .unwrap_or_default()
            );
            Redirect::to(&target).into_response()
        } else {
            let mut r = WebError::unauthorized(match reason {
                "expired" => "Your session has expired. Log in again; nothing was changed.",
                _ => "You are not logged in. Log in and try again; nothing was changed.",
            })
            .into_response();
            r.headers_mut()
                .insert("hx-redirect", header::HeaderValue::from_static("/login"));
            r
        }
    };
    let Some(token) = token else {
        return login_redirect("login");
    };
    let user = match state.store.session_by_token(&token).await {
        Ok(Some(u)) => u,
        Ok(None) => return login_redirect("login"),
        Err(e) => return WebError::from(e).into_response(),
    };
    let now = isms_store::now();
    if user.expires_at < now {
        let _ = state.store.delete_session(user.session_id).await;
        return login_redirect("expired");
    }
    // Sliding expiry, written at most once a minute to keep reads cheap.
    if user.last_seen_at < isms_store::time_from_now(time::Duration::minutes(-1)) {
        let idle =
            time::Duration::try_from(state.config.session_idle).unwrap_or(time::Duration::hours(8));
        if let Err(e) = state
            .store
            .touch_session(user.session_id, &isms_store::time_from_now(idle))
            .await
        {
            return WebError::from(e).into_response();
        }
    }

    let req = if is_safe(req.method()) {
        req
    } else {
        match check_csrf(req, &user.csrf_token).await {
            Ok(req) => req,
            Err(e) => return e.into_response(),
        }
    };
    let local = match state.store.org_settings(user.org_id).await {
        Ok(s) => crate::human::Local::of(&s),
        Err(e) => return WebError::from(e).into_response(),
    };
    let mut req = req;
    req.extensions_mut().insert(CurrentUser(user));
    crate::human::with_org(local, next.run(req)).await
}

/// Refuses a state-changing request whose origin is foreign or whose CSRF
/// token (header `X-CSRF-Token`, or form field `csrf_token`) is missing or wrong.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, WebError> {
    let refused = || {
        WebError::forbidden(
            "This form is out of date or was sent from another site, so nothing was changed. Reload the page and try again.",
        )
    };
    if !same_origin(req.method(), req.headers()) {
        return Err(refused());
    }
    if let Some(t) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return if secrets_match(t, expected) {
            Ok(req)
        } else {
            Err(refused())
        };
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let limit = req
        .extensions()
        .get::<BodyLimit>()
        .map_or(DEFAULT_BODY_BYTES, |l| l.0);
    if content_type.starts_with("multipart/form-data") {
        return check_multipart_csrf(req, &content_type, expected, limit).await;
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(refused());
    }
    let (parts, bytes) = read_body(req, limit).await?;
    let token = form_urlencoded_field(&bytes, "csrf_token");
    match token {
        Some(t) if secrets_match(&t, expected) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(refused()),
    }
}

/// Largest upload (framework files) of the upload routes.
pub const MAX_UPLOAD_BYTES: usize = 70 * 1024 * 1024;

/// How far into a multipart form the CSRF check looks for the token.
const CSRF_PREFIX: usize = 64 * 1024;

/// Multipart forms (file uploads) carry the token as a `csrf_token` field
/// before any file (our forms put it first). The check reads the body only
/// up to the token, at most [`CSRF_PREFIX`] bytes, and hands the handler the
/// whole body (those bytes, then the rest as it arrives), so a large file
/// streams on to the handler instead of being held in memory here.
async fn check_multipart_csrf(
    req: Request,
    content_type: &str,
    expected: &str,
    limit: usize,
) -> Result<Request, WebError> {
    use futures_util::StreamExt as _;
    let refused = || {
        WebError::forbidden(
            "This form is out of date or was sent from another site, so nothing was changed. Reload the page and try again.",
        )
    };
    let boundary = multer::parse_boundary(content_type).map_err(|_| refused())?;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let (parts, body) = req.into_parts();
    let mut rest = body.into_data_stream();
    let mut read: Vec<axum::body::Bytes> = Vec::new();
    let mut read_len = 0usize;
    let mut ended = false;
    loop {
        match token_in(&read, &boundary, ended).await {
            Some(Ok(token)) if secrets_match(&token, expected) => {
                let head = futures_util::stream::iter(read.into_iter().map(Ok::<_, axum::Error>));
                return Ok(Request::from_parts(
                    parts,
                    Body::from_stream(head.chain(rest)),
                ));
            }
            Some(_) => return Err(refused()),
            None if ended || read_len > CSRF_PREFIX => return Err(refused()),
            None => {}
        }
        match rest.next().await {
            Some(Ok(chunk)) => {
                read_len += chunk.len();
                read.push(chunk);
            }
            Some(Err(_)) => return Err(refused()),
            None => ended = true,
        }
    }
}

/// The CSRF token of the multipart form whose first bytes are `read`:
/// `Some(Ok(token))` when found, `Some(Err(()))` when it cannot come (a file
/// or the end of the form came first), `None` when more bytes are needed.
async fn token_in(
    read: &[axum::body::Bytes],
    boundary: &str,
    ended: bool,
) -> Option<Result<String, ()>> {
    let stream = futures_util::stream::iter(read.iter().cloned().map(Ok::<_, std::io::Error>));
    let mut multipart = multer::Multipart::new(stream, boundary);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let is_token = field.name() == Some("csrf_token");
                if !is_token && field.file_name().is_some() {
                    return Some(Err(()));
                }
                match field.text().await {
                    Ok(token) if is_token => return Some(Ok(token)),
                    Ok(_) => {}
                    Err(_) if ended => return Some(Err(())),
                    Err(_) => return None,
                }
            }
            Ok(None) => return Some(Err(())),
            Err(_) if ended => return Some(Err(())),
            Err(_) => return None,
        }
    }
}

fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The caller behind a bearer token (API routes).
#[derive(Clone, Debug)]
pub struct ApiUser(pub TokenUser);

impl ApiUser {
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.0.role.can(p) {
            Ok(())
        } else {
            Err(ApiError(WebError::forbidden(format!(
                "the role {} does not allow this",
                self.0.role
            ))))
        }
    }
    pub fn actor(&self) -> Actor {
        Actor::user(self.0.user_id, &self.0.email, Via::Api)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ApiUser>()
            .cloned()
            .ok_or_else(|| ApiError(WebError::unauthorized("a bearer token is required")))
    }
}

/// Authenticates API requests by `Authorization: Bearer <token>`.
pub async fn token_layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let secret = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .map(str::to_owned);
    let Some(secret) = secret else {
        return ApiError(WebError::unauthorized(
            "send an API token as `Authorization: Bearer <token>`; create one with `isms token create` or on your profile page",
        ))
        .into_response();
    };
    match state.store.user_by_token(&secret).await {
        Ok(Some(user)) => {
            // Written at most once a minute: an UPDATE on every request would
            // take SQLite's write lock and serialise concurrent readers.
            let stale = isms_store::time_from_now(time::Duration::minutes(-1));
            if user
                .last_used_at
                .as_deref()
                .is_none_or(|t| t < stale.as_str())
                && let Err(e) = state.store.mark_token_used(user.token_id, &stale).await
            {
                return ApiError::from(e).into_response();
            }
            req.extensions_mut().insert(ApiUser(user));
            next.run(req).await
        }
        Ok(None) => ApiError(WebError::unauthorized(
            "the API token is unknown, revoked, or its user was deactivated",
        ))
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
