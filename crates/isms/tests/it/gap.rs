//! Gap analysis on every engine: assessments against ISO/IEC 27001:2022,
//! versioned per-requirement edits, progress by clause and theme, comparison,
//! the gap report (API, web, CLI) and the web row form.

use std::process::{Command, Stdio};

use axum::http::StatusCode;
use isms_domain::Role;
use serde_json::{Value, json};

use crate::soa::{call, token};
use crate::support::{App, PASSWORD, org_with, stores};

fn progress_of<'a>(detail: &'a Value, group: &str) -> &'a Value {
    detail["progress"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["group"] == group)
        .unwrap()
}

#[tokio::test]
async fn assessments_track_gaps_and_what_improved() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = token(&store, &org, "mia@acme.test", Role::IsmsManager).await;
        let aud = token(&store, &org, "al@acme.test", Role::Auditor).await;
        let app = App::new(store.clone());

        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/gap-assessments",
            &t,
            Some(json!({"title": " "})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {v}");
        let (s, a) = call(
            &app,
            "POST",
            "/api/v1/gap-assessments",
            &t,
            Some(json!({"title": "Baseline"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {a}");
        assert_eq!(a["implemented"], 0);
        let id = a["id"].as_i64().unwrap();
        let (_, d) = call(
            &app,
            "GET",
            &format!("/api/v1/gap-assessments/{id}"),
            &t,
            None,
        )
        .await;
        let entries = d["entries"].as_array().unwrap();
        assert_eq!(
            entries
                .iter()
                .filter(|e| e["ref_id"].as_str().unwrap().starts_with("A."))
                .count(),
            93
        );
        assert!(entries.iter().any(
            |e| e["ref_id"] == "6.1.2" && e["group"].as_str().unwrap().starts_with("Clause 6")
        ));
        assert_eq!(progress_of(&d, "A.7 Physical controls")["applicable"], 14);

        let patch = |r: &str, body: Value| {
            let path = format!("/api/v1/gap-assessments/{id}/entries/{r}");
            let app = &app;
            let t = t.clone();
            async move { call(app, "PATCH", &path, &t, Some(body)).await }
        };
        let (s, v) = patch(
            "A.5.1",
            json!({"status": "implemented", "maturity": 4, "version": 1}),
        )
        .await;
        assert_eq!(
            (s, v["version"].as_i64()),
            (StatusCode::OK, Some(2)),
            "{engine}: {v}"
        );
        let (s, v) = patch("A.5.1", json!({"status": "partial", "version": 1})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("was changed by mia@acme.test"),
            "{v}"
        );
        for (body, expect) in [
            (
                json!({"maturity": 6, "version": 2}),
                "maturity: 6 is outside 0 to 5",
            ),
            (
                json!({"status": "done", "version": 2}),
                "unknown status 'done'",
            ),
            (
                json!({"target_date": "soon", "version": 2}),
                "'soon' is not a date",
            ),
            (json!({"notes": "x"}), "version: required"),
        ] {
            let (s, v) = patch("A.5.1", body).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
            assert!(
                v["detail"].as_str().unwrap().contains(expect),
                "{expect}: {v}"
            );
        }
        let (s, v) = patch("A.9.9", json!({"status": "implemented", "version": 1})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("'A.9.9' is not a requirement"),
            "{v}"
        );
        patch(
            "A.7.4",
            json!({"status": "not_applicable", "notes": "no premises", "version": 1}),
        )
        .await;
        patch("6.1.2", json!({"status": "partial", "maturity": 2, "owner": "mia", "target_date": "2027-03-31", "actions": "Choose a method", "version": 1})).await;
        let (s, _) = call(
            &app,
            "PATCH",
            &format!("/api/v1/gap-assessments/{id}/entries/A.5.2"),
            &aud,
            Some(json!({"status": "implemented", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "auditors read only");

        let (_, d) = call(
            &app,
            "GET",
            &format!("/api/v1/gap-assessments/{id}"),
            &t,
            None,
        )
        .await;
        let physical = progress_of(&d, "A.7 Physical controls");
        assert_eq!(
            (
                physical["applicable"].as_i64(),
                physical["not_applicable"].as_i64()
            ),
            (Some(13), Some(1)),
            "{engine}"
        );
        assert_eq!(
            progress_of(&d, "A.5 Organizational controls")["implemented"],
            1
        );
        let e612 = d["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["ref_id"] == "6.1.2")
            .unwrap();
        assert_eq!(
            (e612["priority"].as_i64(), e612["status"].as_str()),
            (Some(2), Some("partial"))
        );

        // A follow-up assessment copies the values; what improved shows in the comparison.
        let (s, b) = call(
            &app,
            "POST",
            "/api/v1/gap-assessments",
            &t,
            Some(json!({"title": "Q2", "copy_from": id})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let id2 = b["id"].as_i64().unwrap();
        assert_eq!(b["implemented"], 1, "copied");
        call(
            &app,
            "PATCH",
            &format!("/api/v1/gap-assessments/{id2}/entries/6.1.2"),
            &t,
            Some(json!({"status": "implemented", "maturity": 3, "version": 1})),
        )
        .await;
        call(
            &app,
            "PATCH",
            &format!("/api/v1/gap-assessments/{id2}/entries/A.5.1"),
            &t,
            Some(json!({"maturity": 3, "version": 1})),
        )
        .await;
        let (_, cmp) = call(
            &app,
            "GET",
            &format!("/api/v1/gap-assessments/compare?from={id}&to={id2}"),
            &t,
            None,
        )
        .await;
        assert_eq!(
            (cmp["improved"].as_i64(), cmp["regressed"].as_i64()),
            (Some(1), Some(1)),
            "{engine}: {cmp}"
        );
        let (_, list) = call(&app, "GET", "/api/v1/gap-assessments", &t, None).await;
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(list[0]["id"], id2, "newest first");

        // The gap report: deterministic, with the gaps and without what is done.
        for format in ["pdf", "xlsx"] {
            let path = format!("/api/v1/gap-assessments/{id}/report?format={format}");
            let (a, b) = (
                app_get(&app, &path, &t).await,
                app_get(&app, &path, &t).await,
            );
            assert_eq!(a.0, StatusCode::OK, "{engine}: {format}");
            assert_eq!(a.1, b.1, "{format} byte-identical");
        }
        let pdf = crate::support::pdf_text(
            &app_get(
                &app,
                &format!("/api/v1/gap-assessments/{id}/report?format=pdf"),
                &t,
            )
            .await
            .1,
        );
        assert!(
            pdf.contains("\n6.1.2\n") && pdf.contains("\nA.5.2\n"),
            "gaps listed"
        );
        assert!(
            !pdf.contains("\nA.5.1\n") && !pdf.contains("\nA.7.4\n"),
            "implemented and not applicable are not gaps"
        );
        let (s, v) = call(
            &app,
            "GET",
            &format!("/api/v1/gap-assessments/{id}/report?format=csv"),
            &t,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

        let log = store
            .audit_entries(
                org.id,
                &isms_store::AuditFilter {
                    entity_type: Some("gap_entry".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(log.len(), 5, "{engine}");
    }
}

async fn app_get(app: &App, path: &str, token: &str) -> (StatusCode, Vec<u8>) {
    let r = app
        .send(
            axum::http::Request::get(path)
                .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    (r.status, r.bytes)
}

#[tokio::test]
async fn the_gap_pages_show_charts_and_save_rows() {
    for (engine, store) in stores().await {
        org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let app = App::new(store.clone());
        let (cookie, csrf) = app.login("ann@acme.test", PASSWORD).await;
        let r = app
            .post(
                "/gap",
                Some(&cookie),
                &[("csrf_token", &csrf), ("title", "Baseline")],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let loc = r.header("location").unwrap();
        let page = app.get(&loc, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("<svg") && page.body.contains("Implemented by Annex A theme"));
        assert!(page.body.contains("id=\"g-A-8-34\""));
        assert!(!page.body.contains("style="), "no inline styles (CSP)");
        // A compact read-only table, one row edited at a time: small.
        assert!(
            page.body.len() < 60_000,
            "{engine}: the page of a new assessment is {} bytes",
            page.body.len()
        );
        assert!(!page.body.contains("name=\"notes\""), "no form in the rows");
        let id: i64 = loc.trim_start_matches("/gap/").parse().unwrap();

        // The editor of one row, with visible labels; Cancel's row.
        let edit = app
            .get(&format!("/gap/{id}/A.8.1/edit"), Some(&cookie))
            .await;
        assert_eq!(edit.status, StatusCode::OK);
        assert!(
            edit.body
                .starts_with("<tr id=\"g-A-8-1\" class=\"editing\"")
                && edit.body.contains("<label for=\"nt-A-8-1\">Notes</label>")
                && edit
                    .body
                    .contains("<label for=\"ac-A-8-1\">Actions</label>")
                && !edit.body.contains("visually-hidden\" for"),
            "{}",
            edit.body
        );
        let row = app
            .get(&format!("/gap/{id}/A.8.1/row"), Some(&cookie))
            .await;
        assert!(row.body.starts_with("<tr id=\"g-A-8-1\">") && row.body.contains("/A.8.1/edit"));
        assert_eq!(
            app.get(&format!("/gap/{id}/A.99/row"), Some(&cookie))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // Without htmx, ?edit= shows the same editor in the page.
        let page = app
            .get(&format!("/gap/{id}?edit=A.8.1"), Some(&cookie))
            .await;
        assert!(page.body.contains("<tr id=\"g-A-8-1\" class=\"editing\""));

        // htmx: the row comes back; a bad date is a 422 with the reason, nothing saved.
        let r = app
            .post(
                &format!("/gap/{id}/A.8.1"),
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "1"),
                    ("status", "partial"),
                    ("maturity", "2"),
                    ("target_date", "2027-02-30"),
                ],
                &[("hx-request", "true")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(
            r.body.contains("&#39;2027-02-30&#39; is not a date")
                || r.body.contains("'2027-02-30' is not a date"),
            "{}",
            r.body
        );
        let r = app
            .post(
                &format!("/gap/{id}/A.8.1"),
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "1"),
                    ("status", "partial"),
                    ("maturity", "2"),
                    ("owner", "ann"),
                    ("notes", "MDM for laptops only"),
                ],
                &[("hx-request", "true")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.starts_with("<tr id=\"g-A-8-1\"") && r.body.contains("MDM for laptops only")
        );
        // The save is announced and the charts are told to reload.
        assert_eq!(
            r.header("hx-trigger").as_deref(),
            Some("{\"announce\":\"Saved A.8.1.\",\"gap-saved\":true}")
        );
        let progress = app.get(&format!("/gap/{id}/progress"), Some(&cookie)).await;
        assert!(
            progress
                .body
                .starts_with("<section class=\"card\" id=\"gap-progress\"")
                && progress.body.contains("hx-trigger=\"gap-saved from:body\"")
                && progress.body.contains("0 of "),
            "{}",
            progress.body
        );
        // Filters: by owner, status, clause or theme, and text.
        let only = |q: &str| {
            let app = &app;
            let cookie = &cookie;
            let q = q.to_owned();
            async move {
                let b = app.get(&format!("/gap/{id}?{q}"), Some(cookie)).await.body;
                b.matches("<tr id=\"g-").count()
            }
        };
        assert_eq!(only("owner=ann").await, 1);
        assert_eq!(only("status=partial").await, 1);
        assert_eq!(only("q=mdm+for+LAPTOPS").await, 1);
        assert_eq!(
            only("q=8.1").await,
            12,
            "clause 8.1, A.8.1 and A.8.10 to A.8.19"
        );
        assert_eq!(
            only("group=A.8+Technological+controls").await,
            34,
            "the 34 technological controls"
        );
        assert_eq!(
            only("group=A.8+Technological+controls&status=partial").await,
            1
        );
        // A stale plain form: 409, the typed text kept on the page.
        let r = app
            .post(
                &format!("/gap/{id}/A.8.1"),
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "1"),
                    ("status", "implemented"),
                    ("maturity", "4"),
                    ("notes", "my stale notes"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{engine}");
        assert!(r.body.contains("my stale notes") && r.body.contains("nothing was saved"));
        let list = app.get("/gap", Some(&cookie)).await;
        assert!(list.body.contains("Baseline"));
        let pdf = app
            .get(&format!("/gap/{id}/report?format=pdf"), Some(&cookie))
            .await;
        assert_eq!(
            pdf.header("content-type").as_deref(),
            Some("application/pdf")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn isms_report_gap_writes_the_report() {
    for (engine, db) in crate::support::database_urls().await {
        let dir = std::env::temp_dir().join(format!("isms_gap_{}_{engine}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = env!("CARGO_BIN_EXE_isms");
        let run = |args: &[&str]| {
            Command::new(bin)
                .arg("--database")
                .arg(&db)
                .args(args)
                .stdin(Stdio::null())
                .output()
                .unwrap()
        };
        assert!(run(&["org", "create", "Acme Ltd"]).status.success());
        let o = run(&[
            "report",
            "gap",
            "--org",
            "acme-ltd",
            "--format",
            "pdf",
            "-o",
            dir.join("g.pdf").to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("no gap assessment yet"),
            "{engine}"
        );
        let store = isms_store::Store::connect(&db).await.unwrap();
        let org = store.require_org("acme-ltd").await.unwrap();
        store
            .create_gap_assessment(org.id, "Baseline", None, &isms_store::Actor::cli())
            .await
            .unwrap();
        store.close().await;
        for f in ["pdf", "xlsx"] {
            let file = dir.join(format!("g.{f}"));
            let o = run(&[
                "report",
                "gap",
                "--org",
                "acme-ltd",
                "--format",
                f,
                "-o",
                file.to_str().unwrap(),
            ]);
            assert!(
                o.status.success(),
                "{engine}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(std::fs::metadata(&file).unwrap().len() > 1000);
        }
        let o = run(&[
            "report", "gap", "--org", "acme-ltd", "--format", "csv", "-o", "x",
        ]);
        assert!(String::from_utf8_lossy(&o.stderr).contains("the gap report is pdf or xlsx"));
    }
}

/// A requirement, its SoA entry and its gap row link to each other; an
/// employee sees only the requirement.
#[tokio::test]
async fn a_requirement_its_soa_entry_and_its_gap_row_link_to_each_other() {
    let (_, store) = stores().await.remove(0);
    let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
    crate::support::add(&store, &org, "eve@acme.test", Role::Employee).await;
    let app = App::new(store.clone());
    let (cookie, csrf) = app.login("ann@acme.test", PASSWORD).await;
    let r = app
        .post(
            "/gap",
            Some(&cookie),
            &[("csrf_token", &csrf), ("title", "Baseline")],
            &[],
        )
        .await;
    let gap = r.header("location").unwrap();
    let req = store
        .requirement_by_ref("iso27001-2022", "A.5.1", isms_store::Tenant::Org(org.id))
        .await
        .unwrap()
        .unwrap();
    let req_href = format!("/requirements/{}", req.id);
    let gap_href = format!("{gap}#g-A-5-1");

    let soa = app.get("/soa/5.1", Some(&cookie)).await;
    assert!(
        soa.body.contains(&format!("href=\"{req_href}\""))
            && soa.body.contains(&format!("href=\"{gap_href}\"")),
        "{}",
        soa.body
    );
    let page = app.get(&req_href, Some(&cookie)).await;
    assert!(
        page.body
            .contains("href=\"/soa/5.1\">Statement of Applicability entry 5.1</a>")
            && page.body.contains(&format!("href=\"{gap_href}\"")),
        "{}",
        page.body
    );
    let editor = app.get(&format!("{gap}/A.5.1/edit"), Some(&cookie)).await;
    assert!(
        editor.body.contains(&format!("href=\"{req_href}\""))
            && editor.body.contains("href=\"/soa/5.1\""),
        "{}",
        editor.body
    );
    // A clause has no SoA entry.
    let editor = app.get(&format!("{gap}/6.1.2/edit"), Some(&cookie)).await;
    assert!(editor.body.contains("/requirements/") && !editor.body.contains("/soa/"));

    let (eve, _) = app.login("eve@acme.test", PASSWORD).await;
    let page = app.get(&req_href, Some(&eve)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("href=\"/soa/5.1\"") && !page.body.contains(&gap_href));
}
