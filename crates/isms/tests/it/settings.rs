//! Organisation settings on every engine: the time zone and the currency,
//! validated, versioned (a stale save is a 409), for administrators only,
//! audit-logged, and used by the pages (times and FAIR money figures).

use axum::http::StatusCode;
use isms_domain::Role;

use crate::support::{App, PASSWORD, add, org_with, stores};

const SCENARIO: &str = "iterations: 2000
seed: 3
risks:
  - name: Phishing
    lef: {constant: 2}
    lm: {uniform: {low: 10000, high: 20000}}
";

#[tokio::test]
async fn settings_are_validated_versioned_and_for_administrators() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        add(&store, &org, "emp@x.test", Role::Employee).await;
        let app = App::new(store.clone());
        let (ann, csrf) = app.login("ann@x.test", PASSWORD).await;

        let page = app.get("/admin/settings", Some(&ann)).await;
        assert_eq!(page.status, StatusCode::OK, "{engine}: {}", page.body);
        assert_eq!(page.hidden("version").as_deref(), Some("0"));
        assert!(
            page.body.contains("value=\"UTC\"") && page.body.contains("value=\"EUR\" selected")
        );

        let save = |tz: &'static str, cur: &'static str, version: &'static str| {
            let app = &app;
            let ann = ann.clone();
            let csrf = csrf.clone();
            async move {
                app.post(
                    "/admin/settings",
                    Some(&ann),
                    &[
                        ("csrf_token", csrf.as_str()),
                        ("time_zone", tz),
                        ("currency", cur),
                        ("version", version),
                    ],
                    &[],
                )
                .await
            }
        };
        let r = save("Mars/Olympus_Mons", "CHF", "0").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(
            r.body.contains("Mars/Olympus_Mons") && r.body.contains("IANA"),
            "{}",
            r.body
        );
        let r = save("Europe/Zurich", "XYZ", "0").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(r.body.contains("ISO 4217"), "{}", r.body);
        let r = save("Europe/Zurich", "CHF", "").await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{engine}: no version"
        );
        assert_eq!(
            store.org_settings(org.id).await.unwrap().version,
            0,
            "nothing saved"
        );

        let r = save("Europe/Zurich", "chf", "0").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let s = store.org_settings(org.id).await.unwrap();
        assert_eq!(
            (s.time_zone.as_str(), s.currency.as_str(), s.version),
            ("Europe/Zurich", "CHF", 1)
        );
        // A second administrator's form, read before the save: 409, kept.
        let r = save("Europe/Berlin", "GBP", "0").await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{engine}");
        assert!(
            r.body.contains("nothing was saved") && r.body.contains("by ann@x.test"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("value=\"Europe/Berlin\""),
            "the choice is kept"
        );
        assert_eq!(r.hidden("version").as_deref(), Some("1"));
        assert_eq!(store.org_settings(org.id).await.unwrap().currency, "CHF");

        // Employees may neither see nor change the settings.
        let (emp, emp_csrf) = app.login("emp@x.test", PASSWORD).await;
        assert_eq!(
            app.get("/admin/settings", Some(&emp)).await.status,
            StatusCode::FORBIDDEN
        );
        let r = app
            .post(
                "/admin/settings",
                Some(&emp),
                &[
                    ("csrf_token", emp_csrf.as_str()),
                    ("time_zone", "UTC"),
                    ("currency", "USD"),
                    ("version", "1"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");
        assert!(
            !app.get("/", Some(&emp))
                .await
                .body
                .contains("/admin/settings")
        );
        assert!(
            app.get("/", Some(&ann))
                .await
                .body
                .contains("/admin/settings")
        );

        // The change is in the audit log, whose times are in the zone.
        let log = store
            .audit_entries(
                org.id,
                &isms_store::AuditFilter {
                    entity_type: Some("org_settings".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(log.len(), 1, "{engine}");
        assert_eq!(log[0].via, "web");
        let page = app.get("/audit-log", Some(&ann)).await;
        assert!(
            page.body.contains(" Europe/Zurich\""),
            "{engine}: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn fair_money_figures_are_in_the_organisation_currency() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let app = App::new(store.clone());
        let (ann, csrf) = app.login("ann@x.test", PASSWORD).await;
        let r = app
            .post(
                "/risk/quantitative",
                Some(&ann),
                &[
                    ("csrf_token", &csrf),
                    ("name", "Money"),
                    ("input", SCENARIO),
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
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let page = app
            .get(&format!("/risk/quantitative/{id}"), Some(&ann))
            .await;
        assert!(
            page.body.contains("€ "),
            "{engine}: EUR by default: {}",
            page.body
        );
        assert!(page.body.contains("Annual loss in EUR"));

        store
            .save_org_settings(
                org.id,
                &isms_store::OrgSettingsInput {
                    time_zone: "UTC".into(),
                    currency: "USD".into(),
                    version: Some(0),
                },
                &isms_store::Actor::cli(),
            )
            .await
            .unwrap();
        let page = app
            .get(&format!("/risk/quantitative/{id}"), Some(&ann))
            .await;
        assert!(
            page.body.contains("$ ") && !page.body.contains("€ "),
            "{engine}: {}",
            page.body
        );
        assert!(page.body.contains("Annual loss in USD"));
    }
}
