//! Context and scope (4.1-4.3, 5.3, 6.2) on every engine: the scope
//! statement and context items through the API and the web form, with
//! optimistic concurrency, validation, roles and the audit log.

use axum::http::StatusCode;
use isms_domain::Role;
use serde_json::json;

use crate::soa::{call, token};
use crate::support::{App, PASSWORD, org_with, stores};

#[tokio::test]
async fn the_scope_is_versioned_and_validated() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = token(&store, &org, "mia@acme.test", Role::IsmsManager).await;
        let emp = token(&store, &org, "eve@acme.test", Role::Employee).await;
        let app = App::new(store.clone());

        let (s, v) = call(&app, "GET", "/api/v1/scope", &t, None).await;
        assert_eq!(
            (s, v["version"].as_i64()),
            (StatusCode::OK, Some(0)),
            "{engine}: {v}"
        );
        let (s, v) = call(
            &app,
            "PUT",
            "/api/v1/scope",
            &t,
            Some(json!({"statement": "  ", "version": 0})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            v["detail"].as_str().unwrap().starts_with("statement:"),
            "{v}"
        );
        // (A save without a version is the first save only: see
        // a_first_scope_may_be_sent_without_a_version_and_with_lists.)
        let scope = json!({"statement": "The SaaS platform and its operation", "units": "Engineering, Operations",
            "locations": "Berlin office, AWS eu-central-1", "processes": "Development, operations, support",
            "systems_in": "Production AWS account", "systems_out": "Marketing website", "interfaces": "Payment provider",
            "exclusions": "The marketing website holds no customer data", "version": 0});
        let (s, v) = call(&app, "PUT", "/api/v1/scope", &t, Some(scope.clone())).await;
        assert_eq!(
            (s, v["version"].as_i64()),
            (StatusCode::OK, Some(1)),
            "{engine}: {v}"
        );
        assert_eq!(v["updated_by"], "mia@acme.test");
        // The same stale version again: 409, nothing overwritten.
        let mut stale = scope.clone();
        stale["statement"] = json!("Something else");
        let (s, v) = call(&app, "PUT", "/api/v1/scope", &t, Some(stale)).await;
        assert_eq!(s, StatusCode::CONFLICT, "{engine}");
        assert!(
            v["detail"].as_str().unwrap().contains("by mia@acme.test"),
            "{v}"
        );
        let (_, v) = call(&app, "GET", "/api/v1/scope", &t, None).await;
        assert_eq!(v["statement"], "The SaaS platform and its operation");
        let (s, _) = call(&app, "PUT", "/api/v1/scope", &emp, Some(scope)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The web form: a stale save keeps the typed text and says what happened.
        let (cookie, csrf) = app.login("ann@acme.test", PASSWORD).await;
        let page = app.get("/context", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(page.hidden("version").as_deref(), Some("1"));
        let r = app
            .post(
                "/context/scope",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "0"),
                    ("statement", "my new words"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{engine}");
        assert!(
            r.body.contains("my new words") && r.body.contains("nothing was saved"),
            "{}",
            r.body
        );
        let r = app
            .post(
                "/context/scope",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "1"),
                    ("statement", "my new words"),
                    ("units", "All"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(store.scope(org.id).await.unwrap().version, 2);
        let log = store
            .audit_entries(
                org.id,
                &isms_store::AuditFilter {
                    entity_type: Some("scope".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(log.len(), 2, "{engine}");
        assert!(log.iter().any(|e| e.via == "web") && log.iter().any(|e| e.via == "api"));
    }
}

#[tokio::test]
async fn context_items_are_checked_per_kind_and_versioned() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = token(&store, &org, "mia@acme.test", Role::IsmsManager).await;
        let app = App::new(store.clone());
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/context-items",
            &t,
            Some(json!({"kind": "issue", "title": "Ransomware", "category": "global"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("internal or external"),
            "{v}"
        );
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/context-items",
            &t,
            Some(json!({"kind": "rumour", "title": "x"})),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
        let (s, v) = call(&app, "POST", "/api/v1/context-items", &t, Some(json!({"kind": "objective", "title": "Patch fast", "measure": "days to patch", "target": "7", "owner": "mia", "due_date": "31/12/2027"}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("'31/12/2027' is not a date"),
            "{v}"
        );
        let (s, issue) = call(&app, "POST", "/api/v1/context-items", &t, Some(json!({"kind": "issue", "title": "Ransomware", "category": "external", "effect": "Backups and recovery tests"}))).await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {issue}");
        let id = issue["id"].as_i64().unwrap();
        let (s, v) = call(
            &app,
            "PATCH",
            &format!("/api/v1/context-items/{id}"),
            &t,
            Some(json!({"detail": "Sector peers hit in 2025", "version": 1})),
        )
        .await;
        assert_eq!((s, v["version"].as_i64()), (StatusCode::OK, Some(2)), "{v}");
        let (s, v) = call(
            &app,
            "PATCH",
            &format!("/api/v1/context-items/{id}"),
            &t,
            Some(json!({"detail": "stale", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
        let (_, v) = call(
            &app,
            "GET",
            &format!("/api/v1/context-items/{id}"),
            &t,
            None,
        )
        .await;
        assert_eq!(v["detail"], "Sector peers hit in 2025");
        call(&app, "POST", "/api/v1/context-items", &t, Some(json!({"kind": "party", "title": "Customers", "detail": "ISO 27001 certificate", "addressed": true}))).await;
        call(&app, "POST", "/api/v1/context-items", &t, Some(json!({"kind": "raci", "title": "Approve the SoA", "accountable": "CEO", "responsible": "ISMS manager"}))).await;
        let (s, _) = call(&app, "POST", "/api/v1/context-items", &t, Some(json!({"kind": "objective", "title": "Patch fast", "measure": "median days to patch critical CVEs", "target": "7", "owner": "mia@acme.test", "due_date": "2099-12-31"}))).await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, list) = call(
            &app,
            "GET",
            "/api/v1/context-items?kind=objective",
            &t,
            None,
        )
        .await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        let (_, all) = call(&app, "GET", "/api/v1/context-items", &t, None).await;
        assert_eq!(all.as_array().unwrap().len(), 4, "{engine}");
        // Another organisation cannot read it.
        let other = org_with(&store, "Other", "olga@other.test", Role::Admin).await;
        let ot = token(&store, &other, "oz@other.test", Role::IsmsManager).await;
        let (s, _) = call(
            &app,
            "GET",
            &format!("/api/v1/context-items/{id}"),
            &ot,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // The readiness items for context and objectives now count as ready.
        let (_, r) = call(&app, "GET", "/api/v1/readiness", &t, None).await;
        let state = |k: &str| {
            r["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["key"] == k)
                .unwrap()["state"]
                .clone()
        };
        assert_eq!(state("context"), "ready", "{r}");
        assert_eq!(state("objectives"), "ready");
        assert_eq!(state("scope"), "missing");

        // The web page lists them and adds through its forms.
        let (cookie, csrf) = app.login("ann@acme.test", PASSWORD).await;
        let r = app
            .post(
                "/context/items",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("kind", "issue"),
                    ("title", "Staff turnover"),
                    ("category", "internal"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = app
            .post(
                "/context/items",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("kind", "objective"),
                    ("title", "Train everyone"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body.contains("measure: required for an objective"),
            "{}",
            r.body
        );
        let page = app.get("/context", Some(&cookie)).await;
        assert!(page.body.contains("Staff turnover") && page.body.contains("Approve the SoA"));

        // Edit an item in the web: a stale form keeps the text, a current one saves.
        let form = app
            .get(&format!("/context/items/{id}"), Some(&cookie))
            .await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert_eq!(form.hidden("version").as_deref(), Some("2"));
        let r = app
            .post(
                &format!("/context/items/{id}"),
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "1"),
                    ("title", "Ransomware"),
                    ("category", "external"),
                    ("detail", "typed while stale"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{engine}");
        assert!(
            r.body.contains("typed while stale") && r.body.contains("nothing was saved"),
            "{}",
            r.body
        );
        let r = app
            .post(
                &format!("/context/items/{id}"),
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "2"),
                    ("title", "Ransomware"),
                    ("category", "alien"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = app
            .post(
                &format!("/context/items/{id}"),
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "2"),
                    ("title", "Ransomware gangs"),
                    ("category", "external"),
                    ("detail", "Sector peers hit"),
                    ("effect", "Tested restores"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let (_, v) = call(
            &app,
            "GET",
            &format!("/api/v1/context-items/{id}"),
            &t,
            None,
        )
        .await;
        assert_eq!(
            (v["title"].as_str(), v["version"].as_i64()),
            (Some("Ransomware gangs"), Some(3))
        );
    }
}

/// Readiness is computed: present, approved, and current (reviewed within a year).
#[tokio::test]
async fn readiness_follows_the_data() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let actor = isms_store::Actor::cli();
        let state =
            |r: &isms_store::Readiness, k: &str| r.items.iter().find(|i| i.key == k).unwrap().state;
        use isms_store::ReadinessState::{Incomplete, Missing, Ready};
        let r = store.readiness(org.id, &actor).await.unwrap();
        assert_eq!(
            (state(&r, "scope"), state(&r, "soa")),
            (Missing, Missing),
            "{engine}"
        );
        assert!(!r.complete());
        let input = isms_store::ScopeInput {
            statement: "All of Acme".into(),
            version: Some(0),
            ..Default::default()
        };
        store.save_scope(org.id, &input, &actor).await.unwrap();
        let r = store.readiness(org.id, &actor).await.unwrap();
        assert_eq!(
            state(&r, "scope"),
            Incomplete,
            "units, locations and processes are missing"
        );
        let input = isms_store::ScopeInput {
            statement: "All of Acme".into(),
            units: "All".into(),
            locations: "Berlin".into(),
            processes: "All".into(),
            version: Some(1),
            ..Default::default()
        };
        store.save_scope(org.id, &input, &actor).await.unwrap();
        // Every control justified, then approved: the SoA item is ready.
        for e in store.soa_entries(org.id, &actor).await.unwrap() {
            let patch = isms_store::SoaPatch {
                justification: Some(format!("{} is needed", e.control_id)),
                version: Some(e.version),
                ..Default::default()
            };
            store
                .update_soa_entry(org.id, &e.control_id, &patch, &actor)
                .await
                .unwrap();
        }
        store.approve_soa(org.id, "", &actor).await.unwrap();
        let r = store.readiness(org.id, &actor).await.unwrap();
        assert_eq!(
            (state(&r, "scope"), state(&r, "soa")),
            (Ready, Ready),
            "{engine}: {:?}",
            r.items
        );
        // A year later both are out of date.
        store
            .execute_raw("UPDATE soa_versions SET approved_at = '2020-01-01T00:00:00.000000Z'")
            .await
            .unwrap();
        store
            .execute_raw("UPDATE isms_scope SET updated_at = '2020-01-01T00:00:00.000000Z'")
            .await
            .unwrap();
        let r = store.readiness(org.id, &actor).await.unwrap();
        assert_eq!(
            (state(&r, "scope"), state(&r, "soa")),
            (Incomplete, Incomplete),
            "{engine}"
        );
        assert!(
            r.items
                .iter()
                .find(|i| i.key == "soa")
                .unwrap()
                .detail
                .contains("over a year ago")
        );
        // Missing items say where to fix them (the policy: the documents module).
        let policy = r.items.iter().find(|i| i.key == "policy").unwrap();
        assert_eq!(policy.state, Missing);
        assert!(policy.detail.contains("Documents"), "{}", policy.detail);
    }
}

#[tokio::test]
async fn a_first_scope_may_be_sent_without_a_version_and_with_lists() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = token(&store, &org, "mia@acme.test", Role::IsmsManager).await;
        let app = App::new(store.clone());
        let scope = json!({
            "statement": "The SaaS platform and its support",
            "units": ["Engineering", "Support"],
            "locations": "Berlin office",
            "processes": ["Development", "Operations"]
        });
        let (s, v) = call(&app, "PUT", "/api/v1/scope", &t, Some(scope.clone())).await;
        assert_eq!(s, StatusCode::OK, "{engine}: {v}");
        assert_eq!(v["version"], 1, "{engine}: {v}");
        let stored = store.scope(org.id).await.unwrap();
        assert_eq!(stored.units, "Engineering\nSupport", "{engine}");
        // Without a version, a scope already written is not overwritten.
        let (s, v) = call(&app, "PUT", "/api/v1/scope", &t, Some(scope)).await;
        assert_eq!(s, StatusCode::CONFLICT, "{engine}: {v}");
        assert_eq!(store.scope(org.id).await.unwrap().version, 1, "{engine}");
    }
}
