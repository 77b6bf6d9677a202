//! Every versioned record under concurrent writers, on both engines: N
//! writers send the same version at once, exactly one wins, the others get a
//! conflict, the stored value is the winner's and the audit log holds exactly
//! one change. Sequential tests cannot see a lost update on PostgreSQL: these
//! run the writers on several threads against real connections.

use axum::http::StatusCode;
use isms_domain::Role;
use isms_store::{
    Actor, AuditFilter, ContextInput, GapPatch, ScopeInput, SoaPatch, SoaUpdate, Store, StoreError,
};
use serde_json::json;

use crate::soa::{call, token};
use crate::support::{App, org_with, stores};

const WRITERS: usize = 8;

/// Runs `WRITERS` copies of `write(i)` at once; returns how many succeeded.
async fn race<F, Fut>(write: F) -> Vec<Result<(), String>>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let fut = write(i);
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            fut.await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("writer panicked"));
    }
    out
}

fn one_winner(engine: &str, what: &str, results: &[Result<(), String>]) -> usize {
    let winners: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_ok())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(winners.len(), 1, "{engine} {what}: {results:?}");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            r.starts_with("conflict:"),
            "{engine} {what}: a loser must be told of the conflict: {r}"
        );
    }
    winners[0]
}

fn conflict(e: &StoreError) -> String {
    match e {
        StoreError::Conflict(m) => format!("conflict: {m}"),
        other => format!("other: {other}"),
    }
}

