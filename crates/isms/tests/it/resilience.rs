//! The real binary under duress: `kill -9` during a write load (every
//! acknowledged write survives, the audit chain verifies), and two instances
//! on one PostgreSQL database (logins, CSRF, version checks and rate limits
//! hold across them).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use isms_domain::Role;
use isms_store::{Actor, Store};

use crate::cli::{Http, http, isms, start_server, stderr};
use crate::support::{PASSWORD, database_urls, org_with};

/// An organisation with an admin who has an API token; the store is closed.
async fn prepared(url: &str) -> String {
    let store = Store::open(url).await.unwrap();
    let org = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
    let user = store.user_by_email("ann@acme.test").await.unwrap().unwrap();
    let (_, token) = store
        .create_token(org.id, user.id, "load", &Actor::cli())
        .await
        .unwrap();
    store.close().await;
    token
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_writes_loses_no_acknowledged_write() {
    for (engine, url) in database_urls().await {
        let token = prepared(&url).await;
        let dir = std::env::temp_dir().join(format!("isms_kill_{engine}_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let acked = tokio::task::spawn_blocking({
            let url = url.clone();
            move || {
                let server = start_server(&url, &dir);
                let base = server.base.clone();
                let stop = Arc::new(AtomicBool::new(false));
                let writers: Vec<_> = (0..4)
                    .map(|w| {
                        let (base, token, stop) = (base.clone(), token.clone(), stop.clone());
                        std::thread::spawn(move || {
                            let agent = ureq::AgentBuilder::new()
                                .timeout(Duration::from_secs(5))
                                .build();
                            let mut acked = Vec::new();
                            for i in 0.. {
                                let title = format!("writer {w} item {i}");
                                let r = agent
                                    .post(&format!("{base}/api/v1/context-items"))
                                    .set("Authorization", &format!("Bearer {token}"))
                                    .set("Content-Type", "application/json")
                                    .send_string(
                                        &serde_json::json!({
                                            "kind": "issue", "title": title, "category": "internal"
                                        })
                                        .to_string(),
                                    );
                                match r {
                                    Ok(resp) if resp.status() == 201 || resp.status() == 200 => {
                                        acked.push(title);
                                    }
                                    Ok(resp) => panic!("unexpected {}", resp.status()),
                                    Err(ureq::Error::Status(s, resp)) => panic!(
                                        "unexpected {s}: {}",
                                        resp.into_string().unwrap_or_default()
                                    ),
                                    // The server is gone.
                                    Err(_) => break,
                                }
                                if i > 10_000 || stop.load(Ordering::Relaxed) && i % 50 == 49 {
                                    // Bounded: the kill ends the loop long before.
                                    break;
                                }
                            }
                            acked
                        })
                    })
                    .collect();
                // Let the load run, then kill the server mid-write.
                std::thread::sleep(Duration::from_millis(1500));
                stop.store(true, Ordering::Relaxed);
                drop(server); // SIGKILL
                writers
                    .into_iter()
                    .flat_map(|w| w.join().expect("writer"))
                    .collect::<Vec<String>>()
            }
        })
        .await
        .unwrap();
        assert!(
            acked.len() >= 10,
            "{engine}: the load acknowledged only {} writes",
            acked.len()
        );
        // The database opens, the chain verifies, every acknowledged write is there.
        let verify = isms(&url, &["audit-log", "verify"], None);
        assert!(verify.status.success(), "{engine}: {}", stderr(&verify));
        let store = Store::open(&url).await.unwrap();
        let org = store.org_by_slug("acme-ltd").await.unwrap().unwrap();
        let titles: std::collections::HashSet<String> = store
            .context_items(org.id, Some("issue"))
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.title)
            .collect();
        let lost: Vec<&String> = acked.iter().filter(|t| !titles.contains(*t)).collect();
        assert!(lost.is_empty(), "{engine}: acknowledged but lost: {lost:?}");
        println!(
            "{engine}: {} acknowledged writes before kill -9, all present; {} stored",
            acked.len(),
            titles.len()
        );
        store.close().await;
    }
}

fn login_form(agent: &ureq::Agent, base: &str) -> (String, String) {
    let page = http(agent.get(&format!("{base}/login")), None);
    assert_eq!(page.status, 200);
    let (pre, _) = page.cookie("isms_login").expect("login cookie");
    (pre, page.hidden("csrf_token"))
}

fn login(agent: &ureq::Agent, form_from: &str, post_to: &str, password: &str) -> Http {
    let (pre, csrf) = login_form(agent, form_from);
    http(
        agent.post(&format!("{post_to}/login")).set("Cookie", &pre),
        Some(&[
            ("csrf_token", &csrf),
            ("email", "ann@acme.test"),
            ("password", password),
        ]),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_on_one_postgresql_share_sessions_versions_and_limits() {
    let Some((_, url)) = database_urls()
        .await
        .into_iter()
        .find(|(e, _)| *e == "postgres")
    else {
        println!("skipped: set ISMS_TEST_POSTGRES_URL to run the two-instance test");
        return;
    };
    prepared(&url).await;
    let dir = std::env::temp_dir().join(format!("isms_two_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    tokio::task::spawn_blocking(move || {
        let a = start_server(&url, &dir);
        let b = start_server(&url, &dir);
        let agent = ureq::AgentBuilder::new().redirects(0).build();

        // The login form of one instance is accepted by the other.
        let r = login(&agent, &a.base, &b.base, PASSWORD);
        assert_eq!(r.status, 303, "{}", r.body);
        let (session, _) = r.cookie("isms_session").unwrap();
        // The session made on B works on A; A's page CSRF token works on B.
        let profile = http(
            agent
                .get(&format!("{}/profile", a.base))
                .set("Cookie", &session),
            None,
        );
        assert_eq!(profile.status, 200);
        let csrf = profile.hidden("csrf_token");
        let save = |base: &str, statement: &str, version: &str| {
            http(
                agent
                    .post(&format!("{base}/context/scope"))
                    .set("Cookie", &session),
                Some(&[
                    ("csrf_token", &csrf),
                    ("statement", statement),
                    ("version", version),
                ]),
            )
        };
        let first = save(&b.base, "Scope from B", "0");
        assert!(
            first.status == 303 || first.status == 200,
            "{}: {}",
            first.status,
            first.body
        );
        // The same version again, on the other instance: refused.
        let stale = save(&a.base, "Scope from A", "0");
        assert_eq!(stale.status, 409, "{}", stale.body);
        // A wrong CSRF token is refused on either.
        let forged = http(
            agent
                .post(&format!("{}/context/scope", b.base))
                .set("Cookie", &session),
            Some(&[
                ("csrf_token", "forged"),
                ("statement", "x"),
                ("version", "1"),
            ]),
        );
        assert_eq!(forged.status, 403);

        // Failed logins count across instances: five, alternating, lock the account.
        for i in 0..5 {
            let (from, to) = if i % 2 == 0 {
                (&a.base, &b.base)
            } else {
                (&b.base, &a.base)
            };
            let r = login(&agent, from, to, "wrong password here");
            assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
        }
        let locked = login(&agent, &b.base, &a.base, PASSWORD);
        assert_eq!(locked.status, 429, "{}", locked.body);
        let locked = login(&agent, &a.base, &b.base, PASSWORD);
        assert_eq!(locked.status, 429, "{}", locked.body);
        drop((a, b));
    })
    .await
    .unwrap();
}
