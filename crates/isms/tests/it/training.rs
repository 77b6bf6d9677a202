//! Training and awareness (7.2, 7.3) on both engines: courses with a quiz,
//! assignments to groups and people, completions with score and expiry,
//! refusals (twice, after the due date, a member of another organisation),
//! overdue lists and reminders, competence, readiness, exports and the CLI.

use axum::http::StatusCode;
use isms_domain::Role;
use isms_store::{Actor, AuditFilter};
use serde_json::{Value, json};

use crate::cli::{isms, stderr, stdout};
use crate::soa::{call, token};
use crate::support::{App, PASSWORD, add, database_urls, org_with, pdf_text, stores};

fn quiz() -> Value {
    json!({
        "pass_mark": 60,
        "questions": [
            {"text": "A stranger asks for your password by phone. You", "options": ["give it", "refuse and report it"], "answer": 1},
            {"text": "Where do you report a phishing e-mail?", "options": ["The service desk", "Nowhere"], "answer": 0},
            {"text": "Lock your screen when you leave your desk?", "options": ["Yes", "No"], "answer": 0}
        ]
    })
}

fn in_days(days: i64) -> String {
    isms_store::time_from_now(time::Duration::days(days))[..10].to_owned()
}

#[tokio::test]
async fn courses_are_assigned_completed_scored_and_refused_when_they_should_be() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let m = token(&store, &org, "mia@acme.test", Role::IsmsManager).await;
        let e1 = token(&store, &org, "eve@acme.test", Role::Employee).await;
        let e2 = token(&store, &org, "ed@acme.test", Role::Employee).await;
        let auditor = token(&store, &org, "aud@acme.test", Role::Auditor).await;
        let other = org_with(&store, "Other Ltd", "olga@other.test", Role::Admin).await;
        add(&store, &other, "oscar@other.test", Role::Employee).await;
        let app = App::new(store.clone());

        // A course with a quiz; content with script tags is kept as text.
        let (s, course) = call(
            &app,
            "POST",
            "/api/v1/courses",
            &m,
            Some(json!({
                "title": "Security awareness 2026",
                "description": "Phishing, passwords, clear desk",
                "content": "# Phishing\n\nReport it. <script>alert(1)</script> <img src=x onerror=alert(2)>",
                "validity_months": 12,
                "quiz": quiz()
            })),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {course}");
        let id = course["id"].as_i64().unwrap();
        assert_eq!(course["version"], 1);
        assert_eq!(
            course["quiz"]["questions"][0]["answer"], 1,
            "managers see answers"
        );

        // Employees read the course without the answers and cannot create one.
        let (s, seen) = call(&app, "GET", &format!("/api/v1/courses/{id}"), &e1, None).await;
        assert_eq!(s, StatusCode::OK, "{engine}: {seen}");
        assert!(
            seen["quiz"]["questions"][0].get("answer").is_none(),
            "{engine}: {seen}"
        );
        let (s, _) = call(
            &app,
            "POST",
            "/api/v1/courses",
            &e1,
            Some(json!({"title": "x", "content": "y"})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{engine}");

        // Bad courses: a quiz whose answer is not an option, no content, a javascript link.
        for (bad, field) in [
            (
                json!({"title": "Q", "content": "c", "quiz": {"pass_mark": 50, "questions": [{"text": "t", "options": ["a", "b"], "answer": 2}]}}),
                "quiz.questions[0].answer",
            ),
            (json!({"title": "Empty"}), "content"),
            (json!({"title": "L", "link": "javascript:alert(1)"}), "link"),
            (
                json!({"title": "Security awareness 2026", "content": "again"}),
                "title",
            ),
        ] {
            let (s, v) = call(&app, "POST", "/api/v1/courses", &m, Some(bad)).await;
            assert!(
                s == StatusCode::UNPROCESSABLE_ENTITY || s == StatusCode::CONFLICT,
                "{engine}: {s} {v}"
            );
            assert!(
                v["detail"].as_str().unwrap().contains(field),
                "{engine}: {v}"
            );
        }
        let (_, list) = call(&app, "GET", "/api/v1/courses", &m, None).await;
        assert_eq!(
            list.as_array().unwrap().len(),
            1,
            "{engine}: nothing else stored"
        );

        // Assigning to a member of another organisation is refused; nothing stored.
        let due = in_days(14);
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/assignments"),
            &m,
            Some(json!({"to": ["eve@acme.test", "oscar@other.test"], "due_date": due})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("to[1]: oscar@other.test is not an active member"),
            "{engine}: {v}"
        );
        let (_, mine) = call(&app, "GET", "/api/v1/me/training", &e1, None).await;
        assert_eq!(
            mine.as_array().unwrap().len(),
            0,
            "{engine}: nothing half-written"
        );
        // A past due date and an unknown audience are refused too.
        for (to, due) in [
            (json!("employees"), "2020-01-01".to_owned()),
            (json!("interns"), due.clone()),
        ] {
            let (s, v) = call(
                &app,
                "POST",
                &format!("/api/v1/courses/{id}/assignments"),
                &m,
                Some(json!({"to": to, "due_date": due})),
            )
            .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {v}");
        }

        // To all employees: both get it and an inbox message.
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/assignments"),
            &m,
            Some(json!({"to": "employees", "due_date": due})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");
        assert_eq!(
            v["assigned"],
            json!(["ed@acme.test", "eve@acme.test"]),
            "{engine}"
        );
        let eve = store.user_by_email("eve@acme.test").await.unwrap().unwrap();
        assert_eq!(
            store.unread_count(org.id, eve.id).await.unwrap(),
            1,
            "{engine}"
        );
        // Again, plus the auditor by name: the employees are left as they were.
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/assignments"),
            &m,
            Some(json!({"to": ["aud@acme.test", "EVE@acme.test"], "due_date": due})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");
        assert_eq!(v["assigned"], json!(["aud@acme.test"]));
        assert_eq!(v["already_assigned"], json!(["eve@acme.test"]));

        let (s, mine) = call(&app, "GET", "/api/v1/me/training", &e1, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(mine[0]["course_title"], "Security awareness 2026");
        assert_eq!(mine[0]["status"], "pending");
        assert_eq!(mine[0]["due_date"], due.as_str());

        // Wrong number of answers: refused, nothing recorded.
        let path = format!("/api/v1/courses/{id}/complete");
        let (s, v) = call(&app, "POST", &path, &e1, Some(json!({"answers": [1]}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {v}");
        assert!(v["detail"].as_str().unwrap().starts_with("answers:"), "{v}");
        // A failed attempt is recorded and may be retaken.
        let (s, v) = call(
            &app,
            "POST",
            &path,
            &e1,
            Some(json!({"answers": [0, 1, 0]})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");
        assert_eq!(
            (v["passed"].as_bool(), v["score"].as_i64()),
            (Some(false), Some(33))
        );
        let (s, v) = call(
            &app,
            "POST",
            &path,
            &e1,
            Some(json!({"answers": [1, 0, 0]})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");
        assert_eq!(
            (v["passed"].as_bool(), v["score"].as_i64()),
            (Some(true), Some(100))
        );
        assert_eq!(v["attempts"], 2);
        let today = in_days(0);
        assert_eq!(v["completed_on"], today.as_str());
        let expires = v["expires_on"].as_str().unwrap().to_owned();
        assert_eq!(
            &expires[..4],
            &(today[..4].parse::<i32>().unwrap() + 1).to_string(),
            "valid 12 months"
        );
        // Twice: refused with 409, nothing stored.
        let (s, v) = call(
            &app,
            "POST",
            &path,
            &e1,
            Some(json!({"answers": [1, 0, 0]})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{engine}: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains("already completed"),
            "{v}"
        );
        // Someone it is not assigned to cannot complete it.
        let (s, v) = call(&app, "POST", &path, &m, Some(json!({"answers": [1, 0, 0]}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("not assigned to you"),
            "{v}"
        );

        // After the due date: the manager moved Ed's date into the past (a
        // versioned change); his submission is refused.
        let (_, ed) = call(&app, "GET", "/api/v1/me/training", &e2, None).await;
        let ed_assignment = ed[0]["id"].as_i64().unwrap();
        let (s, v) = call(
            &app,
            "PUT",
            &format!("/api/v1/training/assignments/{ed_assignment}"),
            &m,
            Some(json!({"due_date": in_days(-1), "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{engine}: {v}");
        assert_eq!(v["status"], "overdue");
        let (s, v) = call(
            &app,
            "PUT",
            &format!("/api/v1/training/assignments/{ed_assignment}"),
            &m,
            Some(json!({"due_date": in_days(3), "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{engine}: stale version: {v}");
        let (s, v) = call(
            &app,
            "POST",
            &path,
            &e2,
            Some(json!({"answers": [1, 0, 0]})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("due date"), "{v}");

        // Overdue and completion per course for the auditor.
        let (s, overdue) = call(
            &app,
            "GET",
            "/api/v1/training/assignments?status=overdue",
            &auditor,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let emails: Vec<&str> = overdue
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["email"].as_str().unwrap())
            .collect();
        assert_eq!(emails, vec!["ed@acme.test"], "{engine}");
        let (s, _) = call(
            &app,
            "GET",
            "/api/v1/training/assignments?status=late",
            &auditor,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, list) = call(&app, "GET", "/api/v1/courses", &auditor, None).await;
        assert_eq!(
            (
                list[0]["assigned"].as_i64(),
                list[0]["completed"].as_i64(),
                list[0]["overdue"].as_i64()
            ),
            (Some(3), Some(1), Some(1)),
            "{engine}: {list}"
        );
        let (s, records) = call(&app, "GET", "/api/v1/training/records", &auditor, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            records.as_array().unwrap().len(),
            2,
            "{engine}: both of Eve's attempts"
        );
        let (s, _) = call(&app, "GET", "/api/v1/training/records", &e1, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Reminders reach the overdue person once.
        let (s, v) = call(&app, "POST", "/api/v1/training/reminders", &m, None).await;
        assert_eq!(
            (s, v["sent"].as_i64()),
            (StatusCode::OK, Some(1)),
            "{engine}: {v}"
        );
        let (_, v) = call(&app, "POST", "/api/v1/training/reminders", &m, None).await;
        assert_eq!(v["sent"], 0, "{engine}: deduplicated");

        // Due items: the open assignments and the expiry.
        let due_items = store.due_items(org.id, &in_days(400)).await.unwrap();
        let kinds: Vec<&str> = due_items.iter().map(|d| d.kind).collect();
        assert!(
            kinds.contains(&"training_due") && kinds.contains(&"training_expiry"),
            "{engine}: {kinds:?}"
        );

        // A versioned course change; the stale one loses.
        let (s, v) = call(
            &app,
            "PUT",
            &format!("/api/v1/courses/{id}"),
            &m,
            Some(json!({"validity_months": 24, "version": 1})),
        )
        .await;
        assert_eq!(
            (s, v["version"].as_i64()),
            (StatusCode::OK, Some(2)),
            "{engine}: {v}"
        );
        let (s, _) = call(
            &app,
            "PUT",
            &format!("/api/v1/courses/{id}"),
            &m,
            Some(json!({"title": "Old", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT);

        // The audit log holds the course, the assignments and the completions.
        let entries = store
            .audit_entries(org.id, &AuditFilter::default())
            .await
            .unwrap();
        for t in ["course", "course_assignment", "training_completion"] {
            assert!(
                entries.iter().any(|e| e.entity_type == t),
                "{engine}: no {t} in the audit log"
            );
        }

        // The other organisation sees none of it.
        let o = token(&store, &other, "otto@other.test", Role::IsmsManager).await;
        let (s, _) = call(&app, "GET", &format!("/api/v1/courses/{id}"), &o, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{engine}");
        let (s, _) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/assignments"),
            &o,
            Some(json!({"to": "all", "due_date": due})),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{engine}");
    }
}

#[tokio::test]
async fn concurrent_course_edits_have_one_winner() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let actor = Actor::cli();
        let c = store
            .create_course(
                org.id,
                &isms_store::CourseInput {
                    title: Some("Clear desk".into()),
                    content: Some("Tidy up.".into()),
                    ..Default::default()
                },
                &actor,
            )
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            let actor = actor.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .update_course(
                        org.id,
                        c.id,
                        &isms_store::CourseInput {
                            description: Some(format!("writer {i}")),
                            version: Some(1),
                            ..Default::default()
                        },
                        &actor,
                    )
                    .await
                    .is_ok()
            }));
        }
        let mut wins = 0;
        for t in tasks {
            if t.await.unwrap() {
                wins += 1;
            }
        }
        assert_eq!(wins, 1, "{engine}: exactly one same-version writer wins");
        assert_eq!(store.course(org.id, c.id).await.unwrap().version, 2);
    }
}

#[tokio::test]
async fn competence_and_awareness_feed_readiness_and_the_exports() {
    for (engine, url) in database_urls().await {
        let store = isms_store::Store::open(&url).await.unwrap();
        let org = org_with(&store, "Łódź Trading", "ann@acme.test", Role::Admin).await;
        let m = token(&store, &org, "mia@acme.test", Role::IsmsManager).await;
        let e = token(&store, &org, "eve@acme.test", Role::Employee).await;
        let other = org_with(&store, "Other Ltd", "olga@other.test", Role::Admin).await;
        let app = App::new(store.clone());
        let item = |r: &isms_store::Readiness, key: &str| {
            r.items
                .iter()
                .find(|i| i.key == key)
                .unwrap()
                .state
                .as_str()
        };
        let r = store.readiness(org.id, &Actor::cli()).await.unwrap();
        assert_eq!(
            (item(&r, "competence"), item(&r, "awareness")),
            ("missing", "missing"),
            "{engine}"
        );

        // The employee role requires phishing awareness; Eve lacks it.
        let (s, req) = call(
            &app,
            "POST",
            "/api/v1/competence/requirements",
            &m,
            Some(json!({"role": "employee", "title": "Recognises phishing"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {req}");
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/competence/requirements",
            &m,
            Some(json!({"role": "intern", "title": "x"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {v}");
        let (_, people) = call(&app, "GET", "/api/v1/competence", &m, None).await;
        let eve = people
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["email"] == "eve@acme.test")
            .unwrap()
            .clone();
        assert_eq!(
            eve["gaps"][0]["title"], "Recognises phishing",
            "{engine}: {people}"
        );
        let r = store.readiness(org.id, &Actor::cli()).await.unwrap();
        assert_eq!(item(&r, "competence"), "incomplete", "{engine}");

        // Evidence for a member of another organisation is refused; Eve's is recorded.
        add(&store, &other, "oscar@other.test", Role::Employee).await;
        let rid = req["id"].as_i64().unwrap();
        let (s, v) = call(&app, "POST", "/api/v1/competence/records", &m, Some(json!({"person": "oscar@other.test", "requirement": rid, "evidence": "x", "achieved_on": "2026-01-10"}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {v}");
        assert!(v["detail"].as_str().unwrap().starts_with("person:"), "{v}");
        let (s, rec) = call(&app, "POST", "/api/v1/competence/records", &m, Some(json!({"person": "eve@acme.test", "requirement": rid, "evidence": "Phishing course certificate https://learn.example/c/42", "achieved_on": "2026-01-10"}))).await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {rec}");
        let (s, v) = call(
            &app,
            "PUT",
            &format!("/api/v1/competence/records/{}", rec["id"]),
            &m,
            Some(json!({"expires_on": "2025-01-01", "version": 1})),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{engine}: expiry before achievement: {v}"
        );
        // Mia (isms_manager) and Ann (admin) have no requirements: all held.
        let r = store.readiness(org.id, &Actor::cli()).await.unwrap();
        assert_eq!(item(&r, "competence"), "ready", "{engine}: {:?}", r.items);
        assert!(
            !r.items
                .iter()
                .any(|i| i.key == "competence" && i.detail.contains("later release"))
        );

        // Awareness: a course without a quiz assigned to all, completed by everyone.
        let (_, course) = call(&app, "POST", "/api/v1/courses", &m, Some(json!({"title": "Acceptable use — Ærø", "link": "https://learn.example/aup", "validity_months": 0}))).await;
        let id = course["id"].as_i64().unwrap();
        let (s, _) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/assignments"),
            &m,
            Some(json!({"to": "all", "due_date": in_days(7)})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let r = store.readiness(org.id, &Actor::cli()).await.unwrap();
        assert_eq!(
            item(&r, "awareness"),
            "ready",
            "{engine}: all assigned, none overdue"
        );
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/complete"),
            &e,
            Some(json!({})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");
        assert_eq!(
            (v["passed"].as_bool(), v["expires_on"].as_str()),
            (Some(true), Some("")),
            "never expires"
        );

        // Exports: CSV, XLSX and PDF through the API and the CLI.
        let (s, _) = call(&app, "GET", "/api/v1/training/export?format=csv", &e, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let r = app
            .api("GET", "/api/v1/training/export?format=csv", Some(&m))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.starts_with("course,person,name,due_date,status"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("eve@acme.test") && r.body.contains("Completed"),
            "{engine}: {}",
            r.body
        );
        let dir =
            std::env::temp_dir().join(format!("isms-training-{}-{engine}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for format in ["csv", "xlsx", "pdf"] {
            let out = dir.join(format!("t.{format}"));
            let o = isms(
                &url,
                &[
                    "training",
                    "report",
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
            assert!(stdout(&o).contains("3 assignment(s)"), "{}", stdout(&o));
            let bytes = std::fs::read(&out).unwrap();
            if format == "pdf" {
                let text = pdf_text(&bytes);
                assert!(
                    text.contains("Łódź Trading") && text.contains("Acceptable use — Ærø"),
                    "{engine}: {text}"
                );
            }
        }
        let o = isms(
            &url,
            &[
                "training",
                "report",
                "--org",
                &org.slug,
                "--format",
                "docx",
                "-o",
                "/dev/null",
            ],
            None,
        );
        assert!(
            !o.status.success() && stderr(&o).contains("unknown format"),
            "{}",
            stderr(&o)
        );
        let o = isms(&url, &["training", "remind", "--org", &org.slug], None);
        assert!(
            o.status.success() && stdout(&o).contains("sent 0 reminder(s)"),
            "{}",
            stderr(&o)
        );
    }
}

#[tokio::test]
async fn the_pages_show_my_training_and_take_a_quiz() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        add(&store, &org, "eve@acme.test", Role::Employee).await;
        let app = App::new(store.clone());
        let (cookie, csrf) = app.login("ann@acme.test", PASSWORD).await;
        let r = app
            .post(
                "/training/courses",
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("title", "Phishing"),
                    ("content", "Spot it. <script>alert(1)</script>"),
                    ("validity_months", "12"),
                    ("pass_mark", "50"),
                    (
                        "quiz",
                        "? Report phishing to\n* The service desk\n- Nobody\n",
                    ),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let location = r.header("location").unwrap();
        let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
        let r = app
            .post(
                &format!("/training/courses/{id}/assign"),
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("to", "employees"),
                    ("due_date", &in_days(10)),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        // A bad form keeps what was typed and says why.
        let r = app
            .post(
                &format!("/training/courses/{id}/assign"),
                Some(&cookie),
                &[
                    ("csrf_token", &csrf),
                    ("to", "nobody@else.test"),
                    ("due_date", &in_days(10)),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(r.body.contains("not an active member") && r.body.contains("nobody@else.test"));

        let (ec, ecsrf) = app.login("eve@acme.test", PASSWORD).await;
        let home = app.get("/", Some(&ec)).await;
        assert!(
            home.body.contains("courses to complete") && home.body.contains("href=\"/training\""),
            "{engine}: the home page counts the course"
        );
        let page = app.get("/profile", Some(&ec)).await;
        assert!(
            page.body.contains("My training") && page.body.contains("Phishing"),
            "{engine}"
        );
        let page = app.get(&format!("/training/courses/{id}"), Some(&ec)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            !page.body.contains("<script>alert(1)"),
            "{engine}: no script from the text"
        );
        assert!(page.body.contains("name=\"q0\""), "{engine}: the quiz form");
        let r = app
            .post(
                &format!("/training/courses/{id}/complete"),
                Some(&ec),
                &[("csrf_token", &ecsrf), ("q0", "0")],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let page = app.get(&format!("/training/courses/{id}"), Some(&ec)).await;
        assert!(page.body.contains("Completed"), "{engine}");
        // The manager's views.
        let page = app.get("/training", Some(&cookie)).await;
        assert!(
            page.body.contains("Phishing") && page.body.contains("100%"),
            "{engine}"
        );
        let page = app.get("/training/competence", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        let r = app.get("/training/export?format=xlsx", Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.bytes.starts_with(b"PK"));
        // Search finds the course.
        let page = app.get("/search?q=phish", Some(&cookie)).await;
        assert!(
            page.body.contains(&format!("/training/courses/{id}")),
            "{engine}"
        );
    }
}

#[tokio::test]
async fn a_retired_course_takes_no_assignments_keeps_its_records_and_can_return() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let m = token(&store, &org, "mia@acme.test", Role::IsmsManager).await;
        let eve = token(&store, &org, "eve@acme.test", Role::Employee).await;
        token(&store, &org, "ed@acme.test", Role::Employee).await;
        let app = App::new(store.clone());
        let (s, c) = call(
            &app,
            "POST",
            "/api/v1/courses",
            &m,
            Some(json!({"title": "Clear desk 2025", "content": "Lock it away."})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {c}");
        let id = c["id"].as_i64().unwrap();
        assert_eq!(c["status"], "active");
        let (s, _) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/assignments"),
            &m,
            Some(json!({"to": ["eve@acme.test"], "due_date": in_days(5)})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}");
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/complete"),
            &eve,
            Some(json!({})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");

        // Only those who edit courses retire them; a stale version is refused.
        let (s, _) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/retire"),
            &eve,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{engine}");
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/retire"),
            &m,
            Some(json!({"version": 7})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{engine}: {v}");
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/retire"),
            &m,
            Some(json!({"version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{engine}: {v}");
        assert_eq!(
            (v["status"].as_str(), v["version"].as_i64()),
            (Some("retired"), Some(2)),
            "{engine}: {v}"
        );
        assert!(!v["retired_at"].as_str().unwrap().is_empty());
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/retire"),
            &m,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{engine}: twice: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains("retired already"),
            "{v}"
        );

        // No new assignments, naming the course; nothing stored.
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/assignments"),
            &m,
            Some(json!({"to": ["ed@acme.test"], "due_date": in_days(5)})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{engine}: {v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("Clear desk 2025") && detail.contains("retired"),
            "{engine}: {v}"
        );
        let (_, v) = call(
            &app,
            "GET",
            &format!("/api/v1/courses/{id}/assignments"),
            &m,
            None,
        )
        .await;
        assert_eq!(v.as_array().unwrap().len(), 1, "{engine}: {v}");

        // Hidden from the active list, listed as retired; records stay readable and exported.
        let titles = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|c| c["title"].as_str().unwrap().to_owned())
                .collect()
        };
        let (_, v) = call(&app, "GET", "/api/v1/courses", &m, None).await;
        assert!(titles(&v).is_empty(), "{engine}: {v}");
        let (_, v) = call(&app, "GET", "/api/v1/courses?status=retired", &m, None).await;
        assert_eq!(titles(&v), ["Clear desk 2025"], "{engine}: {v}");
        let (_, v) = call(&app, "GET", "/api/v1/courses?status=all", &m, None).await;
        assert_eq!(titles(&v).len(), 1, "{engine}: {v}");
        let (s, v) = call(&app, "GET", "/api/v1/courses?status=gone", &m, None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {v}");
        let (_, v) = call(&app, "GET", "/api/v1/training/records", &m, None).await;
        assert!(
            v.as_array()
                .unwrap()
                .iter()
                .any(|r| r["course_title"] == "Clear desk 2025" && r["email"] == "eve@acme.test"),
            "{engine}: {v}"
        );
        let r = app
            .api("GET", "/api/v1/training/export?format=csv", Some(&m))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("Clear desk 2025,eve@acme.test"),
            "{engine}: {}",
            r.body
        );
        assert!(
            !store
                .due_items(org.id, &in_days(3650))
                .await
                .unwrap()
                .iter()
                .any(|i| i.kind.starts_with("training")),
            "{engine}: a retired course asks nothing more"
        );
        let log = store
            .audit_entries(org.id, &AuditFilter::default())
            .await
            .unwrap();
        assert!(
            log.iter()
                .any(|a| a.action == "retire" && a.entity_type == "course"),
            "{engine}"
        );

        // Reactivated: assignable again.
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/reactivate"),
            &m,
            Some(json!({"version": 2})),
        )
        .await;
        assert_eq!(
            (s, v["status"].as_str()),
            (StatusCode::OK, Some("active")),
            "{engine}: {v}"
        );
        let (s, v) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/assignments"),
            &m,
            Some(json!({"to": ["ed@acme.test"], "due_date": in_days(5)})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");
        let (_, v) = call(&app, "GET", "/api/v1/courses", &m, None).await;
        assert_eq!(titles(&v), ["Clear desk 2025"], "{engine}: {v}");
        let (s, _) = call(
            &app,
            "POST",
            &format!("/api/v1/courses/{id}/reactivate"),
            &m,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{engine}: active already");

        // The page's button retires it (version 3 now) and the list moves it.
        let (cookie, csrf) = app.login("mia@acme.test", PASSWORD).await;
        let page = app
            .get(&format!("/training/courses/{id}"), Some(&cookie))
            .await;
        assert!(page.body.contains("id=\"retire-course\""), "{engine}");
        let r = app
            .post(
                &format!("/training/courses/{id}/retire"),
                Some(&cookie),
                &[("csrf_token", &csrf), ("version", "3")],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let page = app
            .get(&format!("/training/courses/{id}"), Some(&cookie))
            .await;
        assert!(page.body.contains("id=\"reactivate-course\""), "{engine}");
        let list = app.get("/training", Some(&cookie)).await;
        assert!(list.body.contains("Retired courses (1)"), "{engine}");
    }
}

#[tokio::test]
async fn the_competence_report_is_a_pdf_on_the_page_the_api_and_the_cli() {
    for (engine, url) in database_urls().await {
        let store = isms_store::Store::open(&url).await.unwrap();
        let org = org_with(&store, "Łódź Trading", "ann@acme.test", Role::Admin).await;
        let m = token(&store, &org, "mia@acme.test", Role::IsmsManager).await;
        token(&store, &org, "eve@acme.test", Role::Employee).await;
        token(&store, &org, "zoe@acme.test", Role::Employee).await;
        let app = App::new(store.clone());
        let (s, req) = call(
            &app,
            "POST",
            "/api/v1/competence/requirements",
            &m,
            Some(json!({"role": "employee", "title": "Recognises phishing"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {req}");
        let (s, v) = call(&app, "POST", "/api/v1/competence/records", &m, Some(json!({"person": "eve@acme.test", "requirement": req["id"], "evidence": "Certificate Παπαδόπουλος 42", "achieved_on": "2026-01-10"}))).await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");

        let check = |pdf: &[u8]| {
            assert!(pdf.starts_with(b"%PDF-"), "{engine}");
            let text = pdf_text(pdf);
            for want in [
                "Competence records",
                "Łódź Trading",
                "Employee: requires Recognises phishing",
                "eve@acme.test",
                "Certificate Παπαδόπουλος 42",
                "Held",
                "zoe@acme.test",
                "Gap",
                "1 gap(s)",
            ] {
                assert!(text.contains(want), "{engine}: {want} in {text}");
            }
        };
        let r = app
            .api("GET", "/api/v1/competence/export?format=pdf", Some(&m))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        check(r.bytes.as_slice());
        let again = app
            .api("GET", "/api/v1/competence/export?format=pdf", Some(&m))
            .await;
        assert_eq!(r.bytes, again.bytes, "{engine}: deterministic");
        let r = app
            .api("GET", "/api/v1/competence/export?format=csv", Some(&m))
            .await;
        assert!(
            r.body.contains("Employee,zoe@acme.test,"),
            "{engine}: {}",
            r.body
        );
        assert!(
            r.body.contains(",Recognises phishing,Gap,"),
            "{engine}: {}",
            r.body
        );
        let r = app
            .api("GET", "/api/v1/competence/export?format=doc", Some(&m))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");

        // The page links the download, which answers the same PDF.
        let (cookie, _) = app.login("mia@acme.test", PASSWORD).await;
        let page = app.get("/training/competence", Some(&cookie)).await;
        assert!(
            page.body.contains("/training/competence/export?format=pdf"),
            "{engine}"
        );
        let r = app
            .get("/training/competence/export?format=pdf", Some(&cookie))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}");
        check(r.bytes.as_slice());

        // The command line.
        let dir =
            std::env::temp_dir().join(format!("isms-competence-{}-{engine}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("competence.pdf");
        let db = url.clone();
        let path = out.display().to_string();
        let slug = org.slug.clone();
        let o = tokio::task::spawn_blocking(move || {
            isms(
                &db,
                &[
                    "training",
                    "competence",
                    "--org",
                    &slug,
                    "--format",
                    "pdf",
                    "-o",
                    &path,
                ],
                None,
            )
        })
        .await
        .unwrap();
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        assert!(stdout(&o).contains("competence records"), "{}", stdout(&o));
        check(std::fs::read(&out).unwrap().as_slice());
        let _ = std::fs::remove_dir_all(&dir);
        store.close().await;
    }
}
