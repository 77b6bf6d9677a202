//! Server-rendered pages. Public ones (login, set-up, health, assets) and
//! session ones, each group with its own layers.

mod audit;
mod context;
mod controls;
mod dashboard;
mod documents;
pub(crate) mod fair;
mod fair_form;
mod frameworks;
mod gap;
mod internal_audit;
mod invite;
mod links;
mod login;
mod management_review;
mod nonconformity;
mod profile;
mod readiness;
mod risk;
mod risk_import;
mod risk_methodology;
mod risk_plan;
mod search;
mod settings;
mod soa;
mod tasks;
mod training;
mod users;

use axum::Router;
use isms_domain::Permission;
use isms_store::SessionUser;

use crate::AppState;
use crate::assets;
use crate::error::WebError;
use crate::routes::{Access, Route, Routes};

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
    /// The navigation this member may follow, current page marked.
    pub nav: Vec<crate::nav::Shown>,
    /// On detail pages: the way back (section, then any parents), ending
    /// with the page itself (no link).
    pub crumbs: Vec<Crumb>,
    /// Unread messages in the member's inbox (shown in the header).
    pub unread: i64,
}

/// One step of a breadcrumb trail; `href` is `None` for the current page.
#[derive(Debug, Clone)]
pub struct Crumb {
    pub label: String,
    pub href: Option<String>,
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
            nav: crate::nav::for_role(user.role, current),
            crumbs: Vec::new(),
            unread: state.store.unread_count(user.org_id, user.user_id).await?,
        })
    }
    /// Marks this as a detail page of its section: breadcrumbs lead from
    /// the section's page through `parents` to `title`.
    #[must_use]
    pub fn detail(mut self, parents: &[(&str, &str)], title: impl Into<String>) -> Self {
        let mut crumbs = Vec::new();
        if let (Some(label), Some(href)) = (
            crate::nav::label_of(self.current),
            crate::nav::href_of(self.current),
        ) {
            crumbs.push(Crumb {
                label: label.to_owned(),
                href: Some(href.to_owned()),
            });
        }
        for (label, href) in parents {
            crumbs.push(Crumb {
                label: (*label).to_owned(),
                href: Some((*href).to_owned()),
            });
        }
        crumbs.push(Crumb {
            label: title.into(),
            href: None,
        });
        self.crumbs = crumbs;
        self
    }
    /// The label of the current section, for the narrow-screen menu button.
    pub fn section(&self) -> &'static str {
        crate::nav::label_of(self.current).unwrap_or("Menu")
    }
    /// `aria-current` for the nav link of the current page.
    pub fn is(&self, name: &str) -> bool {
        self.current == name
    }
}

