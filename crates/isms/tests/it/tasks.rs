//! Tasks and reminders end to end on both engines: the roadmap, hand-made
//! tasks beside the modules' due items, e-mail digests through a local SMTP
//! sink (the real binary), and the calendar feed read by a real iCalendar
//! parser.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use isms_domain::Role;
use isms_store::{Actor, Store, TaskInput};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::cli::{isms, stderr, stdout};
use crate::soa::{call, token};
use crate::support::{App, add, database_urls, org_with, stores};

fn day(offset: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(offset))
        .format(fmt)
        .unwrap()
}

async fn admin(store: &Store, org: &isms_store::Org) -> String {
    let user = store.user_by_email("ann@acme.test").await.unwrap().unwrap();
    store
        .create_token(org.id, user.id, "test", &Actor::cli())
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn the_roadmap_starts_with_the_scope_which_closes_when_the_scope_is_written() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = admin(&store, &org).await;
        let app = App::new(store.clone());
        let (s, v) = call(&app, "GET", "/api/v1/roadmap", &t, None).await;
        assert_eq!(s, StatusCode::OK, "{engine}: {v}");
        let steps = v["steps"].as_array().expect("steps");
        assert!(steps.len() >= 10, "{engine}: {v}");
        assert!(steps.iter().all(|s| s["title"].is_string()
            && ["done", "in_progress", "todo"].contains(&s["status"].as_str().unwrap())));
        let first = steps.iter().find(|s| s["status"] != "done").unwrap();
        assert!(
            first["title"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("scope"),
            "{engine}: {first}"
        );
        assert_eq!(steps.last().unwrap()["key"], "stage2");

        let (s, v) = call(
            &app,
            "PUT",
            "/api/v1/scope",
            &t,
            Some(json!({
                "statement": "The SaaS platform and its support",
                "units": "Engineering; Support",
                "locations": "Berlin office; AWS eu-central-1",
                "processes": "Development; Operations; Customer support",
                "version": 0,
            })),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{engine}: {v}");
        let (_, v) = call(&app, "GET", "/api/v1/roadmap", &t, None).await;
        let scope = v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == "scope")
            .unwrap();
        assert_eq!(scope["status"], "done", "{engine}: {scope}");
        let first = v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["status"] != "done")
            .unwrap();
        assert_ne!(first["key"], "scope");

        // Re-planned: an owner and a date, versioned.
        let (s, p) = call(
            &app,
            "PATCH",
            "/api/v1/roadmap/steps/policy",
            &t,
            Some(json!({"owner": "ann@acme.test", "due_date": day(-1), "version": 0})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{engine}: {p}");
        assert_eq!(
            (p["version"].as_i64(), &p["owner"]),
            (Some(1), &json!("ann@acme.test"))
        );
        let (s, _) = call(
            &app,
            "PATCH",
            "/api/v1/roadmap/steps/policy",
            &t,
            Some(json!({"due_date": day(3), "version": 0})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{engine}: a stale plan");
        let (s, p) = call(
            &app,
            "PATCH",
            "/api/v1/roadmap/steps/scope",
            &t,
            Some(json!({"done": true, "version": 0})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {p}");
        // A planned step that is due is one of the owner's items.
        let (_, mine) = call(&app, "GET", "/api/v1/me/tasks", &t, None).await;
        assert!(
            mine["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["kind"] == "roadmap_step" && i["overdue"] == true),
            "{engine}: {mine}"
        );
    }
}

#[tokio::test]
async fn a_task_is_listed_for_its_owner_with_the_modules_items() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = admin(&store, &org).await;
        let bob = token(&store, &org, "bob@acme.test", Role::Employee).await;
        org_with(&store, "Other", "eve@other.test", Role::Admin).await;
        let app = App::new(store.clone());
        let due = day(5);
        let (s, v) = call(
            &app,
            "POST",
            "/api/v1/tasks",
            &t,
            Some(json!({"title": "Renew the pentest contract", "owner": "bob@acme.test", "due_date": due})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");
        let id = v["id"].as_i64().expect("id");

        // A risk treatment action owned by bob comes through Store::due_items.
        let (_, r) = call(
            &app,
            "POST",
            "/api/v1/risks",
            &t,
            Some(json!({"title": "Laptop theft", "likelihood": 2, "impact": 3, "treatment": "modify"})),
        )
        .await;
        let risk = r["id"].as_i64().unwrap();
        let (s, a) = call(
            &app,
            "POST",
            &format!("/api/v1/risks/{risk}/actions"),
            &t,
            Some(json!({"title": "Encrypt every disk", "owner": "bob@acme.test", "due_date": day(-2)})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {a}");

        let (s, v) = call(&app, "GET", "/api/v1/me/tasks", &bob, None).await;
        assert_eq!(s, StatusCode::OK, "{engine}: {v}");
        let tasks = v["tasks"].as_array().unwrap();
        let mine = tasks
            .iter()
            .find(|i| i["kind"] == "task" && i["id"].as_i64() == Some(id))
            .unwrap_or_else(|| panic!("{engine}: {v}"));
        assert_eq!(mine["due_date"], due.as_str());
        assert_eq!(mine["overdue"], false);
        let action = tasks
            .iter()
            .find(|i| i["kind"] == "risk_action")
            .unwrap_or_else(|| panic!("{engine}: {v}"));
        assert_eq!(action["overdue"], true);
        assert_eq!(tasks[0]["kind"], "risk_action", "by date");
        // The admin has none of them.
        let (_, v) = call(&app, "GET", "/api/v1/me/tasks", &t, None).await;
        assert!(v["tasks"].as_array().unwrap().is_empty(), "{engine}: {v}");
        // The owner was told in the inbox.
        let bob_id = store
            .user_by_email("bob@acme.test")
            .await
            .unwrap()
            .unwrap()
            .id;
        assert_eq!(store.unread_count(org.id, bob_id).await.unwrap(), 1);

        // Bad input: named, nothing stored.
        for (body, field) in [
            (
                json!({"title": "x", "owner": "eve@other.test", "due_date": due}),
                "owner",
            ),
            (json!({"title": "x", "owner": "nobody@acme.test"}), "owner"),
            (
                json!({"title": "x", "owner": "bob@acme.test", "due_date": "2026-02-30"}),
                "due_date",
            ),
            (json!({"title": " ", "owner": "bob@acme.test"}), "title"),
            (json!({"owner": "bob@acme.test"}), "title"),
        ] {
            let (s, v) = call(&app, "POST", "/api/v1/tasks", &t, Some(body.clone())).await;
            assert_eq!(
                s,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{engine}: {body} -> {v}"
            );
            assert!(
                v["detail"].as_str().unwrap().contains(field),
                "{engine}: {v}"
            );
        }
        assert_eq!(store.tasks(org.id, None, false).await.unwrap().len(), 1);
        // An employee may not create tasks, and sees only their own.
        let (s, _) = call(
            &app,
            "POST",
            "/api/v1/tasks",
            &bob,
            Some(json!({"title": "x", "owner": "bob@acme.test"})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // The owner closes it; a stale version is refused.
        let (s, v) = call(
            &app,
            "PATCH",
            &format!("/api/v1/tasks/{id}"),
            &bob,
            Some(json!({"status": "done", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{engine}: {v}");
        let (s, _) = call(
            &app,
            "PATCH",
            &format!("/api/v1/tasks/{id}"),
            &bob,
            Some(json!({"status": "open", "version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (_, v) = call(&app, "GET", "/api/v1/me/tasks", &bob, None).await;
        assert!(
            !v["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["kind"] == "task"),
            "{engine}: done tasks leave the list"
        );
    }
}

/// What the SMTP sink received: one entry per message.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mail {
    pub(crate) to: Vec<String>,
    pub(crate) data: String,
}

/// A small SMTP server on loopback that accepts every message and records it.
pub(crate) async fn smtp_sink() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = socket.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut mail = Mail::default();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL FROM") {
                        mail = Mail::default();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO") {
                        mail.to
                            .push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        let _ = w.write_all(b"354 go on\r\n").await;
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            mail.data.push_str(&l);
                            mail.data.push('\n');
                        }
                        store.lock().unwrap().push(std::mem::take(&mut mail));
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (port, received)
}

async fn run(db: &str, args: Vec<String>) -> std::process::Output {
    let db = db.to_owned();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        isms(&db, &args, None)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn notify_run_once_sends_one_digest_per_member_and_day() {
    for (engine, url) in database_urls().await {
        let store = Store::open(&url).await.unwrap();
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        for who in ["bob", "carol", "dave"] {
            add(&store, &org, &format!("{who}@acme.test"), Role::Employee).await;
        }
        let task = |title: &str, owner: &str, due: String| TaskInput {
            title: Some(title.into()),
            owner: Some(owner.into()),
            due_date: Some(due),
            ..Default::default()
        };
        let a = store
            .create_task(
                org.id,
                &task("Rotate the backup keys", "bob@acme.test", day(-3)),
                &Actor::cli(),
            )
            .await
            .unwrap();
        store
            .create_task(
                org.id,
                &task("Review supplier contracts", "bob@acme.test", day(-1)),
                &Actor::cli(),
            )
            .await
            .unwrap();
        store
            .create_task(
                org.id,
                &task("Patch the VPN", "carol@acme.test", day(-1)),
                &Actor::cli(),
            )
            .await
            .unwrap();
        // Dave's item is not overdue: no digest for him.
        store
            .create_task(
                org.id,
                &task("Plan the audit", "dave@acme.test", day(4)),
                &Actor::cli(),
            )
            .await
            .unwrap();
        let dave = store
            .user_by_email("dave@acme.test")
            .await
            .unwrap()
            .unwrap()
            .id;

        // No SMTP configured: nothing sent, the inbox written.
        let o = run(&url, vec!["notify".into(), "run-once".into()]).await;
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        assert!(
            stdout(&o).contains("no --smtp-url: no e-mail sent"),
            "{}",
            stdout(&o)
        );
        let bob = store
            .user_by_email("bob@acme.test")
            .await
            .unwrap()
            .unwrap()
            .id;
        assert!(
            store
                .inbox(org.id, bob, true)
                .await
                .unwrap()
                .iter()
                .any(|m| m.title.starts_with("Overdue since")
                    && m.link == format!("/tasks/{}", a.id)),
            "{engine}"
        );
        assert!(!store.digest_sent(org.id, bob, &day(0)).await.unwrap());

        // SMTP down: said once, nothing marked sent, the inbox still written.
        let dead = crate::cli::free_port();
        let o = run(
            &url,
            vec![
                "notify".into(),
                "run-once".into(),
                "--smtp-url".into(),
                format!("smtp://127.0.0.1:{dead}"),
            ],
        )
        .await;
        assert!(!o.status.success(), "{engine}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(
            err.contains("SMTP") && err.contains("next run"),
            "{engine}: {err}"
        );
        let bob = store
            .user_by_email("bob@acme.test")
            .await
            .unwrap()
            .unwrap()
            .id;
        assert!(!store.digest_sent(org.id, bob, &day(0)).await.unwrap());
        // The assignment and the reminder.
        assert_eq!(
            store.unread_count(org.id, dave).await.unwrap(),
            2,
            "{engine}: reminder in the inbox"
        );

        let (port, received) = smtp_sink().await;
        let smtp = format!("smtp://127.0.0.1:{port}");
        let args = vec![
            "notify".into(),
            "run-once".into(),
            "--smtp-url".into(),
            smtp.clone(),
        ];
        let o = run(&url, args.clone()).await;
        assert!(
            o.status.success(),
            "{engine}: {} {}",
            stdout(&o),
            stderr(&o)
        );
        {
            let mails = received.lock().unwrap();
            assert_eq!(mails.len(), 2, "{engine}: {mails:?}");
            let to_bob = mails.iter().find(|m| m.to == ["bob@acme.test"]).unwrap();
            assert!(
                to_bob
                    .data
                    .contains("Subject: [Acme Ltd] 2 overdue item(s)"),
                "{}",
                to_bob.data
            );
            assert!(to_bob.data.contains("Rotate the backup keys"));
            assert!(to_bob.data.contains("Review supplier contracts"));
            assert!(
                to_bob.data.contains(&format!("/tasks/{}", a.id)),
                "{}",
                to_bob.data
            );
            let to_carol = mails.iter().find(|m| m.to == ["carol@acme.test"]).unwrap();
            assert!(to_carol.data.contains("Patch the VPN"));
            assert!(!to_carol.data.contains("Rotate"));
        }
        // Again the same day: none.
        let o = run(&url, args).await;
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        assert!(stdout(&o).contains("0 digest(s) sent"), "{}", stdout(&o));
        assert_eq!(received.lock().unwrap().len(), 2, "{engine}: sent twice");

        // Opt-outs: carol no longer wants task e-mails (next day's digest).
        let carol = store
            .user_by_email("carol@acme.test")
            .await
            .unwrap()
            .unwrap()
            .id;
        store
            .set_optouts(org.id, carol, &["task".into()], &Actor::cli())
            .await
            .unwrap();
        assert_eq!(store.optouts(org.id, carol).await.unwrap(), ["task"]);
        store.close().await;
    }
}

#[tokio::test]
async fn an_invalid_sender_stops_the_start_with_one_line() {
    let (_, url) = database_urls().await.remove(0);
    let o = run(
        &url,
        vec![
            "serve".into(),
            "--bind".into(),
            "127.0.0.1:0".into(),
            "--smtp-url".into(),
            "smtp://127.0.0.1:25".into(),
            "--smtp-from".into(),
            "not an address".into(),
        ],
    )
    .await;
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--smtp-from"), "{err}");
}

#[tokio::test]
async fn the_calendar_feed_lists_dated_tasks_until_revoked() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = admin(&store, &org).await;
        let app = App::new(store.clone());
        let mut ids = Vec::new();
        for (title, due) in [
            ("Renew the certificate", day(10)),
            ("Call the auditor", day(-1)),
            ("Undated", String::new()),
        ] {
            let (s, v) = call(
                &app,
                "POST",
                "/api/v1/tasks",
                &t,
                Some(json!({"title": title, "owner": "ann@acme.test", "due_date": due})),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");
            ids.push(v["id"].as_i64().unwrap());
        }
        let (s, v) = call(&app, "POST", "/api/v1/me/calendar", &t, None).await;
        assert_eq!(s, StatusCode::CREATED, "{engine}: {v}");
        let url = v["url"].as_str().unwrap().to_owned();
        let path = match url.find("/calendar/") {
            Some(i) => url[i..].to_owned(),
            None => panic!("{url}"),
        };
        let r = app.get(&path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("text/calendar")
        );
        let cal = ical::IcalParser::new(std::io::BufReader::new(r.body.as_bytes()))
            .next()
            .expect("a calendar")
            .expect("parses as iCalendar");
        assert_eq!(
            cal.events.len(),
            2,
            "{engine}: one per dated task\n{}",
            r.body
        );
        let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
            e.properties
                .iter()
                .find(|p| p.name == name)
                .cloned()
                .unwrap()
        };
        let summaries: Vec<String> = cal
            .events
            .iter()
            .map(|e| prop(e, "SUMMARY").value.unwrap())
            .collect();
        assert!(
            summaries.contains(&"Renew the certificate".to_owned()),
            "{summaries:?}"
        );
        let renew = cal
            .events
            .iter()
            .find(|e| prop(e, "SUMMARY").value.as_deref() == Some("Renew the certificate"))
            .unwrap();
        let start = prop(renew, "DTSTART");
        assert_eq!(start.value.unwrap(), day(10).replace('-', ""));
        assert!(
            format!("{:?}", start.params).contains("DATE"),
            "all-day: {:?}",
            start.params
        );
        assert_eq!(
            prop(renew, "UID").value.unwrap(),
            format!("task-{}-org{}@isms", ids[0], org.id)
        );

        // Another organisation's feed secret is not this one; a guess is 404.
        let r = app.get("/calendar/ismscal_0000", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        let (s, _) = call(&app, "DELETE", "/api/v1/me/calendar", &t, None).await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{engine}");
        let r = app.get(&path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{engine}: revoked");
        let (s, _) = call(&app, "DELETE", "/api/v1/me/calendar", &t, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_pages_plan_assign_remind_and_subscribe() {
    use crate::support::PASSWORD;
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        add(&store, &org, "bob@acme.test", Role::Employee).await;
        org_with(&store, "Other", "eve@other.test", Role::Admin).await;
        let app = App::new(store.clone());
        let (ann, csrf) = app.login("ann@acme.test", PASSWORD).await;

        let r = app.get("/roadmap", Some(&ann)).await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.body);
        assert!(r.body.contains("Define the scope of the ISMS"));
        assert!(r.body.contains("Certification audit, stage 2"));
        let r = app
            .post(
                "/roadmap/scope",
                Some(&ann),
                &[
                    ("csrf_token", &csrf),
                    ("owner", "bob@acme.test"),
                    ("due_date", &day(-1)),
                    ("version", "0"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let r = app
            .post(
                "/roadmap/scope",
                Some(&ann),
                &[
                    ("csrf_token", &csrf),
                    ("owner", "bob@acme.test"),
                    ("due_date", "someday"),
                    ("version", "1"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("due_date"), "{}", r.body);

        // A task for someone of another organisation is refused, named.
        let r = app
            .post(
                "/tasks",
                Some(&ann),
                &[
                    ("csrf_token", &csrf),
                    ("title", "Read the policy"),
                    ("owner", "eve@other.test"),
                    ("due_date", ""),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        assert!(
            r.body.contains("eve@other.test is not an active member"),
            "{}",
            r.body
        );
        assert!(r.body.contains("Read the policy"), "what was typed is kept");
        let r = app
            .post(
                "/tasks",
                Some(&ann),
                &[
                    ("csrf_token", &csrf),
                    ("title", "Read the policy"),
                    ("owner", "bob@acme.test"),
                    ("due_date", &day(2)),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let task_path = r.header("location").unwrap();

        let (bob, bob_csrf) = app.login("bob@acme.test", PASSWORD).await;
        let r = app.get("/tasks", Some(&bob)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("Read the policy") && r.body.contains("Roadmap: Define the scope"),
            "{}",
            r.body
        );
        assert!(
            !r.body.contains("Give someone a task"),
            "employees do not assign"
        );
        // The header counts the unread messages (the task and the step).
        assert!(
            r.body.contains("2<span class=\"visually-hidden\"> unread"),
            "{}",
            r.body
        );
        let r = app.get("/inbox", Some(&bob)).await;
        assert!(r.body.contains("New task: Read the policy"), "{}", r.body);
        let r = app
            .post("/inbox/read", Some(&bob), &[("csrf_token", &bob_csrf)], &[])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = app.get("/inbox", Some(&bob)).await;
        assert!(!r.body.contains(" unread</span>"));
        // Bob closes his task.
        let r = app
            .post(
                &task_path,
                Some(&bob),
                &[
                    ("csrf_token", &bob_csrf),
                    ("status", "done"),
                    ("due_date", &day(2)),
                    ("version", "1"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        assert_eq!(
            app.get("/tasks/due", Some(&bob)).await.status,
            StatusCode::FORBIDDEN
        );
        let r = app.get("/tasks/due", Some(&ann)).await;
        assert!(
            r.body.contains("Define the scope") && !r.body.contains("Read the policy"),
            "{}",
            r.body
        );

        // Calendar feed on the profile: created, shown once, revoked.
        let r = app
            .post(
                "/profile/calendar",
                Some(&bob),
                &[("csrf_token", &bob_csrf)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        let start = r.body.find("/calendar/ismscal_").unwrap();
        let end = start + r.body[start..].find('<').unwrap();
        let feed = r.body[start..end].to_owned();
        assert_eq!(app.get(&feed, None).await.status, StatusCode::OK);
        let r = app
            .post(
                "/profile/calendar/revoke",
                Some(&bob),
                &[("csrf_token", &bob_csrf)],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(app.get(&feed, None).await.status, StatusCode::NOT_FOUND);

        // Opt-outs: unticking tasks.
        let r = app
            .post(
                "/profile/notifications",
                Some(&bob),
                &[
                    ("csrf_token", &bob_csrf),
                    ("shown", "task"),
                    ("shown", "risk_action"),
                    ("email", "risk_action"),
                ],
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let bob_id = store
            .user_by_email("bob@acme.test")
            .await
            .unwrap()
            .unwrap()
            .id;
        assert_eq!(store.optouts(org.id, bob_id).await.unwrap(), ["task"]);
        let r = app.get("/profile", Some(&bob)).await;
        assert!(
            r.body
                .contains("name=\"email\" value=\"risk_action\" checked"),
            "{}",
            r.body
        );

        let r = app.get("/search?q=policy", Some(&ann)).await;
        assert!(
            r.body.contains("Read the policy") && r.body.contains(&task_path),
            "{}",
            r.body
        );

        // The dashboard shows the roadmap by phase.
        let r = app.get("/readiness/summary", Some(&ann)).await;
        assert!(
            r.body.contains("implementation roadmap")
                && r.body.contains("Roadmap progress by phase"),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn isms_tasks_lists_what_is_due() {
    for (engine, url) in database_urls().await {
        let store = Store::open(&url).await.unwrap();
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        add(&store, &org, "bob@acme.test", Role::Employee).await;
        store
            .create_task(
                org.id,
                &TaskInput {
                    title: Some("Rotate the keys".into()),
                    owner: Some("bob@acme.test".into()),
                    due_date: Some(day(-1)),
                    ..Default::default()
                },
                &Actor::cli(),
            )
            .await
            .unwrap();
        store.close().await;
        let o = run(&url, vec!["tasks".into(), "--org".into(), org.slug.clone()]).await;
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains("OVERDUE\tbob@acme.test\ttask-") && out.contains("Rotate the keys"),
            "{out}"
        );
        let o = run(
            &url,
            vec![
                "tasks".into(),
                "--org".into(),
                org.slug.clone(),
                "--user".into(),
                "ann@acme.test".into(),
            ],
        )
        .await;
        assert_eq!(stdout(&o), format!("nothing due by {}", day(30)));
        let o = run(
            &url,
            vec![
                "tasks".into(),
                "--org".into(),
                org.slug.clone(),
                "--user".into(),
                "zed@acme.test".into(),
            ],
        )
        .await;
        assert!(!o.status.success() && stderr(&o).contains("not a member"));
    }
}

#[tokio::test]
async fn one_digest_decision_and_one_scheduler_at_a_time() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let ann = store
            .user_by_email("ann@acme.test")
            .await
            .unwrap()
            .unwrap()
            .id;
        // Two instances decide the same digest at once: the second waits for
        // the first and then finds it sent.
        let first = store
            .claim_digest(org.id, ann, "2026-01-05", 1)
            .await
            .unwrap()
            .unwrap();
        let second = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .claim_digest(org.id, ann, "2026-01-05", 1)
                    .await
                    .unwrap()
                    .is_some()
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        first.sent().await.unwrap();
        assert!(!second.await.unwrap(), "{engine}: sent twice");
        // A failed send (the claim dropped) leaves it to the next run.
        let failed = store
            .claim_digest(org.id, ann, "2026-01-06", 1)
            .await
            .unwrap()
            .unwrap();
        drop(failed);
        assert!(!store.digest_sent(org.id, ann, "2026-01-06").await.unwrap());
        assert!(
            store
                .claim_digest(org.id, ann, "2026-01-06", 1)
                .await
                .unwrap()
                .is_some()
        );

        // The scheduler's lock: one holder on PostgreSQL, always on SQLite.
        let lock = store.try_scheduler_lock().await.unwrap();
        assert!(lock.is_some());
        let again = store.try_scheduler_lock().await.unwrap();
        assert_eq!(again.is_some(), engine == "sqlite", "{engine}");
        drop(again);
        drop(lock);
        assert!(
            store.try_scheduler_lock().await.unwrap().is_some(),
            "{engine}: released"
        );
    }
}

#[tokio::test]
async fn two_saves_of_the_same_task_version_one_wins() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let t = store
            .create_task(
                org.id,
                &TaskInput {
                    title: Some("Rotate the keys".into()),
                    owner: Some("ann@acme.test".into()),
                    ..Default::default()
                },
                &Actor::cli(),
            )
            .await
            .unwrap();
        let save = |due: &'static str| {
            let store = store.clone();
            let id = t.id;
            let org = org.id;
            tokio::spawn(async move {
                store
                    .update_task(
                        org,
                        id,
                        &TaskInput {
                            due_date: Some(due.into()),
                            version: Some(1),
                            ..Default::default()
                        },
                        true,
                        &Actor::cli(),
                    )
                    .await
            })
        };
        let (a, b) = (save("2026-03-01"), save("2026-04-01"));
        let results = [a.await.unwrap(), b.await.unwrap()];
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "{engine}: {results:?}");
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(isms_store::StoreError::Conflict(_))))
        );
        assert_eq!(store.task(org.id, t.id).await.unwrap().version, 2);
    }
}

#[tokio::test]
async fn isms_serve_sends_the_digests_in_the_background() {
    let (_, url) = database_urls().await.remove(0);
    let store = Store::open(&url).await.unwrap();
    let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
    store
        .create_task(
            org.id,
            &TaskInput {
                title: Some("Sign the NDA".into()),
                owner: Some("ann@acme.test".into()),
                due_date: Some(day(-2)),
                ..Default::default()
            },
            &Actor::cli(),
        )
        .await
        .unwrap();
    let (port, received) = smtp_sink().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_isms"))
        .args([
            "--database",
            &url,
            "serve",
            "--bind",
            &format!("127.0.0.1:{}", crate::cli::free_port()),
            "--smtp-url",
            &format!("smtp://127.0.0.1:{port}"),
            "--public-url",
            "https://isms.example",
            "--reminder-minutes",
            "1",
        ])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while received.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let mails = received.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, ["ann@acme.test"]);
    assert!(
        mails[0].data.contains("Sign the NDA")
            && mails[0].data.contains("https://isms.example/tasks/"),
        "{}",
        mails[0].data
    );
    let ann = store
        .user_by_email("ann@acme.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert!(store.digest_sent(org.id, ann, &day(0)).await.unwrap());
}
