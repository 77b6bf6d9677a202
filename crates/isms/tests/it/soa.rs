//! The Statement of Applicability on every engine: always 93 entries, edits
//! with a required justification and optimistic concurrency, roles,
//! approval into immutable versions, comparison, exports, and the same
//! through the web forms.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use isms_domain::Role;
use isms_store::{Actor, Org, Store};
use serde_json::{Value, json};

use crate::support::{App, PASSWORD, add, org_with, stores};

/// Sends a JSON request with a bearer token; returns the status and the parsed body.
pub async fn call(
    app: &App,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(v) => {
            b = b.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let r = app.send(b.body(body).unwrap()).await;
    let v = serde_json::from_str(&r.body).unwrap_or(Value::String(r.body.clone()));
    (r.status, v)
}

/// An API token for a new member with `role`.
pub async fn token(store: &Store, org: &Org, email: &str, role: Role) -> String {
    let id = add(store, org, email, role).await;
    store
        .create_token(org.id, id, "test", &Actor::cli())
        .await
        .unwrap()
        .1
}

async fn admin_token(store: &Store, org: &Org) -> String {
    let user = store.user_by_email("ann@acme.test").await.unwrap().unwrap();
    store
        .create_token(org.id, user.id, "test", &Actor::cli())
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn a_new_organisation_has_all_93_controls_in_order() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = admin_token(&store, &org).await;
        let app = App::new(store.clone());
        let (s, v) = call(&app, "GET", "/api/v1/soa", &t, None).await;
        assert_eq!(s, StatusCode::OK, "{engine}: {v}");
        let entries = v["entries"].as_array().unwrap();
        let ids: Vec<&str> = entries
            .iter()
            .map(|e| e["control_id"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = isms_catalog::annex_a_controls()
            .iter()
            .map(|c| c.control_id.as_str())
            .collect();
        assert_eq!(ids, expected, "{engine}");
        assert_eq!((ids.len(), ids[0], ids[92]), (93, "5.1", "8.34"));
        for e in entries {
            for f in [
                "control_id",
                "title",
                "applicable",
                "justification",
                "status",
                "version",
            ] {
                assert!(!e[f].is_null(), "{engine}: {f} missing in {e}");
            }
        }
        assert_eq!(entries[14]["title"], "Access control");
        // Reading again creates nothing more.
        let (_, again) = call(&app, "GET", "/api/v1/soa", &t, None).await;
        assert_eq!(again["entries"].as_array().unwrap().len(), 93);
        // A second organisation has its own, complete SoA.
        let other = store.create_org("Other Ltd", &Actor::cli()).await.unwrap();
        assert_eq!(
            store
                .soa_entries(other.id, &Actor::cli())
                .await
                .unwrap()
                .len(),
            93
        );
        let (s, one) = call(&app, "GET", "/api/v1/soa/8.34", &t, None).await;
        assert_eq!(
            (s, one["control_id"].as_str()),
            (StatusCode::OK, Some("8.34"))
        );
    }
}

#[tokio::test]
async fn edits_need_a_justification_and_the_current_version() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let ann = admin_token(&store, &org).await;
        let bob = token(&store, &org, "bob@acme.test", Role::IsmsManager).await;
        let app = App::new(store.clone());

        // Missing, empty, blank justification: 422, nothing saved.
        for body in [
            json!({"applicable": false, "version": 1}),
            json!({"applicable": false, "justification": "", "version": 1}),
            json!({"applicable": false, "justification": "   ", "version": 1}),
        ] {
            let (s, v) = call(&app, "PATCH", "/api/v1/soa/7.4", &ann, Some(body)).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {v}");
            assert!(
                v["detail"].as_str().unwrap().contains("justification"),
                "{v}"
            );
        }
        let (s, v) = call(
            &app,
            "PATCH",
            "/api/v1/soa/7.4",
            &ann,
            Some(json!({"applicable": false, "justification": "x"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["detail"].as_str().unwrap().contains("version"), "{v}");
        let (s, v) = call(
            &app,
            "PATCH",
            "/api/v1/soa/7.4",
            &ann,
            Some(json!({"status": "done", "justification": "x", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("unknown status 'done'"),
            "{v}"
        );
        let (s, v) = call(
            &app,
            "PATCH",
            "/api/v1/soa/7.4",
            &ann,
            Some(json!({"applicable": "nope", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (_, e) = call(&app, "GET", "/api/v1/soa/7.4", &ann, None).await;
        assert_eq!(
            (e["applicable"].as_bool(), e["version"].as_i64()),
            (Some(true), Some(1)),
            "{engine}: nothing saved"
        );

        // A good change.
        let (s, e) = call(&app, "PATCH", "/api/v1/soa/7.4", &ann, Some(json!({"applicable": false, "justification": "No premises of our own: we work from a co-working space", "version": 1}))).await;
        assert_eq!(s, StatusCode::OK, "{engine}: {e}");
        assert_eq!(
            (e["applicable"].as_bool(), e["version"].as_i64()),
            (Some(false), Some(2))
        );
        assert_eq!(e["updated_by"], "ann@acme.test");
        let (s, e) = call(&app, "PATCH", "/api/v1/soa/5.15", &bob, Some(json!({"justification": "Access is the core of our risk treatment", "reasons": ["contractual", "risk_treatment"], "status": "partially_implemented", "owner": "bob@acme.test", "version": 1}))).await;
        assert_eq!(s, StatusCode::OK, "{engine}: {e}");
        assert_eq!(
            e["reasons"],
            json!(["risk_treatment", "contractual"]),
            "a set in canonical order"
        );
        assert_eq!(e["owner"], "bob@acme.test");
        let (s, v) = call(
            &app,
            "PATCH",
            "/api/v1/soa/5.15",
            &bob,
            Some(json!({"owner": "stranger@else.test", "version": 2})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("stranger@else.test is not an active member"),
            "{v}"
        );

        // Two people edit 5.1 from version 1: the second gets 409 with what changed.
        let (s, _) = call(&app, "PATCH", "/api/v1/soa/5.1", &ann, Some(json!({"justification": "Policies are required by ISO 27001 and our customers", "status": "implemented", "version": 1}))).await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = call(
            &app,
            "PATCH",
            "/api/v1/soa/5.1",
            &bob,
            Some(json!({"justification": "Bob's view", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{engine}: {v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("nothing was saved") && detail.contains("ann@acme.test"),
            "{detail}"
        );
        assert_eq!(v["current"]["version"], 2);
        let fields: Vec<&str> = v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["justification", "status"], "{v}");
        assert_eq!(v["changes"][1]["to"], "implemented");
        assert_eq!(v["changes"][1]["by"], "ann@acme.test");
        let (_, e) = call(&app, "GET", "/api/v1/soa/5.1", &ann, None).await;
        assert_eq!(
            e["justification"], "Policies are required by ISO 27001 and our customers",
            "{engine}: not overwritten"
        );

        // Excluding a control drops its reasons for inclusion; sending some is refused.
        let (s, v) = call(&app, "PATCH", "/api/v1/soa/5.15", &bob, Some(json!({"applicable": false, "justification": "x", "reasons": ["business"], "version": 2}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

        // Every change is in the audit log with before and after.
        let log = store
            .audit_entries(
                org.id,
                &isms_store::AuditFilter {
                    entity_type: Some("soa_entry".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(log.len(), 3, "{engine}");
        assert!(
            log.iter()
                .any(|e| e.entity_id == "7.4" && e.actor == "ann@acme.test" && e.via == "api")
        );
        let report = store.verify_audit_log().await.unwrap();
        assert!(report.iter().all(|r| r.problem.is_none()));
    }
}

#[tokio::test]
async fn ids_outside_annex_a_are_404_naming_the_id() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = admin_token(&store, &org).await;
        let app = App::new(store);
        for id in ["9.1", "5.38", "A.5.1", "x"] {
            let (s, v) = call(&app, "GET", &format!("/api/v1/soa/{id}"), &t, None).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{engine}");
            assert!(
                v["detail"].as_str().unwrap().contains(&format!(
                    "'{id}' is not an ISO/IEC 27001:2022 Annex A control"
                )),
                "{v}"
            );
            let (s, _) = call(
                &app,
                "PATCH",
                &format!("/api/v1/soa/{id}"),
                &t,
                Some(json!({"justification": "x", "version": 1})),
            )
            .await;
            assert_eq!(s, StatusCode::NOT_FOUND);
        }
    }
}

#[tokio::test]
async fn employees_and_auditors_cannot_edit_and_only_managers_approve() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let emp = token(&store, &org, "eve@acme.test", Role::Employee).await;
        let aud = token(&store, &org, "al@acme.test", Role::Auditor).await;
        let risk = token(&store, &org, "rita@acme.test", Role::RiskOwner).await;
        let app = App::new(store.clone());
        let body = json!({"applicable": false, "justification": "not needed", "version": 1});
        for t in [&emp, &aud] {
            let (s, v) = call(&app, "PATCH", "/api/v1/soa/5.1", t, Some(body.clone())).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{engine}: {v}");
        }
        let (s, _) = call(&app, "GET", "/api/v1/soa", &aud, None).await;
        assert_eq!(s, StatusCode::OK, "auditors read");
        for t in [&emp, &aud, &risk] {
            let (s, _) = call(&app, "POST", "/api/v1/soa/approve", t, None).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{engine}");
        }
        let e = store.soa_entry(org.id, "5.1", &Actor::cli()).await.unwrap();
        assert!(e.applicable && e.version == 1, "{engine}: nothing changed");
    }
}

#[tokio::test]
async fn approval_freezes_numbered_versions_that_can_be_compared() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = admin_token(&store, &org).await;
        let app = App::new(store.clone());
        let (s, v) = call(&app, "POST", "/api/v1/soa/approve", &t, None).await;
        assert_eq!(
            (s, &v["version"]),
            (StatusCode::CREATED, &json!(1)),
            "{engine}: {v}"
        );
        // Nothing changed since: refused, clearly.
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/soa/approve",
            &t,
            Some(json!({"note": "again"})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{engine}: {v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("nothing has changed since version 1"),
            "{v}"
        );

        let (s, _) = call(&app, "PATCH", "/api/v1/soa/8.1", &t, Some(json!({"applicable": false, "justification": "No endpoints: thin clients only", "version": 1}))).await;
        assert_eq!(s, StatusCode::OK);
        let (_, soa) = call(&app, "GET", "/api/v1/soa", &t, None).await;
        assert_eq!(
            (
                soa["approved_version"].as_i64(),
                soa["draft_changed"].as_bool()
            ),
            (Some(1), Some(true))
        );
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/soa/approve",
            &t,
            Some(json!({"note": "stage 1"})),
        )
        .await;
        assert_eq!((s, &v["version"]), (StatusCode::CREATED, &json!(2)), "{v}");
        assert_eq!(v["approved_by"], "ann@acme.test");

        let (_, list) = call(&app, "GET", "/api/v1/soa/versions", &t, None).await;
        let numbers: Vec<i64> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect();
        assert_eq!(numbers, [2, 1], "{engine}");
        // Later edits form a new draft; approved versions do not move.
        let (s, _) = call(
            &app,
            "PATCH",
            "/api/v1/soa/8.1",
            &t,
            Some(json!({"applicable": true, "justification": "Laptops after all", "version": 2})),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (_, v1) = call(&app, "GET", "/api/v1/soa/versions/1", &t, None).await;
        let (_, v2) = call(&app, "GET", "/api/v1/soa/versions/2", &t, None).await;
        assert_eq!(v1["entries"].as_array().unwrap().len(), 93);
        let find = |v: &Value, id: &str| {
            v["entries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["control_id"] == id)
                .cloned()
                .unwrap()
        };
        assert_eq!(find(&v1, "8.1")["applicable"], true);
        assert_eq!(find(&v2, "8.1")["applicable"], false);
        assert_eq!(v2["note"], "stage 1");
        let (s, v) = call(&app, "GET", "/api/v1/soa/versions/9", &t, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

        let (_, cmp) = call(&app, "GET", "/api/v1/soa/compare?from=1&to=2", &t, None).await;
        let controls = cmp["controls"].as_array().unwrap();
        assert_eq!(controls.len(), 1, "{engine}: {cmp}");
        assert_eq!(controls[0]["control_id"], "8.1");
        let fields: Vec<&str> = controls[0]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["applicable", "justification"]);
        let (_, cmp) = call(&app, "GET", "/api/v1/soa/compare?from=2", &t, None).await;
        assert_eq!(
            cmp["controls"][0]["changes"][0]["to"], true,
            "version 2 against the draft"
        );

        let log = store
            .audit_entries(
                org.id,
                &isms_store::AuditFilter {
                    entity_type: Some("soa_version".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(log.len(), 2);
    }
}

#[tokio::test]
async fn exports_are_complete_and_byte_identical() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = admin_token(&store, &org).await;
        let app = App::new(store.clone());
        // Before any approval: the draft, marked as such.
        let draft = App::new(store.clone());
        let r = draft
            .send(
                Request::get("/api/v1/soa/export?format=pdf")
                    .header(header::AUTHORIZATION, format!("Bearer {t}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}");
        assert!(
            r.header("content-disposition")
                .unwrap()
                .contains("soa-acme-ltd-draft.pdf")
        );
        call(&app, "PATCH", "/api/v1/soa/6.7", &t, Some(json!({"applicable": false, "justification": "Nobody works remotely; the office is the only place of work", "version": 1}))).await;
        call(&app, "POST", "/api/v1/soa/approve", &t, None).await;
        let actor = Actor::cli();
        for format in [
            isms_web::isms_reports::Format::Pdf,
            isms_web::isms_reports::Format::Xlsx,
            isms_web::isms_reports::Format::Csv,
        ] {
            let (a, doc) = isms_web::isms_reports::soa_export(&store, &org, None, format, &actor)
                .await
                .unwrap();
            let (b, _) = isms_web::isms_reports::soa_export(&store, &org, None, format, &actor)
                .await
                .unwrap();
            assert_eq!(
                a, b,
                "{engine}: {format:?} exports of the same data are identical"
            );
            assert_eq!(doc.version, Some(1));
            assert_eq!(doc.rows.len(), 93);
        }
        let (csv, _) = isms_web::isms_reports::soa_export(
            &store,
            &org,
            None,
            isms_web::isms_reports::Format::Csv,
            &actor,
        )
        .await
        .unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(text.lines().count(), 94, "a header and 93 rows");
        assert!(
            text.contains("6.7,Remote working,People,No,Nobody works remotely"),
            "{engine}"
        );
        let (s, v) = call(&app, "GET", "/api/v1/soa/export?format=docx", &t, None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("unknown format 'docx'")
        );
    }
}

/// The web forms: refused saves keep what was typed and say why.
#[tokio::test]
async fn the_web_forms_refuse_clearly_and_lose_nothing() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        add(&store, &org, "eve@acme.test", Role::Employee).await;
        let app = App::new(store.clone());
        let (cookie, csrf) = app.login("ann@acme.test", PASSWORD).await;

        let page = app.get("/soa", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{engine}: {}", page.body);
        for theme in [
            "Organizational controls",
            "People controls",
            "Physical controls",
            "Technological controls",
        ] {
            assert!(page.body.contains(theme));
        }
        assert_eq!(page.body.matches("<tr id=\"c-").count(), 93);
        assert!(!page.body.contains("style="), "no inline styles (CSP)");
        let filtered = app
            .get("/soa?theme=Physical&applicable=yes", Some(&cookie))
            .await;
        assert_eq!(filtered.body.matches("<tr id=\"c-").count(), 14);

        let edit = app.get("/soa/5.23", Some(&cookie)).await;
        assert!(
            edit.body
                .contains("Information security for use of cloud services")
        );
        assert!(edit.body.contains("Guidance"));
        let version = edit.hidden("version").unwrap();
        assert_eq!(version, "1");

        // No justification: 422, the typed notes stay in the form.
        let r = app
            .post(
                "/soa/5.23",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "1"),
                    ("applicable", "no"),
                    ("justification", ""),
                    ("status", "planned"),
                    ("notes", "my careful notes"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(r.body.contains("justification: required"), "{}", r.body);
        assert!(r.body.contains("my careful notes"));

        let r = app
            .post(
                "/soa/5.23",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "1"),
                    ("applicable", "yes"),
                    ("justification", "All our systems run in the cloud"),
                    ("reasons", "risk_treatment"),
                    ("reasons", "business"),
                    ("status", "planned"),
                    ("owner", "ann@acme.test"),
                    ("notes", ""),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let e = store
            .soa_entry(org.id, "5.23", &Actor::cli())
            .await
            .unwrap();
        assert_eq!(e.reasons, ["risk_treatment", "business"]);
        assert_eq!((e.version, e.owner.as_deref()), (2, Some("ann@acme.test")));

        // A stale form: 409, their change shown, the typed text kept.
        let r = app
            .post(
                "/soa/5.23",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "1"),
                    ("applicable", "yes"),
                    ("justification", "my stale text"),
                    ("status", "implemented"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{engine}");
        assert!(
            r.body
                .contains("was changed by ann@acme.test while you were editing"),
            "{}",
            r.body
        );
        assert!(r.body.contains("my stale text"));
        assert!(r.body.contains("What changed while you were editing"));
        assert_eq!(
            store
                .soa_entry(org.id, "5.23", &Actor::cli())
                .await
                .unwrap()
                .justification,
            "All our systems run in the cloud"
        );

        // Approve from the page, then again without changes.
        let r = app
            .post(
                "/soa/approve",
                Some(&cookie),
                &[("csrf_token", &csrf), ("note", "first")],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.header("location").as_deref(), Some("/soa?approved=1"));
        let r = app
            .post("/soa/approve", Some(&cookie), &[("csrf_token", &csrf)], &[])
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("nothing has changed since version 1"));
        let versions = app
            .get("/soa/versions?from=1&to=draft", Some(&cookie))
            .await;
        assert!(
            versions.body.contains("No differences"),
            "{}",
            versions.body
        );
        let pdf = app.get("/soa/export?format=pdf", Some(&cookie)).await;
        assert_eq!(
            pdf.header("content-type").as_deref(),
            Some("application/pdf")
        );
        assert!(pdf.body.starts_with("%PDF-"));

        // An employee can neither see nor change the SoA.
        let (eve, eve_csrf) = app.login("eve@acme.test", PASSWORD).await;
        assert_eq!(
            app.get("/soa", Some(&eve)).await.status,
            StatusCode::FORBIDDEN
        );
        let r = app
            .post(
                "/soa/5.23",
                Some(&eve),
                &[
                    ("csrf_token", &eve_csrf),
                    ("version", "2"),
                    ("applicable", "no"),
                    ("justification", "eve says no"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");
        assert!(
            store
                .soa_entry(org.id, "5.23", &Actor::cli())
                .await
                .unwrap()
                .applicable
        );
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_isms_api() {
    let (_, store) = stores().await.into_iter().next().unwrap();
    let app = App::new(store);
    let doc: Value =
        serde_json::from_str(&app.get("/api/v1/openapi.json", None).await.body).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/soa", "get"),
        ("/soa/{control_id}", "patch"),
        ("/soa/approve", "post"),
        ("/soa/versions", "get"),
        ("/soa/versions/{number}", "get"),
        ("/soa/compare", "get"),
        ("/soa/export", "get"),
        ("/scope", "put"),
        ("/context-items", "post"),
        ("/context-items/{id}", "patch"),
        ("/readiness", "get"),
        ("/gap-assessments", "post"),
        ("/gap-assessments/{id}/entries/{ref_id}", "patch"),
        ("/gap-assessments/{id}/report", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["SoaEntryOut"].is_object());
    assert!(paths["/soa/{control_id}"]["patch"]["responses"]["409"].is_object());
}

#[tokio::test]
async fn approval_takes_an_empty_or_json_body() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = admin_token(&store, &org).await;
        let app = App::new(store.clone());
        let send = |body: &'static str| {
            Request::post("/api/v1/soa/approve")
                .header(header::AUTHORIZATION, format!("Bearer {t}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap()
        };
        let r = app.send(send("{\"note\": ")).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{engine}: {}",
            r.body
        );
        let r = app.send(send("")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["version"], 1);
    }
}

/// The list edits a row in place with htmx; refusals leave the typed row alone.
#[tokio::test]
async fn the_list_edits_rows_in_place() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let app = App::new(store.clone());
        let (cookie, csrf) = app.login("ann@acme.test", PASSWORD).await;
        let hx = [("hx-request", "true")];
        let form = app.get("/soa/8.12/row-edit", Some(&cookie)).await;
        assert_eq!(form.status, StatusCode::OK, "{engine}");
        assert!(
            form.body.starts_with("<tr id=\"c-8.12\"")
                && form.body.contains("hx-post=\"/soa/8.12\"")
        );
        // Owner, notes and reasons set on the full page survive an inline save.
        store
            .update_soa_entry(
                org.id,
                "8.12",
                &isms_store::SoaPatch {
                    justification: Some("first".into()),
                    reasons: Some(vec!["contractual".into()]),
                    notes: Some("keep me".into()),
                    version: Some(1),
                    ..Default::default()
                },
                &Actor::cli(),
            )
            .await
            .unwrap();
        let r = app
            .post(
                "/soa/8.12",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "2"),
                    ("applicable", "yes"),
                    ("justification", ""),
                ],
                &hx,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(
            r.body
                .contains("8.12 was not saved: justification: required"),
            "{}",
            r.body
        );
        let r = app
            .post(
                "/soa/8.12",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "1"),
                    ("applicable", "yes"),
                    ("justification", "stale"),
                ],
                &hx,
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(
            r.body.contains("changed: justification, reasons, notes"),
            "{}",
            r.body
        );
        let r = app
            .post(
                "/soa/8.12",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "2"),
                    ("applicable", "yes"),
                    (
                        "justification",
                        "Customer data leaves only through approved channels",
                    ),
                    ("status", "planned"),
                ],
                &hx,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.starts_with("<tr id=\"c-8.12\"") && r.body.contains("Customer data leaves only")
        );
        // The page announces the save in its live region and puts the focus
        // back on the row's edit button (app.js reads both).
        assert_eq!(
            r.header("hx-trigger").as_deref(),
            Some("{\"announce\":\"Saved 8.12.\"}")
        );
        assert!(r.body.contains("data-row-focus"), "{}", r.body);
        let e = store
            .soa_entry(org.id, "8.12", &Actor::cli())
            .await
            .unwrap();
        assert_eq!(
            (
                e.status.as_str(),
                e.notes.as_str(),
                e.reasons.len(),
                e.version
            ),
            ("planned", "keep me", 1, 3)
        );
        let back = app.get("/soa/8.12/row", Some(&cookie)).await;
        assert!(back.body.contains("Planned"));
    }
}
