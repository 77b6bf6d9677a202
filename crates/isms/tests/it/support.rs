//! Shared test helpers: fresh databases on each engine, an in-process app,
//! and form/cookie plumbing.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use isms_domain::Role;
use isms_store::{Actor, Org, Store};
use tower::ServiceExt;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// A fresh, empty database URL on each engine under test.
pub async fn database_urls() -> Vec<(&'static str, String)> {
    let dir = std::env::temp_dir().join(unique("isms_test"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut urls = vec![(
        "sqlite",
        format!("sqlite://{}", dir.join("test.db").display()),
    )];
    let pg = std::env::var("ISMS_TEST_POSTGRES_URL");
    if pg.is_err() {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            eprintln!(
                "note: ISMS_TEST_POSTGRES_URL is not set: storage tests run on SQLite only (CI sets it)"
            );
        });
    }
    if let Ok(base) = pg {
        let schema = unique("t");
        let admin = Store::connect(&base)
            .await
            .expect("connect to ISMS_TEST_POSTGRES_URL");
        drop_schemas_of_ended_runs(&admin).await;
        admin
            .execute_raw(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create test schema");
        admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        urls.push((
            "postgres",
            format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        ));
    }
    urls
}

/// Drops, once per test process, the schemas that earlier test processes
/// left behind (their process is gone): a development database otherwise
/// grows by thousands of files a run. Schemas of running processes stay.
async fn drop_schemas_of_ended_runs(admin: &Store) {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DONE.swap(true, Ordering::SeqCst) {
        return;
    }
    let Ok(names) = admin
        .query_strings("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'")
        .await
    else {
        return;
    };
    for name in names {
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let Some(pid) = pid else { continue };
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let _ = admin
            .execute_raw(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
            .await;
    }
}

/// Fresh, migrated stores on each engine under test.
pub async fn stores() -> Vec<(&'static str, Store)> {
    let mut out = Vec::new();
    for (engine, url) in database_urls().await {
        out.push((engine, Store::open(&url).await.expect("open test store")));
    }
    out
}

pub const PASSWORD: &str = "correct horse battery staple";

/// An organisation with one member of `role`.
pub async fn org_with(store: &Store, org_name: &str, email: &str, role: Role) -> Org {
    let org = store
        .create_org(org_name, &Actor::cli())
        .await
        .expect("create org");
    add(store, &org, email, role).await;
    org
}

pub async fn add(store: &Store, org: &Org, email: &str, role: Role) -> i64 {
    let hash = isms_domain::password::hash_password(PASSWORD);
    let (user, _) = store
        .add_member(org.id, email, "", &hash, role, &Actor::cli())
        .await
        .expect("add member");
    user.id
}

/// The application in-process, driven without sockets.
pub struct App {
    pub router: Router,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as sent (`body` is its lossy UTF-8 text): PDFs, XLSX.
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
    /// The value of a `name="…" value="…"` hidden input.
    pub fn hidden(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&needle)? + needle.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }
    /// `name=value` of the cookie `name` set by this response.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .and_then(|c| c.split(';').next())
            .map(str::to_owned)
    }
}

impl App {
    pub fn new(store: Store) -> App {
        let router = isms_web::app(store, isms_web::Config::default())
            .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        App { router }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024)
            .await
            .expect("body");
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Resp {
        let mut b = Request::get(path);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::empty()).expect("request")).await
    }

    pub async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Resp {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut b =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::from(body)).expect("request")).await
    }

    pub async fn api(&self, method: &str, path: &str, token: Option<&str>) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(b.body(Body::empty()).expect("request")).await
    }

    /// Logs in through the real form; returns the session cookie (`name=value`)
    /// and the page's CSRF token.
    pub async fn login(&self, email: &str, password: &str) -> (String, String) {
        let form = self.get("/login", None).await;
        let csrf = form.hidden("csrf_token").expect("login csrf");
        let pre = form.cookie("isms_login").expect("login cookie");
        let r = self
            .post(
                "/login",
                Some(&pre),
                &[
                    ("csrf_token", &csrf),
                    ("email", email),
                    ("password", password),
                ],
                &[],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "login of {email} failed: {}",
            r.body
        );
        let cookie = r.cookie("isms_session").expect("session cookie");
        let dash = self.get("/profile", Some(&cookie)).await;
        let page_csrf = dash.hidden("csrf_token").expect("page csrf");
        (cookie, page_csrf)
    }
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A multipart/form-data body: the CSRF token (if any), plain `fields`, then
/// one file field named `file`. Returns (content type, body).
pub fn multipart(
    csrf: Option<&str>,
    fields: &[(&str, &str)],
    file_name: &str,
    content: &str,
) -> (String, String) {
    let boundary = "----isms-test-boundary";
    let mut body = String::new();
    let csrf = csrf.map(|t| ("csrf_token", t));
    for (name, value) in csrf.iter().chain(fields) {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n{content}\r\n--{boundary}--\r\n"
    ));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The text of a PDF as a reader extracts it (through the embedded fonts'
/// ToUnicode maps): page after page, one line per text object.
pub fn pdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).expect("a readable PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("extractable text")
}
