//! Internal audit, nonconformities and corrective action, management
//! review: the loop end to end through the API, the reports on the command
//! line, on both engines.

use axum::http::StatusCode;
use isms_domain::Role;
use isms_store::{Actor, AuditFilter, AuditInput, FindingInput, NcInput, Store};
use serde_json::{Value, json};

use crate::soa::{call, token};
use crate::support::{App, org_with, stores};

fn today() -> String {
    isms_store::now()[..10].to_owned()
}

async fn own_soa_entry(app: &App, admin: &str, control: &str, owner: &str) {
    let (s, v) = call(app, "GET", &format!("/api/v1/soa/{control}"), admin, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = call(
        app,
        "PATCH",
        &format!("/api/v1/soa/{control}"),
        admin,
        Some(json!({"owner": owner, "justification": "Needed for our services", "version": v["version"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

fn detail(v: &Value) -> String {
    v["detail"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_audit_finding_raises_a_nonconformity_that_closes_only_after_a_verified_action() {
    for (engine, store) in stores().await {
        let e = engine;
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let admin = {
            let u = store.user_by_email("ann@acme.test").await.unwrap().unwrap();
            store
                .create_token(org.id, u.id, "t", &Actor::cli())
                .await
                .unwrap()
                .1
        };
        let auditor = token(&store, &org, "aud@acme.test", Role::Auditor).await;
        let _bob = token(&store, &org, "bob@acme.test", Role::ControlOwner).await;
        let employee = token(&store, &org, "emp@acme.test", Role::Employee).await;
        let app = App::new(store.clone());
        own_soa_entry(&app, &admin, "8.5", "bob@acme.test").await;

        // An auditor who owns an audited SoA entry is refused, naming the conflict.
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/audits",
            &admin,
            Some(json!({"title": "Access audit", "scope": ["8.5", "5.15"], "auditors": ["bob@acme.test"]})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        let d = detail(&v);
        assert!(
            d.contains("bob@acme.test") && d.contains("8.5") && d.contains("independent"),
            "{e}: {d}"
        );
        // So is the owner of an applied control linked to an audited control.
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/controls",
            &admin,
            Some(json!({"name": "Access reviews", "owner": "cat@acme.test", "annex_a": ["5.15"]})),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{e}: cat is no member yet: {v}"
        );
        let _cat = token(&store, &org, "cat@acme.test", Role::ControlOwner).await;
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/controls",
            &admin,
            Some(json!({"name": "Access reviews", "owner": "cat@acme.test", "annex_a": ["5.15"]})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/audits",
            &admin,
            Some(json!({"title": "Access audit", "scope": ["8.5", "5.15"], "auditors": ["cat@acme.test"]})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        let d = detail(&v);
        assert!(
            d.contains("cat@acme.test") && d.contains("5.15") && d.contains("Access reviews"),
            "{e}: {d}"
        );
        // An unknown requirement is named.
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/audits",
            &admin,
            Some(json!({"title": "Bad", "scope": ["99.9"], "auditors": ["aud@acme.test"]})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(detail(&v).contains("99.9"), "{e}: {v}");
        let (s, v) = call(&app, "GET", "/api/v1/audits", &admin, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["items"], json!([]), "{e}: nothing stored");

        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/audits",
            &admin,
            Some(json!({"title": "Access audit", "scope": ["8.5", "5.15"], "auditors": ["aud@acme.test"]})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        let audit = v["id"].as_i64().expect("audit id");
        assert_eq!(v["lead_auditor"], "aud@acme.test");
        let checklist: Vec<&str> = v["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["requirement"].as_str().unwrap())
            .collect();
        assert_eq!(checklist, ["5.15", "8.5"], "{e}: in the framework's order");

        // An employee recording findings: 403; outside the scope: 422; nothing stored.
        let finding = json!({"requirement": "8.5", "result": "minor_nonconformity", "notes": "Backup logs not reviewed since March"});
        let path = format!("/api/v1/audits/{audit}/findings");
        let (s, _) = call(&app, "POST", &path, &employee, Some(finding.clone())).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
        let (s, v) = call(
            &app,
            "POST",
            &path,
            &auditor,
            Some(json!({"requirement": "8.7", "result": "conform", "notes": "x"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(
            detail(&v).contains("8.7") && detail(&v).contains("outside"),
            "{e}: {v}"
        );
        let (s, v) = call(
            &app,
            "POST",
            &path,
            &auditor,
            Some(json!({"requirement": "8.5", "result": "splendid"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        let (_, a) = call(
            &app,
            "GET",
            &format!("/api/v1/audits/{audit}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(a["status"], "planned", "{e}: nothing recorded: {a}");

        let (s, v) = call(&app, "POST", &path, &auditor, Some(finding)).await;
        assert!(s.is_success(), "{e}: {s} {v}");
        assert_eq!(v["requirement"], "8.5");
        assert_eq!(v["result"], "minor_nonconformity");
        assert_eq!(v["notes"], "Backup logs not reviewed since March");
        let nc = v["nonconformity_id"].as_i64().expect("nonconformity_id");
        let (s, v) = call(
            &app,
            "POST",
            &path,
            &auditor,
            Some(json!({"requirement": "5.15", "result": "conform", "notes": "Access reviews on time",
                "evidence": ["https://wiki.acme.test/access-review"]})),
        )
        .await;
        assert!(s.is_success(), "{e}: {v}");
        assert_eq!(
            v["nonconformity_id"],
            Value::Null,
            "{e}: conform raises none"
        );
        let (_, a) = call(
            &app,
            "GET",
            &format!("/api/v1/audits/{audit}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(a["status"], "in_progress", "{e}: {a}");

        let nc_path = format!("/api/v1/nonconformities/{nc}");
        let (s, v) = call(&app, "GET", &nc_path, &admin, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(
            (&v["status"], &v["severity"], &v["source"]),
            (&json!("open"), &json!("minor"), &json!("audit"))
        );
        assert_eq!(v["audit_id"], audit);

        // Closing before a verified action: refused.
        let (s, v) = call(
            &app,
            "POST",
            &format!("{nc_path}/close"),
            &admin,
            Some(json!({})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(detail(&v).contains("verified effective"), "{e}: {v}");
        // Verifying with no action: refused.
        let (s, v) = call(
            &app,
            "POST",
            &format!("{nc_path}/verify"),
            &admin,
            Some(json!({"effective": true, "notes": "?"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        // An action due before the nonconformity was raised: 422, nothing stored.
        let (s, v) = call(
            &app,
            "POST",
            &format!("{nc_path}/actions"),
            &admin,
            Some(json!({"title": "Review the backup logs weekly", "owner": "bob@acme.test", "due_date": "2001-01-01"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(detail(&v).contains("due_date"), "{e}: {v}");
        let (s, v) = call(
            &app,
            "POST",
            &format!("{nc_path}/actions"),
            &admin,
            Some(json!({"title": "Weekly check", "owner": "nobody@else.test", "due_date": "2099-01-01"})),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{e}: a foreign owner: {v}"
        );
        let (_, v) = call(&app, "GET", &nc_path, &admin, None).await;
        assert_eq!(v["actions"], json!([]), "{e}: nothing stored");

        let (s, v) = call(
            &app,
            "POST",
            &format!("{nc_path}/actions"),
            &admin,
            Some(json!({"title": "Review the backup logs weekly", "owner": "bob@acme.test", "due_date": "2099-06-30"})),
        )
        .await;
        assert!(s.is_success(), "{e}: {v}");
        assert_eq!(v["status"], "action_planned");
        assert_eq!(v["actions"][0]["owner"], "bob@acme.test");
        let (s, _) = call(
            &app,
            "POST",
            &format!("{nc_path}/close"),
            &admin,
            Some(json!({})),
        )
        .await;
        assert!(s.is_client_error(), "{e}: not yet verified");

        // Not effective re-opens it.
        let (s, v) = call(
            &app,
            "POST",
            &format!("{nc_path}/verify"),
            &admin,
            Some(json!({"effective": false, "notes": "Logs still unchecked in May"})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["status"], "reopened");
        let (s, _) = call(
            &app,
            "POST",
            &format!("{nc_path}/close"),
            &admin,
            Some(json!({})),
        )
        .await;
        assert!(s.is_client_error(), "{e}: re-opened");

        let (s, v) = call(
            &app,
            "POST",
            &format!("{nc_path}/actions"),
            &admin,
            Some(json!({"title": "Automate the backup log check", "owner": "bob@acme.test", "due_date": "2099-07-31"})),
        )
        .await;
        assert!(s.is_success(), "{e}: {v}");
        let (s, v) = call(
            &app,
            "POST",
            &format!("{nc_path}/verify"),
            &admin,
            Some(json!({"effective": true, "notes": "Checked three weeks of logs"})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["status"], "verification");
        assert_eq!(v["verifications"].as_array().unwrap().len(), 2);
        let (s, v) = call(
            &app,
            "POST",
            &format!("{nc_path}/close"),
            &admin,
            Some(json!({})),
        )
        .await;
        assert!(s.is_success(), "{e}: {v}");
        assert_eq!(v["status"], "closed");
        assert!(v["closed_at"].as_str().unwrap().starts_with(&today()));

        // The register and its filters.
        let (_, v) = call(
            &app,
            "GET",
            "/api/v1/nonconformities?status=closed",
            &admin,
            None,
        )
        .await;
        assert_eq!(v["items"].as_array().unwrap().len(), 1, "{e}: {v}");
        let (_, v) = call(
            &app,
            "GET",
            "/api/v1/nonconformities?status=open",
            &admin,
            None,
        )
        .await;
        assert_eq!(v["items"], json!([]), "{e}: {v}");
        let (s, _) = call(
            &app,
            "GET",
            "/api/v1/nonconformities?severity=huge",
            &admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        // A management review compiles its inputs, naming the nonconformity.
        // A measured metric is an input (9.3.2 d) 2)).
        let (s, m) = call(
            &app,
            "POST",
            "/api/v1/metrics",
            &admin,
            Some(json!({"name": "Staff trained", "unit": "%", "target": 95})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {m}");
        let (s, _) = call(
            &app,
            "POST",
            &format!("/api/v1/metrics/{}/measurements", m["id"]),
            &admin,
            Some(json!({"value": 80, "date": today()})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/management-reviews",
            &admin,
            Some(json!({"title": "Management review Q2", "date": today()})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        let review = v["id"].as_i64().expect("review id");
        let (s, v) = call(
            &app,
            "GET",
            &format!("/api/v1/management-reviews/{review}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let inputs = v["inputs"].to_string();
        assert!(
            inputs.contains(&format!("NC-{nc}"))
                && inputs.contains(&format!("/nonconformities/{nc}")),
            "{e}: the inputs name the nonconformity: {inputs}"
        );
        assert!(
            inputs.contains("Access audit"),
            "{e}: audit results: {inputs}"
        );
        assert!(
            inputs.contains("Staff trained: 80 %") && inputs.contains("1 of those off target"),
            "{e}: measurement results: {inputs}"
        );
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/management-reviews",
            &admin,
            Some(json!({"title": "", "date": "someday"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");

        // The review's actions appear in the next review's inputs.
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/management-reviews/{review}/actions"),
            &admin,
            Some(json!({"title": "Budget a second backup site", "owner": "ann@acme.test", "due_date": "2099-01-01"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        let (s, _) = call(
            &app,
            "POST",
            &format!("/api/v1/management-reviews/{review}/decisions"),
            &admin,
            Some(json!({"kind": "resources", "text": "Fund the second backup site"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, v) = call(
            &app,
            "POST",
            "/api/v1/management-reviews",
            &admin,
            Some(json!({"title": "Management review Q3", "date": "2099-09-30"})),
        )
        .await;
        let next = v["id"].as_i64().unwrap();
        let (_, v) = call(
            &app,
            "GET",
            &format!("/api/v1/management-reviews/{next}"),
            &admin,
            None,
        )
        .await;
        let previous = v["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == "previous_actions")
            .unwrap()
            .to_string();
        assert!(
            previous.contains("Budget a second backup site"),
            "{e}: {previous}"
        );

        // Readiness and due items follow.
        let r = store.readiness(org.id, &Actor::cli()).await.unwrap();
        let state = |k: &str| r.items.iter().find(|i| i.key == k).unwrap().state;
        assert_eq!(
            state("nonconformities"),
            isms_store::ReadinessState::Ready,
            "{e}"
        );
        assert_eq!(
            state("management_review"),
            isms_store::ReadinessState::Ready,
            "{e}"
        );
        assert_eq!(
            state("internal_audit"),
            isms_store::ReadinessState::Incomplete,
            "{e}: none completed"
        );
        let due = store.due_items(org.id, "2099-12-31").await.unwrap();
        assert!(
            due.iter().any(|d| d.kind == "review_action"),
            "{e}: {due:?}"
        );

        // Every change is in the audit log.
        let log = store
            .audit_entries(
                org.id,
                &AuditFilter {
                    entity_type: Some("nonconformity".into()),
                    limit: 50,
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap();
        assert!(log.len() >= 6, "{e}: {}", log.len());
    }
}

#[tokio::test]
async fn concurrent_changes_to_a_nonconformity_at_one_version_let_exactly_one_win() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let n = store
            .create_nonconformity(
                org.id,
                &NcInput {
                    title: Some("Visitors not logged".into()),
                    ..NcInput::default()
                },
                &Actor::cli(),
            )
            .await
            .unwrap();
        let mut handles = Vec::new();
        for i in 0..4 {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                store
                    .update_nonconformity(
                        org.id,
                        n.id,
                        &NcInput {
                            correction: Some(format!("fix {i}")),
                            version: Some(n.version),
                            ..NcInput::default()
                        },
                        &Actor::cli(),
                    )
                    .await
            }));
        }
        let mut won = 0;
        for h in handles {
            match h.await.unwrap() {
                Ok(_) => won += 1,
                Err(isms_store::StoreError::Conflict(_)) => {}
                Err(e) => panic!("{engine}: {e}"),
            }
        }
        assert_eq!(won, 1, "{engine}");
        let after = store.nonconformity(org.id, n.id).await.unwrap();
        assert_eq!(after.version, n.version + 1, "{engine}");
    }
}

async fn audited(store: &Store, org_id: i64) -> i64 {
    let a = store
        .create_audit(
            org_id,
            &AuditInput {
                title: Some("Operations audit".into()),
                scope: vec!["8.5".into(), "8.13".into(), "9.2".into()],
                auditors: vec!["aud@acme.test".into()],
                ..AuditInput::default()
            },
            &Actor::cli(),
        )
        .await
        .unwrap();
    for (req, result, notes) in [
        ("8.5", "minor_nonconformity", "MFA missing on the VPN"),
        ("8.13", "conform", "Restores tested monthly"),
        (
            "9.2",
            "opportunity",
            "Publish the programme on the intranet",
        ),
    ] {
        store
            .record_finding(
                org_id,
                a.id,
                &FindingInput {
                    requirement: Some(req.into()),
                    result: Some(result.into()),
                    notes: Some(notes.into()),
                    evidence: vec![],
                },
                &Actor::cli(),
            )
            .await
            .unwrap();
    }
    a.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_writes_the_audit_report_and_the_review_minutes() {
    use crate::cli::{isms, stderr};
    for (engine, url) in crate::support::database_urls().await {
        let store = Store::open(&url).await.unwrap();
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        crate::support::add(&store, &org, "aud@acme.test", Role::Auditor).await;
        let audit = audited(&store, org.id).await;
        let review = store
            .create_management_review(
                org.id,
                &isms_store::ReviewInput {
                    title: Some("Annual review".into()),
                    date: Some(today()),
                    ..isms_store::ReviewInput::default()
                },
                &Actor::cli(),
            )
            .await
            .unwrap();
        let dir =
            std::env::temp_dir().join(format!("isms-audit-cli-{}-{engine}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for format in ["pdf", "xlsx"] {
            let out = dir.join(format!("audit.{format}"));
            let id = audit.to_string();
            let o = isms(
                &url,
                &[
                    "report",
                    "audit",
                    &id,
                    "--org",
                    &org.slug,
                    "--format",
                    format,
                    "-o",
                    out.to_str().unwrap(),
                ],
                None,
            );
            assert!(o.status.success(), "{engine} {format}: {}", stderr(&o));
            let bytes = std::fs::read(&out).unwrap();
            let text = if format == "xlsx" {
                crate::risk::xlsx_text(&bytes)
            } else {
                crate::support::pdf_text(&bytes)
            };
            for notes in [
                "MFA missing on the VPN",
                "Restores tested monthly",
                "Publish the programme on the intranet",
            ] {
                assert!(text.contains(notes), "{engine} {format}: {notes} missing");
            }
        }
        let out = dir.join("review.pdf");
        let id = review.id.to_string();
        let o = isms(
            &url,
            &[
                "report",
                "management-review",
                &id,
                "--org",
                &org.slug,
                "--format",
                "pdf",
                "-o",
                out.to_str().unwrap(),
            ],
            None,
        );
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        let text = crate::support::pdf_text(&std::fs::read(&out).unwrap());
        assert!(
            text.contains("Annual review") && text.contains("NC-"),
            "{engine}: the minutes"
        );
        // An unknown audit and a wrong format are refused.
        let o = isms(
            &url,
            &[
                "report",
                "audit",
                "9999",
                "--org",
                &org.slug,
                "--format",
                "pdf",
                "-o",
                out.to_str().unwrap(),
            ],
            None,
        );
        assert!(!o.status.success(), "{engine}");
        let o = isms(
            &url,
            &[
                "report",
                "audit",
                &audit.to_string(),
                "--org",
                &org.slug,
                "--format",
                "csv",
                "-o",
                out.to_str().unwrap(),
            ],
            None,
        );
        assert!(
            !o.status.success() && stderr(&o).contains("pdf or xlsx"),
            "{engine}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Posts a multipart upload (one file field `file`) with a bearer token.
async fn upload_to(
    app: &App,
    token: &str,
    path: &str,
    name: &str,
    bytes: &[u8],
) -> crate::support::Resp {
    let (ct, body) = crate::controls::multipart_bytes(&[], name, bytes);
    app.send(
        axum::http::Request::post(path)
            .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
            .header(axum::http::header::CONTENT_TYPE, ct)
            .body(axum::body::Body::from(body))
            .unwrap(),
    )
    .await
}

async fn audit_log_actions(store: &Store, org_id: i64, entity: &str) -> Vec<String> {
    store
        .audit_entries(
            org_id,
            &AuditFilter {
                entity_type: Some(entity.into()),
                limit: 100,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn evidence_files_and_links_on_a_finding_go_through_the_evidence_store_and_into_the_report() {
    for (e, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let admin = {
            let u = store.user_by_email("ann@acme.test").await.unwrap().unwrap();
            store
                .create_token(org.id, u.id, "t", &Actor::cli())
                .await
                .unwrap()
                .1
        };
        let auditor = token(&store, &org, "aud@acme.test", Role::Auditor).await;
        let employee = token(&store, &org, "emp@acme.test", Role::Employee).await;
        let app = App::new(store.clone());
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/audits",
            &admin,
            Some(json!({"title": "Access audit", "scope": ["8.5", "5.15"], "auditors": ["aud@acme.test"]})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        let audit = v["id"].as_i64().unwrap();
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/audits/{audit}/findings"),
            &auditor,
            Some(json!({"requirement": "8.5", "result": "minor_nonconformity", "notes": "MFA missing on the VPN"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        let finding = v["id"].as_i64().unwrap();
        let path = format!("/api/v1/audits/{audit}/findings/{finding}/evidence");

        // A file: stored content-addressed, named with its SHA-256.
        let bytes = b"user,mfa\nann,no\nbob,yes\n";
        let r = upload_to(&app, &auditor, &path, "vpn-users.csv", bytes).await;
        assert_eq!(r.status, StatusCode::CREATED, "{e}: {}", r.body);
        let file: Value = serde_json::from_str(&r.body).unwrap();
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(bytes))
        };
        assert_eq!(file["sha256"], sha.as_str(), "{e}: {file}");
        assert_eq!(file["file_name"], "vpn-users.csv");
        assert_eq!(file["kind"], "file");
        // A link, as JSON.
        let (s, link) = call(
            &app,
            "POST",
            &path,
            &auditor,
            Some(json!({"url": "https://wiki.acme.test/vpn", "title": "VPN runbook"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {link}");
        assert_eq!(link["kind"], "link");

        // Bad input stores nothing: an empty file, a bad link, no file, a
        // file whose bytes contradict its name.
        let before = store.evidence_list(org.id, None).await.unwrap().len();
        let r = upload_to(&app, &auditor, &path, "empty.pdf", b"").await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{e}: {}",
            r.body
        );
        assert!(r.body.contains("empty"), "{e}: {}", r.body);
        let r = upload_to(&app, &auditor, &path, "scan.pdf", b"not a pdf at all").await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{e}: {}",
            r.body
        );
        let (s, v) = call(
            &app,
            "POST",
            &path,
            &auditor,
            Some(json!({"url": "javascript:alert(1)"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(detail(&v).contains("url"), "{e}: {v}");
        let (s, v) = call(&app, "POST", &path, &auditor, Some(json!({}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        // An employee may not; an unknown finding or one of another audit is 404.
        let r = upload_to(&app, &employee, &path, "x.csv", b"a,b\n").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{e}: {}", r.body);
        let r = upload_to(
            &app,
            &auditor,
            &format!("/api/v1/audits/{audit}/findings/999999/evidence"),
            "x.csv",
            b"a,b\n",
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{e}: {}", r.body);
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/audits",
            &admin,
            Some(json!({"title": "Other", "scope": ["5.1"], "auditors": ["aud@acme.test"]})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        let other = v["id"].as_i64().unwrap();
        let (s, _) = call(
            &app,
            "POST",
            &format!("/api/v1/audits/{other}/findings/{finding}/evidence"),
            &auditor,
            Some(json!({"url": "https://wiki.acme.test/x"})),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
        assert_eq!(
            store.evidence_list(org.id, None).await.unwrap().len(),
            before,
            "{e}: nothing half-stored"
        );

        // Too large: refused before any row, no blob kept.
        let blobs =
            std::env::temp_dir().join(format!("isms_audit_limit_{e}_{}", std::process::id()));
        let small = App {
            router: isms_web::app(
                store.clone(),
                isms_web::Config {
                    max_upload_bytes: 16,
                    blob_store: Some(isms_web::controls::blobs::BlobStore::new(&blobs)),
                    ..isms_web::Config::default()
                },
            )
            .layer(axum::extract::connect_info::MockConnectInfo(
                std::net::SocketAddr::from(([127, 0, 0, 1], 40000)),
            )),
        };
        let r = upload_to(&small, &auditor, &path, "big.txt", b"seventeen bytes!!").await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{e}: {}", r.body);
        assert_eq!(
            store.evidence_list(org.id, None).await.unwrap().len(),
            before
        );
        let kept = std::fs::read_dir(&blobs).map_or(0, |d| {
            d.filter_map(Result::ok)
                .filter(|f| f.file_name() != ".tmp")
                .count()
        });
        assert_eq!(kept, 0, "{e}: no blob kept");
        let _ = std::fs::remove_dir_all(&blobs);

        // The audit lists the evidence per finding; the file downloads as an attachment.
        let (s, a) = call(
            &app,
            "GET",
            &format!("/api/v1/audits/{audit}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let items = a["checklist"][1]["findings"][0]["evidence_items"].clone();
        assert_eq!(items.as_array().map(Vec::len), Some(2), "{e}: {a}");
        assert_eq!(items[0]["sha256"], sha.as_str());
        let r = app
            .api(
                "GET",
                &format!("/api/v1/evidence/{}/download", file["evidence_id"]),
                Some(&auditor),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{e}: {}", r.body);
        assert_eq!(r.bytes, bytes);
        assert!(
            r.header("content-disposition")
                .unwrap_or_default()
                .starts_with("attachment")
        );
        assert_eq!(
            r.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );

        // The report lists each finding's evidence: file name and SHA-256, or the link.
        for format in ["pdf", "xlsx"] {
            let r = app
                .api(
                    "GET",
                    &format!("/api/v1/audits/{audit}/report?format={format}"),
                    Some(&admin),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{e} {format}");
            let text = if format == "xlsx" {
                crate::risk::xlsx_text(&r.bytes)
            } else {
                crate::support::pdf_text(&r.bytes)
            };
            let flat: String = text.split_whitespace().collect();
            for want in ["vpn-users.csv", sha.as_str(), "https://wiki.acme.test/vpn"] {
                assert!(flat.contains(want), "{e} {format}: {want} missing");
            }
        }
        assert_eq!(
            audit_log_actions(&store, org.id, "audit_finding")
                .await
                .iter()
                .filter(|a| *a == "add_evidence")
                .count(),
            2,
            "{e}"
        );
    }
}

#[tokio::test]
async fn an_audits_team_and_scope_change_with_the_independence_rule_checked_again() {
    for (e, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let admin = {
            let u = store.user_by_email("ann@acme.test").await.unwrap().unwrap();
            store
                .create_token(org.id, u.id, "t", &Actor::cli())
                .await
                .unwrap()
                .1
        };
        let auditor = token(&store, &org, "aud@acme.test", Role::Auditor).await;
        let _bob = token(&store, &org, "bob@acme.test", Role::ControlOwner).await;
        let _cy = token(&store, &org, "cy@acme.test", Role::Auditor).await;
        let app = App::new(store.clone());
        own_soa_entry(&app, &admin, "8.5", "bob@acme.test").await;
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/audits",
            &admin,
            Some(
                json!({"title": "Access audit", "scope": ["5.15"], "auditors": ["aud@acme.test"]}),
            ),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        let audit = v["id"].as_i64().unwrap();
        let version = v["version"].as_i64().unwrap();
        let path = format!("/api/v1/audits/{audit}");

        // Adding 8.5 while bob is on the team: refused, naming him and 8.5.
        let (s, v) = call(
            &app,
            "PATCH",
            &path,
            &admin,
            Some(json!({"scope": ["5.15", "8.5"], "auditors": ["aud@acme.test", "bob@acme.test"], "version": version})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        let d = detail(&v);
        assert!(d.contains("bob@acme.test") && d.contains("8.5"), "{e}: {d}");
        // A requirement with findings cannot leave the scope.
        let (s, v) = call(
            &app,
            "POST",
            &format!("{path}/findings"),
            &auditor,
            Some(
                json!({"requirement": "5.15", "result": "conform", "notes": "Reviewed quarterly"}),
            ),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        let (s, cur) = call(&app, "GET", &path, &admin, None).await;
        assert_eq!(s, StatusCode::OK);
        let version = cur["version"].as_i64().unwrap();
        let (s, v) = call(
            &app,
            "PATCH",
            &path,
            &admin,
            Some(json!({"scope": ["8.5"], "version": version})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(detail(&v).contains("5.15"), "{e}: {v}");
        let (_, same) = call(&app, "GET", &path, &admin, None).await;
        assert_eq!(same, cur, "{e}: nothing changed");

        // A good change: 8.5 and 5.1 added, cy joins and leads.
        let (s, v) = call(
            &app,
            "PATCH",
            &path,
            &admin,
            Some(json!({"scope": ["5.15", "8.5", "5.1"], "auditors": ["aud@acme.test", "cy@acme.test"],
                "lead_auditor": "cy@acme.test", "version": version})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let scope: Vec<&str> = v["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["requirement"].as_str().unwrap())
            .collect();
        assert_eq!(
            scope,
            ["5.1", "5.15", "8.5"],
            "{e}: in the framework's order"
        );
        assert_eq!(v["lead_auditor"], "cy@acme.test");
        assert_eq!(v["version"], version + 1);
        assert_eq!(
            v["checklist"][1]["findings"][0]["notes"], "Reviewed quarterly",
            "{e}: findings kept"
        );
        // A stale version is a 409; findings on the new requirement are accepted.
        let (s, v) = call(
            &app,
            "PATCH",
            &path,
            &admin,
            Some(json!({"auditors": ["aud@acme.test"], "version": version})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}: {v}");
        let (s, v) = call(
            &app,
            "POST",
            &format!("{path}/findings"),
            &auditor,
            Some(json!({"requirement": "5.1", "result": "observation", "notes": "Policy signed"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        // Unknown members and requirements are named.
        let (_, cur) = call(&app, "GET", &path, &admin, None).await;
        let (s, v) = call(
            &app,
            "PATCH",
            &path,
            &admin,
            Some(json!({"auditors": ["nobody@acme.test"], "version": cur["version"]})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(detail(&v).contains("nobody@acme.test"), "{e}: {v}");
        let (s, v) = call(
            &app,
            "PATCH",
            &path,
            &admin,
            Some(json!({"scope": ["5.15", "5.1", "99.9"], "version": cur["version"]})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(detail(&v).contains("99.9"), "{e}: {v}");
        // The change is in the audit log with the scope and team.
        let log = store
            .audit_entries(
                org.id,
                &AuditFilter {
                    entity_type: Some("internal_audit".into()),
                    limit: 10,
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap();
        let update = log
            .iter()
            .find(|l| l.action == "update")
            .expect("update logged");
        let after = update.after_json.clone().unwrap_or_default();
        assert!(
            after.contains("cy@acme.test") && after.contains("5.1"),
            "{e}: {after}"
        );
    }
}

#[tokio::test]
async fn a_management_reviews_inputs_once_frozen_stay_as_the_meeting_saw_them() {
    for (e, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let admin = {
            let u = store.user_by_email("ann@acme.test").await.unwrap().unwrap();
            store
                .create_token(org.id, u.id, "t", &Actor::cli())
                .await
                .unwrap()
                .1
        };
        let app = App::new(store.clone());
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/nonconformities",
            &admin,
            Some(json!({"title": "Visitors not logged"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        let (s, r) = call(
            &app,
            "POST",
            "/api/v1/management-reviews",
            &admin,
            Some(json!({"title": "Annual review", "date": today()})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {r}");
        let id = r["id"].as_i64().unwrap();
        let path = format!("/api/v1/management-reviews/{id}");
        assert_eq!(r["inputs_frozen_at"], "");
        let (s, v) = call(&app, "POST", &format!("{path}/recompile"), &admin, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: recompiling while not frozen: {v}");
        let (s, frozen) = call(
            &app,
            "POST",
            &format!("{path}/freeze"),
            &admin,
            Some(json!({"version": r["version"]})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {frozen}");
        assert_ne!(frozen["inputs_frozen_at"], "");
        assert!(
            frozen["inputs"].to_string().contains("Visitors not logged"),
            "{e}"
        );

        // Later data does not change what the meeting saw.
        let (s, _) = call(
            &app,
            "POST",
            "/api/v1/nonconformities",
            &admin,
            Some(json!({"title": "Badge lost at reception"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, v) = call(&app, "GET", &path, &admin, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["inputs"], frozen["inputs"], "{e}");
        assert!(!v["inputs"].to_string().contains("Badge lost"), "{e}");
        // Freezing again, recompiling, or moving the date: refused.
        let (s, v) = call(
            &app,
            "POST",
            &format!("{path}/freeze"),
            &admin,
            Some(json!({})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}: {v}");
        assert!(detail(&v).contains("frozen"), "{e}: {v}");
        let (s, v) = call(&app, "POST", &format!("{path}/recompile"), &admin, None).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}: {v}");
        let (_, cur) = call(&app, "GET", &path, &admin, None).await;
        let (s, v) = call(
            &app,
            "PATCH",
            &path,
            &admin,
            Some(json!({"date": "2020-01-01", "version": cur["version"]})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        // The minutes say so; the freeze is in the audit log.
        let r = app
            .api("GET", &format!("{path}/report"), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(crate::support::pdf_text(&r.bytes).contains("Frozen"), "{e}");
        assert!(
            audit_log_actions(&store, org.id, "management_review")
                .await
                .contains(&"freeze_inputs".to_owned()),
            "{e}"
        );
        // A review not frozen compiles the new data.
        let (_, other) = call(
            &app,
            "POST",
            "/api/v1/management-reviews",
            &admin,
            Some(json!({"title": "Extra review", "date": today()})),
        )
        .await;
        assert!(other["inputs"].to_string().contains("Badge lost"), "{e}");
    }
}

#[tokio::test]
async fn nonconformities_come_from_incidents_reviews_and_control_reviews_with_a_link_back() {
    for (e, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let admin = {
            let u = store.user_by_email("ann@acme.test").await.unwrap().unwrap();
            store
                .create_token(org.id, u.id, "t", &Actor::cli())
                .await
                .unwrap()
                .1
        };
        let app = App::new(store.clone());
        let nc = |body: Value| {
            let app = &app;
            let admin = &admin;
            async move { call(app, "POST", "/api/v1/nonconformities", admin, Some(body)).await }
        };
        // An incident needs its reference.
        let (s, v) = nc(json!({"title": "Laptop stolen", "source": "incident"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(detail(&v).contains("source_ref"), "{e}: {v}");
        let (s, inc) = nc(json!({"title": "Laptop stolen", "source": "incident", "source_ref": "https://tickets.acme.test/INC-42"})).await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {inc}");
        assert_eq!(inc["source"], "incident");
        assert_eq!(inc["source_link"], "https://tickets.acme.test/INC-42");

        // A management review: its id is required and must be one of ours.
        let (_, review) = call(
            &app,
            "POST",
            "/api/v1/management-reviews",
            &admin,
            Some(json!({"title": "Annual review", "date": today()})),
        )
        .await;
        let (s, v) = nc(json!({"title": "No backup owner", "source": "review"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(detail(&v).contains("review_id"), "{e}: {v}");
        let (s, v) =
            nc(json!({"title": "No backup owner", "source": "review", "review_id": 999_999})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        let (s, rev) =
            nc(json!({"title": "No backup owner", "source": "review", "review_id": review["id"]}))
                .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {rev}");
        assert_eq!(rev["source"], "review");
        assert_eq!(
            rev["source_link"],
            format!("/management-reviews/{}", review["id"])
        );

        // A control review that found the control not effective.
        let (s, control) = call(
            &app,
            "POST",
            "/api/v1/controls",
            &admin,
            Some(json!({"name": "Backups"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {control}");
        let cid = control["id"].as_i64().unwrap();
        let mut reviews = Vec::new();
        for result in ["effective", "not_effective"] {
            let (s, v) = call(
                &app,
                "POST",
                &format!("/api/v1/controls/{cid}/reviews"),
                &admin,
                Some(json!({"result": result, "notes": "Restore test"})),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
            reviews.push(v["id"].as_i64().unwrap());
        }
        let (s, v) = nc(json!({"title": "Restore failed", "source": "control_review", "control_review_id": reviews[0]})).await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{e}: an effective review: {v}"
        );
        assert!(detail(&v).contains("effective"), "{e}: {v}");
        let (s, cr) = nc(json!({"title": "Restore failed", "source": "control_review", "control_review_id": reviews[1]})).await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {cr}");
        assert_eq!(cr["source"], "control_review");
        assert_eq!(cr["control_id"], cid);
        assert_eq!(cr["source_link"], format!("/controls/{cid}#reviews"));
        // A link to a review with another source is refused.
        let (s, v) =
            nc(json!({"title": "Odd", "source": "manual", "review_id": review["id"]})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");

        // The register filters by source.
        for (source, want) in [
            ("control_review", cr["id"].clone()),
            ("review", rev["id"].clone()),
            ("incident", inc["id"].clone()),
        ] {
            let (s, v) = call(
                &app,
                "GET",
                &format!("/api/v1/nonconformities?source={source}"),
                &admin,
                None,
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{e}: {v}");
            let ids: Vec<Value> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].clone())
                .collect();
            assert_eq!(ids, vec![want], "{e}: {source}");
        }
    }
}
