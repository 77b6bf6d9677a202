//! Risk management end to end: assets, the register, acceptance, the SoA
//! link, imports and reports, on both engines.

use axum::http::StatusCode;
use isms_domain::Role;
use isms_store::{Actor, AuditFilter, RiskInput, Store, StoreError};
use serde_json::{Value, json};

use crate::soa::{call, token};
use crate::support::{App, org_with, stores};

struct Fixture {
    engine: &'static str,
    store: Store,
    app: App,
    org: isms_store::Org,
    admin: String,
}

async fn fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let user = store.user_by_email("ann@acme.test").await.unwrap().unwrap();
        let admin = store
            .create_token(org.id, user.id, "test", &Actor::cli())
            .await
            .unwrap()
            .1;
        let app = App::new(store.clone());
        out.push(Fixture {
            engine,
            store,
            app,
            org,
            admin,
        });
    }
    out
}

async fn asset(f: &Fixture, name: &str) -> i64 {
    let (s, v) = call(
        &f.app,
        "POST",
        "/api/v1/assets",
        &f.admin,
        Some(json!({"name": name, "type": "software"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{}: {v}", f.engine);
    v["id"].as_i64().expect("asset id")
}

/// The organisation's latest audit entries about one kind of record.
async fn audit_of(
    store: &Store,
    org_id: i64,
    entity: &str,
    limit: i64,
) -> Vec<isms_store::AuditEntry> {
    store
        .audit_entries(
            org_id,
            &AuditFilter {
                entity_type: Some(entity.into()),
                limit,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap()
}

fn risk_body(title: &str, assets: &[i64], l: i64, i: i64, rl: i64, ri: i64) -> Value {
    json!({
        "title": title,
        "asset_ids": assets,
        "likelihood": l,
        "impact": i,
        "treatment": "modify",
        "annex_a_controls": ["8.7"],
        "residual_likelihood": rl,
        "residual_impact": ri,
    })
}

#[tokio::test]
async fn assets_and_risks_are_created_scored_and_listed() {
    for f in fixtures().await {
        let e = f.engine;
        let crm = asset(&f, "CRM").await;
        let (s, v) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("Ransomware on the CRM", &[crm], 4, 5, 2, 2)),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        assert!(v["id"].as_i64().is_some(), "{e}: {v}");
        assert_eq!(v["level"], "Critical", "{e}: 4 x 5 = 20: {v}");
        assert_eq!(v["residual_level"], "Low", "{e}: {v}");
        assert_eq!(v["asset_ids"], json!([crm]));
        assert_eq!(v["annex_a_controls"], json!(["8.7"]));
        let first = v["id"].as_i64().unwrap();

        let (s, v) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("Phishing of staff", &[], 9, 3, 1, 1)),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("likelihood") && detail.contains("1 to 5"),
            "{e}: the field and the range are named: {detail}"
        );
        assert_eq!(
            v["type"], "urn:isms:problem:unprocessable-entity",
            "{e}: a problem document"
        );
        let (s, v) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("Residual off the scale", &[], 2, 2, 2, 6)),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("residual_impact"));

        // More risks, some matching the words, at different levels.
        for (t, l, i) in [
            ("Ransomware on backups", 2, 2),
            ("Laptop theft", 3, 3),
            ("Ransomware via supplier portal", 3, 4),
            ("Ransomware in the office network", 1, 1),
        ] {
            let (s, v) = call(
                &f.app,
                "POST",
                "/api/v1/risks",
                &f.admin,
                Some(risk_body(t, &[], l, i, 1, 1)),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        }
        let (s, v) = call(
            &f.app,
            "GET",
            "/api/v1/risks?q=ransomware&sort=level&limit=2",
            &f.admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let titles: Vec<&str> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap())
            .collect();
        assert_eq!(
            titles,
            ["Ransomware on the CRM", "Ransomware via supplier portal"],
            "{e}: highest level first"
        );
        let next = v["next"].as_str().expect("a next page").to_owned();
        let (s, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/risks?q=ransomware&sort=level&limit=2&after={next}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let titles: Vec<&str> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap())
            .collect();
        assert_eq!(
            titles,
            ["Ransomware on backups", "Ransomware in the office network"],
            "{e}"
        );
        assert!(v["next"].is_null(), "{e}: last page");
        // Two words must both match.
        let (_, v) = call(
            &f.app,
            "GET",
            "/api/v1/risks?q=ransomware%20SUPPLIER&sort=level&limit=50",
            &f.admin,
            None,
        )
        .await;
        assert_eq!(v["items"].as_array().unwrap().len(), 1, "{e}: {v}");
        let (s, _) = call(
            &f.app,
            "GET",
            "/api/v1/risks?after=garbage&sort=level",
            &f.admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

        let (s, v) = call(
            &f.app,
            "GET",
            &format!("/api/v1/risks/{first}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["version"], 1);
    }
}

#[tokio::test]
async fn acceptance_follows_the_criteria_and_overrides_are_audited() {
    for f in fixtures().await {
        let e = f.engine;
        let owner = token(&f.store, &f.org, "rob@acme.test", Role::RiskOwner).await;
        let low = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("Low residual", &[], 4, 4, 1, 2)),
        )
        .await
        .1["id"]
            .as_i64()
            .unwrap();
        let high = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("High residual", &[], 5, 5, 4, 4)),
        )
        .await
        .1["id"]
            .as_i64()
            .unwrap();

        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/risks/{low}/accept"),
            &owner,
            Some(json!({"comment": "backups tested monthly"})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["status"], "accepted");
        assert_eq!(v["acceptance"]["accepted_by"], "rob@acme.test");
        assert_eq!(v["acceptance"]["override"], false);

        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/risks/{high}/accept"),
            &owner,
            Some(json!({"comment": "we live with it"})),
        )
        .await;
        assert!(s.is_client_error(), "{e}: {s} {v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("above the acceptance criteria"),
            "{e}: {v}"
        );
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/risks/{high}/accept"),
            &owner,
            Some(json!({"comment": "we live with it", "override": true})),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "{e}: a risk owner's override: {v}"
        );
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/risks/{high}/accept"),
            &f.admin,
            Some(json!({"comment": "we live with it"})),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{e}: even an administrator must say override: {v}"
        );
        let still = f.store.risk(f.org.id, high).await.unwrap();
        assert_eq!(still.status.as_str(), "assessed", "{e}: nothing changed");
        assert_eq!(still.version, 1, "{e}: the refused claims were rolled back");

        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/risks/{high}/accept"),
            &f.admin,
            Some(json!({"comment": "board decision 2026-11", "override": true})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["acceptance"]["override"], true);
        let entries = audit_of(&f.store, f.org.id, "risk", 100).await;
        let o = entries
            .iter()
            .find(|x| x.action == "accept_override" && x.entity_id == high.to_string())
            .expect("the override is in the audit log");
        assert_eq!(o.actor, "ann@acme.test");
        let after: Value = serde_json::from_str(o.after_json.as_deref().unwrap()).unwrap();
        assert_eq!(after["override"], true);
        assert_eq!(after["comment"], "board decision 2026-11");
        assert!(
            entries
                .iter()
                .any(|x| x.action == "accept" && x.entity_id == low.to_string()),
            "{e}"
        );
    }
}

#[tokio::test]
async fn a_control_linked_as_treatment_lists_its_risks_on_the_soa_entry() {
    for f in fixtures().await {
        let e = f.engine;
        let (_, before) = call(&f.app, "GET", "/api/v1/soa/8.7", &f.admin, None).await;
        assert_eq!(before["risks"], json!([]), "{e}: {before}");
        assert!(
            !before["reasons"]
                .as_array()
                .unwrap()
                .contains(&json!("risk_treatment"))
        );
        let (_, r) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("Malware on laptops", &[], 4, 4, 2, 2)),
        )
        .await;
        let (s, v) = call(&f.app, "GET", "/api/v1/soa/8.7", &f.admin, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["risks"][0]["id"], r["id"], "{e}: {v}");
        assert_eq!(v["risks"][0]["title"], "Malware on laptops");
        assert!(
            v["reasons"]
                .as_array()
                .unwrap()
                .contains(&json!("risk_treatment")),
            "{e}: {v}"
        );
        assert_eq!(
            v["version"].as_i64().unwrap(),
            before["version"].as_i64().unwrap() + 1,
            "{e}: the SoA entry's version moves with the change"
        );
        let (_, other) = call(&f.app, "GET", "/api/v1/soa/8.8", &f.admin, None).await;
        assert_eq!(other["risks"], json!([]), "{e}");
    }
}

