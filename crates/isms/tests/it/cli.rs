//! The real binary end to end, on every engine: the CLI, `isms serve`, the
//! login form over HTTP, the API, and `audit-log verify` before and after
//! tampering.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use isms_store::Store;

const BIN: &str = env!("CARGO_BIN_EXE_isms");

pub fn isms(db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .arg("--database")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run isms");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_owned()
}

/// A running `isms serve`, stopped on drop.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn start_server(db: &str, dir: &std::path::Path) -> Server {
    start_server_with(db, dir, &[])
}

/// [`start_server`] with more arguments for `isms serve`.
pub fn start_server_with(db: &str, dir: &std::path::Path, extra: &[&str]) -> Server {
    let port = free_port();
    let child = Command::new(BIN)
        .current_dir(dir)
        .args([
            "--database",
            db,
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start isms serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = ureq::get(&format!("{}/healthz", server.base)).call()
            && r.status() == 200
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "isms serve did not become healthy"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

pub struct Http {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub fn http(req: ureq::Request, form: Option<&[(&str, &str)]>) -> Http {
    let result = match form {
        Some(f) => req.send_form(f),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .flat_map(|n| {
            resp.all(&n)
                .into_iter()
                .map(move |v| (n.clone(), v.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    let body = resp.into_string().unwrap_or_default();
    Http {
        status,
        headers,
        body,
    }
}

impl Http {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn cookie(&self, name: &str) -> Option<(String, String)> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .find(|(_, v)| v.starts_with(&format!("{name}=")))
            .map(|(_, v)| (v.split(';').next().unwrap().to_owned(), v.clone()))
    }
    pub fn hidden(&self, name: &str) -> String {
        let needle = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&needle).expect("hidden field") + needle.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_acceptance_path_end_to_end() {
    for (engine, db) in crate::support::database_urls().await {
        let dir = std::env::temp_dir().join(format!("isms_cli_{}_{engine}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();

        let o = isms(&db, &["org", "create", "Acme Ltd"], None);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        assert_eq!(stdout(&o), "acme-ltd");

        let o = isms(
            &db,
            &[
                "user",
                "add",
                "admin@acme.test",
                "--org",
                "acme-ltd",
                "--role",
                "admin",
                "--password-stdin",
            ],
            Some("too short\n"),
        );
        assert!(!o.status.success());
        assert!(
            stderr(&o).contains("at least 12 characters"),
            "{}",
            stderr(&o)
        );
        let o = isms(
            &db,
            &[
                "user",
                "add",
                "admin@acme.test",
                "--org",
                "nope",
                "--role",
                "admin",
                "--password-stdin",
            ],
            Some("correct horse battery\n"),
        );
        assert!(!o.status.success());
        assert!(stderr(&o).contains("no organisation with the slug 'nope'"));
        let o = isms(
            &db,
            &[
                "user",
                "add",
                "admin@acme.test",
                "--org",
                "acme-ltd",
                "--role",
                "boss",
                "--password-stdin",
            ],
            Some("correct horse battery\n"),
        );
        assert!(stderr(&o).contains("unknown role 'boss'"));
        let o = isms(
            &db,
            &[
                "user",
                "add",
                "admin@acme.test",
                "--org",
                "acme-ltd",
                "--role",
                "admin",
                "--password-stdin",
            ],
            Some("correct horse battery\n"),
        );
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        let o = isms(
            &db,
            &["token", "create", "admin@acme.test", "--org", "acme-ltd"],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let token = stdout(&o);
        assert!(token.starts_with("isms_"));

        let server = tokio::task::block_in_place(|| start_server(&db, &dir));
        let base = server.base.clone();
        let (token2, db2) = (token.clone(), db.clone());
        tokio::task::spawn_blocking(move || {
            let agent = ureq::AgentBuilder::new().redirects(0).build();
            let login = http(agent.get(&format!("{base}/login")), None);
            assert_eq!(login.status, 200);
            let (pre, _) = login.cookie("isms_login").unwrap();
            let csrf = login.hidden("csrf_token");
            let r = http(
                agent.post(&format!("{base}/login")).set("Cookie", &pre),
                Some(&[
                    ("csrf_token", &csrf),
                    ("email", "admin@acme.test"),
                    ("password", "correct horse battery"),
                ]),
            );
            assert_eq!(r.status, 303);
            let (session, raw) = r.cookie("isms_session").unwrap();
            assert!(raw.contains("HttpOnly"));
            let dash = http(agent.get(&format!("{base}/")).set("Cookie", &session), None);
            assert_eq!(dash.status, 200);
            assert!(dash.body.contains("Acme Ltd"));
            assert!(dash.header("content-security-policy").is_some());
            assert_eq!(dash.header("x-content-type-options"), Some("nosniff"));
            let r = http(
                agent
                    .post(&format!("{base}/logout"))
                    .set("Cookie", &session),
                Some(&[]),
            );
            assert_eq!(r.status, 403);
            assert_eq!(
                http(agent.get(&format!("{base}/")).set("Cookie", &session), None).status,
                200
            );

            let me = http(
                agent
                    .get(&format!("{base}/api/v1/me"))
                    .set("Authorization", &format!("Bearer {token2}")),
                None,
            );
            assert_eq!(me.status, 200);
            assert!(me.body.contains("\"acme-ltd\""));
            let anon = http(agent.get(&format!("{base}/api/v1/me")), None);
            assert_eq!(anon.status, 401);
            assert_eq!(
                anon.header("content-type"),
                Some("application/problem+json")
            );
            let doc: serde_json::Value = serde_json::from_str(
                &http(agent.get(&format!("{base}/api/v1/openapi.json")), None).body,
            )
            .unwrap();
            assert!(doc["openapi"].is_string());
            let _ = db2;
        })
        .await
        .unwrap();
        drop(server);

        let o = isms(&db, &["audit-log", "verify"], None);
        assert!(o.status.success(), "{engine}: {}", stdout(&o));
        let store = Store::connect(&db).await.unwrap();
        store
            .execute_raw("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
            .await
            .unwrap();
        store.close().await;
        let o = isms(&db, &["audit-log", "verify"], None);
        assert!(
            !o.status.success(),
            "{engine}: tampering must fail verification"
        );
        assert!(
            stdout(&o).contains("BROKEN\tacme-ltd\tentry #2"),
            "{}",
            stdout(&o)
        );
    }
}

#[test]
fn an_unopenable_database_gives_one_clear_line() {
    let o = isms(
        "postgres://ann:s3cret@127.0.0.1:1/isms",
        &["org", "list"],
        None,
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("postgres://ann:****@127.0.0.1:1/isms") && !err.contains("s3cret"),
        "{err}"
    );
    let o = isms("sqlite:///nonexistent-dir/sub/x.db", &["org", "list"], None);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot open the database sqlite:///nonexistent-dir/sub/x.db"),
        "{}",
        stderr(&o)
    );
}