/// The public pages, the session pages, the session uploads (larger
/// bodies, read whole) and the evidence uploads (streamed to the blob store,
/// as large as `--max-upload-mb`), each route with the access it declares.
fn tables() -> [Routes; 4] {
    use Access::{Member, Needs, Public};
    use Permission::{
        Approve, EditIsms, ImportFrameworks, ManageMembers, ReadAuditLog, ReadIsms, RecordFindings,
    };
    let public = Routes::new()
        .get("/healthz", Public, healthz)
        .get("/login", Public, login::form)
        .post("/login", Public, login::submit)
        .get("/setup", Public, login::setup_form)
        .post("/setup", Public, login::setup_submit)
        .get("/invite", Public, invite::show)
        .post("/invite", Public, invite::create_account)
        .get("/assets/{version}/{name}", Public, assets::serve)
        .get("/favicon.ico", Public, assets::favicon)
        // The secret in the path is the credential (calendar clients send no cookie).
        .get("/calendar/{feed}", Public, crate::tasks::calendar_feed);
    let session = Routes::new()
        .get("/", Member, dashboard::show)
        .post("/logout", Member, login::logout)
        .post("/org/switch", Member, dashboard::switch_org)
        .get(
            "/readiness/summary",
            Needs(ReadIsms),
            dashboard::readiness_summary,
        )
        .get("/profile", Member, profile::show)
        .get("/search", Member, search::show)
        .post("/profile/name", Member, profile::change_name)
        .post("/profile/password", Member, profile::change_password)
        .post("/profile/tokens", Member, profile::create_token)
        .post(
            "/profile/tokens/{token}/revoke",
            Member,
            profile::revoke_token,
        )
        .get("/admin/users", Needs(ManageMembers), users::list)
        .post("/admin/users", Needs(ManageMembers), users::add)
        .get("/admin/settings", Needs(ManageMembers), settings::show)
        .post("/admin/settings", Needs(ManageMembers), settings::save)
        .post(
            "/admin/users/{member}/role",
            Needs(ManageMembers),
            users::change_role,
        )
        .post(
            "/admin/users/{member}/deactivate",
            Needs(ManageMembers),
            users::deactivate,
        )
        .post(
            "/admin/users/{member}/activate",
            Needs(ManageMembers),
            users::activate,
        )
        .post(
            "/admin/invitations/{invitation}/revoke",
            Needs(ManageMembers),
            users::revoke_invitation,
        )
        .post("/invite/accept", Member, invite::accept)
        .get("/audit-log", Needs(ReadAuditLog), audit::list)
        .get("/soa", Needs(ReadIsms), soa::list)
        .post("/soa/approve", Needs(Approve), soa::approve)
        .get("/soa/versions", Needs(ReadIsms), soa::versions)
        .get("/soa/export", Needs(ReadIsms), soa::export)
        .get("/soa/{control}", Needs(ReadIsms), soa::edit)
        .post("/soa/{control}", Needs(EditIsms), soa::save)
        .get("/soa/{control}/row", Needs(ReadIsms), soa::row)
        .get("/soa/{control}/row-edit", Needs(EditIsms), soa::row_edit)
        .get("/context", Needs(ReadIsms), context::show)
        .post("/context/scope", Needs(EditIsms), context::save_scope)
        .post("/context/items", Needs(EditIsms), context::add_item)
        .get("/context/items/{item}", Needs(ReadIsms), context::edit_item)
        .post("/context/items/{item}", Needs(EditIsms), context::save_item)
        .get("/readiness", Needs(ReadIsms), readiness::show)
        .get("/gap", Needs(ReadIsms), gap::list)
        .post("/gap", Needs(EditIsms), gap::create)
        .get("/gap/{assessment}", Needs(ReadIsms), gap::show)
        .get("/gap/{assessment}/report", Needs(ReadIsms), gap::report)
        .get("/gap/{assessment}/progress", Needs(ReadIsms), gap::progress)
        .get("/gap/{assessment}/{ref_id}/row", Needs(ReadIsms), gap::row)
        .get(
            "/gap/{assessment}/{ref_id}/edit",
            Needs(EditIsms),
            gap::row_edit,
        )
        .post("/gap/{assessment}/{ref_id}", Needs(EditIsms), gap::save)
        .get("/risk/methodology", Needs(ReadIsms), risk_methodology::show)
        .post(
            "/risk/methodology/{template}",
            Needs(Approve),
            risk_methodology::choose,
        )
        .get("/risks", Needs(ReadIsms), risk::list)
        .post("/risks", Needs(EditIsms), risk::create)
        .get("/risks/treatment", Needs(ReadIsms), risk_plan::treatment)
        .get(
            "/risks/treatment/export",
            Needs(ReadIsms),
            risk_plan::treatment_download,
        )
        .get(
            "/risks/export",
            Needs(ReadIsms),
            risk_plan::register_download,
        )
        .get("/risks/import", Needs(EditIsms), risk_import::form)
        .get("/risks/snapshots", Needs(ReadIsms), risk_plan::snapshots)
        .post(
            "/risks/snapshots",
            Needs(EditIsms),
            risk_plan::take_snapshot,
        )
        .get("/risks/{risk}", Needs(ReadIsms), risk::show)
        .post("/risks/{risk}", Needs(EditIsms), risk::save)
        .post("/risks/{risk}/accept", Needs(EditIsms), risk::accept)
        .post("/risks/{risk}/actions", Needs(EditIsms), risk::add_action)
        .post(
            "/risks/{risk}/quantitative",
            Needs(EditIsms),
            risk::quantify,
        )
        .post(
            "/risks/{risk}/quantitative/delete",
            Needs(EditIsms),
            risk::unquantify,
        )
        .get("/risks/portfolio", Needs(ReadIsms), risk_plan::portfolio)
        .get("/inventory", Needs(ReadIsms), risk::assets)
        .post("/inventory", Needs(EditIsms), risk::create_asset)
        .get("/inventory/{asset}", Needs(ReadIsms), risk::show_asset)
        .post("/inventory/{asset}", Needs(EditIsms), risk::save_asset)
        .post(
            "/inventory/{asset}/delete",
            Needs(EditIsms),
            risk::delete_asset,
        )
        .get("/risk/quantitative", Needs(ReadIsms), fair::index)
        .post("/risk/quantitative", Needs(EditIsms), fair::create)
        .post("/risk/quantitative/upload", Needs(EditIsms), fair::upload)
        .get("/risk/quantitative/form", Needs(EditIsms), fair_form::show)
        .post(
            "/risk/quantitative/form",
            Needs(EditIsms),
            fair_form::submit,
        )
        .get("/risk/quantitative/{scenario}", Needs(ReadIsms), fair::show)
        .post(
            "/risk/quantitative/{scenario}",
            Needs(EditIsms),
            fair::update,
        )
        .post(
            "/risk/quantitative/{scenario}/run",
            Needs(EditIsms),
            fair::run,
        )
        .post(
            "/risk/quantitative/{scenario}/delete",
            Needs(EditIsms),
            fair::delete,
        )
        .get("/training", Member, training::list)
        .post("/training/courses", Needs(EditIsms), training::create)
        .post("/training/remind", Needs(EditIsms), training::remind)
        .get("/training/export", Needs(ReadIsms), training::export)
        .get(
            "/training/competence/export",
            Needs(ReadIsms),
            training::export_competence,
        )
        .get(
            "/training/competence",
            Needs(ReadIsms),
            training::competence,
        )
        .post(
            "/training/competence/requirements",
            Needs(EditIsms),
            training::add_requirement,
        )
        .post(
            "/training/competence/records",
            Needs(EditIsms),
            training::add_record,
        )
        .get("/training/courses/{course}", Member, training::show)
        .post(
            "/training/courses/{course}",
            Needs(EditIsms),
            training::save,
        )
        .post(
            "/training/courses/{course}/assign",
            Needs(EditIsms),
            training::assign,
        )
        .post(
            "/training/courses/{course}/complete",
            Member,
            training::complete,
        )
        .post(
            "/training/courses/{course}/retire",
            Needs(EditIsms),
            training::retire,
        )
        .post(
            "/training/courses/{course}/reactivate",
            Needs(EditIsms),
            training::reactivate,
        )
        .post(
            "/training/assignments/{assignment}",
            Needs(EditIsms),
            training::move_due_date,
        )
        .get("/roadmap", Needs(ReadIsms), tasks::roadmap)
        .post("/roadmap/{step}", Needs(EditIsms), tasks::plan_step)
        .get("/tasks", Member, tasks::mine)
        .post("/tasks", Needs(EditIsms), tasks::create)
        .get("/tasks/due", Needs(ReadIsms), tasks::due)
        // Members open and update their own tasks (checked inside).
        .get("/tasks/{task}", Member, tasks::show)
        .post("/tasks/{task}", Member, tasks::save)
        .get("/inbox", Member, tasks::inbox)
        .post("/inbox/read", Member, tasks::read_all)
        .post("/inbox/{notification}/read", Member, tasks::read_one)
        .post("/profile/calendar", Member, profile::create_calendar)
        .post("/profile/calendar/revoke", Member, profile::revoke_calendar)
        .post("/profile/notifications", Member, profile::save_optouts)
        .get("/audits", Needs(ReadIsms), internal_audit::programme)
        .post("/audits", Needs(EditIsms), internal_audit::plan)
        .get("/audits/{audit}", Needs(ReadIsms), internal_audit::show)
        .post("/audits/{audit}", Needs(EditIsms), internal_audit::save)
        .post(
            "/audits/{audit}/team",
            Needs(EditIsms),
            internal_audit::save_team,
        )
        .post(
            "/audits/{audit}/findings",
            Needs(RecordFindings),
            internal_audit::record,
        )
        .get(
            "/audits/{audit}/report",
            Needs(ReadIsms),
            internal_audit::report,
        )
        .get("/nonconformities", Needs(ReadIsms), nonconformity::register)
        .post("/nonconformities", Needs(EditIsms), nonconformity::raise)
        .get(
            "/nonconformities/export",
            Needs(ReadIsms),
            nonconformity::export,
        )
        .get(
            "/nonconformities/{nonconformity}",
            Needs(ReadIsms),
            nonconformity::show,
        )
        .post(
            "/nonconformities/{nonconformity}",
            Needs(EditIsms),
            nonconformity::save,
        )
        .post(
            "/nonconformities/{nonconformity}/actions",
            Needs(EditIsms),
            nonconformity::add_action,
        )
        .post(
            "/nonconformities/{nonconformity}/actions/{action}/done",
            Needs(EditIsms),
            nonconformity::complete_action,
        )
        .post(
            "/nonconformities/{nonconformity}/verify",
            Needs(EditIsms),
            nonconformity::verify,
        )
        .post(
            "/nonconformities/{nonconformity}/close",
            Needs(EditIsms),
            nonconformity::close,
        )
        .get(
            "/management-reviews",
            Needs(ReadIsms),
            management_review::list,
        )
        .post(
            "/management-reviews",
            Needs(EditIsms),
            management_review::create,
        )
        .get(
            "/management-reviews/{review}",
            Needs(ReadIsms),
            management_review::show,
        )
        .post(
            "/management-reviews/{review}",
            Needs(EditIsms),
            management_review::save,
        )
        .get(
            "/management-reviews/{review}/report",
            Needs(ReadIsms),
            management_review::report,
        )
        .post(
            "/management-reviews/{review}/freeze",
            Needs(EditIsms),
            management_review::freeze,
        )
        .post(
            "/management-reviews/{review}/decisions",
            Needs(EditIsms),
            management_review::add_decision,
        )
        .post(
            "/management-reviews/{review}/actions",
            Needs(EditIsms),
            management_review::add_action,
        )
        .post(
            "/management-reviews/{review}/actions/{review_action}",
            Needs(EditIsms),
            management_review::set_action_status,
        )
        .get("/controls", Needs(ReadIsms), controls::list)
        .post("/controls", Needs(EditIsms), controls::create)
        .get("/controls/export", Needs(ReadIsms), controls::export)
        .get(
            "/controls/{applied_control}",
            Needs(ReadIsms),
            controls::show,
        )
        .post(
            "/controls/{applied_control}",
            Needs(EditIsms),
            controls::save,
        )
        .post(
            "/controls/{applied_control}/reviews",
            Needs(EditIsms),
            controls::add_review,
        )
        .get("/coverage/{framework}", Needs(ReadIsms), controls::coverage)
        .get(
            "/coverage/{framework}/export",
            Needs(ReadIsms),
            controls::coverage_export,
        )
        .get("/evidence", Needs(ReadIsms), controls::evidence)
        .get(
            "/evidence/{evidence}/download",
            Needs(ReadIsms),
            controls::download,
        )
        .get("/metrics", Needs(ReadIsms), controls::metrics)
        .get("/metrics/export", Needs(ReadIsms), controls::metrics_export)
        .post("/metrics", Needs(EditIsms), controls::create_metric)
        .post(
            "/metrics/starter",
            Needs(EditIsms),
            controls::starter_metrics,
        )
        .get("/metrics/{metric}", Needs(ReadIsms), controls::metric)
        .post(
            "/metrics/{metric}/measurements",
            Needs(EditIsms),
            controls::add_measurement,
        )
        .get("/documents", Needs(ReadIsms), documents::list)
        .post("/documents", Needs(EditIsms), documents::create)
        .get(
            "/documents/export",
            Needs(ReadIsms),
            documents::export_register,
        )
        .get(
            "/documents/acknowledgements/export",
            Needs(ReadIsms),
            documents::export_acknowledgements,
        )
        .post(
            "/documents/settings",
            Needs(ManageMembers),
            documents::save_settings,
        )
        .get("/documents/{document}", Member, documents::show)
        .get(
            "/documents/{document}/export",
            Needs(ReadIsms),
            documents::export_document,
        )
        .post(
            "/documents/{document}/draft",
            Needs(EditIsms),
            documents::save_draft,
        )
        .post(
            "/documents/{document}/details",
            Needs(EditIsms),
            documents::save_details,
        )
        .post(
            "/documents/{document}/submit",
            Needs(EditIsms),
            documents::submit,
        )
        .post(
            "/documents/{document}/reject",
            Needs(Approve),
            documents::reject,
        )
        .post(
            "/documents/{document}/approve",
            Needs(Approve),
            documents::approve,
        )
        .post(
            "/documents/{document}/publish",
            Needs(Approve),
            documents::publish,
        )
        .post(
            "/documents/{document}/retire",
            Needs(Approve),
            documents::retire,
        )
        .post(
            "/documents/{document}/reviewed",
            Needs(EditIsms),
            documents::reviewed,
        )
        .post(
            "/documents/{document}/remind",
            Needs(EditIsms),
            documents::remind,
        )
        .post(
            "/documents/{document}/acknowledge",
            Member,
            documents::acknowledge,
        )
        .get("/me/documents", Member, documents::to_read)
        .get("/frameworks", Member, frameworks::list)
        .get("/frameworks/{framework}", Member, frameworks::show)
        .get(
            "/requirements/{requirement}",
            Member,
            frameworks::requirement,
        )
        .post(
            "/frameworks/presets/enable",
            Needs(EditIsms),
            frameworks::enable_preset,
        );
    // File uploads take larger bodies; the limit is set outside the session
    // layer so its CSRF check reads no more than the route accepts.
    let uploads = Routes::new()
        .post("/risks/import", Needs(EditIsms), risk_import::upload)
        .post(
            "/frameworks/import",
            Needs(ImportFrameworks),
            frameworks::import_framework,
        )
        .post(
            "/mappings/import",
            Needs(ImportFrameworks),
            frameworks::import_mappings,
        );
    let evidence = Routes::new()
        .post(
            "/controls/{applied_control}/evidence",
            Needs(EditIsms),
            controls::upload_evidence,
        )
        .post(
            "/audits/{audit}/findings/{finding}/evidence",
            Needs(RecordFindings),
            internal_audit::upload_finding_evidence,
        );
    [public, session, uploads, evidence]
}