#[tokio::test]
async fn excluding_a_control_that_risks_need_names_them_first() {
    for f in fixtures().await {
        let e = f.engine;
        let (_, r) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("Ransomware on the file server", &[], 4, 4, 2, 2)),
        )
        .await;
        let rid = r["id"].as_i64().unwrap();
        // The page asks first: nothing is saved until the exclusion is confirmed.
        let (cookie, csrf) = f.app.login("ann@acme.test", crate::support::PASSWORD).await;
        let (_, entry) = call(&f.app, "GET", "/api/v1/soa/8.7", &f.admin, None).await;
        let version = entry["version"].as_i64().unwrap().to_string();
        let form = |confirm: bool| {
            let mut v = vec![
                ("csrf_token", csrf.clone()),
                ("version", version.clone()),
                ("applicable", "no".to_owned()),
                ("justification", "No malware in scope".to_owned()),
                ("status", "not_implemented".to_owned()),
            ];
            if confirm {
                v.push(("confirm_exclusion", "yes".to_owned()));
            }
            v
        };
        let fields = form(false);
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = f.app.post("/soa/8.7", Some(&cookie), &refs, &[]).await;
        assert_eq!(page.status, StatusCode::CONFLICT, "{e}: {}", page.body);
        assert!(
            page.body
                .contains(&format!("RISK-{rid} (Ransomware on the file server)"))
                && page.body.contains("confirm_exclusion"),
            "{e}: {}",
            page.body
        );
        let (_, still) = call(&f.app, "GET", "/api/v1/soa/8.7", &f.admin, None).await;
        assert_eq!(still["applicable"], true, "{e}: nothing saved");
        let fields = form(true);
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = f.app.post("/soa/8.7", Some(&cookie), &refs, &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{e}: {}", page.body);
        let (_, now) = call(&f.app, "GET", "/api/v1/soa/8.7", &f.admin, None).await;
        assert_eq!(now["applicable"], false, "{e}: confirmed");
        // The API saves and names the risks in its answer.
        let (s, v) = call(
            &f.app,
            "PATCH",
            "/api/v1/soa/8.7",
            &f.admin,
            Some(json!({"applicable": false, "justification": "Still out", "version": now["version"]})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let w = v["warnings"][0].as_str().unwrap_or_default();
        assert!(
            w.contains(&format!("RISK-{rid}")) && w.contains("8.7"),
            "{e}: {v}"
        );
        let (_, e51) = call(&f.app, "GET", "/api/v1/soa/5.1", &f.admin, None).await;
        let (_, other) = call(
            &f.app,
            "PATCH",
            "/api/v1/soa/5.1",
            &f.admin,
            Some(json!({"applicable": false, "justification": "n/a", "version": e51["version"]})),
        )
        .await;
        assert_eq!(other["applicable"], false, "{e}: {other}");
        assert!(
            other.get("warnings").is_none(),
            "{e}: no risk, no warning: {other}"
        );
    }
}

#[tokio::test]
async fn stale_versions_get_409_and_bad_links_get_422() {
    for f in fixtures().await {
        let e = f.engine;
        let a = asset(&f, "Mail").await;
        let (_, r) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("Mail spoofing", &[a], 3, 3, 2, 2)),
        )
        .await;
        let id = r["id"].as_i64().unwrap();
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{id}"),
            &f.admin,
            Some(json!({"title": "Mail spoofing (DMARC)", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["version"], 2);
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{id}"),
            &f.admin,
            Some(json!({"title": "lost", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("ann@acme.test"));
        let (s, _) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{id}"),
            &f.admin,
            Some(json!({"title": "no version"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(
            f.store.risk(f.org.id, id).await.unwrap().title,
            "Mail spoofing (DMARC)"
        );

        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/assets/{a}"),
            &f.admin,
            Some(json!({"location": "EU", "version": 7})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}: {v}");

        // An owner from another organisation.
        let other = org_with(&f.store, "Other Ltd", "olga@other.test", Role::Admin).await;
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{id}"),
            &f.admin,
            Some(json!({"owner": "olga@other.test", "version": 2})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(v["detail"].as_str().unwrap().starts_with("owner:"), "{v}");
        // Another organisation's asset, and an unknown control.
        let theirs = f
            .store
            .create_asset(
                other.id,
                &isms_store::AssetInput {
                    name: Some("Their CRM".into()),
                    asset_type: Some("software".into()),
                    ..Default::default()
                },
                &Actor::cli(),
            )
            .await
            .unwrap();
        let (s, v) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("x", &[theirs.id], 1, 1, 1, 1)),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        let mut b = risk_body("x", &[], 1, 1, 1, 1);
        b["annex_a_controls"] = json!(["9.1"]);
        let (s, v) = call(&f.app, "POST", "/api/v1/risks", &f.admin, Some(b)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert_eq!(
            f.store
                .risks(
                    f.org.id,
                    &isms_store::RiskQuery {
                        limit: 50,
                        ..Default::default()
                    }
                )
                .await
                .unwrap()
                .items
                .len(),
            1,
            "{e}: nothing half-written"
        );
    }
}

#[tokio::test]
async fn linked_assets_are_kept_and_dependency_cycles_refused() {
    for f in fixtures().await {
        let e = f.engine;
        let app_a = asset(&f, "App").await;
        let db = asset(&f, "Database").await;
        let host = asset(&f, "Host").await;
        let (_, r) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("Data loss", &[db], 2, 4, 1, 4)),
        )
        .await;
        let (s, v) = call(
            &f.app,
            "DELETE",
            &format!("/api/v1/assets/{db}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("linked"), "{v}");
        assert!(
            f.store.asset(f.org.id, db).await.is_ok(),
            "{e}: still there"
        );

        // App -> Database -> Host, then Host -> App closes a loop.
        for (from, to, version) in [(app_a, db, 1), (db, host, 1)] {
            let (s, v) = call(
                &f.app,
                "PATCH",
                &format!("/api/v1/assets/{from}"),
                &f.admin,
                Some(json!({"depends_on": [to], "version": version})),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{e}: {v}");
        }
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/assets/{host}"),
            &f.admin,
            Some(json!({"depends_on": [app_a], "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("cycle"), "{v}");
        assert_eq!(f.store.asset(f.org.id, host).await.unwrap().version, 1);

        // Explicit unlink deletes, and the risk loses the link.
        let (s, _) = call(
            &f.app,
            "DELETE",
            &format!("/api/v1/assets/{db}?unlink=true"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
        let risk = f
            .store
            .risk(f.org.id, r["id"].as_i64().unwrap())
            .await
            .unwrap();
        assert!(risk.asset_ids.is_empty(), "{e}");
    }
}

#[tokio::test]
async fn another_organisations_risk_is_not_found() {
    for f in fixtures().await {
        let e = f.engine;
        let other = org_with(&f.store, "Other Ltd", "olga@other.test", Role::Admin).await;
        let theirs = f
            .store
            .create_risk(
                other.id,
                &RiskInput {
                    title: Some("Their secret risk".into()),
                    likelihood: Some(3),
                    impact: Some(3),
                    treatment: Some("retain".into()),
                    ..RiskInput::default()
                },
                &Actor::cli(),
            )
            .await
            .unwrap();
        for (method, path, body) in [
            ("GET", format!("/api/v1/risks/{}", theirs.id), None),
            (
                "PATCH",
                format!("/api/v1/risks/{}", theirs.id),
                Some(json!({"title": "mine", "version": 1})),
            ),
            (
                "POST",
                format!("/api/v1/risks/{}/accept", theirs.id),
                Some(json!({"comment": "mine"})),
            ),
            ("DELETE", format!("/api/v1/risks/{}", theirs.id), None),
        ] {
            let (s, v) = call(&f.app, method, &path, &f.admin, body).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{e}: {method} {path}: {v}");
        }
        let (_, v) = call(
            &f.app,
            "GET",
            "/api/v1/risks?q=secret&limit=50",
            &f.admin,
            None,
        )
        .await;
        assert_eq!(v["items"], json!([]), "{e}");
        let kept = f.store.risk(other.id, theirs.id).await.unwrap();
        assert_eq!(kept.title, "Their secret risk");
        assert_eq!(kept.version, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_version_writers_of_a_risk_one_wins() {
    const WRITERS: usize = 8;
    for (engine, store) in stores().await {
        let org = org_with(&store, "Race", "ann@race.test", Role::Admin).await;
        let r = store
            .create_risk(
                org.id,
                &RiskInput {
                    title: Some("Racing".into()),
                    likelihood: Some(2),
                    impact: Some(2),
                    treatment: Some("modify".into()),
                    ..RiskInput::default()
                },
                &Actor::cli(),
            )
            .await
            .unwrap();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS));
        let mut tasks = Vec::new();
        for i in 0..WRITERS {
            let store = store.clone();
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                store
                    .update_risk(
                        org.id,
                        r.id,
                        &RiskInput {
                            title: Some(format!("writer {i}")),
                            version: Some(1),
                            ..RiskInput::default()
                        },
                        &Actor::cli(),
                    )
                    .await
            }));
        }
        let mut winners = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(_) => winners.push(i),
                Err(StoreError::Conflict(_)) => {}
                Err(other) => panic!("{engine}: a loser must get a conflict: {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "{engine}: {winners:?}");
        let saved = store.risk(org.id, r.id).await.unwrap();
        assert_eq!(saved.title, format!("writer {}", winners[0]), "{engine}");
        assert_eq!(saved.version, 2, "{engine}");
        let updates = audit_of(&store, org.id, "risk", 100)
            .await
            .into_iter()
            .filter(|x| x.action == "update")
            .count();
        assert_eq!(updates, 1, "{engine}");
    }
}

const HEADER: &str = "title,description,assets,likelihood,impact,treatment,annex_a_controls,residual_likelihood,residual_impact,owner\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_imports_risks_all_or_nothing_and_reports_every_title() {
    use crate::cli::{isms, stderr, stdout};
    for (engine, url) in crate::support::database_urls().await {
        let store = Store::open(&url).await.unwrap();
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        org_with(&store, "Other Ltd", "olga@other.test", Role::Admin).await;
        let dir =
            std::env::temp_dir().join(format!("isms-risk-cli-{}-{engine}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();

        // A bad row in the middle (and more bad cells further down): nothing stored.
        let bad = dir.join("bad.csv");
        std::fs::write(
            &bad,
            format!(
                "{HEADER}Ransomware on the CRM,Encrypted data,CRM;Backups,4,5,modify,8.7;8.13,2,2,ann@acme.test\n\
                 Laptop theft,,Laptops,9,3,modify,8.1,1,1,\n\
                 Supplier breach,,Supplier portal,3,3,ignore,5.19,2,2,olga@other.test\n\
                 Fire in the server room,,Server room,1,5,share,9.9,1,5,\n"
            ),
        )
        .unwrap();
        let o = isms(
            &url,
            &["risk", "import", bad.to_str().unwrap(), "--org", &org.slug],
            None,
        );
        assert!(!o.status.success(), "{engine}: {}", stdout(&o));
        let err = stderr(&o);
        for needle in [
            "row 3, column likelihood: 9 is outside the scale: use 1 to 5",
            "row 4, column treatment: unknown treatment 'ignore'",
            "row 4, column owner: olga@other.test is not an active member",
            "row 5, column annex_a_controls: '9.9'",
            "nothing was stored",
        ] {
            assert!(
                err.contains(needle),
                "{engine}: missing {needle:?} in\n{err}"
            );
        }
        assert!(!err.contains("row 2,"), "{engine}: row 2 is good: {err}");
        let page = store
            .risks(
                org.id,
                &isms_store::RiskQuery {
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(page.items.is_empty(), "{engine}: nothing stored");
        assert!(
            store.asset_names(org.id).await.unwrap().is_empty(),
            "{engine}: no assets either"
        );

        let good = dir.join("good.csv");
        std::fs::write(
            &good,
            format!(
                "{HEADER}Ransomware on the CRM,Encrypted data,CRM;Backups,4,5,modify,8.7;8.13,2,2,ann@acme.test\n\
                 Laptop theft,,Laptops;CRM,3,3,modify,8.1,,,\n\
                 \"=cmd|' /C calc'!A0\",formula-like title,,2,2,retain,,,,\n"
            ),
        )
        .unwrap();
        let o = isms(
            &url,
            &[
                "risk",
                "import",
                good.to_str().unwrap(),
                "--org",
                &org.slug,
                "--dry-run",
            ],
            None,
        );
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        assert!(
            stdout(&o).contains("dry run: 3 risk(s) and 3 new asset(s)"),
            "{}",
            stdout(&o)
        );
        assert!(
            store
                .risks(
                    org.id,
                    &isms_store::RiskQuery {
                        limit: 50,
                        ..Default::default()
                    }
                )
                .await
                .unwrap()
                .items
                .is_empty(),
            "{engine}: a dry run stores nothing"
        );
        let o = isms(
            &url,
            &["risk", "import", good.to_str().unwrap(), "--org", &org.slug],
            None,
        );
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        let all = store.all_risks(org.id).await.unwrap();
        assert_eq!(all.len(), 3, "{engine}");
        let crm = &all[0];
        assert_eq!(crm.title, "Ransomware on the CRM");
        assert_eq!(crm.owner.as_deref(), Some("ann@acme.test"));
        assert_eq!(crm.annex_a_controls, ["8.7", "8.13"]);
        assert_eq!(crm.asset_ids.len(), 2);
        let laptop = all.iter().find(|r| r.title == "Laptop theft").unwrap();
        assert_eq!(
            (laptop.residual_likelihood, laptop.residual_impact),
            (3, 3),
            "residual defaults to inherent"
        );
        let names: Vec<String> = store
            .asset_names(org.id)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(names.len(), 3, "{engine}: CRM is created once: {names:?}");
        let (s, soa) = {
            let e = store
                .soa_entry(org.id, "8.13", &Actor::cli())
                .await
                .unwrap();
            (e.reasons.clone(), e)
        };
        assert!(
            s.contains(&"risk_treatment".to_owned()),
            "{engine}: {soa:?}"
        );

        for format in ["pdf", "xlsx", "csv"] {
            let out = dir.join(format!("risks.{format}"));
            let o = isms(
                &url,
                &[
                    "report",
                    "risks",
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
                xlsx_text(&bytes)
            } else if format == "pdf" {
                crate::support::pdf_text(&bytes)
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            for title in ["Ransomware on the CRM", "Laptop theft", "cmd|"] {
                assert!(text.contains(title), "{engine} {format}: {title} missing");
            }
            let plan = dir.join(format!("treatment.{format}"));
            let o = isms(
                &url,
                &[
                    "report",
                    "treatment",
                    "--org",
                    &org.slug,
                    "--format",
                    format,
                    "-o",
                    plan.to_str().unwrap(),
                ],
                None,
            );
            assert!(o.status.success(), "{engine} {format}: {}", stderr(&o));
            let bytes = std::fs::read(&plan).unwrap();
            let text = if format == "xlsx" {
                xlsx_text(&bytes)
            } else if format == "pdf" {
                crate::support::pdf_text(&bytes)
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            assert!(
                text.contains("Ransomware on the CRM") && text.contains("Laptop theft"),
                "{engine} {format}: the plan names the risks"
            );
            if format == "csv" {
                assert!(
                    text.contains("'=cmd|"),
                    "{engine}: the formula is neutralised"
                );
                // An exported register imports again.
                let o = isms(
                    &url,
                    &[
                        "risk",
                        "import",
                        out.to_str().unwrap(),
                        "--org",
                        &org.slug,
                        "--dry-run",
                    ],
                    None,
                );
                assert!(o.status.success(), "{engine}: re-import: {}", stderr(&o));
                assert!(
                    stdout(&o).contains("3 risk(s) and 0 new asset(s)"),
                    "{}",
                    stdout(&o)
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The text of an XLSX file (a zip): its shared strings and its sheets (a
/// constant-memory sheet holds its text inline), uncompressed.
pub(crate) fn xlsx_text(bytes: &[u8]) -> String {
    let dir =
        std::env::temp_dir().join(format!("isms-xlsx-{}-{}", std::process::id(), bytes.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("x.xlsx");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("unzip")
        .arg("-p")
        .arg(&file)
        .arg("xl/sharedStrings.xml")
        .arg("xl/worksheets/*.xml")
        .output()
        .expect("unzip");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn readiness_of_risk_assessment_and_treatment_follows_the_register() {
    for f in fixtures().await {
        let e = f.engine;
        let state = |r: &isms_store::Readiness, key: &str| {
            let i = r.items.iter().find(|i| i.key == key).unwrap();
            (i.state.as_str().to_owned(), i.detail.clone())
        };
        let r = f.store.readiness(f.org.id, &Actor::cli()).await.unwrap();
        assert_eq!(state(&r, "risk_assessment_results").0, "missing", "{e}");
        assert_eq!(state(&r, "risk_treatment").0, "missing", "{e}");

        let mut body = risk_body("Unpatched servers", &[], 4, 4, 1, 2);
        body["owner"] = json!("ann@acme.test");
        let (_, v) = call(&f.app, "POST", "/api/v1/risks", &f.admin, Some(body)).await;
        let id = v["id"].as_i64().unwrap();
        let (_, v2) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(json!({"title": "Nobody's risk", "likelihood": 2, "impact": 2, "treatment": "modify"})),
        )
        .await;
        let r = f.store.readiness(f.org.id, &Actor::cli()).await.unwrap();
        let (s, d) = state(&r, "risk_assessment_results");
        assert_eq!(s, "incomplete", "{e}: {d}");
        assert!(d.contains("1 without a risk owner"), "{e}: {d}");
        let (s, d) = state(&r, "risk_treatment");
        assert_eq!(s, "incomplete", "{e}: {d}");
        assert!(d.contains("1 to be modified without a control"), "{e}: {d}");
        assert!(d.contains("2 whose residual risk"), "{e}: {d}");
        assert_eq!(state(&r, "risk_assessment_process").0, "ready", "{e}");

        // Close the ownerless one, accept the other: both items are ready.
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{}", v2["id"]),
            &f.admin,
            Some(json!({"status": "closed", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/risks/{id}/accept"),
            &f.admin,
            Some(json!({"comment": "patching weekly"})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let r = f.store.readiness(f.org.id, &Actor::cli()).await.unwrap();
        assert_eq!(
            state(&r, "risk_assessment_results").0,
            "ready",
            "{e}: {:?}",
            state(&r, "risk_assessment_results")
        );
        assert_eq!(
            state(&r, "risk_treatment").0,
            "ready",
            "{e}: {:?}",
            state(&r, "risk_treatment")
        );
    }
}

#[tokio::test]
async fn the_pages_add_an_asset_and_a_risk_keep_input_on_errors_and_accept() {
    use crate::support::PASSWORD;
    for f in fixtures().await {
        let e = f.engine;
        let (cookie, csrf) = f.app.login("ann@acme.test", PASSWORD).await;
        let r = f.app.get("/risks", Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::OK, "{e}: {}", r.body);
        assert!(
            r.body.contains("<svg") && r.body.contains("Heat map of inherent and residual risk")
        );

        let r = f
            .app
            .post(
                "/inventory",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("name", "Laptops"),
                    ("type", "hardware"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{e}: {}", r.body);

        // A score off the scale: 422, and what was typed is still there.
        let fields = |l: &'static str| {
            vec![
                ("title", "Stolen laptop with customer data"),
                ("assets", "laptops"),
                ("likelihood", l),
                ("impact", "4"),
                ("treatment", "modify"),
                ("controls", "8.7, 8.24"),
                ("residual_likelihood", "1"),
                ("residual_impact", "2"),
            ]
        };
        let mut form = vec![("csrf_token", csrf.as_str())];
        form.extend(fields("9"));
        let r = f.app.post("/risks", Some(&cookie), &form, &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(
            r.body
                .contains("likelihood: 9 is outside the scale: use 1 to 5"),
            "{e}"
        );
        assert!(
            r.body
                .contains("value=\"Stolen laptop with customer data\""),
            "{e}: input kept"
        );
        assert!(r.body.contains("value=\"8.7, 8.24\""), "{e}");

        let mut form = vec![("csrf_token", csrf.as_str())];
        form.extend(fields("3"));
        let r = f.app.post("/risks", Some(&cookie), &form, &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{e}: {}", r.body);
        let loc = r.header("location").unwrap();
        let id: i64 = loc.trim_start_matches("/risks/").parse().unwrap();
        let risk = f.store.risk(f.org.id, id).await.unwrap();
        assert_eq!(risk.annex_a_controls, ["8.7", "8.24"]);
        assert_eq!(
            risk.asset_ids.len(),
            1,
            "{e}: asset named case-insensitively"
        );

        // Filters stay in the URL of the next page.
        for i in 0..51 {
            f.store
                .create_risk(
                    f.org.id,
                    &RiskInput {
                        title: Some(format!("Laptop risk {i}")),
                        likelihood: Some(2),
                        impact: Some(2),
                        treatment: Some("retain".into()),
                        ..RiskInput::default()
                    },
                    &Actor::cli(),
                )
                .await
                .unwrap();
        }
        let r = f
            .app
            .get("/risks?q=laptop&treatment=retain&sort=level", Some(&cookie))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            !r.body.contains("Stolen laptop"),
            "{e}: filtered by treatment"
        );
        let at = r
            .body
            .find("rel=\"next\"")
            .map(|i| r.body[i.saturating_sub(120)..i].to_owned());
        assert!(
            r.body
                .contains("href=\"/risks?q=laptop&#38;treatment=retain&#38;sort=level&#38;after="),
            "{e}: next page keeps the filters: {at:?}"
        );

        // A stale save: 409 and the text kept.
        let r = f
            .app
            .post(
                &format!("/risks/{id}"),
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("version", "7"),
                    ("title", "My retitled laptop risk"),
                    ("likelihood", "3"),
                    ("impact", "4"),
                    ("treatment", "modify"),
                    ("status", "treating"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{e}");
        assert!(r.body.contains("value=\"My retitled laptop risk\""), "{e}");

        let r = f
            .app
            .post(
                &format!("/risks/{id}/accept"),
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("comment", "encrypted disks"),
                    ("version", "1"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{e}: {}", r.body);
        let r = f.app.get(&format!("/risks/{id}"), Some(&cookie)).await;
        assert!(r.body.contains("Accepted by ann@acme.test"), "{e}");

        // Deleting the linked asset from its page is refused.
        let asset = risk.asset_ids[0];
        let r = f
            .app
            .post(
                &format!("/inventory/{asset}/delete"),
                Some(&cookie),
                &[("csrf_token", &csrf)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{e}");
        assert!(r.body.contains("linked to 1 risk"), "{e}");
        let r = f.app.get("/inventory", Some(&cookie)).await;
        assert!(r.body.contains("Laptops"), "{e}");
    }
}

#[tokio::test]
async fn a_new_methodology_shows_what_moves_and_rescores_only_when_applied() {
    for f in fixtures().await {
        let e = f.engine;
        let (_, a) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("Moves up", &[], 2, 5, 2, 3)),
        )
        .await;
        let (_, b) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("Stays", &[], 1, 1, 1, 1)),
        )
        .await;
        let id = a["id"].as_i64().unwrap();
        let (s, v) = call(
            &f.app,
            "POST",
            &format!("/api/v1/risks/{id}/accept"),
            &f.admin,
            Some(json!({"comment": "fine at medium"})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let (_, cur) = call(&f.app, "GET", "/api/v1/risk-methodology", &f.admin, None).await;
        assert_eq!(cur["version"], 0, "{e}: {cur}");
        let mut m = cur["methodology"].clone();
        // Stricter: every cell of 6 and more is Critical.
        for (l, row) in m["matrix"].as_array_mut().unwrap().iter_mut().enumerate() {
            for (i, c) in row.as_array_mut().unwrap().iter_mut().enumerate() {
                if (l + 1) * (i + 1) >= 6 {
                    *c = json!(3);
                }
            }
        }
        let (s, v) = call(
            &f.app,
            "PUT",
            "/api/v1/risk-methodology",
            &f.admin,
            Some(json!({"methodology": m, "version": 0})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["applied"], false);
        assert_eq!(v["moves"].as_array().unwrap().len(), 1, "{e}: {v}");
        assert_eq!(v["moves"][0]["id"], id);
        assert_eq!(v["moves"][0]["inherent_to"], "Critical");
        let (_, still) = call(
            &f.app,
            "GET",
            &format!("/api/v1/risks/{id}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(still["level"], "High", "{e}: a preview changes nothing");

        let owner = token(&f.store, &f.org, "rob@acme.test", Role::RiskOwner).await;
        let (s, _) = call(
            &f.app,
            "PUT",
            "/api/v1/risk-methodology",
            &owner,
            Some(json!({"methodology": m, "version": 0, "apply": true})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
        let (s, v) = call(
            &f.app,
            "PUT",
            "/api/v1/risk-methodology",
            &f.admin,
            Some(json!({"methodology": m, "version": 0, "apply": true})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["version"], 1);
        let (_, now) = call(
            &f.app,
            "GET",
            &format!("/api/v1/risks/{id}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(now["level"], "Critical", "{e}: {now}");
        assert_eq!(now["residual_level"], "Critical", "{e}: 2 x 3 = 6");
        assert_eq!(
            now["status"], "assessed",
            "{e}: the acceptance lapsed with its level"
        );
        assert_eq!(now["version"], 3, "{e}: created, accepted, re-scored");
        let (_, same) = call(
            &f.app,
            "GET",
            &format!("/api/v1/risks/{}", b["id"]),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(same["version"], 1, "{e}: unmoved risks are untouched");
        // Stale, and a scale that would strand scores.
        let (s, _) = call(
            &f.app,
            "PUT",
            "/api/v1/risk-methodology",
            &f.admin,
            Some(json!({"methodology": m, "version": 0, "apply": true})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        let mut small = m.clone();
        small["impact"].as_array_mut().unwrap().truncate(3);
        for row in small["matrix"].as_array_mut().unwrap() {
            row.as_array_mut().unwrap().truncate(3);
        }
        let (s, v) = call(
            &f.app,
            "PUT",
            "/api/v1/risk-methodology",
            &f.admin,
            Some(json!({"methodology": small, "version": 1, "apply": true})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("RISK-{id}")),
            "{v}"
        );
        let entries = audit_of(&f.store, f.org.id, "risk_methodology", 10).await;
        assert_eq!(entries.len(), 1, "{e}: one audited change");
        assert!(
            entries[0]
                .after_json
                .as_deref()
                .unwrap()
                .contains("\"risks_moved\":1")
        );
    }
}

#[tokio::test]
async fn a_threat_from_the_library_suggests_its_controls() {
    for f in fixtures().await {
        let e = f.engine;
        let (s, lib) = call(&f.app, "GET", "/api/v1/risk-library", &f.admin, None).await;
        assert_eq!(s, StatusCode::OK, "{e}");
        assert!(lib["threats"].as_array().unwrap().len() >= 40);
        assert!(lib["vulnerabilities"].as_array().unwrap().len() >= 40);
        let mut body = risk_body("Encrypted by criminals", &[], 3, 5, 2, 3);
        body["threat"] = json!("Ransomware");
        body["vulnerability"] = json!("Untested backups");
        let (s, v) = call(&f.app, "POST", "/api/v1/risks", &f.admin, Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
        assert_eq!(
            v["suggested_controls"],
            json!(["8.13", "8.8", "5.30"]),
            "{e}: 8.7 is linked already, so not suggested"
        );
    }
}

#[tokio::test]
async fn treatment_actions_are_planned_versioned_and_overdue_ones_listed() {
    for f in fixtures().await {
        let e = f.engine;
        let (_, r) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(risk_body("Old firewall", &[], 4, 4, 2, 2)),
        )
        .await;
        let id = r["id"].as_i64().unwrap();
        let (s, late) = call(
            &f.app,
            "POST",
            &format!("/api/v1/risks/{id}/actions"),
            &f.admin,
            Some(json!({"title": "Replace the firewall", "owner": "ann@acme.test", "due_date": "2020-01-31", "cost": 12000})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {late}");
        let (s, _) = call(
            &f.app,
            "POST",
            &format!("/api/v1/risks/{id}/actions"),
            &f.admin,
            Some(json!({"title": "Review rules", "due_date": "2999-01-01"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        for bad in [
            json!({"title": "x", "due_date": "31/01/2020"}),
            json!({"title": "x", "cost": -5}),
            json!({"title": "x", "owner": "olga@other.test"}),
            json!({"due_date": "2020-01-01"}),
        ] {
            let (s, v) = call(
                &f.app,
                "POST",
                &format!("/api/v1/risks/{id}/actions"),
                &f.admin,
                Some(bad.clone()),
            )
            .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {bad}: {v}");
        }
        let (_, overdue) = call(
            &f.app,
            "GET",
            "/api/v1/risk-actions/overdue",
            &f.admin,
            None,
        )
        .await;
        let titles: Vec<&str> = overdue
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["Replace the firewall"], "{e}");
        // The plan page, its filter, its downloads and the dashboard agree.
        let (cookie, csrf) = f.app.login("ann@acme.test", crate::support::PASSWORD).await;
        let page = f.app.get("/risks/treatment?overdue=1", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{e}: {}", page.body);
        assert!(
            page.body.contains("Replace the firewall")
                && page.body.contains("overdue</span>")
                && !page.body.contains("Review rules"),
            "{e}: {}",
            page.body
        );
        let all = f.app.get("/risks/treatment", Some(&cookie)).await;
        assert!(
            all.body.contains("Review rules") && all.body.contains("Treatment progress"),
            "{e}"
        );
        let csv = f
            .app
            .get("/risks/treatment/export?format=csv", Some(&cookie))
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{e}");
        assert!(
            csv.body.starts_with("risk,title,risk_owner,treatment"),
            "{e}: {}",
            csv.body
        );
        let row = csv
            .body
            .lines()
            .find(|l| l.contains("Replace the firewall"))
            .unwrap();
        assert!(
            row.contains(&format!("RISK-{id}")) && row.contains("12000") && row.ends_with("yes"),
            "{e}: {row}"
        );
        for (format, magic) in [("pdf", "%PDF"), ("xlsx", "PK")] {
            let r = f
                .app
                .get(
                    &format!("/risks/treatment/export?format={format}"),
                    Some(&cookie),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{e} {format}");
            assert!(r.body.starts_with(magic), "{e} {format}");
            let r = f
                .app
                .get(&format!("/risks/export?format={format}"), Some(&cookie))
                .await;
            assert!(r.body.starts_with(magic), "{e} register {format}");
        }
        let bad = f
            .app
            .get("/risks/treatment/export?format=doc", Some(&cookie))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let home = f.app.get("/", Some(&cookie)).await;
        assert!(
            home.body.contains("overdue treatment actions")
                && home.body.contains("Heat map of open risks"),
            "{e}: {}",
            home.body
        );
        // Snapshots: an empty title is refused, a good one is listed.
        let r = f
            .app
            .post(
                "/risks/snapshots",
                Some(&cookie),
                &[("csrf_token", csrf.as_str()), ("title", " ")],
                &[],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{e}: {}",
            r.body
        );
        for t in ["Q1 assessment", "Q2 assessment"] {
            let r = f
                .app
                .post(
                    "/risks/snapshots",
                    Some(&cookie),
                    &[("csrf_token", csrf.as_str()), ("title", t)],
                    &[],
                )
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{e}: {}", r.body);
        }
        let snaps = f.app.get("/risks/snapshots", Some(&cookie)).await;
        assert!(
            snaps.body.contains("Q2 assessment")
                && snaps.body.contains("What changed")
                && snaps.body.contains("Risks by level over time"),
            "{e}: {}",
            snaps.body
        );
        let aid = late["id"].as_i64().unwrap();
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risk-actions/{aid}"),
            &f.admin,
            Some(json!({"status": "done", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let (s, _) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risk-actions/{aid}"),
            &f.admin,
            Some(json!({"status": "open", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        let (_, overdue) = call(
            &f.app,
            "GET",
            "/api/v1/risk-actions/overdue",
            &f.admin,
            None,
        )
        .await;
        assert_eq!(overdue, json!([]), "{e}: done is not overdue");
        let (_, list) = call(
            &f.app,
            "GET",
            &format!("/api/v1/risks/{id}/actions"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(list.as_array().unwrap().len(), 2, "{e}");
        let due = f
            .store
            .risk_due_items(f.org.id, "2999-12-31")
            .await
            .unwrap();
        assert_eq!(due.len(), 1, "{e}: {due:?}");
        assert_eq!(due[0].kind, "risk_action");
        // Another organisation's risk takes no actions from us.
        let other = org_with(&f.store, "Other Ltd", "olga@other.test", Role::Admin).await;
        let theirs = f
            .store
            .create_risk(
                other.id,
                &RiskInput {
                    title: Some("Theirs".into()),
                    likelihood: Some(1),
                    impact: Some(1),
                    treatment: Some("retain".into()),
                    ..RiskInput::default()
                },
                &Actor::cli(),
            )
            .await
            .unwrap();
        let (s, _) = call(
            &f.app,
            "POST",
            &format!("/api/v1/risks/{}/actions", theirs.id),
            &f.admin,
            Some(json!({"title": "sneaky"})),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
    }
}

#[tokio::test]
async fn snapshots_freeze_the_register_and_compare() {
    for f in fixtures().await {
        let e = f.engine;
        let mk = |t: &'static str, l: i64| risk_body(t, &[], l, 4, 1, 1);
        let (_, a) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(mk("Changes", 2)),
        )
        .await;
        let (_, b) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(mk("Closes", 1)),
        )
        .await;
        let (s, first) = call(
            &f.app,
            "POST",
            "/api/v1/risk-snapshots",
            &f.admin,
            Some(json!({"title": "Q3"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {first}");
        assert_eq!(first["risk_count"], 2);
        let (_, _) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{}", a["id"]),
            &f.admin,
            Some(json!({"likelihood": 5, "version": 1})),
        )
        .await;
        let (_, _) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{}", b["id"]),
            &f.admin,
            Some(json!({"status": "closed", "version": 1})),
        )
        .await;
        let (_, c) = call(
            &f.app,
            "POST",
            "/api/v1/risks",
            &f.admin,
            Some(mk("New one", 1)),
        )
        .await;
        let (_, second) = call(
            &f.app,
            "POST",
            "/api/v1/risk-snapshots",
            &f.admin,
            Some(json!({"title": "Q4"})),
        )
        .await;
        let (s, cmp) = call(
            &f.app,
            "GET",
            &format!(
                "/api/v1/risk-snapshots/compare?from={}&to={}",
                first["id"], second["id"]
            ),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {cmp}");
        assert_eq!(cmp["new"][0]["id"], c["id"], "{e}: {cmp}");
        assert_eq!(cmp["closed"][0]["id"], b["id"], "{e}: {cmp}");
        assert_eq!(cmp["changed"][0][0]["level"], "Medium", "{e}: {cmp}");
        assert_eq!(cmp["changed"][0][1]["level"], "Critical", "{e}: {cmp}");
        let (s, _) = call(
            &f.app,
            "GET",
            "/api/v1/risk-snapshots/compare?from=999999&to=1",
            &f.admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
        let (_, list) = call(&f.app, "GET", "/api/v1/risk-snapshots", &f.admin, None).await;
        assert_eq!(list.as_array().unwrap().len(), 2, "{e}");
    }
}

/// The API fuzz found that extreme paging values closed the connection
/// (a panic on overflow): they must answer like any other page.
#[tokio::test]
async fn extreme_paging_values_answer_without_a_panic() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@acme.test", Role::Admin).await;
        let t = token(&store, &org, "mia@acme.test", Role::IsmsManager).await;
        let app = App::new(store.clone());
        for path in [
            "/api/v1/assets?limit=-9223372036854775808&offset=9223372036854775807",
            "/api/v1/assets?limit=9223372036854775807&offset=-9223372036854775808",
            "/api/v1/risks?limit=-9223372036854775808",
            "/api/v1/risks?limit=9223372036854775807",
        ] {
            let (s, v) = call(&app, "GET", path, &t, None).await;
            assert!(
                s == StatusCode::OK || s.is_client_error(),
                "{engine} {path}: {s} {v}"
            );
        }
    }
}

fn upload_body(
    csrf: &str,
    fields: &[(&str, &str)],
    name: &str,
    content: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "----isms-risk-import";
    let mut body = Vec::new();
    for (k, v) in [("csrf_token", csrf)].iter().chain(fields) {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_import_page_takes_csv_and_xlsx_all_or_nothing() {
    for f in fixtures().await {
        let e = f.engine;
        let (cookie, csrf) = f.app.login("ann@acme.test", crate::support::PASSWORD).await;
        let form = f.app.get("/risks/import", Some(&cookie)).await;
        assert_eq!(form.status, StatusCode::OK, "{e}");
        assert!(
            form.body.contains("annex_a_controls"),
            "{e}: the columns are documented"
        );
        let upload =
            |fields: Vec<(&'static str, &'static str)>, name: &'static str, content: Vec<u8>| {
                let (ct, body) = upload_body(&csrf, &fields, name, &content);
                let req = axum::http::Request::post("/risks/import")
                    .header("content-type", ct)
                    .header("cookie", cookie.as_str())
                    .body(axum::body::Body::from(body))
                    .unwrap();
                f.app.send(req)
            };
        let count = || async {
            f.store
                .risks(
                    f.org.id,
                    &isms_store::RiskQuery {
                        limit: 100,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .items
                .len()
        };
        let header = "title,description,assets,likelihood,impact,treatment,annex_a_controls,residual_likelihood,residual_impact,owner\n";
        let bad = format!(
            "{header}Phishing,,Mail,3,4,modify,8.7,2,2,\nWrong one,,Mail,9,4,modify,8.7,2,2,\nLost laptop,,Laptops,2,3,retain,,,,\nAlso wrong,,,1,1,ignore,,,,\n"
        );
        let r = upload(vec![("kind", "risks")], "bad.csv", bad.into_bytes()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{e}: {}",
            r.body
        );
        assert!(
            r.body.contains("nothing was stored")
                && r.body.contains("<td>3</td><td>likelihood</td>")
                && r.body.contains("<td>5</td><td>treatment</td>"),
            "{e}: every bad row is named: {}",
            r.body
        );
        assert_eq!(count().await, 0, "{e}: nothing stored");
        let good = format!(
            "{header}Phishing,,Mail,3,4,modify,8.7,2,2,\nLost laptop,,Laptops,2,3,retain,,,,\n"
        );
        let r = upload(
            vec![("kind", "risks"), ("dry_run", "yes")],
            "good.csv",
            good.clone().into_bytes(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{e}: {}", r.body);
        assert!(r.body.contains("would be imported"), "{e}: {}", r.body);
        assert_eq!(count().await, 0, "{e}: a dry run stores nothing");
        let r = upload(vec![("kind", "risks")], "good.csv", good.into_bytes()).await;
        assert!(r.body.contains("Imported 2 risk(s)"), "{e}: {}", r.body);
        assert_eq!(count().await, 2, "{e}");
        // The register exported as XLSX imports again.
        let (xlsx, _) = isms_web::risk::export::risk_export(
            &f.store,
            &f.org,
            isms_web::isms_reports::Format::Xlsx,
        )
        .await
        .unwrap();
        let r = upload(vec![("kind", "risks")], "register.xlsx", xlsx).await;
        assert_eq!(r.status, StatusCode::OK, "{e}: {}", r.body);
        assert!(r.body.contains("Imported 2 risk(s)"), "{e}: {}", r.body);
        assert_eq!(count().await, 4, "{e}");
        // Assets from CSV; bytes that are no spreadsheet are refused.
        let r = upload(
            vec![("kind", "assets")],
            "assets.csv",
            b"name,type\nPayroll,service\n".to_vec(),
        )
        .await;
        assert!(r.body.contains("Imported 1 asset(s)"), "{e}: {}", r.body);
        let r = upload(
            vec![("kind", "risks")],
            "x.bin",
            b"\x00\x01\x02binary".to_vec(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(r.body.contains("neither CSV"), "{e}: {}", r.body);
        let r = upload(vec![("kind", "risks")], "empty.csv", Vec::new()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(count().await, 4, "{e}");
    }
}

#[tokio::test]
async fn a_register_risk_carries_fair_inputs_and_the_portfolio_adds_them() {
    for f in fixtures().await {
        let e = f.engine;
        let mut ids = Vec::new();
        for t in ["Ransomware on the ERP", "Supplier breach"] {
            let (_, r) = call(
                &f.app,
                "POST",
                "/api/v1/risks",
                &f.admin,
                Some(risk_body(t, &[], 4, 4, 2, 2)),
            )
            .await;
            ids.push(r["id"].as_i64().unwrap());
        }
        let fair = json!({"lef": {"pert": {"low": 0.5, "mode": 1, "high": 4}}, "lm": {"pert": {"low": 10_000, "mode": 50_000, "high": 400_000}}});
        let path = format!("/api/v1/risks/{}/quantitative", ids[0]);
        let (s, q) = call(&f.app, "PUT", &path, &f.admin, Some(fair.clone())).await;
        assert_eq!(s, StatusCode::OK, "{e}: {q}");
        let mean = q["ale_mean"].as_f64().unwrap();
        // LEF mean about 1.4 a year, LM mean about 102,000: about 140,000 a year.
        assert!((100_000.0..200_000.0).contains(&mean), "{e}: {q}");
        assert!(q["ale_p90"].as_f64().unwrap() > mean, "{e}: {q}");
        let (_, again) = call(&f.app, "PUT", &path, &f.admin, Some(fair.clone())).await;
        assert_eq!(
            again["ale_mean"], q["ale_mean"],
            "{e}: same inputs, same figures"
        );
        let (s, got) = call(&f.app, "GET", &path, &f.admin, None).await;
        assert_eq!(s, StatusCode::OK, "{e}");
        assert_eq!(got["input"], fair, "{e}");
        // Bad input: a range upside down, a missing part, a foreign risk.
        let (s, v) = call(
            &f.app,
            "PUT",
            &path,
            &f.admin,
            Some(json!({"lef": {"pert": {"low": 5, "mode": 1, "high": 0.5}}, "lm": 1000})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
        let (s, _) = call(
            &f.app,
            "PUT",
            &path,
            &f.admin,
            Some(json!({"lef": {"constant": 1}})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (_, still) = call(&f.app, "GET", &path, &f.admin, None).await;
        assert_eq!(
            still["ale_mean"], q["ale_mean"],
            "{e}: a refused change keeps the figures"
        );
        let (s, _) = call(
            &f.app,
            "PUT",
            "/api/v1/risks/999999/quantitative",
            &f.admin,
            Some(fair.clone()),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
        // The second risk through the page form; the portfolio adds both.
        let (cookie, csrf) = f.app.login("ann@acme.test", crate::support::PASSWORD).await;
        let form = |lef_high: &'static str| {
            vec![
                ("csrf_token", csrf.clone()),
                ("lef_low", "0.1".to_owned()),
                ("lef_mode", "0.5".to_owned()),
                ("lef_high", lef_high.to_owned()),
                ("lm_low", "5000".to_owned()),
                ("lm_mode", "20000".to_owned()),
                ("lm_high", "100000".to_owned()),
            ]
        };
        let fields = form("many");
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = f
            .app
            .post(
                &format!("/risks/{}/quantitative", ids[1]),
                Some(&cookie),
                &refs,
                &[],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{e}: {}",
            r.body
        );
        assert!(
            r.body.contains("highest frequency: enter a number")
                && r.body.contains("value=\"many\""),
            "{e}: {}",
            r.body
        );
        let fields = form("2");
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = f
            .app
            .post(
                &format!("/risks/{}/quantitative", ids[1]),
                Some(&cookie),
                &refs,
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{e}: {}", r.body);
        let page = f
            .app
            .get(&format!("/risks/{}", ids[1]), Some(&cookie))
            .await;
        assert!(page.body.contains("Expected loss per year"), "{e}");
        let (_, second) = call(
            &f.app,
            "GET",
            &format!("/api/v1/risks/{}/quantitative", ids[1]),
            &f.admin,
            None,
        )
        .await;
        let (s, p) = call(&f.app, "GET", "/api/v1/risk-portfolio", &f.admin, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {p}");
        assert_eq!(p["risks"].as_array().unwrap().len(), 2, "{e}: {p}");
        assert_eq!(p["risks"][0]["id"], ids[0], "{e}: highest loss first");
        let sum = mean + second["ale_mean"].as_f64().unwrap();
        let total = p["portfolio"]["mean"].as_f64().unwrap();
        assert!(
            (total - sum).abs() / sum < 0.1,
            "{e}: the portfolio adds the risks: {total} vs {sum}"
        );
        assert!(!p["portfolio"]["lec"].as_array().unwrap().is_empty(), "{e}");
        let page = f.app.get("/risks/portfolio", Some(&cookie)).await;
        assert!(
            page.body.contains("Loss exceedance curve") && page.body.contains("<svg"),
            "{e}"
        );
        let log = audit_of(&f.store, f.org.id, "risk", 100).await;
        assert!(
            log.iter()
                .any(|x| x.action == "quantify" && x.entity_id == ids[0].to_string()),
            "{e}"
        );
        let (s, _) = call(&f.app, "DELETE", &path, &f.admin, None).await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
        let (s, _) = call(&f.app, "GET", &path, &f.admin, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
    }
}

async fn titles_for(f: &Fixture, q: &str) -> Vec<String> {
    let (s, v) = call(
        &f.app,
        "GET",
        &format!("/api/v1/risks?q={q}&sort=level&limit=50"),
        &f.admin,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}: {v}", f.engine);
    let mut t: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn the_text_filter_reads_the_full_text_index_and_follows_changes() {
    for f in fixtures().await {
        let e = f.engine;
        let mut ids = Vec::new();
        for t in [
            "Ransomware on the payroll server",
            "Phishing of finance staff",
            "Flood in the basement archive",
        ] {
            let (s, v) = call(
                &f.app,
                "POST",
                "/api/v1/risks",
                &f.admin,
                Some(risk_body(t, &[], 3, 3, 2, 2)),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
            ids.push((v["id"].as_i64().unwrap(), v["version"].as_i64().unwrap()));
        }
        // Whole words, prefixes, any case, every word required.
        assert_eq!(
            titles_for(&f, "ransomware").await,
            ["Ransomware on the payroll server"],
            "{e}"
        );
        assert_eq!(
            titles_for(&f, "PAYR%20ransom").await,
            ["Ransomware on the payroll server"],
            "{e}"
        );
        assert!(titles_for(&f, "ransomware%20flood").await.is_empty(), "{e}");
        assert!(titles_for(&f, "earthquake").await.is_empty(), "{e}");
        // Not part of a word's middle, and query syntax is only text.
        assert!(titles_for(&f, "somware").await.is_empty(), "{e}");
        assert_eq!(
            titles_for(&f, "%22phishing%22%20-%20*%20(").await,
            ["Phishing of finance staff"],
            "{e}: quotes and operators are ignored"
        );
        // An edit moves the risk in the index.
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{}", ids[0].0),
            &f.admin,
            Some(json!({"title": "Earthquake near the payroll server", "version": ids[0].1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert!(titles_for(&f, "ransomware").await.is_empty(), "{e}");
        assert_eq!(
            titles_for(&f, "earthquake").await,
            ["Earthquake near the payroll server"],
            "{e}"
        );
        // A deleted risk leaves the index.
        let (s, v) = call(
            &f.app,
            "DELETE",
            &format!("/api/v1/risks/{}", ids[1].0),
            &f.admin,
            None,
        )
        .await;
        assert!(s.is_success(), "{e}: {s} {v}");
        assert!(titles_for(&f, "phishing").await.is_empty(), "{e}");
        // The register page filters the same way.
        let (cookie, _) = f.app.login("ann@acme.test", crate::support::PASSWORD).await;
        let page = f.app.get("/risks?q=flood&sort=level", Some(&cookie)).await;
        assert!(
            page.body.contains("Flood in the basement archive")
                && !page.body.contains("Earthquake near the payroll server"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn a_risk_lists_the_applied_controls_that_treat_it_and_the_control_its_risks() {
    for f in fixtures().await {
        let e = f.engine;
        let (s, c) = call(
            &f.app,
            "POST",
            "/api/v1/controls",
            &f.admin,
            Some(json!({"name": "Offline backups", "status": "implemented"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {c}");
        let control = c["id"].as_i64().unwrap();
        // Another organisation's control is refused like an unknown one.
        let other = org_with(&f.store, "Other Ltd", "olga@other.test", Role::Admin).await;
        let foreign = f
            .store
            .create_control(
                other.id,
                &isms_store::ControlInput {
                    name: Some("Their control".into()),
                    ..Default::default()
                },
                &Actor::cli(),
            )
            .await
            .unwrap()
            .id;
        for bad in [foreign, 999_999] {
            let mut body = risk_body("Ransomware", &[], 4, 4, 2, 2);
            body["applied_controls"] = json!([bad]);
            let (s, v) = call(&f.app, "POST", "/api/v1/risks", &f.admin, Some(body)).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}: {v}");
            assert!(v.to_string().contains("applied_controls"), "{e}: {v}");
        }
        assert!(
            f.store
                .risks_for_applied_control(f.org.id, control)
                .await
                .unwrap()
                .is_empty(),
            "{e}: nothing stored"
        );
        let mut body = risk_body("Ransomware on the file server", &[], 4, 4, 2, 2);
        body["applied_controls"] = json!([control]);
        let (s, r) = call(&f.app, "POST", "/api/v1/risks", &f.admin, Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{e}: {r}");
        assert_eq!(r["applied_controls"], json!([control]), "{e}");
        let id = r["id"].as_i64().unwrap();
        let (_, got) = call(
            &f.app,
            "GET",
            &format!("/api/v1/risks/{id}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(got["applied_controls"], json!([control]), "{e}");
        // The control's API read names the risk it treats.
        let (s, c) = call(
            &f.app,
            "GET",
            &format!("/api/v1/controls/{control}"),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {c}");
        assert_eq!(c["risks"][0]["id"].as_i64(), Some(id), "{e}: {c}");
        assert_eq!(
            c["risks"][0]["title"], "Ransomware on the file server",
            "{e}"
        );
        assert_eq!(c["risks"].as_array().map(Vec::len), Some(1), "{e}: {c}");
        // Both pages show the link.
        let (cookie, _) = f.app.login("ann@acme.test", crate::support::PASSWORD).await;
        let page = f.app.get(&format!("/risks/{id}"), Some(&cookie)).await;
        assert!(
            page.body.contains(&format!("href=\"/controls/{control}\""))
                && page.body.contains("Offline backups")
                && page.body.contains("implemented"),
            "{e}: {}",
            page.body
        );
        let page = f
            .app
            .get(&format!("/controls/{control}"), Some(&cookie))
            .await;
        assert!(
            page.body.contains(&format!("href=\"/risks/{id}\""))
                && page.body.contains("Ransomware on the file server"),
            "{e}: {}",
            page.body
        );
        // Unlinking is a versioned, audited change; a stale version is 409.
        let v1 = got["version"].as_i64().unwrap();
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{id}"),
            &f.admin,
            Some(json!({"applied_controls": [], "version": v1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        assert_eq!(v["applied_controls"], json!([]), "{e}");
        assert_eq!(v["version"].as_i64(), Some(v1 + 1), "{e}");
        let (s, _) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{id}"),
            &f.admin,
            Some(json!({"applied_controls": [control], "version": v1})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        let entries = audit_of(&f.store, f.org.id, "risk", 100).await;
        let u = entries
            .iter()
            .find(|x| x.action == "update" && x.entity_id == id.to_string())
            .expect("the unlinking is audited");
        let before: Value = serde_json::from_str(u.before_json.as_deref().unwrap()).unwrap();
        assert_eq!(before["applied_controls"], json!([control]), "{e}");
        assert!(
            f.store
                .risks_for_applied_control(f.org.id, control)
                .await
                .unwrap()
                .is_empty(),
            "{e}"
        );
    }
}

/// The kept heat map counts, after checking they equal a recount.
async fn kept_heat(f: &Fixture, what: &str) -> isms_store::HeatCells {
    let kept = f.store.risk_heat(f.org.id).await.unwrap();
    let counted = f.store.risk_heat_recounted(f.org.id).await.unwrap();
    assert_eq!(kept, counted, "{}: {what}", f.engine);
    kept
}

/// The heat map reads counts that triggers keep (migration 0022); after
/// every kind of change they equal a count over the register itself.
#[tokio::test]
async fn the_kept_heat_map_counts_follow_every_change() {
    for f in fixtures().await {
        let e = f.engine;
        let mut ids = Vec::new();
        for (l, i, rl, ri) in [(5, 5, 2, 2), (5, 5, 1, 1), (3, 4, 3, 4)] {
            let (s, v) = call(
                &f.app,
                "POST",
                "/api/v1/risks",
                &f.admin,
                Some(risk_body("Heat", &[], l, i, rl, ri)),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{e}: {v}");
            ids.push(v["id"].as_i64().unwrap());
        }
        let kept = kept_heat(&f, "after three creates").await;
        assert_eq!(kept.0, vec![(3, 4, 1), (5, 5, 2)], "{e}");
        assert_eq!(kept.1, vec![(1, 1, 1), (2, 2, 1), (3, 4, 1)], "{e}");
        // The same counts through the API, cell by cell, with the SVG.
        let (s, map) = call(&f.app, "GET", "/api/v1/risks/heat-map", &f.admin, None).await;
        assert_eq!(s, StatusCode::OK, "{e}: {map}");
        assert_eq!(map["inherent"][4][4], 2, "{e}: {map}");
        assert_eq!(map["inherent"][2][3], 1, "{e}: {map}");
        assert_eq!(map["residual"][0][0], 1, "{e}: {map}");
        let total: i64 = map["inherent"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap().iter().map(|n| n.as_i64().unwrap()))
            .sum();
        assert_eq!(total, 3, "{e}: {map}");
        assert_eq!(map["likelihood"].as_array().map(Vec::len), Some(5), "{e}");
        assert!(map["svg"].as_str().unwrap().starts_with("<svg"), "{e}");

        // A re-assessment moves a risk between cells; a title change none.
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{}", ids[0]),
            &f.admin,
            Some(json!({"likelihood": 2, "residual_impact": 1, "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{}", ids[0]),
            &f.admin,
            Some(json!({"title": "Heat, renamed", "version": 2})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let kept = kept_heat(&f, "after a re-assessment").await;
        assert_eq!(kept.0, vec![(2, 5, 1), (3, 4, 1), (5, 5, 1)], "{e}");

        // A closed risk leaves the map; reopened, it comes back.
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{}", ids[1]),
            &f.admin,
            Some(json!({"status": "closed", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let kept = kept_heat(&f, "after closing one").await;
        assert_eq!(kept.0, vec![(2, 5, 1), (3, 4, 1)], "{e}");
        let (s, v) = call(
            &f.app,
            "PATCH",
            &format!("/api/v1/risks/{}", ids[1]),
            &f.admin,
            Some(json!({"status": "assessed", "version": 2})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}: {v}");
        let kept = kept_heat(&f, "after reopening it").await;
        assert_eq!(kept.0.len(), 3, "{e}");

        // A deleted risk leaves it; an import adds its rows; a refused
        // import (a bad row) changes nothing.
        let (s, _) = call(
            &f.app,
            "DELETE",
            &format!("/api/v1/risks/{}", ids[2]),
            &f.admin,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
        let row = |n: usize, l: &str| isms_store::ImportRiskRow {
            row: n,
            title: format!("Imported {n}"),
            likelihood: l.into(),
            impact: "4".into(),
            treatment: "retain".into(),
            residual_likelihood: "1".into(),
            residual_impact: "1".into(),
            ..isms_store::ImportRiskRow::default()
        };
        f.store
            .import_risks(f.org.id, &[row(2, "4"), row(3, "4")], false, &Actor::cli())
            .await
            .unwrap();
        let before = f.store.risk_heat(f.org.id).await.unwrap();
        let refused = f
            .store
            .import_risks(f.org.id, &[row(2, "4"), row(3, "9")], false, &Actor::cli())
            .await
            .unwrap();
        assert_eq!(refused.errors.len(), 1, "{e}: {:?}", refused.errors);
        let kept = kept_heat(&f, "after imports and a delete").await;
        assert_eq!(kept, before, "{e}: the refused import counted nothing");
        assert!(kept.0.contains(&(4, 4, 2)), "{e}: {kept:?}");
    }
}
