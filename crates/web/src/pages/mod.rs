//! Server-rendered pages. Public ones (login, set-up, health, assets) and
//! session ones, each group with its own layers.

mod audit;
mod context;
mod dashboard;
pub(crate) mod fair;
mod frameworks;
mod gap;
mod login;
mod profile;
mod readiness;
mod soa;
mod users;

use axum::Router;
use axum::routing::{get, post};
use isms_domain::Permission;
use isms_store::SessionUser;

use crate::AppState;
use crate::assets;
use crate::error::WebError;

/// What the layout shows around every logged-in page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub display_name: String,
    pub email: String,
    pub org_name: String,
    pub org_slug: String,
    pub role_label: &'static str,
    pub orgs: Vec<(String, String)>,
    pub csrf: String,
    pub current: &'static str,
    pub can_manage_members: bool,
    pub can_read_audit_log: bool,
    pub can_read_isms: bool,
}

impl Chrome {
    pub async fn new(
        state: &AppState,
        user: &SessionUser,
        current: &'static str,
    ) -> Result<Chrome, WebError> {
        let orgs = state
            .store
            .orgs_of_user(user.user_id)
            .await?
            .into_iter()
            .map(|(o, _)| (o.slug, o.name))
            .collect();
        Ok(Chrome {
            display_name: user.display_name.clone(),
            email: user.email.clone(),
            org_name: user.org_name.clone(),
            org_slug: user.org_slug.clone(),
            role_label: user.role.label(),
            orgs,
            csrf: user.csrf_token.clone(),
            current,
            can_manage_members: user.role.can(Permission::ManageMembers),
            can_read_audit_log: user.role.can(Permission::ReadAuditLog),
            can_read_isms: user.role.can(Permission::ReadIsms),
        })
    }
    /// `aria-current` for the nav link of the current page.
    pub fn is(&self, name: &str) -> bool {
        self.current == name
    }
}

pub fn router(state: AppState) -> Router {
    let public = Router::new()
        .route("/healthz", get(healthz))
        .route("/login", get(login::form).post(login::submit))
        .route("/setup", get(login::setup_form).post(login::setup_submit))
        .route("/assets/{version}/{name}", get(assets::serve));
    let session = Router::new()
        .route("/", get(dashboard::show))
        .route("/logout", post(login::logout))
        .route("/org/switch", post(dashboard::switch_org))
        .route("/readiness/summary", get(dashboard::readiness_summary))
        .route("/profile", get(profile::show))
        .route("/profile/name", post(profile::change_name))
        .route("/profile/password", post(profile::change_password))
        .route("/profile/tokens", post(profile::create_token))
        .route("/profile/tokens/{id}/revoke", post(profile::revoke_token))
        .route("/admin/users", get(users::list).post(users::add))
        .route("/admin/users/{user_id}/role", post(users::change_role))
        .route("/admin/users/{user_id}/deactivate", post(users::deactivate))
        .route("/admin/users/{user_id}/activate", post(users::activate))
        .route("/audit-log", get(audit::list))
        .route("/soa", get(soa::list))
        .route("/soa/approve", post(soa::approve))
        .route("/soa/versions", get(soa::versions))
        .route("/soa/export", get(soa::export))
        .route("/soa/{control_id}", get(soa::edit).post(soa::save))
        .route("/soa/{control_id}/row", get(soa::row))
        .route("/soa/{control_id}/row-edit", get(soa::row_edit))
        .route("/context", get(context::show))
        .route("/context/scope", post(context::save_scope))
        .route("/context/items", post(context::add_item))
        .route(
            "/context/items/{id}",
            get(context::edit_item).post(context::save_item),
        )
        .route("/readiness", get(readiness::show))
        .route("/gap", get(gap::list).post(gap::create))
        .route("/gap/{id}", get(gap::show))
        .route("/gap/{id}/report", get(gap::report))
        .route("/gap/{id}/{ref_id}", post(gap::save))
        .route("/risk/quantitative", get(fair::index).post(fair::create))
        .route("/risk/quantitative/upload", post(fair::upload))
        .route(
            "/risk/quantitative/{id}",
            get(fair::show).post(fair::update),
        )
        .route("/risk/quantitative/{id}/run", post(fair::run))
        .route("/risk/quantitative/{id}/delete", post(fair::delete))
        .route("/frameworks", get(frameworks::list))
        .route("/frameworks/{id}", get(frameworks::show))
        .route("/requirements/{id}", get(frameworks::requirement))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::session_layer,
        ));
    // File uploads take larger bodies; the limit is set outside the session
    // layer so its CSRF check reads no more than the route accepts.
    let uploads = Router::new()
        .route("/frameworks/import", post(frameworks::import_framework))
        .route("/mappings/import", post(frameworks::import_mappings))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::session_layer,
        ))
        .route_layer(axum::Extension(crate::auth::BodyLimit(
            crate::auth::MAX_UPLOAD_BYTES,
        )))
        .route_layer(axum::extract::DefaultBodyLimit::max(
            crate::auth::MAX_UPLOAD_BYTES,
        ));
    Router::new()
        .merge(public)
        .merge(session)
        .merge(uploads)
        .fallback(not_found)
        .with_state(state)
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.store.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!("health check failed: {e}");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable",
            )
                .into_response()
        }
    }
}

async fn not_found() -> WebError {
    WebError::not_found("There is no page at this address.")
}

/// Renders an askama template into an HTML response.
pub fn render<T: askama::Template>(t: &T) -> Result<axum::response::Html<String>, WebError> {
    t.render().map(axum::response::Html).map_err(|e| {
        tracing::error!("template error: {e}");
        WebError::internal()
    })
}
