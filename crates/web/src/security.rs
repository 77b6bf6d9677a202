//! Security headers on every response, the same-origin check that backs up
//! CSRF tokens, and htmx-aware error bodies.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::{ApiError, ErrorFragment, WebError};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Adds the security headers to every response; gives every error a body in
/// the form its caller reads (a problem document under `/api/`, a page
/// elsewhere) whichever layer made it; swaps error pages for fragments on
/// htmx requests. The outermost layer.
pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let htmx = req.headers().contains_key("hx-request");
    let kind = ErrorKind::of_path(req.uri().path());
    let mut resp = next.run(req).await;
    if resp.status().is_client_error() || resp.status().is_server_error() {
        resp = complete_error(resp, kind, state.config.request_timeout).await;
    }
    if htmx && let Some(ErrorFragment(fragment)) = resp.extensions_mut().remove::<ErrorFragment>() {
        let status = resp.status();
        let mut fresh = axum::response::Html(fragment).into_response_with(status);
        std::mem::swap(&mut resp, &mut fresh);
    }
    let h = resp.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if state.config.behind_tls_proxy {
        h.insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// How an error answers a path: a problem document, a page, or as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Problem,
    Page,
    /// Machine endpoints (`/healthz`) keep their plain text.
    AsIs,
}

impl ErrorKind {
    pub fn of_path(path: &str) -> ErrorKind {
        if path == "/api" || path.starts_with("/api/") {
            ErrorKind::Problem
        } else if path == "/healthz" {
            ErrorKind::AsIs
        } else {
            ErrorKind::Page
        }
    }

    /// Whether a response of `content_type` already is what this kind wants.
    pub fn is_complete(self, content_type: &str) -> bool {
        match self {
            ErrorKind::Problem => content_type.starts_with("application/problem+json"),
            ErrorKind::Page => content_type.starts_with("text/html"),
            ErrorKind::AsIs => true,
        }
    }
}

/// What an error without a readable body of its own says, by status.
pub fn default_detail(status: StatusCode, timeout: std::time::Duration) -> String {
    match status {
        StatusCode::BAD_REQUEST => "The request is malformed.".to_owned(),
        StatusCode::NOT_FOUND => "There is nothing at this address.".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => {
            "This method is not allowed here; the Allow header lists those that are.".to_owned()
        }
        StatusCode::REQUEST_TIMEOUT => format!(
            "The request took longer than {} and was stopped. If it was meant to change something, check whether it did before trying again.",
            if timeout.as_secs() >= 1 {
                format!("{} seconds", timeout.as_secs())
            } else {
                format!("{} ms", timeout.as_millis())
            }
        ),
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "The request body is larger than this address accepts ({} MB; framework and mapping uploads {} MB).",
            crate::auth::DEFAULT_BODY_BYTES / 1024 / 1024,
            crate::auth::MAX_UPLOAD_BYTES / 1024 / 1024
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "The request body's content type is not accepted here (the API takes application/json)."
                .to_owned()
        }
        other => other
            .canonical_reason()
            .unwrap_or("The request failed.")
            .to_owned(),
    }
}

/// Largest plain-text error body taken over as the detail of a rebuilt error.
const MAX_DETAIL_BYTES: usize = 16 * 1024;

/// Rebuilds an error response that lacks the body its caller reads (an empty
/// 408 or 405, an extractor's `text/plain` 400 or 413) as a problem document
/// or a page with the same status, keeping its other headers (`Allow`,
/// `Set-Cookie`, `WWW-Authenticate`, ...) and its text as the detail.
async fn complete_error(resp: Response, kind: ErrorKind, timeout: std::time::Duration) -> Response {
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if kind.is_complete(&content_type) {
        return resp;
    }
    if kind == ErrorKind::Page
        && !content_type.is_empty()
        && !content_type.starts_with("text/plain")
    {
        // A deliberate body of another type (JSON, CSV): left alone.
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let status = parts.status;
    // An extractor's 413 says only "length limit exceeded": say the limit instead.
    let text = if content_type.starts_with("text/plain") && status != StatusCode::PAYLOAD_TOO_LARGE
    {
        axum::body::to_bytes(body, MAX_DETAIL_BYTES)
            .await
            .ok()
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .filter(|t| !t.is_empty())
    } else {
        None
    };
    let detail = text.unwrap_or_else(|| default_detail(status, timeout));
    let title = status.canonical_reason().unwrap_or("Error");
    let error = WebError::new(status, title, detail);
    let mut fresh = match kind {
        ErrorKind::Problem => ApiError(error).into_response(),
        ErrorKind::Page | ErrorKind::AsIs => error.into_response(),
    };
    let own: Vec<header::HeaderName> = fresh.headers().keys().cloned().collect();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && !own.contains(name) {
            fresh.headers_mut().append(name, value.clone());
        }
    }
    fresh
}

