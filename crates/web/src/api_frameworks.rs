//! `/api/v1/frameworks` and `/api/v1/requirements`: frameworks as trees of
//! requirements, and each requirement's mappings to other frameworks.

use axum::Json;
use axum::extract::{Path, Query, State};
use isms_store::{FrameworkRow, MappedRequirement, RequirementRow, Tenant};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};

#[derive(Serialize, ToSchema)]
pub struct Framework {
    id: i64,
    /// Stable id, e.g. `iso27001-2022`, `nist-csf-2.0`.
    slug: String,
    name: String,
    version: String,
    publisher: String,
    licence_note: String,
    builtin: bool,
    /// True when this organisation imported it (visible only here); false
    /// for frameworks installed for the whole installation.
    private: bool,
    source_file: String,
    source_format: String,
    /// When it was imported or last updated.
    imported_at: String,
    requirement_count: i64,
    /// The library it came from (CISO Assistant libraries) and that library's version.
    library_urn: Option<String>,
    library_version: Option<i64>,
}

impl From<FrameworkRow> for Framework {
    fn from(f: FrameworkRow) -> Self {
        Framework {
            id: f.id,
            slug: f.slug,
            name: f.name,
            version: f.version,
            publisher: f.publisher,
            licence_note: f.licence_note,
            builtin: f.builtin,
            private: f.org_id.is_some(),
            source_file: f.source_file,
            source_format: f.source_format,
            imported_at: f.imported_at,
            requirement_count: f.requirement_count,
            library_urn: f.library_urn,
            library_version: f.library_version,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Guidance {
    purpose: String,
    implementation: Vec<String>,
    evidence: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Requirement {
    id: i64,
    framework: String,
    /// The label: `4.1`, `A.5.1`, `AC-2(1)`, `PR.AA-01`. Unique in the framework unless the
    /// source identifies requirements by URN (then see `display_ref` and `key`).
    ref_id: String,
    /// The ref id, or with its parent path where it repeats in the framework (`3.3 › 3`).
    display_ref: String,
    /// The stable identity within the framework: the source's URN, else the ref id.
    key: String,
    parent_ref_id: Option<String>,
    /// clause, control, enhancement, group or item.
    kind: String,
    title: String,
    description: Option<String>,
    discussion: Option<String>,
    /// ISO/IEC 27001:2022 Annex A only: the bare control id (`5.1`).
    control_id: Option<String>,
    withdrawn: bool,
    /// A newer version of its library no longer has it; kept so links still resolve.
    retired: bool,
    depth: i64,
    guidance: Option<Guidance>,
    /// Name and description in other languages, as the source gives them.
    #[schema(value_type = Option<Object>)]
    translations: Option<serde_json::Value>,
}

impl From<RequirementRow> for Requirement {
    fn from(r: RequirementRow) -> Self {
        let guidance = r.guidance().map(|g| Guidance {
            purpose: g.purpose,
            implementation: g.implementation,
            evidence: g.evidence,
        });
        let translations = r.translations();
        Requirement {
            id: r.id,
            framework: r.framework_slug,
            ref_id: r.ref_id,
            display_ref: r.display_ref,
            key: r.node_key,
            parent_ref_id: r.parent_ref_id,
            kind: r.kind,
            title: r.title,
            description: r.description,
            discussion: r.discussion,
            control_id: r.control_id,
            withdrawn: r.withdrawn,
            retired: r.retired,
            depth: r.depth,
            guidance,
            translations,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Mapping {
    framework: String,
    ref_id: String,
    /// equal, subset_of, superset_of, intersects_with or related, read from this requirement to the other.
    relationship: String,
    note: Option<String>,
    /// True for mappings isms composed through another (never official).
    derived: bool,
    derived_path: Option<Vec<String>>,
    /// `builtin`, or the file the mapping was imported from.
    origin: String,
    /// The other requirement's id when its framework is installed.
    requirement_id: Option<i64>,
    title: Option<String>,
}

impl From<MappedRequirement> for Mapping {
    fn from(m: MappedRequirement) -> Self {
        Mapping {
            framework: m.framework,
            ref_id: m.ref_id,
            relationship: m.relationship,
            note: m.note,
            derived: m.derived_path.is_some(),
            derived_path: m.derived_path,
            origin: m.origin,
            requirement_id: m.requirement_id,
            title: m.title,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RequirementWithMappings {
    #[serde(flatten)]
    requirement: Requirement,
    mappings: Vec<Mapping>,
}

/// All installed frameworks.
#[utoipa::path(get, path = "/frameworks", tag = "frameworks",
    responses((status = 200, body = Vec<Framework>), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_frameworks(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<Framework>>, ApiError> {
    Ok(Json(
        state
            .store
            .frameworks(Tenant::Org(user.0.org_id))
            .await?
            .into_iter()
            .map(Framework::from)
            .collect(),
    ))
}

async fn find_framework(
    state: &AppState,
    user: &ApiUser,
    id: &str,
) -> Result<FrameworkRow, ApiError> {
    let tenant = Tenant::Org(user.0.org_id);
    state.store.framework(id, tenant).await?.ok_or_else(|| {
        ApiError(WebError::not_found(format!(
            "no framework '{id}'; see GET /api/v1/frameworks"
        )))
    })
}

/// One framework, by number or id (e.g. `iso27001-2022`).
#[utoipa::path(get, path = "/frameworks/{id}", tag = "frameworks",
    params(("id" = String, Path, description = "Number or id, e.g. iso27001-2022")),
    responses((status = 200, body = Framework), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_framework(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Framework>, ApiError> {
    Ok(Json(find_framework(&state, &user, &id).await?.into()))
}

#[derive(Deserialize, IntoParams)]
pub struct RequirementQuery {
    /// Only requirements whose id, title or text contains this (case-insensitive).
    q: Option<String>,
}

/// A framework's requirements in tree order (parents before children, in the source's order).
#[utoipa::path(get, path = "/frameworks/{id}/requirements", tag = "frameworks",
    params(("id" = String, Path, description = "Number or id, e.g. nist-csf-2.0"), RequirementQuery),
    responses((status = 200, body = Vec<Requirement>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_requirements(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    Query(q): Query<RequirementQuery>,
) -> Result<Json<Vec<Requirement>>, ApiError> {
    let fw = find_framework(&state, &user, &id).await?;
    let rows = state.store.requirements(fw.id, q.q.as_deref()).await?;
    Ok(Json(rows.into_iter().map(Requirement::from).collect()))
}

/// One requirement with its guidance and its mappings to other frameworks, both directions.
#[utoipa::path(get, path = "/requirements/{id}", tag = "frameworks",
    params(("id" = String, Path, description = "The requirement's number, or `framework:ref`, e.g. `nist-csf-2.0:PR.AA-01`; where a ref id repeats, `framework:parent › ref` or `framework:URN`")),
    responses((status = 200, body = RequirementWithMappings), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The ref id repeats in the framework: the problem names the candidates", body = Problem, content_type = "application/problem+json")))]
pub async fn get_requirement(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<RequirementWithMappings>, ApiError> {
    let tenant = Tenant::Org(user.0.org_id);
    let row = match (id.parse::<i64>(), id.split_once(':')) {
        (Ok(n), _) => state.store.requirement(n, tenant).await?,
        (Err(_), Some((fw, reference))) => {
            match state
                .store
                .lookup_requirement(fw, reference, tenant)
                .await?
            {
                isms_store::RefLookup::One(r) => Some(*r),
                isms_store::RefLookup::None => None,
                isms_store::RefLookup::Ambiguous(candidates) => {
                    let names: Vec<String> = candidates
                        .iter()
                        .map(|c| format!("{fw}:{} (requirement {})", c.display_ref, c.id))
                        .collect();
                    return Err(ApiError(WebError::new(
                        axum::http::StatusCode::CONFLICT,
                        "Ambiguous reference",
                        format!(
                            "'{reference}' names {} requirements of {fw}: {}; ask for one of them",
                            candidates.len(),
                            names.join(", ")
                        ),
                    )));
                }
            }
        }
        _ => None,
    }
    .ok_or_else(|| ApiError(WebError::not_found(format!("no requirement '{id}'"))))?;
    let mappings = state
        .store
        .mapped_requirements(&row.framework_slug, &row.node_key, tenant)
        .await?;
    Ok(Json(RequirementWithMappings {
        requirement: row.into(),
        mappings: mappings.into_iter().map(Mapping::from).collect(),
    }))
}

/// An installed library: its version, provider and last update, and what it holds.
#[derive(Serialize, ToSchema)]
pub struct Library {
    id: i64,
    urn: String,
    name: String,
    version: Option<i64>,
    provider: String,
    source_file: String,
    imported_at: String,
    updated_at: String,
    /// True when this organisation imported it (visible only here).
    private: bool,
    /// Counts of what it holds, and for a preset the libraries it bundles.
    #[schema(value_type = Object)]
    content: serde_json::Value,
}

/// The libraries installed for the whole installation and by this organisation.
#[utoipa::path(get, path = "/libraries", tag = "frameworks",
    responses((status = 200, body = Vec<Library>), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_libraries(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<Library>>, ApiError> {
    let libs = state
        .store
        .installed_libraries(Tenant::Org(user.0.org_id))
        .await?;
    Ok(Json(
        libs.into_iter()
            .map(|l| Library {
                content: l.content(),
                id: l.id,
                urn: l.urn,
                name: l.name,
                version: l.version,
                provider: l.provider,
                source_file: l.source_file,
                imported_at: l.imported_at,
                updated_at: l.updated_at,
                private: l.org_id.is_some(),
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct MeasureQuery {
    /// Words that must all appear in the ref id, name or description.
    q: Option<String>,
}

/// Reference measures (`id`, `urn`, `ref_id`, `name`, `description`, `category`,
/// `csf_function`, `library_urn`).
#[derive(Serialize, ToSchema)]
pub struct ReferenceControlList {
    #[schema(value_type = Vec<Object>)]
    items: Vec<isms_store::ReferenceMeasure>,
}

/// The catalog of reference measures: reference controls of imported libraries, from which
/// applied controls are created (`POST /api/v1/controls` with `reference_control`).
#[utoipa::path(get, path = "/reference-controls", tag = "frameworks", params(MeasureQuery),
    responses((status = 200, body = ReferenceControlList), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_reference_controls(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<MeasureQuery>,
) -> Result<Json<ReferenceControlList>, ApiError> {
    user.require(isms_domain::Permission::ReadIsms)?;
    Ok(Json(ReferenceControlList {
        items: state
            .store
            .reference_measures(
                Tenant::Org(user.0.org_id),
                q.q.as_deref().unwrap_or(""),
                5000,
            )
            .await?,
    }))
}

/// Metric definitions (`id`, `urn`, `ref_id`, `name`, `description`, `unit`, `direction`,
/// `target`, `frequency`, `category`, `library_urn`).
#[derive(Serialize, ToSchema)]
pub struct MetricDefinitionList {
    #[schema(value_type = Vec<Object>)]
    items: Vec<isms_store::MetricTemplate>,
}

/// Metric definitions of imported libraries, from which metrics are created
/// (`POST /api/v1/metrics` with `metric_definition`).
#[utoipa::path(get, path = "/metric-definitions", tag = "frameworks",
    responses((status = 200, body = MetricDefinitionList), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_metric_definitions(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<MetricDefinitionList>, ApiError> {
    user.require(isms_domain::Permission::ReadIsms)?;
    Ok(Json(MetricDefinitionList {
        items: state
            .store
            .metric_templates(Tenant::Org(user.0.org_id))
            .await?,
    }))
}
