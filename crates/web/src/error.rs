//! One error type for pages and one for the API. Pages get a full HTML page
//! (or a fragment for htmx); the API gets an RFC 9457 problem document.
//! Internal errors are logged and never shown.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use isms_store::StoreError;
use serde::Serialize;

/// An error a page handler returns.
#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
}

impl WebError {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        WebError {
            status,
            title,
            detail: detail.into(),
        }
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Not allowed", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", detail)
    }
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Please check your input",
            detail,
        )
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Please log in", detail)
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The server could not complete the request. It has been logged; try again, and tell your administrator if it persists.",
        )
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => WebError::not_found(m),
            StoreError::Conflict(m) => WebError::new(StatusCode::CONFLICT, "Conflict", m),
            StoreError::Invalid(m) => WebError::invalid(m),
            other => {
                tracing::error!("store error: {other}");
                WebError::internal()
            }
        }
    }
}

/// Marks an error response so the htmx layer can send a fragment instead.
#[derive(Clone)]
pub struct ErrorFragment(pub String);

#[derive(Template)]
#[template(path = "page_error.html")]
struct ErrorPage<'a> {
    chrome: Option<crate::pages::Chrome>,
    title: &'a str,
    status: u16,
    detail: &'a str,
}

#[derive(Template)]
#[template(path = "error_partial.html")]
struct ErrorPartial<'a> {
    title: &'a str,
    detail: &'a str,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            chrome: None,
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
        }
        .render()
        .unwrap_or_else(|_| self.detail.clone());
        let fragment = ErrorPartial {
            title: self.title,
            detail: &self.detail,
        }
        .render()
        .unwrap_or_default();
        let mut resp = (self.status, Html(page)).into_response();
        resp.extensions_mut().insert(ErrorFragment(fragment));
        resp
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

/// An error an API handler returns.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        // API clients get the standard reason phrase; the detail says the rest.
        let title = e.status.canonical_reason().unwrap_or(e.title);
        let slug = title
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>();
        let problem = Problem {
            kind: format!("urn:isms:problem:{slug}"),
            title: title.to_owned(),
            status: e.status.as_u16(),
            detail: e.detail,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (
            e.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if e.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"isms\""),
            );
        }
        resp
    }
}
