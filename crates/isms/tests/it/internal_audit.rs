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
