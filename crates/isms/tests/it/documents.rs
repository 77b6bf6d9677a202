//! Documented information end to end on both engines: templates, the
//! workflow with four-eyes, acknowledgements, the safe page, exports and the
//! command line.

use axum::http::StatusCode;
use isms_domain::Role;
use isms_store::{Actor, Store};
use serde_json::{Value, json};

use crate::soa::{call, token};
use crate::support::{App, PASSWORD, database_urls, org_with, stores};

struct Fx {
    engine: &'static str,
    store: Store,
    app: App,
    org: isms_store::Org,
    /// ann@acme.test, administrator (the author).
    admin: String,
    /// bob@acme.test, ISMS manager (the approver).
    manager: String,
    /// eve@acme.test, employee (sam@acme.test is another).
    eve: String,
}

async fn fixture(engine: &'static str, store: Store) -> Fx {
    let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
    let ann = store.user_by_email("ann@acme.test").await.unwrap().unwrap();
    let admin = store
        .create_token(org.id, ann.id, "test", &Actor::cli())
        .await
        .unwrap()
        .1;
    let manager = token(&store, &org, "bob@acme.test", Role::IsmsManager).await;
    let eve = token(&store, &org, "eve@acme.test", Role::Employee).await;
    token(&store, &org, "sam@acme.test", Role::Employee).await;
    Fx {
        engine,
        app: App::new(store.clone()),
        store,
        org,
        admin,
        manager,
        eve,
    }
}

async fn fixtures() -> Vec<Fx> {
    let mut out = Vec::new();
    for (engine, store) in stores().await {
        out.push(fixture(engine, store).await);
    }
    out
}

