//! The web layer's hardening (issue 9): open redirects after login, bounded
//! simulations, credentials after a password change, the client address
//! behind proxies, limits and error documents, and plain logs.

use std::process::Command;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use futures_util::StreamExt as _;
use isms_domain::Role;

use crate::support::{App, PASSWORD, org_with, stores};

// ---- 1. Open redirect after login -------------------------------------------------------------

/// Logs in with a hand-made `next` field; returns the response.
async fn login_with_next(app: &App, email: &str, next: &str) -> crate::support::Resp {
    let form = app.get("/login", None).await;
    let csrf = form.hidden("csrf_token").expect("login csrf");
    let pre = form.cookie("isms_login").expect("login cookie");
    app.post(
        "/login",
        Some(&pre),
        &[
            ("csrf_token", &csrf),
            ("email", email),
            ("password", PASSWORD),
            ("next", next),
        ],
        &[],
    )
    .await
}

#[tokio::test]
async fn login_follows_only_local_paths() {
    for (engine, store) in stores().await {
        org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let app = App::new(store);
        // What the form carries on: `next` as the query gave it, decoded.
        for (query, raw) in [
            ("%09/evil.example", "/\t/evil.example"),
            ("/%09/evil.example", "/\t/evil.example"),
            ("//evil.example", "//evil.example"),
            ("/%5Cevil.example", "/\\evil.example"),
            ("/%0a/x", "/\n/x"),
            ("/%0d%0aSet-Cookie:%20x=y", "/\r\nSet-Cookie: x=y"),
            ("https://evil.example/", "https://evil.example/"),
        ] {
            let page = app.get(&format!("/login?next={query}"), None).await;
            assert_eq!(page.status, StatusCode::OK, "{engine}: {query}");
            assert_eq!(
                page.hidden("next").as_deref(),
                Some("/"),
                "{engine}: the form does not carry {query} on"
            );
            // A forged form posting the raw value straight away.
            let r = login_with_next(&app, "ann@x.test", raw).await;
            assert_eq!(
                r.status,
                StatusCode::SEE_OTHER,
                "{engine}: {raw:?}: {}",
                r.body
            );
            assert_eq!(
                r.header("location").as_deref(),
                Some("/"),
                "{engine}: {raw:?} goes home"
            );
            assert!(r.cookie("isms_session").is_some(), "{engine}: logged in");
        }
        // A local page is still where the user was going.
        let page = app.get("/login?next=/soa%3Fq%3D1", None).await;
        assert_eq!(page.hidden("next").as_deref(), Some("/soa?q=1"));
        let r = login_with_next(&app, "ann@x.test", "/soa?q=1").await;
        assert_eq!(r.header("location").as_deref(), Some("/soa?q=1"));
    }
}

// ---- 5. Plain logs ----------------------------------------------------------------------------

