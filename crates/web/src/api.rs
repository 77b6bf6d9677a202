//! The JSON API under `/api/v1`: bearer tokens, RFC 9457 problem documents,
//! and an OpenAPI 3.1 document generated from the handlers themselves.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};
use crate::routes::{Access, Route};
use isms_domain::Permission;

#[derive(OpenApi)]
#[openapi(
    info(title = "isms API", description = "The JSON API of isms, an ISMS for ISO/IEC 27001:2022. Authenticate with `Authorization: Bearer <token>`; errors are RFC 9457 problem documents."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(Problem))
)]
struct ApiDoc;

struct BearerAuth;
impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me))
        .routes(routes!(crate::api_frameworks::list_frameworks))
        .routes(routes!(crate::api_frameworks::get_framework))
        .routes(routes!(crate::api_frameworks::list_requirements))
        .routes(routes!(crate::api_frameworks::get_requirement))
        .routes(routes!(crate::api_fair::simulate))
        .routes(routes!(crate::api_isms::get_soa))
        .routes(routes!(
            crate::api_isms::get_soa_entry,
            crate::api_isms::patch_soa_entry
        ))
        .routes(routes!(crate::api_isms::approve_soa))
        .routes(routes!(crate::api_isms::list_soa_versions))
        .routes(routes!(crate::api_isms::get_soa_version))
        .routes(routes!(crate::api_isms::compare_soa))
        .routes(routes!(crate::api_isms::export_soa))
        .routes(routes!(
            crate::api_isms::get_scope,
            crate::api_isms::put_scope
        ))
        .routes(routes!(
            crate::api_isms::list_context_items,
            crate::api_isms::create_context_item
        ))
        .routes(routes!(
            crate::api_isms::get_context_item,
            crate::api_isms::patch_context_item
        ))
        .routes(routes!(crate::api_isms::get_readiness))
        .routes(routes!(
            crate::api_isms::list_gap_assessments,
            crate::api_isms::create_gap_assessment
        ))
        .routes(routes!(crate::api_isms::get_gap_assessment))
        .routes(routes!(crate::api_isms::patch_gap_entry))
        .routes(routes!(crate::api_isms::compare_gap_assessments))
        .routes(routes!(crate::api_isms::gap_report))
        .routes(routes!(
            crate::risk::api::list_assets,
            crate::risk::api::create_asset
        ))
        .routes(routes!(
            crate::risk::api::get_asset,
            crate::risk::api::patch_asset,
            crate::risk::api::delete_asset
        ))
        .routes(routes!(
            crate::risk::api::list_risks,
            crate::risk::api::create_risk
        ))
        .routes(routes!(
            crate::risk::api::get_risk,
            crate::risk::api::patch_risk,
            crate::risk::api::delete_risk
        ))
        .routes(routes!(crate::risk::api::accept_risk))
        .routes(routes!(crate::risk::api::get_risk_library))
        .routes(routes!(
            crate::risk::api::list_risk_actions,
            crate::risk::api::create_risk_action
        ))
        .routes(routes!(crate::risk::api::patch_risk_action))
        .routes(routes!(crate::risk::api::overdue_risk_actions))
        .routes(routes!(
            crate::risk::api::list_risk_snapshots,
            crate::risk::api::create_risk_snapshot
        ))
        .routes(routes!(crate::risk::api::compare_risk_snapshots))
        .routes(routes!(
            crate::risk::api::get_risk_methodology,
            crate::risk::api::put_risk_methodology
        ))
        .routes(routes!(crate::documents::api::list_document_templates))
        .routes(routes!(
            crate::documents::api::list_documents,
            crate::documents::api::create_document
        ))
        .routes(routes!(
            crate::documents::api::get_document,
            crate::documents::api::patch_document
        ))
        .routes(routes!(crate::documents::api::put_document_draft))
        .routes(routes!(crate::documents::api::submit_document))
        .routes(routes!(crate::documents::api::reject_document))
        .routes(routes!(crate::documents::api::approve_document))
        .routes(routes!(crate::documents::api::publish_document))
        .routes(routes!(crate::documents::api::retire_document))
        .routes(routes!(crate::documents::api::review_document))
        .routes(routes!(crate::documents::api::list_document_versions))
        .routes(routes!(crate::documents::api::compare_document_versions))
        .routes(routes!(crate::documents::api::acknowledge_document))
        .routes(routes!(
            crate::documents::api::list_document_acknowledgements
        ))
        .routes(routes!(crate::documents::api::remind_document))
        .routes(routes!(crate::documents::api::my_documents))
        .routes(routes!(
            crate::documents::api::get_document_settings,
            crate::documents::api::put_document_settings
        ))
}