async fn create(f: &Fx, body: Value) -> i64 {
    let (s, v) = call(&f.app, "POST", "/api/v1/documents", &f.admin, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{}: {v}", f.engine);
    v["id"].as_i64().expect("document id")
}

/// Creates, submits, approves (as the manager) and publishes a document.
async fn published(f: &Fx, body: Value, acknowledge: Value) -> i64 {
    let id = create(f, body).await;
    let e = f.engine;
    let (s, v) = call(
        &f.app,
        "POST",
        &format!("/api/v1/documents/{id}/submit"),
        &f.admin,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}: {v}");
    let (s, v) = call(
        &f.app,
        "POST",
        &format!("/api/v1/documents/{id}/approve"),
        &f.manager,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}: {v}");
    let (s, v) = call(
        &f.app,
        "POST",
        &format!("/api/v1/documents/{id}/publish"),
        &f.manager,
        Some(json!({ "acknowledge": acknowledge })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}: {v}");
    id
}

async fn count(f: &Fx) -> usize {
    let (s, v) = call(&f.app, "GET", "/api/v1/documents", &f.admin, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn templates_are_listed_and_documents_created_from_them_or_from_text() {
    for f in fixtures().await {
        let e = f.engine;
        let (s, v) = call(&f.app, "GET", "/api/v1/document-templates", &f.admin, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let ids: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 14, "{e}: {v}");
        for want in [
            "information-security-policy",
            "isms-scope",
            "risk-methodology",
            "isms-roles",
        ] {
            assert!(ids.contains(&want), "{e}: {want} in {ids:?}");
        }

        let (s, v) = call(
            &f.app,
            "POST",
            "/api/v1/documents",
            &f.admin,
            Some(json!({"template": "information-security-policy"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        assert!(v["id"].as_i64().is_some(), "{e}: {v}");
        assert_eq!(v["type"], "policy");
        assert_eq!(v["current"]["number"], "1.0");
        assert_eq!(v["current"]["state"], "draft");
        assert_eq!(v["requirements"], json!(["5.1", "5.2", "A.5.1"]));
        let body = v["current"]["body"].as_str().unwrap();
        assert!(
            body.contains("Acme Ltd depends on information"),
            "{e}: filled: {body}"
        );
        assert!(
            body.contains("**Administrator**: ann (ann@acme.test)"),
            "{e}: roles from members: {body}"
        );
        assert!(!body.contains("{{"), "{e}: {body}");

        let (s, v) = call(
            &f.app,
            "POST",
            "/api/v1/documents",
            &f.admin,
            Some(json!({"template": "risk-methodology"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        assert!(
            v["current"]["body"]
                .as_str()
                .unwrap()
                .contains("5-step scale"),
            "{e}: the methodology comes from the risk module: {v}"
        );

        let (s, v) = call(
            &f.app,
            "POST",
            "/api/v1/documents",
            &f.admin,
            Some(json!({"title": "Clean desk procedure", "type": "procedure", "body": "# Clean desk\n\nClear it."})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        assert_eq!(v["title"], "Clean desk procedure");
        assert_eq!(v["current"]["body"], "# Clean desk\n\nClear it.");
        assert_eq!(count(&f).await, 3);

        // Bad input names the field; nothing is stored.
        for (body, field) in [
            (json!({"template": "nope"}), "template: 'nope'"),
            (json!({"title": "No type"}), "type: required"),
            (json!({"type": "policy"}), "title: required"),
            (json!({"title": "T", "type": "memo"}), "type: 'memo'"),
            (
                json!({"title": "T", "type": "policy", "requirements": ["A.9.1"]}),
                "'A.9.1'",
            ),
            (
                json!({"title": "T", "type": "policy", "owner": "x@other.test"}),
                "owner: x@other.test",
            ),
        ] {
            let (s, v) = call(&f.app, "POST", "/api/v1/documents", &f.admin, Some(body)).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
            assert!(
                v["detail"].as_str().unwrap().contains(field),
                "{e}: {field}: {v}"
            );
        }
        assert_eq!(count(&f).await, 3, "{e}: nothing half written");
        // Employees may not create or list.
        let (s, _) = call(
            &f.app,
            "POST",
            "/api/v1/documents",
            &f.eve,
            Some(json!({"template": "backup"})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn the_workflow_moves_each_version_and_four_eyes_refuses_self_approval() {
    for f in fixtures().await {
        let e = f.engine;
        let id = create(
            &f,
            json!({"title": "Access control policy", "type": "policy", "body": "v1"}),
        )
        .await;
        let url = |s: &str| format!("/api/v1/documents/{id}{s}");

        let (s, v) = call(
            &f.app,
            "PUT",
            &url("/draft"),
            &f.admin,
            Some(json!({"body": "# Access\n\nLeast privilege."})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["current"]["body"], "# Access\n\nLeast privilege.");
        assert_eq!(v["current"]["number"], "1.0");

        // Approving or publishing a draft is out of order.
        let (s, v) = call(&f.app, "POST", &url("/approve"), &f.manager, None).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}: {v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("submit it for review first"),
            "{e}: {v}"
        );

        let (s, v) = call(
            &f.app,
            "POST",
            &url("/submit"),
            &f.admin,
            Some(json!({"reviewers": ["bob@acme.test"]})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["current"]["state"], "in_review");
        assert_eq!(v["current"]["reviewers"], json!(["bob@acme.test"]));
        // The reviewer is told in the inbox.
        let bob = f
            .store
            .user_by_email("bob@acme.test")
            .await
            .unwrap()
            .unwrap();
        let inbox = f.store.inbox(f.org.id, bob.id, false).await.unwrap();
        assert!(
            inbox
                .iter()
                .any(|n| n.title.contains("Please review") && n.link == format!("/documents/{id}")),
            "{e}"
        );

        // Editing in review is refused; nothing changes.
        let (s, v) = call(
            &f.app,
            "PUT",
            &url("/draft"),
            &f.admin,
            Some(json!({"body": "sneaky"})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}: {v}");

        // The author may not approve while four-eyes is on (the default).
        let (s, v) = call(&f.app, "POST", &url("/approve"), &f.admin, None).await;
        assert!(s.is_client_error(), "{e}: {s} {v}");
        assert!(
            v["detail"].as_str().unwrap().contains("four-eyes"),
            "{e}: {v}"
        );
        let (_, v) = call(&f.app, "GET", &url(""), &f.admin, None).await;
        assert_eq!(v["current"]["state"], "in_review", "{e}: nothing changed");
        assert_eq!(v["current"]["body"], "# Access\n\nLeast privilege.");

        let (s, v) = call(&f.app, "POST", &url("/approve"), &f.manager, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["current"]["state"], "approved");
        assert_eq!(v["current"]["approved_by"], "bob@acme.test");

        let (s, v) = call(
            &f.app,
            "POST",
            &url("/publish"),
            &f.manager,
            Some(json!({"acknowledge": "employees"})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["published"]["number"], "1.0");
        assert_eq!(v["published"]["state"], "published");
        assert_eq!(v["required"], 2, "{e}: two employees: {v}");
        assert_eq!(v["acknowledged"], 0);
        assert!(!v["review_due"].as_str().unwrap().is_empty(), "{e}: {v}");

        // After publishing, a draft save starts version 1.1; 1.0 stays in force.
        let (s, v) = call(
            &f.app,
            "PUT",
            &url("/draft"),
            &f.admin,
            Some(json!({"body": "# Access\n\nLeast privilege, reviewed."})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["current"]["number"], "1.1");
        assert_eq!(v["current"]["state"], "draft");
        assert_eq!(v["published"]["number"], "1.0");
        assert_eq!(v["published"]["body"], "# Access\n\nLeast privilege.");

        // Four-eyes off: the author may approve their own version.
        let (s, v) = call(
            &f.app,
            "PUT",
            "/api/v1/document-settings",
            &f.manager,
            Some(json!({"four_eyes": false, "version": 0})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{e}: administrators only: {v}");
        let (s, v) = call(
            &f.app,
            "PUT",
            "/api/v1/document-settings",
            &f.admin,
            Some(json!({"four_eyes": false, "version": 0})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v, json!({"four_eyes": false, "version": 1}));
        let (s, _) = call(&f.app, "POST", &url("/submit"), &f.admin, None).await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = call(&f.app, "POST", &url("/approve"), &f.admin, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let (s, v) = call(&f.app, "POST", &url("/publish"), &f.admin, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["published"]["number"], "1.1");
        assert_eq!(
            v["required"], 2,
            "{e}: a minor version keeps the group: {v}"
        );

        // Superseded versions are kept; the diff compares any two.
        let (s, v) = call(&f.app, "GET", &url("/versions"), &f.admin, None).await;
        assert_eq!(s, StatusCode::OK);
        let states: Vec<(&str, &str)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["number"].as_str().unwrap(), x["state"].as_str().unwrap()))
            .collect();
        assert_eq!(states, [("1.0", "superseded"), ("1.1", "published")], "{e}");
        let (s, v) = call(&f.app, "GET", &url("/diff?from=1.0&to=1.1"), &f.admin, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let lines = v["lines"].as_array().unwrap();
        assert!(
            lines
                .iter()
                .any(|l| l["change"] == "removed" && l["text"] == "Least privilege."),
            "{e}: {v}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l["change"] == "added" && l["text"] == "Least privilege, reviewed."),
            "{e}: {v}"
        );
        let (s, v) = call(&f.app, "GET", &url("/diff?from=9.9"), &f.admin, None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");

        // Bad audiences are refused before anything is published.
        let id2 = create(&f, json!({"title": "Backup policy", "type": "policy"})).await;
        for (who, why) in [
            (json!("everyone"), "'everyone'"),
            (
                json!(["mallory@elsewhere.test"]),
                "mallory@elsewhere.test is not an active member",
            ),
        ] {
            call(
                &f.app,
                "POST",
                &format!("/api/v1/documents/{id2}/submit"),
                &f.admin,
                None,
            )
            .await;
            call(
                &f.app,
                "POST",
                &format!("/api/v1/documents/{id2}/approve"),
                &f.manager,
                None,
            )
            .await;
            let (s, v) = call(
                &f.app,
                "POST",
                &format!("/api/v1/documents/{id2}/publish"),
                &f.manager,
                Some(json!({"acknowledge": who})),
            )
            .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
            assert!(
                v["detail"].as_str().unwrap().contains(why),
                "{e}: {why}: {v}"
            );
        }
        let (_, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/documents/{id2}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(
            v["current"]["state"], "approved",
            "{e}: nothing published: {v}"
        );

        // Retired documents stay readable and no longer change.
        let (s, v) = call(&f.app, "POST", &url("/retire"), &f.manager, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["status"], "retired");
        let (s, v) = call(
            &f.app,
            "PUT",
            &url("/draft"),
            &f.admin,
            Some(json!({"body": "x"})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("retired"));

        // Every step is in the audit log.
        let entries = f
            .store
            .audit_entries(
                f.org.id,
                &isms_store::AuditFilter {
                    entity_type: Some("document".into()),
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let actions: Vec<&str> = entries
            .iter()
            .filter(|a| a.entity_type == "document" && a.entity_id == id.to_string())
            .map(|a| a.action.as_str())
            .collect();
        for a in [
            "create",
            "save_draft",
            "submit",
            "approve",
            "publish",
            "retire",
        ] {
            assert!(actions.contains(&a), "{e}: {a} in {actions:?}");
        }
    }
}

#[tokio::test]
async fn employees_see_what_to_read_acknowledge_once_and_managers_see_the_counts() {
    for f in fixtures().await {
        let e = f.engine;
        let id = published(
            &f,
            json!({"template": "acceptable-use"}),
            json!("employees"),
        )
        .await;

        let (s, v) = call(&f.app, "GET", "/api/v1/me/documents", &f.eve, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let list = v.as_array().unwrap();
        assert_eq!(list.len(), 1, "{e}: {v}");
        assert_eq!(list[0]["document_id"], id);
        assert_eq!(list[0]["version"], "1.0");
        // The manager is not an employee: nothing to read.
        let (_, v) = call(&f.app, "GET", "/api/v1/me/documents", &f.manager, None).await;
        assert_eq!(v, json!([]), "{e}");
        // The employee reads the published version (no drafts) and was told in the inbox.
        let (s, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/documents/{id}"),
            &f.eve,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["current"]["number"], "1.0");
        let eve = f
            .store
            .user_by_email("eve@acme.test")
            .await
            .unwrap()
            .unwrap();
        assert!(
            f.store
                .inbox(f.org.id, eve.id, false)
                .await
                .unwrap()
                .iter()
                .any(|n| n.title.contains("acknowledge")),
            "{e}"
        );

        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/acknowledge"),
            &f.eve,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        assert_eq!(v["version"], "1.0");
        // Twice: a clear 409, nothing duplicated.
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/acknowledge"),
            &f.eve,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}: {v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("already acknowledged"),
            "{e}: {v}"
        );

        let (s, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/documents/{id}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            (v["acknowledged"].as_i64(), v["required"].as_i64()),
            (Some(1), Some(2)),
            "{e}: {v}"
        );
        let (_, v) = call(&f.app, "GET", "/api/v1/me/documents", &f.eve, None).await;
        assert_eq!(v, json!([]), "{e}: nothing left to read");
        let (s, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/documents/{id}/acknowledgements"),
            &f.manager,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let people: Vec<(&str, bool)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["email"].as_str().unwrap(),
                    p["acknowledged_at"].is_string(),
                )
            })
            .collect();
        assert_eq!(
            people,
            [("eve@acme.test", true), ("sam@acme.test", false)],
            "{e}"
        );
        let records = f.store.acknowledgement_records(f.org.id).await.unwrap();
        assert_eq!(records.len(), 2, "{e}: one done, one pending, no duplicate");

        // Remind the late ones: sam gets a message, once a day.
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/remind"),
            &f.manager,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["sent"], 1);
        let (_, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/remind"),
            &f.manager,
            None,
        )
        .await;
        assert_eq!(v["sent"], 0, "{e}: not twice a day");

        // A minor version does not ask again; a major one does.
        call(
            &f.app,
            "PUT",
            &format!("/api/v1/documents/{id}/draft"),
            &f.admin,
            Some(json!({"body": "typo fixed"})),
        )
        .await;
        call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/submit"),
            &f.admin,
            None,
        )
        .await;
        call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/approve"),
            &f.manager,
            None,
        )
        .await;
        let (_, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/publish"),
            &f.manager,
            None,
        )
        .await;
        assert_eq!(v["published"]["number"], "1.1", "{e}: {v}");
        assert_eq!(
            (v["acknowledged"].as_i64(), v["required"].as_i64()),
            (Some(1), Some(2)),
            "{e}: {v}"
        );
        let (_, v) = call(&f.app, "GET", "/api/v1/me/documents", &f.eve, None).await;
        assert_eq!(v, json!([]), "{e}: 1.1 is minor");
        call(
            &f.app,
            "PUT",
            &format!("/api/v1/documents/{id}/draft"),
            &f.admin,
            Some(json!({"body": "new rules", "major": true})),
        )
        .await;
        call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/submit"),
            &f.admin,
            None,
        )
        .await;
        call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/approve"),
            &f.manager,
            None,
        )
        .await;
        let (_, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/publish"),
            &f.manager,
            None,
        )
        .await;
        assert_eq!(v["published"]["number"], "2.0", "{e}: {v}");
        assert_eq!(
            (v["acknowledged"].as_i64(), v["required"].as_i64()),
            (Some(0), Some(2)),
            "{e}: {v}"
        );
        let (_, v) = call(&f.app, "GET", "/api/v1/me/documents", &f.eve, None).await;
        assert_eq!(v.as_array().unwrap().len(), 1, "{e}: 2.0 asks again: {v}");
        let (s, _) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/acknowledge"),
            &f.eve,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");

        // Named people; "all".
        let id2 = published(
            &f,
            json!({"title": "Key handling", "type": "standard", "body": "x"}),
            json!(["sam@acme.test"]),
        )
        .await;
        let (_, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/documents/{id2}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(v["required"], 1, "{e}: {v}");
        let id3 = published(
            &f,
            json!({"title": "Code of conduct", "type": "policy", "body": "x"}),
            json!("all"),
        )
        .await;
        let (_, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/documents/{id3}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(v["required"], 4, "{e}: {v}");

        // Another organisation's member cannot see or acknowledge it.
        let other = org_with(&f.store, "Other Ltd", "oz@other.test", Role::Employee).await;
        let oz = f
            .store
            .user_by_email("oz@other.test")
            .await
            .unwrap()
            .unwrap();
        let oz = f
            .store
            .create_token(other.id, oz.id, "t", &Actor::cli())
            .await
            .unwrap()
            .1;
        let (s, _) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id3}/acknowledge"),
            &oz,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
        // Nothing published: nothing to acknowledge (and employees cannot see drafts).
        let draft = create(&f, json!({"title": "Draft only", "type": "record"})).await;
        let (s, _) = call(
            &f.app,
            "GET",
            &format!("/api/v1/documents/{draft}"),
            &f.eve,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{draft}/acknowledge"),
            &f.manager,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}: {v}");
    }
}

#[tokio::test]
async fn the_document_page_renders_markdown_without_script_from_the_text() {
    for f in fixtures().await {
        let e = f.engine;
        let id = create(
            &f,
            json!({"title": "Hostile", "type": "policy",
                "body": "# Rules\n\n**Bold** text.\n\n<script>alert(1)</script>\n\nSee <img src=x onerror=alert(2)> and [x](javascript:alert(3)).\n"}),
        )
        .await;
        let (cookie, _) = f.app.login("ann@acme.test", PASSWORD).await;
        let r = f.app.get(&format!("/documents/{id}"), Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::OK, "{e}: {}", r.body);
        assert!(r.body.contains("<h1>Rules</h1>"), "{e}: rendered");
        assert!(r.body.contains("<strong>Bold</strong>"), "{e}");
        assert!(
            !r.body.contains("<script>alert"),
            "{e}: no script from the text"
        );
        assert!(!r.body.contains("<img src=x"), "{e}: no img from the text");
        assert!(!r.body.contains("<img src=\"x\""), "{e}");
        assert!(
            !r.body.contains("href=\"javascript:"),
            "{e}: no script link"
        );
        assert!(
            r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{e}: shown as text"
        );

        // A document addressing A.5.1 and 5.2 is linked from the SoA entry and the requirement pages.
        let policy = create(&f, json!({"template": "information-security-policy"})).await;
        let r = f.app.get("/soa/5.1", Some(&cookie)).await;
        assert!(
            r.body.contains(&format!("href=\"/documents/{policy}\"")),
            "{e}: on the SoA entry"
        );
        let req = f
            .store
            .requirement_by_ref("iso27001-2022", "5.2", isms_store::Tenant::Org(f.org.id))
            .await
            .unwrap()
            .unwrap();
        let r = f
            .app
            .get(&format!("/requirements/{}", req.id), Some(&cookie))
            .await;
        assert!(
            r.body.contains(&format!("href=\"/documents/{policy}\"")),
            "{e}: on the requirement"
        );
        let r = f
            .app
            .get(&format!("/documents/{policy}"), Some(&cookie))
            .await;
        assert!(r.body.contains("href=\"/soa/5.1\""), "{e}: and back");
        let r = f.app.get("/search?q=security+policy", Some(&cookie)).await;
        assert!(
            r.body.contains(&format!("href=\"/documents/{policy}\"")),
            "{e}: found by search"
        );
        let r = f.app.get("/profile", Some(&cookie)).await;
        assert!(r.body.contains("Documents to read"), "{e}: on the profile");
    }
}

#[tokio::test]
async fn readiness_counts_a_published_reviewed_policy_and_reviews_come_due() {
    for f in fixtures().await {
        let e = f.engine;
        let item = |v: &Value| {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["key"] == "policy")
                .cloned()
                .unwrap()
        };
        let (_, v) = call(&f.app, "GET", "/api/v1/readiness", &f.admin, None).await;
        assert_eq!(item(&v)["state"], "missing", "{e}: {v}");
        let id = create(&f, json!({"template": "information-security-policy"})).await;
        let (_, v) = call(&f.app, "GET", "/api/v1/readiness", &f.admin, None).await;
        assert_eq!(item(&v)["state"], "incomplete", "{e}: a draft only");
        call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/submit"),
            &f.admin,
            None,
        )
        .await;
        call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/approve"),
            &f.manager,
            None,
        )
        .await;
        call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/publish"),
            &f.manager,
            Some(json!({"acknowledge": "all"})),
        )
        .await;
        let (_, v) = call(&f.app, "GET", "/api/v1/readiness", &f.admin, None).await;
        let it = item(&v);
        assert_eq!(it["state"], "ready", "{e}: {it}");
        assert!(
            it["detail"].as_str().unwrap().contains("bob@acme.test"),
            "{e}: {it}"
        );

        // A review a year ago is overdue: the readiness item and the due items say so.
        f.store
            .execute_raw(&format!(
                "UPDATE documents SET reviewed_at = '2020-01-01T00:00:00.000000Z' WHERE id = {id}"
            ))
            .await
            .unwrap();
        let (_, v) = call(&f.app, "GET", "/api/v1/readiness", &f.admin, None).await;
        assert_eq!(item(&v)["state"], "incomplete", "{e}");
        let due = f.store.due_items(f.org.id, "2030-01-01").await.unwrap();
        let d = due
            .iter()
            .find(|d| d.kind == "document_review")
            .expect("due item");
        assert_eq!((d.id, d.due_date.as_str()), (id, "2021-01-01"), "{e}");
        assert_eq!(d.owner.as_deref(), Some("ann@acme.test"));
        let (_, v) = call(
            &f.app,
            "GET",
            "/api/v1/documents?overdue=true",
            &f.admin,
            None,
        )
        .await;
        assert_eq!(v["items"].as_array().unwrap().len(), 1, "{e}: {v}");
        // Confirming the review clears it.
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/review"),
            &f.manager,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let (_, v) = call(&f.app, "GET", "/api/v1/readiness", &f.admin, None).await;
        assert_eq!(item(&v)["state"], "ready", "{e}");
    }
}

#[tokio::test]
async fn two_saves_of_the_same_version_one_wins() {
    for f in fixtures().await {
        let e = f.engine;
        let id = create(&f, json!({"title": "Race", "type": "policy", "body": "a"})).await;
        let (_, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/documents/{id}"),
            &f.admin,
            None,
        )
        .await;
        let version = v["version"].as_i64().unwrap();
        let url = format!("/api/v1/documents/{id}/draft");
        let (a, b) = tokio::join!(
            call(
                &f.app,
                "PUT",
                &url,
                &f.admin,
                Some(json!({"body": "from a", "version": version}))
            ),
            call(
                &f.app,
                "PUT",
                &url,
                &f.manager,
                Some(json!({"body": "from b", "version": version}))
            ),
        );
        let mut codes = [a.0, b.0];
        codes.sort();
        assert_eq!(
            codes,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{e}: {a:?} {b:?}"
        );
    }
}

fn pdf_text(path: &std::path::Path) -> String {
    let o = std::process::Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output();
    match o {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => {
            let raw = std::fs::read(path).unwrap();
            String::from_utf8_lossy(&raw).into_owned()
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn doc_export_writes_a_pdf_with_title_version_and_approver_and_markdown() {
    const BIN: &str = env!("CARGO_BIN_EXE_isms");
    for (engine, url) in database_urls().await {
        let store = Store::open(&url).await.unwrap();
        let f = fixture(engine, store).await;
        let id = published(
            &f,
            json!({"title": "Information security policy of Acme", "type": "policy", "body": "# Purpose\n\nProtect information.\n"}),
            json!("employees"),
        )
        .await;
        let dir = std::env::temp_dir().join(format!("isms_doc_{}_{engine}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pdf = dir.join("policy.pdf");
        let o = std::process::Command::new(BIN)
            .args([
                "--database",
                &url,
                "doc",
                "export",
                &id.to_string(),
                "--org",
                &f.org.slug,
                "--format",
                "pdf",
                "-o",
            ])
            .arg(&pdf)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{engine}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = pdf_text(&pdf);
        for want in [
            "Information security policy of Acme",
            "1.0",
            "bob@acme.test",
            "Protect information.",
            "Revision history",
        ] {
            assert!(
                text.contains(want),
                "{engine}: {want} in the PDF text: {text}"
            );
        }
        let md = dir.join("policy.md");
        let o = std::process::Command::new(BIN)
            .args([
                "--database",
                &url,
                "doc",
                "export",
                &format!("DOC-{id:03}"),
                "--org",
                &f.org.slug,
                "--format",
                "md",
                "-o",
            ])
            .arg(&md)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{engine}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = std::fs::read_to_string(&md).unwrap();
        assert!(
            text.contains("version: \"1.0\"") && text.contains("approved_by: \"bob@acme.test\""),
            "{engine}: {text}"
        );
        assert!(text.contains("# Purpose"), "{engine}");
        let o = std::process::Command::new(BIN)
            .args([
                "--database",
                &url,
                "doc",
                "export",
                "999",
                "--org",
                &f.org.slug,
                "--format",
                "pdf",
                "-o",
            ])
            .arg(dir.join("none.pdf"))
            .output()
            .unwrap();
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("document 999"),
            "{engine}"
        );
        let o = std::process::Command::new(BIN)
            .args([
                "--database",
                &url,
                "doc",
                "export",
                &id.to_string(),
                "--org",
                &f.org.slug,
                "--format",
                "docx",
                "-o",
            ])
            .arg(dir.join("x.docx"))
            .output()
            .unwrap();
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("use pdf or md"),
            "{engine}"
        );
    }
}

#[tokio::test]
async fn the_register_and_acknowledgement_records_export_as_csv_and_xlsx() {
    for f in fixtures().await {
        let e = f.engine;
        let id = published(
            &f,
            json!({"title": "=cmd|' /C calc'!A0", "type": "policy", "body": "x"}),
            json!("employees"),
        )
        .await;
        call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/acknowledge"),
            &f.eve,
            None,
        )
        .await;
        let (cookie, _) = f.app.login("bob@acme.test", PASSWORD).await;
        let r = f
            .app
            .get("/documents/export?format=csv", Some(&cookie))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{e}: {}", r.body);
        assert!(
            r.body.contains("'=cmd"),
            "{e}: formula neutralised: {}",
            r.body
        );
        assert!(r.body.contains("DOC-"), "{e}");
        let r = f
            .app
            .get(
                "/documents/acknowledgements/export?format=csv",
                Some(&cookie),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{e}: {}", r.body);
        assert!(
            r.body.contains("eve@acme.test") && r.body.contains("sam@acme.test"),
            "{e}: {}",
            r.body
        );
        let r = f
            .app
            .get("/documents/export?format=xlsx", Some(&cookie))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.starts_with("PK"), "{e}");
    }
}

/// Quoted-printable (as lettre writes a non-ASCII body) back to text.
fn unqp(s: &str) -> String {
    let s = s.replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let Some(x) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(x);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn day(offset: i64) -> String {
    isms_store::time_from_now(time::Duration::days(offset))[..10].to_owned()
}

async fn cli(db: &str, args: Vec<String>) -> std::process::Output {
    let db = db.to_owned();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::cli::isms(&db, &args, None)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn pending_acknowledgements_are_due_items_digested_and_reminded_by_email() {
    for (engine, url) in database_urls().await {
        let store = Store::open(&url).await.unwrap();
        let f = fixture(engine, store).await;
        let e = f.engine;

        // The reading period: 14 days by default, set on the document, and
        // overridden when publishing; a bad one is refused and nothing published.
        let id = create(
            &f,
            json!({"title": "Acceptable use", "type": "policy", "body": "Be careful."}),
        )
        .await;
        let (s, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/documents/{id}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(
            (s, v["reading_days"].as_i64()),
            (StatusCode::OK, Some(14)),
            "{e}: {v}"
        );
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/documents/{id}"),
            &f.admin,
            Some(json!({"reading_days": 400, "version": v["version"]})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains("reading_days"),
            "{e}: {v}"
        );
        let (_, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/documents/{id}"),
            &f.admin,
            None,
        )
        .await;
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/documents/{id}"),
            &f.admin,
            Some(json!({"reading_days": 10, "version": v["version"]})),
        )
        .await;
        assert_eq!(
            (s, v["reading_days"].as_i64()),
            (StatusCode::OK, Some(10)),
            "{e}: {v}"
        );
        for (path, token) in [("submit", &f.admin), ("approve", &f.manager)] {
            let (s, v) = call(
                &f.app,
                "POST",
                &format!("/api/v1/documents/{id}/{path}"),
                token,
                None,
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{e}: {v}");
        }
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/publish"),
            &f.manager,
            Some(json!({"acknowledge": "employees", "reading_days": -1})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains("reading_days"),
            "{e}: {v}"
        );
        let (_, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/documents/{id}"),
            &f.admin,
            None,
        )
        .await;
        assert!(v["published"].is_null(), "{e}: nothing published: {v}");
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/publish"),
            &f.manager,
            Some(json!({"acknowledge": "employees", "reading_days": 3})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["published"]["read_by"], day(3), "{e}: {v}");

        // Each employee has a due item: in My tasks and the organisation's due list.
        let (s, v) = call(&f.app, "GET", "/api/v1/me/tasks", &f.eve, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let mine: Vec<&Value> = v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"] == "document_acknowledgement")
            .collect();
        assert_eq!(mine.len(), 1, "{e}: {v}");
        assert_eq!(mine[0]["due_date"], day(3));
        assert_eq!(mine[0]["link"], format!("/documents/{id}"));
        assert!(
            mine[0]["title"]
                .as_str()
                .unwrap()
                .contains("Acceptable use")
        );
        let owners = |items: Vec<isms_store::DueItem>| -> Vec<String> {
            items
                .into_iter()
                .filter(|i| i.kind == "document_acknowledgement")
                .filter_map(|i| i.owner)
                .collect()
        };
        assert_eq!(
            owners(f.store.due_items(f.org.id, &day(30)).await.unwrap()),
            ["eve@acme.test", "sam@acme.test"],
            "{e}"
        );
        assert!(
            owners(f.store.due_items(f.org.id, &day(2)).await.unwrap()).is_empty(),
            "{e}: not due before the read-by day"
        );

        // The read-by day passes: the daily digest names the document.
        f.store
            .execute_raw(&format!(
                "UPDATE document_versions SET read_by = '{}' WHERE document_id = {id} AND state = 'published'",
                day(-2)
            ))
            .await
            .unwrap();
        let (port, received) = crate::tasks::smtp_sink().await;
        let smtp = format!("smtp://127.0.0.1:{port}");
        let o = cli(
            &url,
            vec![
                "notify".into(),
                "run-once".into(),
                "--smtp-url".into(),
                smtp.clone(),
            ],
        )
        .await;
        assert!(o.status.success(), "{e}: {}", crate::cli::stderr(&o));
        {
            let mails = received.lock().unwrap();
            let to_eve = mails
                .iter()
                .find(|m| m.to == ["eve@acme.test"])
                .unwrap_or_else(|| panic!("{e}: no digest for eve: {mails:?}"));
            let text = unqp(&to_eve.data);
            assert!(text.contains("1 overdue item(s)"), "{e}: {text}");
            assert!(
                text.contains("Read and acknowledge “Acceptable use”"),
                "{e}: {text}"
            );
            assert!(text.contains(&format!("/documents/{id}")), "{e}: {text}");
        }

        // Eve acknowledges: no longer due for her, still for sam.
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/acknowledge"),
            &f.eve,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        assert_eq!(
            owners(f.store.due_items(f.org.id, &day(30)).await.unwrap()),
            ["sam@acme.test"],
            "{e}"
        );
        let (_, v) = call(&f.app, "GET", "/api/v1/me/tasks", &f.eve, None).await;
        assert!(
            !v["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["kind"] == "document_acknowledgement"),
            "{e}: {v}"
        );
        // Completion per person, for the manager.
        let (s, v) = call(&f.app, "GET", "/api/v1/acknowledgements", &f.manager, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let per: Vec<(String, i64, i64)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["email"].as_str().unwrap().to_owned(),
                    p["acknowledged"].as_i64().unwrap(),
                    p["required"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            per,
            [
                ("eve@acme.test".to_owned(), 1, 1),
                ("sam@acme.test".to_owned(), 0, 1)
            ],
            "{e}: {v}"
        );
        let (s, _) = call(&f.app, "GET", "/api/v1/acknowledgements", &f.eve, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{e}");

        // "Remind the late ones" e-mails sam (and writes his inbox) once a day.
        received.lock().unwrap().clear();
        let o = cli(
            &url,
            vec![
                "doc".into(),
                "remind".into(),
                id.to_string(),
                "--org".into(),
                f.org.slug.clone(),
                "--smtp-url".into(),
                smtp,
                "--public-url".into(),
                "https://isms.acme.test".into(),
            ],
        )
        .await;
        assert!(o.status.success(), "{e}: {}", crate::cli::stderr(&o));
        assert!(
            crate::cli::stdout(&o).contains("1 reminder(s) written, 1 e-mail(s) sent"),
            "{e}: {}",
            crate::cli::stdout(&o)
        );
        {
            let mails = received.lock().unwrap();
            assert_eq!(mails.len(), 1, "{e}: {mails:?}");
            assert_eq!(mails[0].to, ["sam@acme.test"]);
            let text = unqp(&mails[0].data);
            assert!(text.contains("“Acceptable use” version 1.0"), "{e}: {text}");
            assert!(
                text.contains(&format!("https://isms.acme.test/documents/{id}")),
                "{e}: {text}"
            );
        }
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/documents/{id}/remind"),
            &f.manager,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(
            (v["sent"].as_i64(), v["emailed"].as_i64()),
            (Some(0), Some(0)),
            "{e}: reminded today already: {v}"
        );
        f.store.close().await;
    }
}