#[test]
fn logs_written_to_a_file_carry_no_colour_codes() {
    let dir = std::env::temp_dir().join(format!(
        "isms_logs_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("logs.db").display());
    let log_path = dir.join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let port = crate::cli::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_isms"))
        .current_dir(&dir)
        .args([
            "--database",
            &db,
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        // Info level: the migrations of the fresh database are logged.
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start isms serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    let healthy = loop {
        if let Ok(r) = ureq::get(&format!("http://127.0.0.1:{port}/healthz")).call()
            && r.status() == 200
        {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(healthy, "isms serve did not start: {text}");
    assert!(
        text.contains("INFO") && text.contains("applied migration"),
        "the log has log lines to check: {text}"
    );
    assert!(
        !text.contains("\u{1b}["),
        "no ANSI escape codes in a log file: {text:?}"
    );
}

// ---- 3. Credentials ---------------------------------------------------------------------------

#[tokio::test]
async fn a_password_change_revokes_the_accounts_api_tokens_everywhere() {
    for (engine, store) in stores().await {
        let acme = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let beta = org_with(&store, "Beta", "bea@x.test", Role::Admin).await;
        crate::support::add(&store, &beta, "ann@x.test", Role::Auditor).await;
        let ann = store.user_by_email("ann@x.test").await.unwrap().unwrap();
        let bea = store.user_by_email("bea@x.test").await.unwrap().unwrap();
        let actor = isms_store::Actor::cli();
        let (_, acme_token) = store
            .create_token(acme.id, ann.id, "ci", &actor)
            .await
            .unwrap();
        let (_, beta_token) = store
            .create_token(beta.id, ann.id, "ci", &actor)
            .await
            .unwrap();
        let (_, other_token) = store
            .create_token(beta.id, bea.id, "hers", &actor)
            .await
            .unwrap();
        let app = App::new(store.clone());
        for t in [&acme_token, &beta_token, &other_token] {
            assert_eq!(
                app.api("GET", "/api/v1/me", Some(t)).await.status,
                StatusCode::OK
            );
        }
        let (cookie, csrf) = app.login("ann@x.test", PASSWORD).await;
        let r = app
            .post(
                "/profile/password",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("current", PASSWORD),
                    ("new_password", "a brand new passphrase"),
                    ("confirm", "a brand new passphrase"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        for t in [&acme_token, &beta_token] {
            let r = app.api("GET", "/api/v1/me", Some(t)).await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{engine}: the old token is revoked"
            );
        }
        assert_eq!(
            app.api("GET", "/api/v1/me", Some(&other_token))
                .await
                .status,
            StatusCode::OK,
            "{engine}: another user's token is untouched"
        );
        let page = app
            .get(r.header("location").as_deref().unwrap(), Some(&cookie))
            .await;
        assert!(
            page.body
                .contains("API tokens (in every organisation) revoked"),
            "{engine}: the profile page says so: {}",
            page.body
        );
        // Each revocation is in its own organisation's log; the chains hold.
        for (org, expected) in [(&acme, 1), (&beta, 1)] {
            let entries = store
                .audit_entries(
                    org.id,
                    &isms_store::AuditFilter {
                        entity_type: Some("api_token".into()),
                        limit: 100,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let revocations = entries
                .iter()
                .filter(|e| {
                    e.action == "revoke"
                        && e.after_json
                            .as_deref()
                            .is_some_and(|a| a.contains("password changed"))
                })
                .count();
            assert_eq!(revocations, expected, "{engine}: {}", org.slug);
        }
        for chain in store.verify_audit_log().await.unwrap() {
            assert!(chain.problem.is_none(), "{engine}: {}", chain.org_slug);
        }
        // A new token made after the change works.
        let (_, fresh) = store
            .create_token(acme.id, ann.id, "new", &actor)
            .await
            .unwrap();
        assert_eq!(
            app.api("GET", "/api/v1/me", Some(&fresh)).await.status,
            StatusCode::OK
        );
    }
}

/// The app behind a TLS proxy (`hops` trusted), with a small per-address limit.
fn app_behind_proxy(store: isms_store::Store, hops: usize) -> App {
    let config = isms_web::Config {
        behind_tls_proxy: true,
        trusted_proxy_hops: hops,
        max_failures_per_address: 3,
        max_failures_per_account: 1000,
        ..isms_web::Config::default()
    };
    let router = isms_web::app(store, config).layer(axum::extract::connect_info::MockConnectInfo(
        std::net::SocketAddr::from(([10, 0, 0, 1], 40000)),
    ));
    App { router }
}

/// A failed login from behind the proxy with the given `X-Forwarded-For`.
async fn failed_login(app: &App, email: &str, forwarded_for: &str) -> StatusCode {
    let form = app.get("/login", None).await;
    let csrf = form.hidden("csrf_token").expect("login csrf");
    let pre = form.cookie("__Host-isms_login").expect("login cookie");
    app.post(
        "/login",
        Some(&pre),
        &[
            ("csrf_token", &csrf),
            ("email", email),
            ("password", "wrong wrong wrong"),
        ],
        &[("x-forwarded-for", forwarded_for)],
    )
    .await
    .status
}

#[tokio::test]
async fn rotating_the_first_forwarded_address_does_not_escape_the_login_limit() {
    for (engine, store) in stores().await {
        org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let app = app_behind_proxy(store.clone(), 1);
        // The client makes up the first entry each time; the proxy appends what it saw.
        for i in 0..3 {
            let status = failed_login(
                &app,
                &format!("nobody{i}@x.test"),
                &format!("198.51.100.{i}, 203.0.113.9"),
            )
            .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{engine}: attempt {i}");
        }
        for i in 3..6 {
            let status = failed_login(
                &app,
                &format!("nobody{i}@x.test"),
                &format!("198.51.100.{i}, 203.0.113.9"),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::TOO_MANY_REQUESTS,
                "{engine}: attempt {i} from the same client is limited"
            );
        }
        // Another client behind the same proxy is not.
        assert_eq!(
            failed_login(&app, "someone@x.test", "198.51.100.1, 203.0.113.10").await,
            StatusCode::UNAUTHORIZED,
            "{engine}"
        );
        // Two trusted proxies: the second entry from the right is the client.
        let app = app_behind_proxy(store, 2);
        for i in 0..3 {
            let status = failed_login(
                &app,
                &format!("two{i}@x.test"),
                &format!("192.0.2.{i}, 203.0.113.77, 10.0.0.5"),
            )
            .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{engine}: attempt {i}");
        }
        assert_eq!(
            failed_login(&app, "two9@x.test", "192.0.2.99, 203.0.113.77, 10.0.0.6").await,
            StatusCode::TOO_MANY_REQUESTS,
            "{engine}"
        );
    }
}

// ---- 4. Limits and errors ---------------------------------------------------------------------

/// The security headers every response carries.
fn assert_security_headers(r: &crate::support::Resp, what: &str) {
    assert!(
        r.header("content-security-policy")
            .is_some_and(|v| v.contains("default-src 'self'")),
        "{what}: Content-Security-Policy"
    );
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}: X-Content-Type-Options"
    );
    assert_eq!(
        r.header("x-frame-options").as_deref(),
        Some("DENY"),
        "{what}"
    );
}

/// An RFC 9457 problem document with `status`, and the security headers.
fn assert_problem(r: &crate::support::Resp, status: StatusCode, what: &str) -> serde_json::Value {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json"),
        "{what}: {}",
        r.body
    );
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("a JSON problem document");
    assert_eq!(v["status"], status.as_u16(), "{what}");
    assert!(v["type"].is_string() && v["title"].is_string(), "{what}");
    assert!(
        v["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{what}: a detail"
    );
    assert_security_headers(r, what);
    v
}

async fn api_with_body(
    app: &App,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> crate::support::Resp {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(axum::body::Body::from(body))
        .unwrap();
    app.send(req).await
}

#[tokio::test]
async fn every_api_error_is_a_problem_document_with_the_right_status() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let ann = store.user_by_email("ann@x.test").await.unwrap().unwrap();
        let (_, token) = store
            .create_token(org.id, ann.id, "t", &isms_store::Actor::cli())
            .await
            .unwrap();
        let app = App::new(store);
        // Malformed path and query values: 400.
        for path in [
            "/api/v1/gap-assessments/abc",
            "/api/v1/gap-assessments/compare?from=x&to=1",
            "/api/v1/gap-assessments/compare?from=1",
            "/api/v1/context-items/99999999999999999999999",
            "/api/v1/soa/versions/-x",
        ] {
            let r = app.api("GET", path, Some(&token)).await;
            assert_problem(&r, StatusCode::BAD_REQUEST, &format!("{engine}: {path}"));
        }
        // Unknown route and wrong method.
        let r = app.api("GET", "/api/v1/nothing-here", Some(&token)).await;
        assert_problem(&r, StatusCode::NOT_FOUND, engine);
        let r = app.api("DELETE", "/api/v1/me", Some(&token)).await;
        assert_problem(&r, StatusCode::METHOD_NOT_ALLOWED, engine);
        assert!(
            r.header("allow").is_some(),
            "{engine}: the Allow header is kept"
        );
        // Bodies: too large 413, malformed 400, wrong type 415, wrong fields 422.
        let big = format!(
            r#"{{"justification": "{}", "version": 1}}"#,
            "x".repeat(3 * 1024 * 1024)
        );
        for (method, path) in [
            ("PATCH", "/api/v1/soa/5.1"),
            ("PUT", "/api/v1/scope"),
            ("POST", "/api/v1/context-items"),
            ("POST", "/api/v1/fair/simulate"),
        ] {
            let what = format!("{engine}: {method} {path}");
            let r = api_with_body(
                &app,
                method,
                path,
                &token,
                "application/json",
                big.clone().into_bytes(),
            )
            .await;
            let v = assert_problem(
                &r,
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("{what} too large"),
            );
            let detail = v["detail"].as_str().unwrap();
            assert!(detail.contains("MB"), "{what}: states the limit: {detail}");
        }
        for (method, path) in [
            ("PATCH", "/api/v1/soa/5.1"),
            ("PUT", "/api/v1/scope"),
            ("POST", "/api/v1/context-items"),
        ] {
            let what = format!("{engine}: {method} {path}");
            let r = api_with_body(
                &app,
                method,
                path,
                &token,
                "application/json",
                b"{\"a\":".to_vec(),
            )
            .await;
            assert_problem(&r, StatusCode::BAD_REQUEST, &format!("{what} malformed"));
            let r = api_with_body(&app, method, path, &token, "text/plain", b"{}".to_vec()).await;
            assert_problem(
                &r,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!("{what} wrong type"),
            );
            let r = api_with_body(
                &app,
                method,
                path,
                &token,
                "application/json",
                br#"{"version": "not a number", "applicable": "perhaps"}"#.to_vec(),
            )
            .await;
            assert_problem(
                &r,
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("{what} wrong fields"),
            );
        }
        // The simulation endpoint reads its body itself, by the same rules.
        let small = r#"{"iterations": 1000, "risks": [{"name": "R", "lef": {"constant": 1}, "lm": {"constant": 10}}]}"#;
        let r = api_with_body(
            &app,
            "POST",
            "/api/v1/fair/simulate",
            &token,
            "text/plain",
            small.as_bytes().to_vec(),
        )
        .await;
        assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, engine);
        let r = api_with_body(
            &app,
            "POST",
            "/api/v1/fair/simulate",
            &token,
            "application/json",
            b"{\"risks\": [".to_vec(),
        )
        .await;
        assert_problem(&r, StatusCode::BAD_REQUEST, engine);
        let r = api_with_body(
            &app,
            "POST",
            "/api/v1/fair/simulate",
            &token,
            "application/json",
            br#"{"risks": []}"#.to_vec(),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, engine);
        let r = api_with_body(
            &app,
            "POST",
            "/api/v1/fair/simulate",
            &token,
            "application/json; charset=utf-8",
            small.as_bytes().to_vec(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        // Authentication problems keep their challenge.
        let r = app.api("GET", "/api/v1/me", None).await;
        assert_problem(&r, StatusCode::UNAUTHORIZED, engine);
        assert!(r.header("www-authenticate").is_some());
    }
}

#[tokio::test]
async fn pages_answer_malformed_requests_with_a_page_and_the_security_headers() {
    for (engine, store) in stores().await {
        org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let app = App::new(store);
        let (cookie, _) = app.login("ann@x.test", PASSWORD).await;
        for path in ["/gap/abc", "/risk/quantitative/x"] {
            let r = app.get(path, Some(&cookie)).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{engine}: {path}");
            assert!(
                r.header("content-type")
                    .is_some_and(|c| c.starts_with("text/html")),
                "{engine}: {path}: a page"
            );
            assert_security_headers(&r, path);
        }
        let r = app
            .send(
                axum::http::Request::builder()
                    .method("DELETE")
                    .uri("/login")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(
            r.body.contains("<html") || r.body.contains("<!DOCTYPE"),
            "{}",
            r.body
        );
        assert_security_headers(&r, "405");
    }
}

/// A body of `total` bytes in 64 KB chunks that counts how much was read.
fn counting_body(
    total: usize,
    read: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> axum::body::Body {
    const CHUNK: usize = 64 * 1024;
    let chunks = total.div_ceil(CHUNK);
    let head = b"--b\r\nContent-Disposition: form-data; name=\"display_name\"\r\n\r\n".to_vec();
    let stream = futures_util::stream::iter(0..chunks).map(move |i| {
        read.fetch_add(CHUNK, std::sync::atomic::Ordering::SeqCst);
        let mut v = if i == 0 { head.clone() } else { Vec::new() };
        v.resize(CHUNK, b'a');
        Ok::<_, std::io::Error>(axum::body::Bytes::from(v))
    });
    axum::body::Body::from_stream(stream)
}

#[tokio::test]
async fn the_csrf_check_reads_no_more_than_the_routes_limit() {
    for (engine, store) in stores().await {
        org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let app = App::new(store);
        let (cookie, _) = app.login("ann@x.test", PASSWORD).await;
        for (path, declared) in [
            ("/profile/name", false),
            ("/profile/name", true),
            ("/risk/quantitative/upload", false),
        ] {
            let read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let total = 70 * 1024 * 1024;
            let mut b = axum::http::Request::post(path)
                .header("cookie", &cookie)
                .header("content-type", "multipart/form-data; boundary=b");
            if declared {
                b = b.header("content-length", total.to_string());
            }
            let started = Instant::now();
            let r = app
                .send(b.body(counting_body(total, read.clone())).unwrap())
                .await;
            let what = format!("{engine}: {path} (length declared: {declared})");
            // Refused as too large, or (a multipart form, which the check
            // reads only up to its token) as having no token in its first
            // 64 KB.
            assert!(
                r.status == StatusCode::PAYLOAD_TOO_LARGE
                    || (!declared && r.status == StatusCode::FORBIDDEN),
                "{what}: {} {}",
                r.status,
                r.body
            );
            assert_security_headers(&r, &what);
            let read = read.load(std::sync::atomic::Ordering::SeqCst);
            assert!(
                read <= 2 * 1024 * 1024 + 64 * 1024,
                "{what}: read {read} bytes of a session POST before refusing it"
            );
            if declared {
                assert!(read <= 64 * 1024, "{what}: refused on its declared length");
            }
            assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        }
    }
}

/// The app with a very short request timeout.
fn app_with_timeout(store: isms_store::Store, timeout: Duration) -> App {
    let config = isms_web::Config {
        request_timeout: timeout,
        ..isms_web::Config::default()
    };
    let router = isms_web::app(store, config).layer(axum::extract::connect_info::MockConnectInfo(
        std::net::SocketAddr::from(([127, 0, 0, 1], 40000)),
    ));
    App { router }
}

const SLOW_RUN: &str = r#"{"iterations": 2000000, "model": "expected", "risks": [{"name": "Slow", "lef": {"pert": {"low": 1, "mode": 2, "high": 9}}, "lm": {"lognormal": {"low": 1000, "high": 900000}}}]}"#;

#[tokio::test]
async fn a_timeout_answers_with_a_body_and_the_security_headers() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let ann = store.user_by_email("ann@x.test").await.unwrap().unwrap();
        let (_, token) = store
            .create_token(org.id, ann.id, "t", &isms_store::Actor::cli())
            .await
            .unwrap();
        let saved = store
            .save_fair_scenario(
                org.id,
                None,
                None,
                "Slow",
                SLOW_RUN,
                &isms_store::Actor::cli(),
            )
            .await
            .unwrap();
        let (cookie, csrf) = App::new(store.clone()).login("ann@x.test", PASSWORD).await;
        let app = app_with_timeout(store, Duration::from_millis(5));
        let r = api_with_body(
            &app,
            "POST",
            "/api/v1/fair/simulate",
            &token,
            "application/json",
            SLOW_RUN.as_bytes().to_vec(),
        )
        .await;
        let v = assert_problem(&r, StatusCode::REQUEST_TIMEOUT, engine);
        assert!(
            v["detail"].as_str().unwrap().contains("longer than 5 ms"),
            "{v}"
        );
        let r = app
            .post(
                &format!("/risk/quantitative/{}/run", saved.id),
                Some(&cookie),
                &[("csrf_token", &csrf)],
                &[],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::REQUEST_TIMEOUT,
            "{engine}: {}",
            r.body
        );
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("text/html"))
                && r.body.contains("took longer than"),
            "{engine}: a page that says what happened: {}",
            r.body
        );
        assert_security_headers(&r, "page 408");
    }
}

// ---- 2. Bounded simulations -------------------------------------------------------------------

fn controls_json(n: usize, risk: &str) -> String {
    (0..n)
        .map(|k| {
            format!(
                r#"{{"name": "C{k}", "cost": 1, "risks": ["{risk}"], "frequency_reduction": 0.1}}"#
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// An app with `slots` simulation slots and `timeout`; a token of an admin.
async fn fair_app(store: isms_store::Store, slots: usize, timeout: Duration) -> (App, String) {
    let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
    let ann = store.user_by_email("ann@x.test").await.unwrap().unwrap();
    let (_, token) = store
        .create_token(org.id, ann.id, "t", &isms_store::Actor::cli())
        .await
        .unwrap();
    let config = isms_web::Config {
        request_timeout: timeout,
        max_concurrent_simulations: slots,
        ..isms_web::Config::default()
    };
    let router = isms_web::app(store, config).layer(axum::extract::connect_info::MockConnectInfo(
        std::net::SocketAddr::from(([127, 0, 0, 1], 40000)),
    ));
    (App { router }, token)
}

async fn simulate(app: &App, token: &str, body: &str) -> (crate::support::Resp, Duration) {
    let started = Instant::now();
    let r = api_with_body(
        app,
        "POST",
        "/api/v1/fair/simulate",
        token,
        "application/json",
        body.as_bytes().to_vec(),
    )
    .await;
    (r, started.elapsed())
}

#[tokio::test]
async fn heavy_simulations_are_refused_before_they_start() {
    for (engine, store) in stores().await {
        let (app, token) = fair_app(store, 2, Duration::from_secs(30)).await;
        // One risk and 1,998 controls at 100,000 iterations: 3 GB of simulated years.
        let many = format!(
            r#"{{"iterations": 100000, "model": "expected", "risks": [{{"name": "R", "lef": {{"constant": 1}}, "lm": {{"constant": 10}}}}], "controls": [{}]}}"#,
            controls_json(1998, "R")
        );
        let (r, took) = simulate(&app, &token, &many).await;
        let v = assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, engine);
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("256 MB"),
            "{engine}: states the limit: {detail}"
        );
        assert!(
            took < Duration::from_secs(3),
            "{engine}: refused in {took:?}"
        );
        // Compound, 800 events a year, 2,000,000 years, 8 controls: 16 billion events.
        let compound = format!(
            r#"{{"iterations": 2000000, "model": "compound", "risks": [{{"name": "R", "lef": {{"constant": 800}}, "lm": {{"pert": {{"low": 1, "mode": 5, "high": 100}}}}}}], "controls": [{}]}}"#,
            controls_json(8, "R")
        );
        let (r, took) = simulate(&app, &token, &compound).await;
        let v = assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, engine);
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("loss events") && detail.contains("200000000"),
            "{engine}: states the limit: {detail}"
        );
        assert!(
            took < Duration::from_secs(3),
            "{engine}: refused in {took:?}"
        );
    }
}

#[tokio::test]
async fn overflowing_simulations_are_refused_naming_the_field() {
    for (engine, store) in stores().await {
        let (app, token) = fair_app(store, 2, Duration::from_secs(30)).await;
        let (r, _) = simulate(
            &app,
            &token,
            r#"{"iterations": 1000, "risks": [{"name": "Huge", "lef": {"constant": 1}, "lm": {"constant": 1e300}}]}"#,
        )
        .await;
        let v = assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, engine);
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("Huge") && detail.contains("`lm"),
            "{engine}: {detail}"
        );
        let (r, _) = simulate(
            &app,
            &token,
            r#"{"iterations": 100000, "model": "expected", "risks": [{"name": "Wide", "lef": {"constant": 1}, "lm": {"lognormal": {"low": 1e-300, "high": 1e18}}}]}"#,
        )
        .await;
        let v = assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, engine);
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("Wide") && detail.contains("lm") && detail.contains("overflow"),
            "{engine}: {detail}"
        );
        assert!(!r.body.contains("null"), "{engine}: no null figures");
    }
}

#[tokio::test]
async fn simulations_wait_for_a_slot_and_stop_when_abandoned() {
    let small = r#"{"iterations": 1000, "model": "expected", "risks": [{"name": "R", "lef": {"constant": 1}, "lm": {"constant": 10}}]}"#;
    for (engine, store) in stores().await {
        // No slots: busy, as a problem document.
        let (app, token) = fair_app(store.clone(), 0, Duration::from_secs(30)).await;
        let (r, _) = simulate(&app, &token, small).await;
        assert_problem(&r, StatusCode::SERVICE_UNAVAILABLE, engine);
    }
    for (engine, store) in stores().await {
        // One slot, and a run that takes many seconds (within the work bound): the timeout
        // answers 408, the run stops, and the slot is free again at once.
        // (The timeout also bounds the second request's wait for the slot.)
        let (app, token) = fair_app(store, 1, Duration::from_secs(1)).await;
        let long = r#"{"iterations": 2000000, "model": "compound", "risks": [{"name": "R", "lef": {"constant": 90}, "lm": {"pert": {"low": 1, "mode": 5, "high": 100}}}]}"#;
        let (r, took) = simulate(&app, &token, long).await;
        assert_problem(&r, StatusCode::REQUEST_TIMEOUT, engine);
        assert!(took < Duration::from_secs(3), "{engine}: {took:?}");
        let (r, took) = simulate(&app, &token, small).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{engine}: the abandoned run freed its slot ({took:?}): {}",
            r.body
        );
    }
}

#[tokio::test]
async fn the_page_refuses_heavy_and_overflowing_runs_with_a_message() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let app = App::new(store.clone());
        let (cookie, csrf) = app.login("ann@x.test", PASSWORD).await;
        let many = format!(
            r#"{{"iterations": 100000, "model": "expected", "risks": [{{"name": "R", "lef": {{"constant": 1}}, "lm": {{"constant": 10}}}}], "controls": [{}]}}"#,
            controls_json(1998, "R")
        );
        let wide = r#"{"iterations": 100000, "model": "expected", "risks": [{"name": "Wide", "lef": {"constant": 1}, "lm": {"lognormal": {"low": 1e-300, "high": 1e18}}}]}"#;
        for (name, text, needle) in [
            ("Many controls", many.as_str(), "256 MB"),
            ("Wide", wide, "overflow"),
        ] {
            let saved = store
                .save_fair_scenario(org.id, None, None, name, text, &isms_store::Actor::cli())
                .await
                .unwrap();
            let started = Instant::now();
            let r = app
                .post(
                    &format!("/risk/quantitative/{}/run", saved.id),
                    Some(&cookie),
                    &[("csrf_token", &csrf)],
                    &[],
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{engine}: {name}"
            );
            assert!(
                r.body.contains("role=\"alert\"") && r.body.contains(needle),
                "{engine}: {name}: the page says why"
            );
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{engine}: {name}"
            );
            let after = store
                .fair_scenario(org.id, saved.id)
                .await
                .unwrap()
                .unwrap();
            assert!(
                after.last_report_json.is_none(),
                "{engine}: {name}: no report kept"
            );
        }
    }
}