/// The roles each API operation admits, by operation id (the handler's
/// name), beside the list of routes above. The route-matrix test calls every
/// operation of the OpenAPI document as every role and fails on one that is
/// missing here.
const ACCESS: &[(&str, Access)] = {
    use Access::{Member, Needs};
    use Permission::{Approve, EditIsms, ManageMembers, ReadIsms};
    &[
        ("me", Member),
        ("list_frameworks", Member),
        ("get_framework", Member),
        ("list_requirements", Member),
        ("get_requirement", Member),
        ("simulate", Needs(ReadIsms)),
        ("get_soa", Needs(ReadIsms)),
        ("get_soa_entry", Needs(ReadIsms)),
        ("patch_soa_entry", Needs(EditIsms)),
        ("approve_soa", Needs(Approve)),
        ("list_soa_versions", Needs(ReadIsms)),
        ("get_soa_version", Needs(ReadIsms)),
        ("compare_soa", Needs(ReadIsms)),
        ("export_soa", Needs(ReadIsms)),
        ("get_scope", Needs(ReadIsms)),
        ("put_scope", Needs(EditIsms)),
        ("list_context_items", Needs(ReadIsms)),
        ("create_context_item", Needs(EditIsms)),
        ("get_context_item", Needs(ReadIsms)),
        ("patch_context_item", Needs(EditIsms)),
        ("get_readiness", Needs(ReadIsms)),
        ("list_gap_assessments", Needs(ReadIsms)),
        ("create_gap_assessment", Needs(EditIsms)),
        ("get_gap_assessment", Needs(ReadIsms)),
        ("patch_gap_entry", Needs(EditIsms)),
        ("compare_gap_assessments", Needs(ReadIsms)),
        ("gap_report", Needs(ReadIsms)),
        ("list_assets", Needs(ReadIsms)),
        ("create_asset", Needs(EditIsms)),
        ("get_asset", Needs(ReadIsms)),
        ("patch_asset", Needs(EditIsms)),
        ("delete_asset", Needs(EditIsms)),
        ("list_risks", Needs(ReadIsms)),
        ("create_risk", Needs(EditIsms)),
        ("get_risk", Needs(ReadIsms)),
        ("patch_risk", Needs(EditIsms)),
        ("delete_risk", Needs(EditIsms)),
        // Who may override the acceptance criteria is checked inside: administrators only.
        ("accept_risk", Needs(EditIsms)),
        ("get_risk_methodology", Needs(ReadIsms)),
        ("get_risk_library", Needs(ReadIsms)),
        ("list_risk_actions", Needs(ReadIsms)),
        ("create_risk_action", Needs(EditIsms)),
        ("patch_risk_action", Needs(EditIsms)),
        ("overdue_risk_actions", Needs(ReadIsms)),
        ("list_risk_snapshots", Needs(ReadIsms)),
        ("create_risk_snapshot", Needs(EditIsms)),
        ("compare_risk_snapshots", Needs(ReadIsms)),
        // The methodology is a management decision: those who approve.
        ("put_risk_methodology", Needs(Approve)),
        ("list_document_templates", Needs(ReadIsms)),
        ("list_documents", Needs(ReadIsms)),
        ("create_document", Needs(EditIsms)),
        // Members without ReadIsms see a document's published version only.
        ("get_document", Member),
        ("patch_document", Needs(EditIsms)),
        ("put_document_draft", Needs(EditIsms)),
        ("submit_document", Needs(EditIsms)),
        ("reject_document", Needs(Approve)),
        // Four-eyes (the author cannot approve) is checked inside.
        ("approve_document", Needs(Approve)),
        ("publish_document", Needs(Approve)),
        ("retire_document", Needs(Approve)),
        ("review_document", Needs(EditIsms)),
        ("list_document_versions", Needs(ReadIsms)),
        ("compare_document_versions", Needs(ReadIsms)),
        ("acknowledge_document", Member),
        ("list_document_acknowledgements", Needs(ReadIsms)),
        ("remind_document", Needs(EditIsms)),
        ("my_documents", Member),
        ("get_document_settings", Needs(ReadIsms)),
        // Switching four-eyes off is an administrator's decision.
        ("put_document_settings", Needs(ManageMembers)),
    ]
};

