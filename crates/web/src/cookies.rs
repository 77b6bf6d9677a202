//! Reading and writing the few cookies we use, without a cookie jar.

use axum::http::{HeaderMap, HeaderValue, header};

/// The session cookie's name: with `__Host-` when served over TLS, which
/// pins it to this host and path `/` and requires `Secure`.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-isms_session"
    } else {
        "isms_session"
    }
}

/// The pre-login CSRF cookie (double-submit with the login form's hidden field).
pub fn login_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-isms_login"
    } else {
        "isms_login"
    }
}

/// The one-shot notice shown on the page a form redirects to (post/redirect/get).
pub fn notice_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-isms_notice"
    } else {
        "isms_notice"
    }
}

/// A `Set-Cookie` for a notice: the text percent-encoded, cut to fit in a
/// cookie, kept for a minute (the redirect follows at once).
pub fn set_notice(text: &str, secure: bool) -> HeaderValue {
    let mut text = text.to_owned();
    if text.len() > 1500 {
        let mut end = 1500;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    let value: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    set(notice_cookie_name(secure), &value, 60, secure, "Strict")
}

/// The notice in the request, decoded.
pub fn notice(headers: &HeaderMap, secure: bool) -> Option<String> {
    let raw = get(headers, notice_cookie_name(secure))?;
    let decoded: String = url::form_urlencoded::parse(format!("n={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    Some(decoded).filter(|s| !s.is_empty())
}

/// The value of cookie `name` in the request, if present.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value. HttpOnly always; `Secure` when served over TLS.
pub fn set(
    name: &str,
    value: &str,
    max_age_secs: i64,
    secure: bool,
    same_site: &str,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let s = format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite={same_site}{secure}"
    );
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", 0, secure, "Lax")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cookies_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; isms_session=abc; b=2"),
        );
        assert_eq!(get(&h, "isms_session"), Some("abc"));
        assert_eq!(get(&h, "c"), None);
    }

    #[test]
    fn cookies_are_http_only_and_secure_over_tls() {
        let v = set("x", "y", 60, true, "Lax");
        let s = v.to_str().unwrap();
        assert!(s.contains("HttpOnly") && s.contains("Secure") && s.contains("SameSite=Lax"));
        assert!(
            !set("x", "y", 60, false, "Lax")
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }
}
