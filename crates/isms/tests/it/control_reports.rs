//! The control register, the coverage per framework and the metrics report
//! (PDF, XLSX, CSV) through the API, the pages and `isms report`; the
//! metric panel of the dashboard. Both engines.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use isms_domain::Role;
use isms_store::{Actor, Store};
use serde_json::{Value, json};

use crate::risk::xlsx_text;
use crate::support::{App, PASSWORD, Resp, add, org_with, pdf_text};

async fn call(app: &App, method: &str, path: &str, token: &str, body: Option<Value>) -> Resp {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    app.send(
        req.body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
            .unwrap(),
    )
    .await
}

fn id_of(r: &Resp) -> i64 {
    let v: Value = serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("{}", r.body));
    v["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {}", r.body))
}

/// A download through the API: status, content type and the bytes.
async fn bytes(app: &App, path: &str, token: &str) -> (StatusCode, String, Vec<u8>) {
    let r = app.api("GET", path, Some(token)).await;
    let ct = r.header("content-type").unwrap_or_default();
    (r.status, ct, r.bytes)
}

/// An organisation with two controls: one implemented on 8.5 with a
/// not-effective review and expired evidence, one planned on 5.15; and a
/// red and an unmeasured metric.
async fn seed(store: &Store) -> (App, String, i64) {
    let org = org_with(store, "Acme", "mia@acme.test", Role::IsmsManager).await;
    add(store, &org, "ann@acme.test", Role::Auditor).await;
    let user = store.user_by_email("mia@acme.test").await.unwrap().unwrap();
    let (_, token) = store
        .create_token(org.id, user.id, "t", &Actor::cli())
        .await
        .unwrap();
    let app = App::new(store.clone());
    let r = call(
        &app,
        "POST",
        "/api/v1/controls",
        &token,
        Some(json!({"name": "MFA for every administrator", "owner": "mia@acme.test", "annex_a": ["8.5"],
            "status": "implemented", "category": "technical", "cost": 1200, "review_schedule": "quarterly",
            "start_date": "2026-01-05", "due_date": "2026-02-01"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mfa = id_of(&r);
    let r = call(
        &app,
        "POST",
        "/api/v1/controls",
        &token,
        Some(json!({"name": "Access policy", "annex_a": ["5.15"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = call(
        &app,
        "POST",
        &format!("/api/v1/controls/{mfa}/reviews"),
        &token,
        Some(
            json!({"reviewed_on": "2026-03-01", "result": "not_effective", "reviewer": "ann@acme.test"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = call(
        &app,
        "POST",
        "/api/v1/evidence",
        &token,
        Some(json!({"title": "IdP MFA report", "url": "https://idp.example/report", "collected_on": "2025-01-01",
            "expires_on": "2025-06-30", "controls": [mfa]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = call(
        &app,
        "POST",
        "/api/v1/metrics",
        &token,
        Some(json!({"name": "Staff trained", "unit": "%", "target": 95, "red_threshold": 80})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let trained = id_of(&r);
    for (date, value) in [("2026-01-31", 70.0), ("2026-02-28", 72.5)] {
        let r = call(
            &app,
            "POST",
            &format!("/api/v1/metrics/{trained}/measurements"),
            &token,
            Some(json!({"value": value, "date": date})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = call(
        &app,
        "POST",
        "/api/v1/metrics",
        &token,
        Some(json!({"name": "Patch latency", "unit": "days", "target": 14, "direction": "lower"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (app, token, mfa)
}

#[tokio::test]
async fn the_control_register_exports_as_pdf_xlsx_and_csv() {
    for (engine, store) in crate::support::stores().await {
        let (app, token, _) = seed(&store).await;
        let (status, ct, csv) = bytes(&app, "/api/v1/controls/export?format=csv", &token).await;
        assert_eq!(status, StatusCode::OK, "{engine}");
        assert!(ct.starts_with("text/csv"), "{ct}");
        let csv = String::from_utf8(csv).unwrap();
        assert!(
            csv.starts_with("id,name,category,status,owner,cost,currency,effort,start_date,due_date,review_schedule,next_review,requirements,latest_review,evidence,evidence_expired,next_evidence_expiry,description"),
            "{csv}"
        );
        let mfa = csv
            .lines()
            .find(|l| l.contains("MFA for every administrator"))
            .unwrap_or_else(|| panic!("{csv}"));
        for needle in [
            "Technical",
            "Implemented",
            "mia@acme.test",
            "1200",
            "2026-01-05",
            "Quarterly",
            "iso27001-2022: A.8.5",
            "Not effective on 2026-03-01 by ann@acme.test",
            ",1,1,",
        ] {
            assert!(mfa.contains(needle), "{engine}: {needle} not in {mfa}");
        }
        let (status, ct, pdf) = bytes(&app, "/api/v1/controls/export?format=pdf", &token).await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/pdf"));
        let text = pdf_text(&pdf);
        for needle in [
            "Control register",
            "MFA for every administrator",
            "Access policy",
            "iso27001-2022: A.8.5",
            // The review's column is narrow: the text wraps after "on".
            "Not effective on",
            // The evidence column wraps too: "1 item(s), 1" / "expired".
            "1 item(s), 1",
            "Implemented (1 controls)",
            "Planned (1 controls)",
        ] {
            assert!(text.contains(needle), "{engine}: {needle} not in {text}");
        }
        let (_, _, again) = bytes(&app, "/api/v1/controls/export?format=pdf", &token).await;
        assert_eq!(pdf, again, "{engine}: the same bytes each time");
        let (status, _, xlsx) = bytes(&app, "/api/v1/controls/export?format=xlsx", &token).await;
        assert_eq!(status, StatusCode::OK);
        let shared = xlsx_text(&xlsx);
        assert!(
            shared.contains("MFA for every administrator") && shared.contains("A.8.5"),
            "{shared}"
        );
        let r = app
            .api("GET", "/api/v1/controls/export?format=docx", Some(&token))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("docx"), "{}", r.body);

        // The page download.
        let (cookie, _) = app.login("mia@acme.test", PASSWORD).await;
        let r = app.get("/controls/export?format=pdf", Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-type").as_deref(), Some("application/pdf"));
        assert!(
            r.header("content-disposition")
                .is_some_and(|d| d.starts_with("attachment") && d.contains("controls-acme.pdf"))
        );
        let page = app.get("/controls", Some(&cookie)).await;
        assert!(page.body.contains("/controls/export?format=pdf"));
        store.close().await;
    }
}

#[tokio::test]
async fn the_coverage_report_marks_derived_mappings_in_every_format() {
    for (engine, store) in crate::support::stores().await {
        let (app, token, _) = seed(&store).await;
        let (cookie, csrf) = app.login("mia@acme.test", PASSWORD).await;
        // A small SP 800-53 (the organisation's own import under NIST's id, so
        // the built-in derived 800-53 -> 27001:2022 mappings apply).
        let (ct, body) = crate::support::multipart(
            Some(&csrf),
            &[("format", "auto")],
            "nist-800-53r5.csv",
            "ref_id,parent_ref_id,title,description\nAC,,Access control,\nAC-2,AC,Account management,\nAC-3,AC,Access enforcement,\n",
        );
        let r = app
            .send(
                Request::post("/frameworks/import")
                    .header(header::CONTENT_TYPE, ct)
                    .header(header::COOKIE, cookie.clone())
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let r = call(
            &app,
            "POST",
            "/api/v1/controls",
            &token,
            Some(
                json!({"name": "Joiner-mover-leaver process", "status": "in_progress",
                "requirements": [{"framework": "nist-800-53r5", "ref_id": "AC-2"}]}),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let jml = id_of(&r);
        let cov: Value = serde_json::from_str(
            &app.api("GET", "/api/v1/coverage/iso27001-2022", Some(&token))
                .await
                .body,
        )
        .unwrap();
        let derived: Vec<&str> = cov["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["via_derived"].as_array().unwrap().contains(&json!(jml)))
            .map(|r| r["ref_id"].as_str().unwrap())
            .collect();
        assert!(
            !derived.is_empty(),
            "{engine}: AC-2 reaches no Annex A control: {cov}"
        );
        let row = |id: &str| {
            cov["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["ref_id"] == id)
                .cloned()
                .unwrap()
        };
        assert_eq!(row("A.8.5")["coverage"], "implemented");
        assert_eq!(row("A.5.15")["coverage"], "planned");
        assert_eq!(row("A.8.34")["coverage"], "none");

        let (status, _, csv) = bytes(
            &app,
            "/api/v1/coverage/iso27001-2022/export?format=csv",
            &token,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let csv = String::from_utf8(csv).unwrap();
        assert!(
            csv.starts_with("ref_id,title,coverage,controls,mapped_controls,derived_only"),
            "{csv}"
        );
        assert!(
            csv.lines().any(|l| l.starts_with("A.8.5,")
                && l.contains(",implemented,MFA for every administrator,")),
            "{csv}"
        );
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("{},", derived[0])))
            .unwrap();
        assert!(
            line.contains("Joiner-mover-leaver process (derived mapping)"),
            "{line}"
        );
        let (status, ct, pdf) = bytes(
            &app,
            "/api/v1/coverage/iso27001-2022/export?format=pdf",
            &token,
        )
        .await;
        assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/pdf"));
        let text = pdf_text(&pdf);
        for needle in [
            "Coverage by the applied controls",
            "No control (",
            "Only planned controls (",
            "Implemented control (",
            "Joiner-mover-leaver process (derived)",
        ] {
            assert!(text.contains(needle), "{engine}: {needle} not in {text}");
        }
        let (_, _, xlsx) = bytes(
            &app,
            "/api/v1/coverage/nist-800-53r5/export?format=xlsx",
            &token,
        )
        .await;
        let shared = xlsx_text(&xlsx);
        assert!(
            shared.contains("Joiner-mover-leaver process") && shared.contains("Account management"),
            "{shared}"
        );
        // An unknown framework: 404 naming it.
        let r = app
            .api(
                "GET",
                "/api/v1/coverage/no-such/export?format=csv",
                Some(&token),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.body.contains("no-such"), "{}", r.body);
        // The page marks the derived mapping and offers the downloads.
        let page = app
            .get(&format!("/coverage/{}", "iso27001-2022"), Some(&cookie))
            .await;
        assert!(page.body.contains("(derived mapping)"), "{engine}");
        assert!(
            page.body
                .contains("/coverage/iso27001-2022/export?format=pdf")
        );
        let r = app
            .get("/coverage/iso27001-2022/export?format=xlsx", Some(&cookie))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        store.close().await;
    }
}

#[tokio::test]
async fn the_metrics_report_draws_each_metric_with_its_status_and_trend() {
    for (engine, store) in crate::support::stores().await {
        let (app, token, _) = seed(&store).await;
        let (status, ct, pdf) = bytes(&app, "/api/v1/metrics/export", &token).await;
        assert_eq!(
            (status, ct.as_str()),
            (StatusCode::OK, "application/pdf"),
            "{engine}"
        );
        let text = pdf_text(&pdf);
        for needle in [
            "Metrics report",
            "Staff trained",
            "Off target (red)",
            "72.5 % on 2026-02-28",
            "green at or above 95 %",
            "red at or below 80 %",
            "Trend against the target (2 measurements)",
            "Patch latency",
            "Not measured",
            "No measurements yet",
        ] {
            assert!(text.contains(needle), "{engine}: {needle} not in {text}");
        }
        let (_, _, again) = bytes(&app, "/api/v1/metrics/export?format=pdf", &token).await;
        assert_eq!(pdf, again);
        let r = app
            .api("GET", "/api/v1/metrics/export?format=xlsx", Some(&token))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("pdf"), "{}", r.body);
        store.close().await;
    }
}

#[tokio::test]
async fn the_dashboard_lists_metrics_off_target_first_in_words() {
    for (engine, store) in crate::support::stores().await {
        let (app, token, _) = seed(&store).await;
        let r = call(
            &app,
            "POST",
            "/api/v1/metrics",
            &token,
            Some(json!({"name": "Access reviews on time", "unit": "%", "target": 90})),
        )
        .await;
        let good = id_of(&r);
        call(
            &app,
            "POST",
            &format!("/api/v1/metrics/{good}/measurements"),
            &token,
            Some(json!({"value": 100, "date": "2026-03-01"})),
        )
        .await;
        let (cookie, _) = app.login("mia@acme.test", PASSWORD).await;
        let page = app.get("/", Some(&cookie)).await;
        let panel = page
            .body
            .split("id=\"metric-status\"")
            .nth(1)
            .and_then(|s| s.split("</section>").next())
            .unwrap_or_else(|| panic!("{engine}: no metric panel"))
            .to_owned();
        let red = panel.find("Staff trained").unwrap();
        let none = panel.find("Patch latency").unwrap();
        let green = panel.find("Access reviews on time").unwrap();
        assert!(red < none && none < green, "{engine}: {panel}");
        for needle in [
            "Off target (red)",
            "Not measured",
            "On target (green)",
            "72.5 % on 2026-02-28",
            "at least 95 %",
            "at most 14 days",
            &format!("href=\"/metrics/{good}\""),
        ] {
            assert!(panel.contains(needle), "{engine}: {needle} not in {panel}");
        }
        // An employee does not see the ISMS status.
        let org = store.org_by_slug("acme").await.unwrap().unwrap();
        add(&store, &org, "emp@acme.test", Role::Employee).await;
        let (emp, _) = app.login("emp@acme.test", PASSWORD).await;
        assert!(
            !app.get("/", Some(&emp))
                .await
                .body
                .contains("metric-status")
        );
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn isms_report_writes_the_control_coverage_and_metrics_reports() {
    use crate::cli::isms;
    for (engine, url) in crate::support::database_urls().await {
        let store = Store::open(&url).await.unwrap();
        seed(&store).await;
        let dir =
            std::env::temp_dir().join(format!("isms-creports-{}-{engine}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |n: &str| dir.join(n).to_string_lossy().into_owned();
        for (args, name, needle) in [
            (
                vec!["report", "controls", "--org", "acme", "--format", "pdf"],
                "c.pdf",
                "MFA for every administrator",
            ),
            (
                vec![
                    "report",
                    "coverage",
                    "--org",
                    "acme",
                    "--framework",
                    "iso27001-2022",
                    "--format",
                    "pdf",
                ],
                "cov.pdf",
                "Only planned controls",
            ),
            (
                vec!["report", "metrics", "--org", "acme", "--format", "pdf"],
                "m.pdf",
                "Trend against the target",
            ),
        ] {
            let out_file = file(name);
            let mut all = args.clone();
            all.extend(["-o", out_file.as_str()]);
            let out = tokio::task::block_in_place(|| isms(&url, &all, None));
            assert!(out.status.success(), "{engine}: {all:?}: {out:?}");
            let text = pdf_text(&std::fs::read(&out_file).unwrap());
            assert!(text.contains(needle), "{engine}: {needle} not in {text}");
        }
        let out_file = file("c.csv");
        let out = tokio::task::block_in_place(|| {
            isms(
                &url,
                &[
                    "report", "controls", "--org", "acme", "--format", "csv", "-o", &out_file,
                ],
                None,
            )
        });
        assert!(out.status.success(), "{out:?}");
        assert!(
            std::fs::read_to_string(&out_file)
                .unwrap()
                .contains("A.8.5")
        );
        let out_file = file("cov.xlsx");
        let out = tokio::task::block_in_place(|| {
            isms(
                &url,
                &[
                    "report",
                    "coverage",
                    "--org",
                    "acme",
                    "--framework",
                    "iso27001-2022",
                    "--format",
                    "xlsx",
                    "-o",
                    &out_file,
                ],
                None,
            )
        });
        assert!(out.status.success(), "{out:?}");
        assert!(
            xlsx_text(&std::fs::read(&out_file).unwrap()).contains("MFA for every administrator")
        );
        // Refusals name the problem.
        let out = tokio::task::block_in_place(|| {
            isms(
                &url,
                &[
                    "report",
                    "metrics",
                    "--org",
                    "acme",
                    "--format",
                    "csv",
                    "-o",
                    &file("m.csv"),
                ],
                None,
            )
        });
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("pdf"),
            "{out:?}"
        );
        let out = tokio::task::block_in_place(|| {
            isms(
                &url,
                &[
                    "report",
                    "coverage",
                    "--org",
                    "acme",
                    "--framework",
                    "nope",
                    "--format",
                    "pdf",
                    "-o",
                    &file("x.pdf"),
                ],
                None,
            )
        });
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("nope"),
            "{out:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        store.close().await;
    }
}

#[tokio::test]
async fn a_not_effective_review_offers_a_nonconformity_and_the_soa_suggests_a_status() {
    for (engine, store) in crate::support::stores().await {
        let (app, _, mfa) = seed(&store).await;
        let (cookie, _) = app.login("mia@acme.test", PASSWORD).await;
        let page = app.get(&format!("/controls/{mfa}"), Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        let form = page
            .body
            .split("action=\"/nonconformities\"")
            .nth(1)
            .and_then(|s| s.split("</form>").next())
            .unwrap_or_else(|| panic!("{engine}: no nonconformity form: {}", page.body))
            .to_owned();
        assert!(
            form.contains("value=\"Control not effective: MFA for every administrator\""),
            "{form}"
        );
        assert!(
            form.contains("name=\"requirement\" value=\"8.5\""),
            "{form}"
        );
        assert!(
            form.contains("name=\"owner\" value=\"mia@acme.test\""),
            "{form}"
        );
        let csrf = page.hidden("csrf_token").unwrap();
        let field = |name: &str| {
            let needle = format!("name=\"{name}\" value=\"");
            let start = form.find(&needle).unwrap() + needle.len();
            let end = form[start..].find('"').unwrap() + start;
            form[start..end]
                .replace("&quot;", "\"")
                .replace("&#x2f;", "/")
        };
        let fields: Vec<(String, String)> = [
            "title",
            "description",
            "source",
            "control_review_id",
            "severity",
            "requirement",
            "owner",
        ]
        .iter()
        .map(|n| ((*n).to_owned(), field(n)))
        .collect();
        let mut form_body: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
        form_body.extend(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let r = app
            .post("/nonconformities", Some(&cookie), &form_body, &[])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let org = store.org_by_slug("acme").await.unwrap().unwrap();
        let ncs = store
            .nonconformities(org.id, &isms_store::NcFilter::default())
            .await
            .unwrap();
        assert_eq!(ncs.len(), 1, "{engine}");
        assert_eq!(
            ncs[0].title,
            "Control not effective: MFA for every administrator"
        );
        assert_eq!(ncs[0].requirement, "8.5");
        let nc = store.nonconformity(org.id, ncs[0].id).await.unwrap();
        assert!(
            nc.control_review_id.is_some(),
            "{engine}: the nonconformity links back to the review"
        );
        // The SoA entry of 8.5 suggests the controls' status in its form.
        let soa = app.get("/soa/8.5", Some(&cookie)).await;
        assert!(
            soa.body
                .contains("Implemented (suggested by the linked controls)"),
            "{engine}: {}",
            soa.body
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_measurement_in_another_unit_is_refused_by_the_api_and_the_csv_import() {
    for (engine, store) in crate::support::stores().await {
        let (app, token, _) = seed(&store).await;
        let org = store.org_by_slug("acme").await.unwrap().unwrap();
        let trained = store
            .metrics(org.id)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.name == "Staff trained")
            .unwrap();
        let r = call(
            &app,
            "POST",
            &format!("/api/v1/metrics/{}/measurements", trained.id),
            &token,
            Some(json!({"value": 3, "date": "2026-03-01", "unit": "days"})),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{engine}: {}",
            r.body
        );
        assert!(
            r.body.contains("unit") && r.body.contains("days"),
            "{}",
            r.body
        );
        let send = |csv: &'static str| {
            app.send(
                Request::post("/api/v1/measurements/import")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "text/csv")
                    .body(Body::from(csv))
                    .unwrap(),
            )
        };
        let r = send("metric,date,value,unit\nStaff trained,2026-03-01,90,%\nStaff trained,2026-03-02,3,days\n").await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{engine}: {}",
            r.body
        );
        assert!(
            r.body.contains("row 3") && r.body.contains("days"),
            "{}",
            r.body
        );
        let r = send("date,value\n2026-03-01,90\n").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("metric, date and value"), "{}", r.body);
        assert_eq!(
            store.measurements(org.id, &trained).await.unwrap().len(),
            2,
            "{engine}: nothing stored"
        );
        // Columns in any order, quoted names with commas, the unit's case ignored.
        let r = send("value,metric,date,unit\n91,\"Staff trained\",2026-03-01,%\n").await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        store.close().await;
    }
}
