//! The audit log records every change and detects tampering, on every engine.

use isms_domain::Role;
use isms_domain::audit::ChainBreak;
use isms_store::{Actor, AuditFilter};

use crate::support::{add, org_with, stores};

#[tokio::test]
async fn every_change_is_recorded_with_before_and_after() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let bob = add(&store, &org, "bob@x.test", Role::Employee).await;
        store
            .set_member_role(org.id, bob, Role::RiskOwner, &Actor::cli())
            .await
            .unwrap();
        let entries = store
            .audit_entries(org.id, &AuditFilter::default())
            .await
            .unwrap();
        let newest = &entries[0];
        assert_eq!(
            (newest.action.as_str(), newest.entity_type.as_str()),
            ("update", "membership"),
            "{engine}"
        );
        assert!(
            newest
                .before_json
                .as_deref()
                .unwrap()
                .contains("\"employee\"")
        );
        assert!(
            newest
                .after_json
                .as_deref()
                .unwrap()
                .contains("\"risk_owner\"")
        );
        assert!(newest.actor.starts_with("cli"));
        // org create, 2 x (user create + membership create), role change
        assert_eq!(entries.len(), 6, "{engine}");
        let only_users = store
            .audit_entries(
                org.id,
                &AuditFilter {
                    entity_type: Some("user".into()),
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(only_users.len(), 2);
        let reports = store.verify_audit_log().await.unwrap();
        assert!(
            reports.iter().all(|r| r.problem.is_none()),
            "{engine}: {reports:?}"
        );
    }
}

#[tokio::test]
async fn tampering_is_detected_and_named() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let other = org_with(&store, "Other", "oli@x.test", Role::Admin).await;
        add(&store, &org, "bob@x.test", Role::Employee).await;

        store
            .execute_raw(&format!(
                "UPDATE audit_log SET after_json = '{{\"email\":\"mallory@x.test\"}}' WHERE org_id = {} AND seq = 2",
                org.id
            ))
            .await
            .unwrap();
        let reports = store.verify_audit_log().await.unwrap();
        let bad = reports.iter().find(|r| r.org_id == org.id).unwrap();
        assert!(
            matches!(bad.problem, Some(ChainBreak::Altered { seq: 2, .. })),
            "{engine}: {bad:?}"
        );
        let fine = reports.iter().find(|r| r.org_id == other.id).unwrap();
        assert!(
            fine.problem.is_none(),
            "{engine}: other organisations are unaffected"
        );

        // Deleting the newest entry is caught by the organisation's counter.
        store
            .execute_raw(&format!(
                "DELETE FROM audit_log WHERE org_id = {} AND seq = (SELECT MAX(seq) FROM audit_log WHERE org_id = {})",
                other.id, other.id
            ))
            .await
            .unwrap();
        let reports = store.verify_audit_log().await.unwrap();
        let cut = reports.iter().find(|r| r.org_id == other.id).unwrap();
        assert!(
            matches!(cut.problem, Some(ChainBreak::Truncated { .. })),
            "{engine}: {cut:?}"
        );
    }
}

#[tokio::test]
async fn concurrent_changes_never_fork_the_chain() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Busy", "ann@x.test", Role::Admin).await;
        let mut tasks = Vec::new();
        for i in 0..24 {
            let store = store.clone();
            let org = org.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .add_member(
                        org.id,
                        &format!("u{i}@x.test"),
                        "",
                        "!",
                        Role::Employee,
                        &Actor::cli(),
                    )
                    .await
                    .map(|_| ())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let reports = store.verify_audit_log().await.unwrap();
        let r = reports.iter().find(|r| r.org_id == org.id).unwrap();
        assert_eq!(r.entries, 3 + 24 * 2, "{engine}");
        assert!(r.problem.is_none(), "{engine}: {:?}", r.problem);
    }
}

#[tokio::test]
async fn the_api_pages_the_log_for_auditors_only_and_per_organisation() {
    use crate::soa::{call, token};
    use crate::support::App;
    use axum::http::StatusCode;
    use serde_json::json;
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let other = org_with(&store, "Other plc", "olga@other.test", Role::Admin).await;
        let admin = token(&store, &org, "adm@acme.test", Role::Admin).await;
        let auditor = token(&store, &org, "aud@acme.test", Role::Auditor).await;
        let employee = token(&store, &org, "eve@acme.test", Role::Employee).await;
        let olga = token(&store, &other, "o2@other.test", Role::Admin).await;
        let app = App::new(store.clone());
        for i in 0..5 {
            let (s, _) = call(
                &app,
                "POST",
                "/api/v1/assets",
                &admin,
                Some(json!({"name": format!("Laptop {i}"), "type": "hardware"})),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{engine}");
        }
        let (s, page) = call(
            &app,
            "GET",
            "/api/v1/audit-log?entity=asset&limit=3",
            &auditor,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{engine}: {page}");
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 3, "{engine}");
        assert_eq!(
            items[0]["after"]["name"], "Laptop 4",
            "{engine}: newest first, after as JSON"
        );
        assert!(
            items[0]["before"].is_null(),
            "{engine}: a creation has no before"
        );
        assert_eq!(items[0]["actor"], "adm@acme.test", "{engine}");
        let next = page["next"].as_str().expect("a next page");
        let (s, older) = call(&app, "GET", next, &auditor, None).await;
        assert_eq!(s, StatusCode::OK, "{engine}");
        let names: Vec<_> = older["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["after"]["name"].clone())
            .collect();
        assert_eq!(
            names,
            vec![json!("Laptop 1"), json!("Laptop 0")],
            "{engine}"
        );
        assert!(
            older["next"].is_null(),
            "{engine}: the last page has no next"
        );
        let (s, _) = call(&app, "GET", "/api/v1/audit-log", &employee, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{engine}");
        let (s, p) = call(&app, "GET", "/api/v1/audit-log?limit=0", &admin, None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(
            p["detail"].as_str().unwrap().contains("limit"),
            "{engine}: {p}"
        );
        let (s, p) = call(&app, "GET", "/api/v1/audit-log?entity=asset", &olga, None).await;
        assert_eq!(s, StatusCode::OK, "{engine}");
        assert!(
            p["items"].as_array().unwrap().is_empty(),
            "{engine}: another organisation sees none of it: {p}"
        );
    }
}
