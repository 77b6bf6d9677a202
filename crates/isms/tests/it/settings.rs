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

#[tokio::test]
async fn the_form_editor_saves_text_that_runs_and_reports_in_the_currency() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        add(&store, &org, "emp@x.test", Role::Employee).await;
        store
            .save_org_settings(
                org.id,
                &isms_store::OrgSettingsInput {
                    time_zone: "UTC".into(),
                    currency: "GBP".into(),
                    version: Some(0),
                },
                &isms_store::Actor::cli(),
            )
            .await
            .unwrap();
        let app = App::new(store.clone());
        let (ann, csrf) = app.login("ann@x.test", PASSWORD).await;
        let page = app.get("/risk/quantitative/form", Some(&ann)).await;
        assert_eq!(page.status, StatusCode::OK, "{engine}: {}", page.body);
        assert!(page.body.contains("name=\"lef_kind\""));
        let (emp, _) = app.login("emp@x.test", PASSWORD).await;
        assert_eq!(
            app.get("/risk/quantitative/form", Some(&emp)).await.status,
            StatusCode::FORBIDDEN
        );

        let row = |name: &'static str, lef: [&'static str; 4], lm: [&'static str; 4]| {
            vec![
                ("risk_name", name),
                ("lef_kind", lef[0]),
                ("lef_low", lef[1]),
                ("lef_mode", lef[2]),
                ("lef_high", lef[3]),
                ("lm_kind", lm[0]),
                ("lm_low", lm[1]),
                ("lm_mode", lm[2]),
                ("lm_high", lm[3]),
            ]
        };
        let mut fields = vec![
            ("csrf_token", csrf.as_str()),
            ("version", "0"),
            ("name", "From the form"),
            ("iterations", "2000"),
            ("seed", "5"),
        ];
        fields.extend(row(
            "Phishing",
            ["pert", "1", "3", "10"],
            ["lognormal", "1000", "", "50000"],
        ));
        fields.extend(row(
            "Outage",
            ["constant", "", "0.5", ""],
            ["uniform", "20000", "", "80000"],
        ));
        // Adding a row is a round trip: the rows typed so far stay.
        let mut add_row = fields.clone();
        add_row.push(("op", "add"));
        let r = app
            .post("/risk/quantitative/form", Some(&ann), &add_row, &[])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        assert_eq!(r.body.matches("name=\"risk_name\"").count(), 3);
        assert!(
            r.body.contains("value=\"Phishing\"") && r.body.contains("£ "),
            "the preview is in GBP"
        );
        // Removing a ticked row.
        let mut remove = fields.clone();
        remove.extend([("remove", "1"), ("op", "update")]);
        let r = app
            .post("/risk/quantitative/form", Some(&ann), &remove, &[])
            .await;
        assert_eq!(r.body.matches("name=\"risk_name\"").count(), 1, "{engine}");
        // Bad numbers: 422, nothing saved, the field is named.
        let mut bad = fields.clone();
        bad.retain(|(k, v)| !(*k == "lef_high" && *v == "10"));
        bad.insert(7, ("lef_high", "ten"));
        bad.push(("op", "save"));
        let r = app
            .post("/risk/quantitative/form", Some(&ann), &bad, &[])
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{engine}: {}",
            r.body
        );
        assert!(
            r.body.contains("&#39;ten&#39; is not a number")
                || r.body.contains("'ten' is not a number"),
            "{}",
            r.body
        );
        assert!(store.fair_scenarios(org.id).await.unwrap().is_empty());

        let mut save = fields.clone();
        save.push(("op", "save"));
        let r = app
            .post("/risk/quantitative/form", Some(&ann), &save, &[])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let saved = store.fair_scenarios(org.id).await.unwrap().remove(0);
        let input = isms_fair::parse_input(&saved.input_text).expect("the text parses");
        assert_eq!(input.risks.len(), 2);
        assert_eq!(input.iterations, Some(2000));
        assert!(saved.input_text.contains("Phishing") && saved.input_text.contains("pert"));

        // The form shows the saved set again; a stale version is a 409.
        let page = app
            .get(
                &format!("/risk/quantitative/form?scenario={}", saved.id),
                Some(&ann),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{engine}");
        assert!(page.body.contains("value=\"Outage\"") && page.body.contains("value=\"80000\""));
        let id = saved.id.to_string();
        let mut stale = save.clone();
        stale.push(("scenario", id.as_str()));
        let r = app
            .post("/risk/quantitative/form", Some(&ann), &stale, &[])
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{engine}: {}", r.body);

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
            page.body.contains("Phishing") && page.body.contains("£ "),
            "{engine}: {}",
            page.body
        );
        assert!(page.body.contains("Annual loss in GBP"));
    }
}

#[tokio::test]
async fn the_form_editor_keeps_controls_and_refuses_what_it_cannot_show() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let app = App::new(store.clone());
        let (ann, csrf) = app.login("ann@x.test", PASSWORD).await;
        let with_control = format!(
            "{SCENARIO}controls:\n  - name: Awareness training\n    cost: 12000\n    risks: [Phishing]\n    frequency_reduction: 0.5\n"
        );
        let decomposed = "risks:\n  - name: Web attack\n    lef:\n      tef: {constant: 10}\n      vulnerability: {constant: 0.1}\n    lm: {constant: 1000}\n";
        for (name, text) in [("Kept", with_control.as_str()), ("Split", decomposed)] {
            let r = app
                .post(
                    "/risk/quantitative",
                    Some(&ann),
                    &[("csrf_token", &csrf), ("name", name), ("input", text)],
                    &[],
                )
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        }
        let sets = store.fair_scenarios(org.id).await.unwrap();
        let id_of = |n: &str| sets.iter().find(|s| s.name == n).unwrap().id;
        let (kept, split) = (id_of("Kept"), id_of("Split"));

        let page = app
            .get(
                &format!("/risk/quantitative/form?scenario={split}"),
                Some(&ann),
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(page.body.contains("edit this set as text"), "{}", page.body);

        let page = app
            .get(
                &format!("/risk/quantitative/form?scenario={kept}"),
                Some(&ann),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{engine}: {}", page.body);
        assert!(page.body.contains("the form keeps them"), "{}", page.body);
        let version = page.hidden("version").unwrap();
        let id = kept.to_string();
        let r = app
            .post(
                "/risk/quantitative/form",
                Some(&ann),
                &[
                    ("csrf_token", csrf.as_str()),
                    ("scenario", id.as_str()),
                    ("version", version.as_str()),
                    ("name", "Kept"),
                    ("iterations", "2000"),
                    ("seed", "3"),
                    ("risk_name", "Phishing"),
                    ("lef_kind", "constant"),
                    ("lef_low", ""),
                    ("lef_mode", "4"),
                    ("lef_high", ""),
                    ("lm_kind", "uniform"),
                    ("lm_low", "10000"),
                    ("lm_mode", ""),
                    ("lm_high", "30000"),
                    ("op", "save"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let saved = store.fair_scenario(org.id, kept).await.unwrap().unwrap();
        let input = isms_fair::parse_input(&saved.input_text).unwrap();
        assert_eq!(input.controls.len(), 1, "{engine}: {}", saved.input_text);
        assert_eq!(input.controls[0].name, "Awareness training");
        assert!(
            saved.input_text.contains("constant: 4"),
            "{}",
            saved.input_text
        );
    }
}