/// The declared page routes (for the route-matrix test).
pub(crate) fn route_table() -> Vec<Route> {
    tables()
        .into_iter()
        .flat_map(|t| t.into_parts().1)
        .collect()
}

pub fn router(state: AppState) -> Router {
    let [public, session, uploads, evidence] = tables().map(|t| t.into_parts().0);
    let session = session.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::auth::session_layer,
    ));
    let uploads = uploads
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
    // The handler streams the file to the blob store and refuses one larger
    // than the configured limit; the whole form may carry 1 MiB more.
    let evidence_limit = usize::try_from(state.config.max_upload_bytes.saturating_add(1024 * 1024))
        .unwrap_or(usize::MAX);
    let evidence = evidence
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::session_layer,
        ))
        .route_layer(axum::Extension(crate::auth::BodyLimit(evidence_limit)))
        .route_layer(axum::extract::DefaultBodyLimit::max(evidence_limit));
    Router::new()
        .merge(public)
        .merge(session)
        .merge(uploads)
        .merge(evidence)
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

/// Adds an `HX-Trigger` header that makes the page announce `message` in
/// its live region (app.js listens for the `announce` event).
pub fn announce(
    response: impl axum::response::IntoResponse,
    message: &str,
) -> axum::response::Response {
    announce_with(response, message, &[])
}

/// [`announce`], and also triggers the client-side `events` (for parts of
/// the page that refresh themselves, e.g. charts after a row is saved).
pub fn announce_with(
    response: impl axum::response::IntoResponse,
    message: &str,
    events: &[&str],
) -> axum::response::Response {
    use axum::http::HeaderValue;
    use std::fmt::Write;
    let mut response = response.into_response();
    // Header values are ASCII: escape anything else as JSON \u sequences.
    let mut json = String::from("{\"announce\":\"");
    for c in message.chars() {
        match c {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            ' '..='~' => json.push(c),
            c => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    let _ = write!(json, "\\u{u:04x}");
                }
            }
        }
    }
    json.push('"');
    for e in events {
        let _ = write!(json, ",\"{e}\":true");
    }
    json.push('}');
    if let Ok(v) = HeaderValue::from_str(&json) {
        response.headers_mut().insert("hx-trigger", v);
    }
    response
}

/// Renders an askama template into an HTML response.
pub fn render<T: askama::Template>(t: &T) -> Result<axum::response::Html<String>, WebError> {
    t.render().map(axum::response::Html).map_err(|e| {
        tracing::error!("template error: {e}");
        WebError::internal()
    })
}