/// Every documented API operation with its declared access; the flag is
/// false for an operation missing from [`ACCESS`] (its access then reads as
/// administrators only, and the route-matrix test fails on it).
pub(crate) fn route_table() -> Vec<(Route, bool)> {
    let doc = openapi_document();
    let mut out = vec![(
        Route {
            method: "GET",
            path: "/api/v1/openapi.json".into(),
            access: Access::Public,
        },
        true,
    )];
    for (path, item) in &doc.paths.paths {
        let ops = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let id = op.operation_id.as_deref().unwrap_or_default();
            let declared = ACCESS.iter().find(|(name, _)| *name == id);
            out.push((
                Route {
                    method,
                    path: format!("/api/v1{path}"),
                    access: declared.map_or(Access::Needs(Permission::ManageMembers), |(_, a)| *a),
                },
                declared.is_some(),
            ));
        }
    }
    out
}

/// The OpenAPI document of every route under `/api/v1`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api_router().split_for_parts();
    doc.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    doc
}

pub fn router(state: AppState) -> axum::Router {
    let (protected, _) = api_router().split_for_parts();
    // Inner to the token layer: the caller is known when its access is checked.
    let protected = protected
        .route_layer(axum::middleware::from_fn_with_state(
            crate::routes::api_access(),
            crate::routes::enforce_api,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::token_layer,
        ));
    let doc = serde_json::to_string(&openapi_document()).unwrap_or_default();
    axum::Router::new()
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        doc,
                    )
                }
            }),
        )
        .merge(protected)
        .fallback(|| async {
            ApiError(WebError::not_found(
                "there is no API route at this address; see /api/v1/openapi.json",
            ))
            .into_response()
        })
        .with_state(state)
}

#[derive(Serialize, ToSchema)]
pub struct MeUser {
    id: i64,
    email: String,
    display_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct MeOrganisation {
    id: i64,
    slug: String,
    name: String,
}

/// Who the token belongs to.
#[derive(Serialize, ToSchema)]
pub struct Me {
    user: MeUser,
    organisation: MeOrganisation,
    /// One of admin, isms_manager, risk_owner, control_owner, auditor, employee.
    role: String,
}

/// The caller: user, organisation and role of the token.
#[utoipa::path(
    get,
    path = "/me",
    tag = "account",
    responses(
        (status = 200, description = "The token's user, organisation and role", body = Me),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json")
    )
)]
async fn me(State(_state): State<AppState>, user: ApiUser) -> Result<Json<Me>, ApiError> {
    let u = user.0;
    Ok(Json(Me {
        user: MeUser {
            id: u.user_id,
            email: u.email,
            display_name: u.display_name,
        },
        organisation: MeOrganisation {
            id: u.org_id,
            slug: u.org_slug,
            name: u.org_name,
        },
        role: u.role.as_str().to_owned(),
    }))
}