/// The audit entries of `entity_type` / `entity_id` with `action`, and the
/// organisation's chain intact.
async fn changes(store: &Store, org_id: i64, entity_type: &str, entity_id: &str) -> usize {
    let entries = store
        .audit_entries(
            org_id,
            &AuditFilter {
                entity_type: Some(entity_type.into()),
                limit: 1000,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    let reports = store.verify_audit_log().await.unwrap();
    let r = reports.iter().find(|r| r.org_id == org_id).unwrap();
    assert!(r.problem.is_none(), "{:?}", r.problem);
    entries
        .iter()
        .filter(|e| e.entity_id == entity_id && e.action == "update")
        .count()
}

fn scope(statement: &str, version: i64) -> ScopeInput {
    ScopeInput {
        statement: statement.into(),
        version: Some(version),
        ..ScopeInput::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_version_writers_of_the_scope_one_wins() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Race", "ann@race.test", Role::Admin).await;
        // The first save (version 0) races too: one creates the scope.
        let results = race(|i| {
            let store = store.clone();
            async move {
                store
                    .save_scope(org.id, &scope(&format!("first {i}"), 0), &Actor::cli())
                    .await
                    .map(|_| ())
                    .map_err(|e| conflict(&e))
            }
        })
        .await;
        let first = one_winner(engine, "first scope", &results);
        let saved = store.scope(org.id).await.unwrap();
        assert_eq!(saved.statement, format!("first {first}"), "{engine}");
        assert_eq!(saved.version, 1, "{engine}");

        let results = race(|i| {
            let store = store.clone();
            async move {
                store
                    .save_scope(org.id, &scope(&format!("second {i}"), 1), &Actor::cli())
                    .await
                    .map(|_| ())
                    .map_err(|e| conflict(&e))
            }
        })
        .await;
        let second = one_winner(engine, "scope", &results);
        let saved = store.scope(org.id).await.unwrap();
        assert_eq!(saved.statement, format!("second {second}"), "{engine}");
        assert_eq!(saved.version, 2, "{engine}");
        assert_eq!(
            changes(&store, org.id, "scope", &org.id.to_string()).await,
            1,
            "{engine}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_version_writers_of_a_context_item_one_wins() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Race", "ann@race.test", Role::Admin).await;
        let item = store
            .create_context_item(
                org.id,
                "issue",
                &ContextInput {
                    title: Some("Supplier lock-in".into()),
                    category: Some("external".into()),
                    ..ContextInput::default()
                },
                &Actor::cli(),
            )
            .await
            .unwrap();
        let results = race(|i| {
            let store = store.clone();
            async move {
                let input = ContextInput {
                    detail: Some(format!("writer {i}")),
                    version: Some(1),
                    ..ContextInput::default()
                };
                store
                    .update_context_item(org.id, item.id, &input, &Actor::cli())
                    .await
                    .map(|_| ())
                    .map_err(|e| conflict(&e))
            }
        })
        .await;
        let w = one_winner(engine, "context item", &results);
        let saved = store.context_item(org.id, item.id).await.unwrap();
        assert_eq!(saved.detail, format!("writer {w}"), "{engine}");
        assert_eq!(saved.version, 2, "{engine}");
        assert_eq!(
            changes(&store, org.id, "context_item", &item.id.to_string()).await,
            1,
            "{engine}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_version_writers_of_a_gap_entry_one_wins() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Race", "ann@race.test", Role::Admin).await;
        let a = store
            .create_gap_assessment(org.id, "Baseline", None, &Actor::cli())
            .await
            .unwrap();
        let results = race(|i| {
            let store = store.clone();
            async move {
                let patch = GapPatch {
                    notes: Some(format!("writer {i}")),
                    version: Some(1),
                    ..GapPatch::default()
                };
                store
                    .update_gap_entry(org.id, a.id, "A.5.1", &patch, &Actor::cli())
                    .await
                    .map(|_| ())
                    .map_err(|e| conflict(&e))
            }
        })
        .await;
        let w = one_winner(engine, "gap entry", &results);
        let entries = store.gap_entries(org.id, a.id).await.unwrap();
        let e = entries.iter().find(|e| e.ref_id == "A.5.1").unwrap();
        assert_eq!(e.notes, format!("writer {w}"), "{engine}");
        assert_eq!(e.version, 2, "{engine}");
        assert_eq!(
            changes(&store, org.id, "gap_entry", &format!("{}/A.5.1", a.id)).await,
            1,
            "{engine}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_version_writers_of_an_soa_entry_one_wins() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Race", "ann@race.test", Role::Admin).await;
        // Read once so that the entries exist before the race.
        store.soa_entries(org.id, &Actor::cli()).await.unwrap();
        let results = race(|i| {
            let store = store.clone();
            async move {
                let patch = SoaPatch {
                    justification: Some("Needed".into()),
                    notes: Some(format!("writer {i}")),
                    version: Some(1),
                    ..SoaPatch::default()
                };
                match store
                    .update_soa_entry(org.id, "5.1", &patch, &Actor::cli())
                    .await
                {
                    Ok(SoaUpdate::Saved(_)) => Ok(()),
                    Ok(SoaUpdate::Stale { .. }) => Err("conflict: stale".into()),
                    Err(e) => Err(conflict(&e)),
                }
            }
        })
        .await;
        let w = one_winner(engine, "SoA entry", &results);
        let e = store.soa_entry(org.id, "5.1", &Actor::cli()).await.unwrap();
        assert_eq!(e.notes, format!("writer {w}"), "{engine}");
        assert_eq!(e.version, 2, "{engine}");
        assert_eq!(
            changes(&store, org.id, "soa_entry", "5.1").await,
            1,
            "{engine}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_version_writers_of_a_fair_scenario_set_one_wins() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Race", "ann@race.test", Role::Admin).await;
        let set = store
            .save_fair_scenario(org.id, None, None, "Ransomware", "v1", &Actor::cli())
            .await
            .unwrap();
        let results = race(|i| {
            let store = store.clone();
            async move {
                store
                    .save_fair_scenario(
                        org.id,
                        Some(set.id),
                        Some(1),
                        "Ransomware",
                        &format!("writer {i}"),
                        &Actor::cli(),
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| conflict(&e))
            }
        })
        .await;
        let w = one_winner(engine, "FAIR scenario set", &results);
        let saved = store.fair_scenario(org.id, set.id).await.unwrap().unwrap();
        assert_eq!(saved.input_text, format!("writer {w}"), "{engine}");
        assert_eq!(saved.version, 2, "{engine}");
        assert_eq!(
            changes(&store, org.id, "fair_scenario", &set.id.to_string()).await,
            1,
            "{engine}"
        );
        // An update must say which version it read.
        let e = store
            .save_fair_scenario(org.id, Some(set.id), None, "Ransomware", "x", &Actor::cli())
            .await
            .unwrap_err();
        assert!(
            e.to_string().starts_with("version: required"),
            "{engine}: {e}"
        );
    }
}

/// The acceptance, through the API: eight concurrent same-version
/// writes to the scope and to a gap entry answer exactly one 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_api_writes_answer_exactly_one_200() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Race", "ann@race.test", Role::Admin).await;
        let t = token(&store, &org, "mia@race.test", Role::IsmsManager).await;
        let app = App::new(store.clone());
        let (s, _) = call(
            &app,
            "PUT",
            "/api/v1/scope",
            &t,
            Some(json!({"statement": "start", "version": 0})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{engine}");
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/gap-assessments",
            &t,
            Some(json!({"title": "Race"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");
        let gap = v["id"].as_i64().unwrap();

        for (method, path, body) in [
            (
                "PUT",
                "/api/v1/scope".to_owned(),
                json!({"statement": "S", "version": 1}),
            ),
            (
                "PATCH",
                format!("/api/v1/gap-assessments/{gap}/entries/A.8.8"),
                json!({"notes": "N", "version": 1}),
            ),
        ] {
            let statuses = race(|i| {
                let app = App {
                    router: app.router.clone(),
                };
                let t = t.clone();
                let path = path.clone();
                let mut body = body.clone();
                for (_, v) in body.as_object_mut().unwrap().iter_mut() {
                    if let Some(s) = v.as_str() {
                        *v = json!(format!("{s} {i}"));
                    }
                }
                async move {
                    let (s, v) = call(&app, method, &path, &t, Some(body)).await;
                    match s {
                        StatusCode::OK => Ok(()),
                        StatusCode::CONFLICT => Err(format!("conflict: {v}")),
                        other => Err(format!("{other}: {v}")),
                    }
                }
            })
            .await;
            one_winner(engine, &path, &statuses);
        }
    }
}
