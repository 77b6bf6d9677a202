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
        .routes(routes!(crate::api_frameworks::list_libraries))
        .routes(routes!(crate::api_frameworks::list_reference_controls))
        .routes(routes!(crate::api_frameworks::list_metric_definitions))
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
        .routes(routes!(crate::api_audit::list_audit_log))
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
        .routes(routes!(crate::risk::api::risk_heat_map))
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
            crate::risk::quantitative::get_risk_quantitative,
            crate::risk::quantitative::put_risk_quantitative,
            crate::risk::quantitative::delete_risk_quantitative
        ))
        .routes(routes!(crate::risk::quantitative::get_risk_portfolio))
        .routes(routes!(
            crate::risk::api::list_risk_snapshots,
            crate::risk::api::create_risk_snapshot
        ))
        .routes(routes!(crate::risk::api::compare_risk_snapshots))
        .routes(routes!(
            crate::risk::api::get_risk_methodology,
            crate::risk::api::put_risk_methodology
        ))
        .routes(routes!(
            crate::training::api::list_courses,
            crate::training::api::create_course
        ))
        .routes(routes!(
            crate::training::api::get_course,
            crate::training::api::put_course
        ))
        .routes(routes!(
            crate::training::api::list_course_assignments,
            crate::training::api::assign_course
        ))
        .routes(routes!(crate::training::api::complete_course))
        .routes(routes!(crate::training::api::retire_course))
        .routes(routes!(crate::training::api::reactivate_course))
        .routes(routes!(crate::training::api::export_competence))
        .routes(routes!(crate::training::api::put_assignment))
        .routes(routes!(crate::training::api::my_training))
        .routes(routes!(crate::training::api::list_assignments))
        .routes(routes!(crate::training::api::training_records))
        .routes(routes!(crate::training::api::export_training))
        .routes(routes!(crate::training::api::remind_training))
        .routes(routes!(
            crate::training::api::list_competence_requirements,
            crate::training::api::create_competence_requirement
        ))
        .routes(routes!(crate::training::api::create_competence_record))
        .routes(routes!(crate::training::api::put_competence_record))
        .routes(routes!(crate::training::api::get_competence))
        .routes(routes!(crate::tasks::api::get_roadmap))
        .routes(routes!(crate::tasks::api::plan_roadmap_step))
        .routes(routes!(
            crate::tasks::api::list_tasks,
            crate::tasks::api::create_task
        ))
        .routes(routes!(
            crate::tasks::api::get_task,
            crate::tasks::api::patch_task
        ))
        .routes(routes!(crate::tasks::api::my_tasks))
        .routes(routes!(crate::tasks::api::list_due_items))
        .routes(routes!(
            crate::tasks::api::create_calendar,
            crate::tasks::api::delete_calendar
        ))
        .routes(routes!(
            crate::internal_audit::api::list_audits,
            crate::internal_audit::api::create_audit
        ))
        .routes(routes!(crate::internal_audit::api::get_audit_programme))
        .routes(routes!(
            crate::internal_audit::api::get_audit,
            crate::internal_audit::api::patch_audit
        ))
        .routes(routes!(crate::internal_audit::api::record_finding))
        .routes(routes!(crate::internal_audit::api::add_finding_evidence))
        .routes(routes!(crate::internal_audit::api::audit_report))
        .routes(routes!(
            crate::internal_audit::nc_api::list_nonconformities,
            crate::internal_audit::nc_api::create_nonconformity
        ))
        .routes(routes!(
            crate::internal_audit::nc_api::export_nonconformities
        ))
        .routes(routes!(
            crate::internal_audit::nc_api::get_nonconformity,
            crate::internal_audit::nc_api::patch_nonconformity
        ))
        .routes(routes!(crate::internal_audit::nc_api::add_nc_action))
        .routes(routes!(crate::internal_audit::nc_api::complete_nc_action))
        .routes(routes!(crate::internal_audit::nc_api::verify_nonconformity))
        .routes(routes!(crate::internal_audit::nc_api::close_nonconformity))
        .routes(routes!(
            crate::internal_audit::review_api::list_management_reviews,
            crate::internal_audit::review_api::create_management_review
        ))
        .routes(routes!(
            crate::internal_audit::review_api::get_management_review,
            crate::internal_audit::review_api::patch_management_review
        ))
        .routes(routes!(
            crate::internal_audit::review_api::add_review_decision
        ))
        .routes(routes!(
            crate::internal_audit::review_api::add_review_action
        ))
        .routes(routes!(
            crate::internal_audit::review_api::patch_review_action
        ))
        .routes(routes!(
            crate::internal_audit::review_api::management_review_report
        ))
        .routes(routes!(
            crate::internal_audit::review_api::freeze_review_inputs
        ))
        .routes(routes!(
            crate::internal_audit::review_api::recompile_review_inputs
        ))
        .routes(routes!(crate::risk::api::list_methodology_templates))
        .routes(routes!(crate::risk::api::choose_methodology_template))
        .routes(routes!(
            crate::controls::api::list_controls,
            crate::controls::api::create_control
        ))
        .routes(routes!(
            crate::controls::api::get_control,
            crate::controls::api::patch_control
        ))
        .routes(routes!(crate::controls::api::control_coverage))
        .routes(routes!(crate::controls::api::framework_coverage))
        .routes(routes!(crate::controls::reports::export_controls))
        .routes(routes!(crate::controls::reports::export_coverage))
        .routes(routes!(crate::controls::reports::export_metrics))
        .routes(routes!(crate::controls::api::upload_evidence))
        .routes(routes!(
            crate::controls::api::list_control_reviews,
            crate::controls::api::create_control_review
        ))
        .routes(routes!(crate::controls::api::overdue_control_reviews))
        .routes(routes!(
            crate::controls::api::list_evidence,
            crate::controls::api::create_evidence_link
        ))
        .routes(routes!(crate::controls::api::get_evidence))
        .routes(routes!(crate::controls::api::revise_evidence))
        .routes(routes!(crate::controls::api::download_evidence))
        .routes(routes!(
            crate::controls::api::list_metrics,
            crate::controls::api::create_metric
        ))
        .routes(routes!(
            crate::controls::api::get_metric,
            crate::controls::api::patch_metric
        ))
        .routes(routes!(crate::controls::api::create_measurement))
        .routes(routes!(crate::controls::api::import_measurements))
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
        .routes(routes!(crate::documents::api::acknowledgements_by_person))
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
    use Permission::{Approve, EditIsms, ManageMembers, ReadAuditLog, ReadIsms, RecordFindings};
    &[
        ("me", Member),
        ("list_frameworks", Member),
        ("get_framework", Member),
        ("list_requirements", Member),
        ("get_requirement", Member),
        ("list_libraries", Member),
        ("list_reference_controls", Needs(ReadIsms)),
        ("list_metric_definitions", Needs(ReadIsms)),
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
        ("list_audit_log", Needs(ReadAuditLog)),
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
        ("risk_heat_map", Needs(ReadIsms)),
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
        ("get_risk_quantitative", Needs(ReadIsms)),
        ("put_risk_quantitative", Needs(EditIsms)),
        ("delete_risk_quantitative", Needs(EditIsms)),
        ("get_risk_portfolio", Needs(ReadIsms)),
        ("list_risk_snapshots", Needs(ReadIsms)),
        ("create_risk_snapshot", Needs(EditIsms)),
        ("compare_risk_snapshots", Needs(ReadIsms)),
        // The methodology is a management decision: those who approve.
        ("put_risk_methodology", Needs(Approve)),
        // Training: everyone reads courses and completes their own; managers
        // edit and assign; the records are ISMS information.
        ("list_courses", Member),
        ("create_course", Needs(EditIsms)),
        ("get_course", Member),
        ("put_course", Needs(EditIsms)),
        ("list_course_assignments", Needs(ReadIsms)),
        ("assign_course", Needs(EditIsms)),
        ("complete_course", Member),
        ("retire_course", Needs(EditIsms)),
        ("reactivate_course", Needs(EditIsms)),
        ("export_competence", Needs(ReadIsms)),
        ("put_assignment", Needs(EditIsms)),
        ("my_training", Member),
        ("list_assignments", Needs(ReadIsms)),
        ("training_records", Needs(ReadIsms)),
        ("export_training", Needs(ReadIsms)),
        ("remind_training", Needs(EditIsms)),
        ("list_competence_requirements", Needs(ReadIsms)),
        ("create_competence_requirement", Needs(EditIsms)),
        ("create_competence_record", Needs(EditIsms)),
        ("put_competence_record", Needs(EditIsms)),
        ("get_competence", Needs(ReadIsms)),
        ("get_roadmap", Needs(ReadIsms)),
        ("plan_roadmap_step", Needs(EditIsms)),
        ("list_tasks", Needs(ReadIsms)),
        ("create_task", Needs(EditIsms)),
        // A member reads and updates their own tasks; those who read or
        // edit the ISMS, anyone's (checked inside).
        ("get_task", Member),
        ("patch_task", Member),
        ("my_tasks", Member),
        ("list_due_items", Needs(ReadIsms)),
        ("create_calendar", Member),
        ("delete_calendar", Member),
        ("list_audits", Needs(ReadIsms)),
        ("create_audit", Needs(EditIsms)),
        ("get_audit_programme", Needs(ReadIsms)),
        ("get_audit", Needs(ReadIsms)),
        ("patch_audit", Needs(EditIsms)),
        // Auditors record findings; so do those who run the ISMS.
        ("record_finding", Needs(RecordFindings)),
        ("add_finding_evidence", Needs(RecordFindings)),
        ("audit_report", Needs(ReadIsms)),
        ("list_nonconformities", Needs(ReadIsms)),
        ("create_nonconformity", Needs(EditIsms)),
        ("export_nonconformities", Needs(ReadIsms)),
        ("get_nonconformity", Needs(ReadIsms)),
        ("patch_nonconformity", Needs(EditIsms)),
        ("add_nc_action", Needs(EditIsms)),
        ("complete_nc_action", Needs(EditIsms)),
        ("verify_nonconformity", Needs(EditIsms)),
        ("close_nonconformity", Needs(EditIsms)),
        ("list_management_reviews", Needs(ReadIsms)),
        ("create_management_review", Needs(EditIsms)),
        ("get_management_review", Needs(ReadIsms)),
        ("patch_management_review", Needs(EditIsms)),
        ("add_review_decision", Needs(EditIsms)),
        ("add_review_action", Needs(EditIsms)),
        ("patch_review_action", Needs(EditIsms)),
        ("management_review_report", Needs(ReadIsms)),
        ("freeze_review_inputs", Needs(EditIsms)),
        ("recompile_review_inputs", Needs(EditIsms)),
        ("list_methodology_templates", Needs(ReadIsms)),
        ("choose_methodology_template", Needs(Approve)),
        ("list_controls", Needs(ReadIsms)),
        ("create_control", Needs(EditIsms)),
        ("get_control", Needs(ReadIsms)),
        ("patch_control", Needs(EditIsms)),
        ("control_coverage", Needs(ReadIsms)),
        ("framework_coverage", Needs(ReadIsms)),
        ("export_controls", Needs(ReadIsms)),
        ("export_coverage", Needs(ReadIsms)),
        ("export_metrics", Needs(ReadIsms)),
        ("upload_evidence", Needs(EditIsms)),
        ("list_control_reviews", Needs(ReadIsms)),
        ("create_control_review", Needs(EditIsms)),
        ("overdue_control_reviews", Needs(ReadIsms)),
        ("list_evidence", Needs(ReadIsms)),
        ("create_evidence_link", Needs(EditIsms)),
        ("get_evidence", Needs(ReadIsms)),
        ("revise_evidence", Needs(EditIsms)),
        ("download_evidence", Needs(ReadIsms)),
        ("list_metrics", Needs(ReadIsms)),
        ("create_metric", Needs(EditIsms)),
        ("get_metric", Needs(ReadIsms)),
        ("patch_metric", Needs(EditIsms)),
        ("create_measurement", Needs(EditIsms)),
        ("import_measurements", Needs(EditIsms)),
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
        ("acknowledgements_by_person", Needs(ReadIsms)),
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
