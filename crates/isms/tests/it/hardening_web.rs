//! The web layer's hardening (issue 9): open redirects after login, bounded
//! simulations, credentials after a password change, the client address
//! behind proxies, limits and error documents, and plain logs.

use std::process::Command;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
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
