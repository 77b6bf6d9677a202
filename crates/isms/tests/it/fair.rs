//! Quantitative risk in the web app and the API, on every engine.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use isms_domain::Role;
use isms_store::Actor;

use crate::support::{App, PASSWORD, add, org_with, stores};

const SCENARIOS: &str = "iterations: 20000\nseed: 7\nrisks:\n  - name: Ransomware\n    lef: {pert: {low: 0.5, mode: 2, high: 8}}\n    lm:  {pert: {low: 10000, mode: 50000, high: 1000000}}\n  - name: Fine\n    lef: {uniform: {low: 0.01, high: 0.1}}\n    lm:  {constant: 250000}\ncontrols:\n  - name: Offline backups\n    cost: 15000\n    risks: [Ransomware]\n    magnitude_reduction: \"50%\"\ntolerance:\n  - {loss: 100000, probability: 0.5}\n  - {loss: 1000000, probability: 0.1}\n";

async fn post_json(app: &App, token: Option<&str>, body: &str) -> crate::support::Resp {
    let mut b =
        Request::post("/api/v1/fair/simulate").header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    app.send(b.body(Body::from(body.to_owned())).unwrap()).await
}

#[tokio::test]
async fn the_api_simulates_deterministically_and_names_bad_fields() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::RiskOwner).await;
        let emp = add(&store, &org, "emp@x.test", Role::Employee).await;
        let ann = store.user_by_email("ann@x.test").await.unwrap().unwrap();
        let (_, token) = store
            .create_token(org.id, ann.id, "t", &Actor::cli())
            .await
            .unwrap();
        let (_, emp_token) = store
            .create_token(org.id, emp, "t", &Actor::cli())
            .await
            .unwrap();
        let app = App::new(store);
        let body = r#"{"seed": 3, "model": "expected", "risks": [{"name": "Fine", "lef": {"constant": 2}, "lm": {"constant": 1000}}, {"name": "Theft", "lef": {"pert": {"low": 1, "mode": 2, "high": 6}}, "lm": {"triangular": {"low": 100, "mode": 500, "high": 3000}}}]}"#;
        let r = post_json(&app, Some(&token), body).await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["model"], "expected");
        assert_eq!(v["iterations"], 100_000, "the web default");
        assert_eq!(v["risks"][0]["name"], "Fine");
        // A constant frequency of 2 and a constant loss of 1000: exactly 2000 a year.
        assert!((v["risks"][0]["mean"].as_f64().unwrap() - 2000.0).abs() < 1e-6);
        for field in ["mean", "p10", "p50", "p90", "p95", "p99", "prob_loss"] {
            assert!(v["portfolio"][field].is_number(), "portfolio.{field}");
        }
        let again = post_json(&app, Some(&token), body).await;
        assert_eq!(again.body, r.body, "{engine}: same seed, same numbers");

        let bad = r#"{"risks": [{"name": "Broken one", "lef": {"pert": {"low": 5, "mode": 1, "high": 8}}, "lm": {"constant": 10}}]}"#;
        let r = post_json(&app, Some(&token), bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        assert!(
            r.body.contains("Broken one") && r.body.contains("lef"),
            "{}",
            r.body
        );
        let many: Vec<String> = (0..200)
            .map(|i| {
                format!(r#"{{"name": "R{i}", "lef": {{"constant": 1}}, "lm": {{"constant": 1}}}}"#)
            })
            .collect();
        let huge = format!(
            r#"{{"iterations": 2000000, "risks": [{}]}}"#,
            many.join(",")
        );
        let r = post_json(&app, Some(&token), &huge).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{engine}: too much work is refused"
        );
        assert!(r.body.contains("scenario-years"), "{}", r.body);
        // YAML is not JSON: a malformed body (400), not invalid scenarios (422).
        let r = post_json(&app, Some(&token), "risks: []").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = post_json(&app, Some(&token), "[1, 2]").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            post_json(&app, None, body).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            post_json(&app, Some(&emp_token), body).await.status,
            StatusCode::FORBIDDEN,
            "{engine}"
        );
    }
}

