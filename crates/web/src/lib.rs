//! The web layer of isms: server-rendered pages with htmx, and the JSON API
//! under `/api/v1`. Handlers are thin: parse, authorise, call the store,
//! render.
//!
//! Routers are split by security posture and each gets its own layers:
//! public pages (login, set-up, assets, health), session pages (cookie +
//! CSRF), and the API (bearer tokens, problem documents).

mod api;
mod api_audit;
mod api_fair;
mod api_frameworks;
mod api_isms;
pub(crate) mod assets;
mod auth;
pub mod controls;
mod cookies;
pub mod documents;
mod error;
mod human;
pub mod import;
pub mod internal_audit;
pub mod isms_reports;
mod nav;
mod pages;
pub mod risk;
pub mod routes;
mod security;
pub mod tasks;
pub mod training;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use isms_store::Store;

pub use api::openapi_document;
pub use error::WebError;

/// Settings of the web application, validated once at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Set when a TLS-terminating proxy sits in front: cookies become
    /// `Secure` (with the `__Host-` prefix), HSTS is sent, and the client
    /// address is read from `X-Forwarded-For`.
    pub behind_tls_proxy: bool,
    /// With `behind_tls_proxy`: how many proxies in front append to
    /// `X-Forwarded-For`; the client address is the entry that many places
    /// from the right (the entries to its left are the client's say-so).
    /// 0 ignores the header and uses the connection's peer.
    pub trusted_proxy_hops: usize,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// Failed logins allowed per account, and per client address, in `login_window`.
    pub max_failures_per_account: i64,
    pub max_failures_per_address: i64,
    pub login_window: Duration,
    /// A request still running after this long is answered 408 (and its
    /// work stopped where it can be: simulations check for it).
    pub request_timeout: Duration,
    /// Simulations (FAIR Monte Carlo) run at once by this instance; a run
    /// that finds no free slot within two seconds is answered 503. 0 turns
    /// simulations off.
    pub max_concurrent_simulations: usize,
    /// The address people reach the application at (no trailing slash), for
    /// links in e-mails and calendar feeds; when unset, the request's host.
    pub public_url: Option<String>,
    /// E-mail digests go through this relay; none configured, none sent
    /// (the inbox works regardless).
    pub mailer: Option<tasks::Mailer>,
    /// How often `serve` computes reminders and sends digests; `None` turns
    /// the scheduler off.
    pub reminder_interval: Option<Duration>,
    /// Where evidence files go; `None`: beside the SQLite file (see
    /// [`Store::default_blob_dir`]).
    pub blob_store: Option<controls::blobs::BlobStore>,
    /// The largest evidence file accepted, in bytes.
    pub max_upload_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            behind_tls_proxy: false,
            trusted_proxy_hops: 1,
            session_idle: Duration::from_secs(8 * 3600),
            max_failures_per_account: 5,
            max_failures_per_address: 30,
            login_window: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(30),
            max_concurrent_simulations: 2,
            public_url: None,
            mailer: None,
            reminder_interval: None,
            blob_store: None,
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// The slots for simulations (see [`Config::max_concurrent_simulations`]).
    pub simulations: Arc<tokio::sync::Semaphore>,
    /// Evidence files.
    pub blobs: Arc<controls::blobs::BlobStore>,
}

/// The whole application.
pub fn app(store: Store, config: Config) -> Router {
    let blobs = Arc::new(
        config
            .blob_store
            .clone()
            .unwrap_or_else(|| controls::blobs::BlobStore::new(store.default_blob_dir())),
    );
    let state = AppState {
        blobs,
        store,
        simulations: Arc::new(tokio::sync::Semaphore::new(
            config.max_concurrent_simulations,
        )),
        config: Arc::new(config),
    };
    let pages = pages::router(state.clone());
    let api = api::router(state.clone());
    let timeout = state.config.request_timeout;
    // Layers run outside in, the last added first: the security headers and
    // error bodies wrap everything, so responses made by the other layers
    // (408 from the timeout, 413, 405, extractor rejections) get them too.
    Router::new()
        .merge(pages)
        .nest("/api/v1", api)
        .layer(axum::extract::DefaultBodyLimit::max(
            auth::DEFAULT_BODY_BYTES,
        ))
        .layer(axum::middleware::from_fn(move |req, next| {
            time_limit(timeout, req, next)
        }))
        // A bug that panics answers 500 (with headers and a problem
        // document or page from the layer above) instead of dropping the
        // connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
}

/// How long an evidence upload may take: it streams a file as large as
/// `--max-upload-mb` from a client that may be slow.
const UPLOAD_TIME: Duration = Duration::from_secs(3600);

/// Whether a request uploads an evidence file (streamed to the blob store).
fn is_evidence_upload(req: &axum::extract::Request) -> bool {
    let path = req.uri().path();
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    req.method() == axum::http::Method::POST
        && matches!(
            segments.as_slice(),
            ["controls", _, "evidence"] | ["evidence", _, "revisions"]
        )
}

/// Answers 408 when a request takes longer than `limit` (evidence uploads:
/// [`UPLOAD_TIME`], so a large file is not cut off by the ordinary limit).
async fn time_limit(
    limit: Duration,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = if is_evidence_upload(&req) {
        limit.max(UPLOAD_TIME)
    } else {
        limit
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => axum::http::StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// Serves the application on `listener` until ctrl-c or SIGTERM.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    config: Config,
) -> std::io::Result<()> {
    // Reminders and digests: on PostgreSQL only the instance holding the
    // scheduler's advisory lock runs them; on SQLite this process does.
    let reminders = config.reminder_interval.map(|every| {
        // Links in e-mails: the configured address, else where this listens.
        let base = config.public_url.clone().unwrap_or_else(|| {
            listener
                .local_addr()
                .map(|a| format!("http://{a}"))
                .unwrap_or_default()
        });
        tokio::spawn(tasks::scheduler(
            store.clone(),
            config.mailer.clone(),
            base,
            every,
        ))
    });
    let router = app(store.clone(), config);
    // Expired sessions are purged in the background, from every instance.
    let purge = tokio::spawn({
        let store = store.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                if let Err(e) = store.purge_expired_sessions().await {
                    tracing::warn!("could not purge expired sessions: {e}");
                }
            }
        }
    });
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    purge.abort();
    if let Some(r) = reminders {
        r.abort();
    }
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