trait IntoResponseWith {
    fn into_response_with(self, status: axum::http::StatusCode) -> Response;
}
impl<T: axum::response::IntoResponse> IntoResponseWith for T {
    fn into_response_with(self, status: axum::http::StatusCode) -> Response {
        let mut r = self.into_response();
        *r.status_mut() = status;
        r
    }
}

/// Whether a state-changing request may come from where it says it does:
/// browsers send `Sec-Fetch-Site` and `Origin`; a cross-site value is
/// refused. Requests without either (old browsers, tools) rely on the token.
pub fn same_origin(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin == "null" {
        return false;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_host = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    origin_host.eq_ignore_ascii_case(host)
}

/// The client's address, for per-address limits.
///
/// Without trusted proxies (`trusted_hops` 0) it is the peer of the connection.
/// Behind `trusted_hops` proxies, each appends the address it received the
/// request from to `X-Forwarded-For`; whatever stands further left came from
/// the client and can be anything. So the address is the `trusted_hops`-th
/// entry from the right (the last one for one proxy), or the leftmost when
/// the list is shorter; the peer when there is no list or the entry is not an
/// address. `forwarded_for` holds the header's values in order.
pub fn client_address(
    peer: std::net::IpAddr,
    forwarded_for: &[&str],
    trusted_hops: usize,
) -> std::net::IpAddr {
    if trusted_hops == 0 {
        return peer;
    }
    let entries: Vec<&str> = forwarded_for
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let Some(entry) = entries
        .len()
        .checked_sub(trusted_hops)
        .map_or_else(|| entries.first(), |i| entries.get(i))
    else {
        return peer;
    };
    entry
        .parse::<std::net::IpAddr>()
        .or_else(|_| entry.parse::<std::net::SocketAddr>().map(|s| s.ip()))
        .unwrap_or(peer)
}

/// Constant-time comparison of two secrets.
pub fn secrets_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn cross_site_posts_are_refused() {
        assert!(!same_origin(
            &Method::POST,
            &h(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(!same_origin(
            &Method::POST,
            &h(&[("origin", "https://evil.example"), ("host", "isms.example")])
        ));
        assert!(same_origin(
            &Method::POST,
            &h(&[
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080")
            ])
        ));
        assert!(same_origin(&Method::POST, &h(&[])));
        assert!(same_origin(
            &Method::GET,
            &h(&[("sec-fetch-site", "cross-site")])
        ));
    }

    #[test]
    fn errors_answer_in_the_form_of_their_address() {
        assert_eq!(ErrorKind::of_path("/api/v1/me"), ErrorKind::Problem);
        assert_eq!(ErrorKind::of_path("/api"), ErrorKind::Problem);
        assert_eq!(ErrorKind::of_path("/apiary"), ErrorKind::Page);
        assert_eq!(ErrorKind::of_path("/soa/5.1"), ErrorKind::Page);
        assert_eq!(ErrorKind::of_path("/healthz"), ErrorKind::AsIs);
        assert!(ErrorKind::Problem.is_complete("application/problem+json"));
        assert!(!ErrorKind::Problem.is_complete("text/plain; charset=utf-8"));
        assert!(!ErrorKind::Problem.is_complete(""));
        assert!(ErrorKind::Page.is_complete("text/html; charset=utf-8"));
        assert!(!ErrorKind::Page.is_complete(""));
        let d = default_detail(
            StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(30),
        );
        assert!(d.contains("30 seconds"), "{d}");
        let d = default_detail(StatusCode::PAYLOAD_TOO_LARGE, std::time::Duration::ZERO);
        assert!(d.contains("2 MB") && d.contains("70 MB"), "{d}");
    }

    #[test]
    fn the_client_address_is_the_one_the_trusted_proxies_saw() {
        use std::net::IpAddr;
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // One proxy: the last entry, whatever the client put before it.
        for first in ["198.51.100.1", "198.51.100.2", "garbage", ""] {
            let fwd = format!("{first}, 203.0.113.9");
            assert_eq!(client_address(peer, &[&fwd], 1), ip("203.0.113.9"));
        }
        assert_eq!(client_address(peer, &["203.0.113.9"], 1), ip("203.0.113.9"));
        // Two proxies: the second from the right.
        assert_eq!(
            client_address(peer, &["1.1.1.1, 203.0.113.9, 10.0.0.7"], 2),
            ip("203.0.113.9")
        );
        // Several header lines are one list, in order.
        assert_eq!(
            client_address(peer, &["1.1.1.1", "203.0.113.9, 10.0.0.7"], 2),
            ip("203.0.113.9")
        );
        // Fewer entries than proxies: the leftmost, which a trusted proxy wrote.
        assert_eq!(client_address(peer, &["203.0.113.9"], 3), ip("203.0.113.9"));
        // No list, an empty one, or no trusted proxy: the connection's peer.
        assert_eq!(client_address(peer, &[], 1), peer);
        assert_eq!(client_address(peer, &[" , "], 1), peer);
        assert_eq!(client_address(peer, &["203.0.113.9"], 0), peer);
        // What the proxy wrote is not an address: the peer, not the text.
        assert_eq!(client_address(peer, &["1.1.1.1, unknown"], 1), peer);
        // IPv6 and address:port forms.
        assert_eq!(client_address(peer, &["2001:db8::1"], 1), ip("2001:db8::1"));
        assert_eq!(
            client_address(peer, &["[2001:db8::1]:443"], 1),
            ip("2001:db8::1")
        );
        assert_eq!(
            client_address(peer, &["203.0.113.9:5000"], 1),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abc", "abd"));
        assert!(!secrets_match("abc", "abcd"));
    }
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn form_signature(secret: &str, purpose: &str, issued: u64, nonce: &str) -> String {
    use hmac::Mac;
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{purpose}:{issued}:{nonce}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A token for a form shown before there is a session (login): when it was
/// issued, a nonce, and an HMAC under the installation's secret, so any
/// instance can check it without server-side state.
pub fn sign_form_token(secret: &str, purpose: &str, now_secs: u64) -> String {
    let nonce = isms_store::random_token(12);
    let sig = form_signature(secret, purpose, now_secs, &nonce);
    format!("{now_secs}.{nonce}.{sig}")
}

/// Whether `token` was signed for `purpose` and is at most `max_age_secs` old.
pub fn form_token_valid(
    secret: &str,
    purpose: &str,
    token: &str,
    now_secs: u64,
    max_age_secs: u64,
) -> bool {
    let mut parts = token.splitn(3, '.');
    let (Some(issued), Some(nonce), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(issued) = issued.parse::<u64>() else {
        return false;
    };
    issued <= now_secs + 60
        && now_secs.saturating_sub(issued) <= max_age_secs
        && secrets_match(&form_signature(secret, purpose, issued, nonce), sig)
}

#[cfg(test)]
mod form_token_tests {
    use super::*;

    #[test]
    fn form_tokens_verify_only_with_their_secret_purpose_and_age() {
        let t = sign_form_token("k", "login", 1000);
        assert!(form_token_valid("k", "login", &t, 1500, 3600));
        assert!(
            !form_token_valid("other", "login", &t, 1500, 3600),
            "another key"
        );
        assert!(
            !form_token_valid("k", "setup", &t, 1500, 3600),
            "another purpose"
        );
        assert!(
            !form_token_valid("k", "login", &t, 1000 + 3601, 3600),
            "expired"
        );
        assert!(!form_token_valid(
            "k",
            "login",
            &t.replace('.', "x"),
            1500,
            3600
        ));
        // Change the signature's last digit (to another digit, whatever it was).
        let last = if t.ends_with('0') { '1' } else { '0' };
        let forged = format!("{}{last}", &t[..t.len() - 1]);
        assert!(!form_token_valid("k", "login", &forged, 1500, 3600));
        assert!(!form_token_valid("k", "login", "", 1500, 3600));
    }
}