#[tokio::test]
async fn scenario_sets_are_saved_run_and_kept_per_organisation() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::RiskOwner).await;
        add(&store, &org, "emp@x.test", Role::Employee).await;
        org_with(&store, "Rival", "rob@rival.test", Role::Admin).await;
        let app = App::new(store.clone());
        let (ann, csrf) = app.login("ann@x.test", PASSWORD).await;

        let page = app.get("/risk/quantitative", Some(&ann)).await;
        assert_eq!(page.status, StatusCode::OK, "{engine}");
        assert!(
            page.body.contains("Ransomware on file servers"),
            "the example is offered"
        );

        let broken = SCENARIOS.replace("high: 8", "high: -8");
        let r = app
            .post(
                "/risk/quantitative",
                Some(&ann),
                &[
                    ("csrf_token", &csrf),
                    ("name", "Board 2027"),
                    ("input", &broken),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(
            r.body.contains("Ransomware"),
            "the error names the risk: {}",
            r.body
        );
        assert!(
            store.fair_scenarios(org.id).await.unwrap().is_empty(),
            "nothing saved"
        );

        let r = app
            .post(
                "/risk/quantitative",
                Some(&ann),
                &[
                    ("csrf_token", &csrf),
                    ("name", "Board 2027"),
                    ("input", SCENARIOS),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let id = store.fair_scenarios(org.id).await.unwrap()[0].id;
        let r = app
            .post(
                &format!("/risk/quantitative/{id}/run"),
                Some(&ann),
                &[("csrf_token", &csrf)],
                &[],
            )
            .await;
        // Post/redirect/get: the results are a page of their own, so a
        // reload does not run the simulation again.
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let to = r.header("location").unwrap();
        assert_eq!(to, format!("/risk/quantitative/{id}?ran=1"));
        let r = app.get(&to, Some(&ann)).await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        assert!(r.body.contains("Simulation finished."), "{engine}");
        assert!(
            r.body.contains("Portfolio (all risks, same years)") && r.body.contains("<svg"),
            "{engine}"
        );
        assert!(r.body.contains("tolerance curve"));
        assert!(
            r.body.contains("What the controls buy") && r.body.contains("Offline backups"),
            "{engine}"
        );
        let saved = store.fair_scenario(org.id, id).await.unwrap().unwrap();
        assert!(saved.last_report_json.is_some());

        // Uploading a file saves it under the file's name; a broken one is refused.
        let upload = |csrf: Option<&str>, name: &str, content: &str| {
            let (ct, body) = crate::support::multipart(csrf, &[], name, content);
            Request::post("/risk/quantitative/upload")
                .header(header::CONTENT_TYPE, ct)
                .header(header::COOKIE, ann.clone())
                .body(Body::from(body))
                .unwrap()
        };
        let r = app.send(upload(None, "q3.yaml", SCENARIOS)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}: no CSRF token");
        let r = app.send(upload(Some(&csrf), "q3.yaml", &broken)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(r.body.contains("Ransomware"));
        let r = app.send(upload(Some(&csrf), "q3.yaml", SCENARIOS)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let names: Vec<String> = store
            .fair_scenarios(org.id)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, vec!["Board 2027", "q3"]);

        // Two people editing: the second, with a stale version, gets 409 and nothing is lost.
        let v = saved.version.to_string();
        let r = app
            .post(
                &format!("/risk/quantitative/{id}"),
                Some(&ann),
                &[
                    ("csrf_token", &csrf),
                    ("name", "Board 2027"),
                    ("input", SCENARIOS),
                    ("version", &v),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = app
            .post(
                &format!("/risk/quantitative/{id}"),
                Some(&ann),
                &[
                    ("csrf_token", &csrf),
                    ("name", "Stale"),
                    ("input", SCENARIOS),
                    ("version", &v),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{engine}");
        assert_eq!(
            store.fair_scenario(org.id, id).await.unwrap().unwrap().name,
            "Board 2027"
        );

        // Another organisation cannot see it; an employee cannot open the page.
        let (rob, _) = app.login("rob@rival.test", PASSWORD).await;
        assert_eq!(
            app.get(&format!("/risk/quantitative/{id}"), Some(&rob))
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{engine}"
        );
        let (emp, _) = app.login("emp@x.test", PASSWORD).await;
        assert_eq!(
            app.get("/risk/quantitative", Some(&emp)).await.status,
            StatusCode::FORBIDDEN
        );
        let audit = store
            .audit_entries(
                org.id,
                &isms_store::AuditFilter {
                    entity_type: Some("fair_scenario".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(audit.len(), 4, "{engine}: create, simulate, upload, update");
    }
}
