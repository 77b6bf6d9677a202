//! Tasks and reminders: the API, the public calendar feed, e-mail over
//! SMTP and the scheduler that writes reminders and sends digests.

pub mod api;
pub mod ics;
pub mod mail;
pub mod run;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::WebError;

pub use mail::{DEFAULT_FROM, Mailer};
pub use run::{RunSummary, run_once, scheduler};

/// The base of absolute links (no trailing slash): the configured public
/// URL, else the address the request came to; "" when neither is known.
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        });
    match host {
        Some(h) => {
            let scheme = if state.config.behind_tls_proxy {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{h}")
        }
        None => String::new(),
    }
}

/// `GET /calendar/{feed}`: the member's dated items as iCalendar. Public:
/// the secret in the path is the credential; an unknown or revoked one is
/// 404, like any address that does not exist.
pub async fn calendar_feed(
    State(state): State<AppState>,
    Path(feed): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let gone =
        || WebError::not_found("There is no calendar at this address (it may have been revoked).");
    if !feed.starts_with(isms_store::FEED_PREFIX) || feed.len() > 200 {
        return Err(gone());
    }
    let Some(owner) = state.store.calendar_feed_owner(&feed).await? else {
        return Err(gone());
    };
    let items = state
        .store
        .my_items(owner.org_id, owner.user_id, &owner.email)
        .await?;
    let body = ics::feed(
        owner.org_id,
        &owner.org_name,
        &base_url(&state, &headers),
        &items,
    );
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    )
        .into_response())
}
