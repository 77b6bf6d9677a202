//! The risk API: assets, the register, acceptance, the methodology.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_domain::risk::{AcceptRefused, Acceptor, AssetType, Methodology, RiskStatus, Treatment};
use isms_domain::{Permission, Role};
use isms_store::{AssetInput, AssetQuery, RiskInput, RiskQuery, RiskSort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::views::{AssetOut, RiskOut};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};

/// A JSON body, or a problem that says what is wrong with it.
pub(crate) fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t).map_err(|e| {
        ApiError(WebError::new(
            e.status(),
            "Please check your input",
            format!("the request body is not valid: {}", e.body_text()),
        ))
    })
}

fn parse<T: std::str::FromStr>(field: &str, v: Option<&str>) -> Result<Option<T>, ApiError>
where
    T::Err: std::fmt::Display,
{
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|e| ApiError(WebError::invalid(format!("{field}: {e}")))),
    }
}

/// An asset to create (`name` and `type` required) or a change to one
/// (`version` required).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AssetIn {
    pub name: Option<String>,
    /// information, software, hardware, service, people, site or supplier.
    #[serde(rename = "type")]
    pub asset_type: Option<String>,
    pub description: Option<String>,
    /// E-mail of a member; "" removes the owner.
    pub owner: Option<String>,
    pub location: Option<String>,
    pub classification: Option<String>,
    /// 0 to 5.
    pub confidentiality: Option<i64>,
    pub integrity: Option<i64>,
    pub availability: Option<i64>,
    /// Ids of the assets this one depends on (the whole set; cycles are refused).
    pub depends_on: Option<Vec<i64>>,
    /// The version you last read.
    pub version: Option<i64>,
}

impl From<AssetIn> for AssetInput {
    fn from(a: AssetIn) -> Self {
        AssetInput {
            name: a.name,
            asset_type: a.asset_type,
            description: a.description,
            owner: a.owner,
            location: a.location,
            classification: a.classification,
            confidentiality: a.confidentiality,
            integrity: a.integrity,
            availability: a.availability,
            depends_on: a.depends_on,
            version: a.version,
        }
    }
}

/// A risk to create (`title`, `likelihood`, `impact` and `treatment`
/// required; residual scores default to the inherent ones) or a change to
/// one (`version` required).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RiskIn {
    pub title: Option<String>,
    pub description: Option<String>,
    pub threat: Option<String>,
    pub vulnerability: Option<String>,
    pub consequence: Option<String>,
    /// E-mail of a member; "" removes the owner.
    pub owner: Option<String>,
    /// 1 to the number of steps of the likelihood scale (5 by default).
    pub likelihood: Option<i64>,
    /// 1 to the number of steps of the impact scale (5 by default).
    pub impact: Option<i64>,
    /// modify, retain, avoid or share.
    pub treatment: Option<String>,
    pub residual_likelihood: Option<i64>,
    pub residual_impact: Option<i64>,
    /// identified, assessed, treating or closed (accepted only through /accept).
    pub status: Option<String>,
    /// YYYY-MM-DD or "".
    pub next_review: Option<String>,
    /// The whole set of affected assets.
    pub asset_ids: Option<Vec<i64>>,
    /// The whole set of Annex A controls that treat the risk, e.g. `["8.7"]`.
    pub annex_a_controls: Option<Vec<String>>,
    /// The whole set of the organisation's applied controls (ids) that treat the risk.
    pub applied_controls: Option<Vec<i64>>,
    /// The version you last read.
    pub version: Option<i64>,
}

impl From<RiskIn> for RiskInput {
    fn from(r: RiskIn) -> Self {
        RiskInput {
            title: r.title,
            description: r.description,
            threat: r.threat,
            vulnerability: r.vulnerability,
            consequence: r.consequence,
            owner: r.owner,
            likelihood: r.likelihood,
            impact: r.impact,
            treatment: r.treatment,
            residual_likelihood: r.residual_likelihood,
            residual_impact: r.residual_impact,
            status: r.status,
            next_review: r.next_review,
            asset_ids: r.asset_ids,
            annex_a_controls: r.annex_a_controls,
            applied_controls: r.applied_controls,
            version: r.version,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AssetListQuery {
    /// Text the name contains.
    q: Option<String>,
    /// Only assets of this type.
    #[serde(rename = "type")]
    asset_type: Option<String>,
    /// 1 to 500, default 50.
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssetPage {
    items: Vec<AssetOut>,
    /// The offset of the next page, if there is one.
    next: Option<i64>,
}

#[utoipa::path(post, path = "/assets", tag = "risk", request_body = AssetIn,
    responses((status = 201, body = AssetOut),
        (status = 409, description = "An asset of that name exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_asset(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<AssetIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let a = state
        .store
        .create_asset(user.0.org_id, &body(input)?.into(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(AssetOut::from(a))).into_response())
}

#[utoipa::path(get, path = "/assets", tag = "risk", params(AssetListQuery),
    responses((status = 200, body = AssetPage)))]
pub async fn list_assets(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<AssetListQuery>,
) -> Result<Json<AssetPage>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let limit = q.limit.unwrap_or(50).clamp(1, isms_store::MAX_PAGE);
    let offset = q.offset.unwrap_or(0).max(0);
    let items = state
        .store
        .assets(
            user.0.org_id,
            &AssetQuery {
                q: q.q,
                asset_type: parse::<AssetType>("type", q.asset_type.as_deref())?,
                limit: limit + 1,
                offset,
            },
        )
        .await?;
    let more = items.len() as i64 > limit;
    Ok(Json(AssetPage {
        items: items
            .into_iter()
            .take(limit as usize)
            .map(AssetOut::from)
            .collect(),
        // Saturating: an offset near i64::MAX must not overflow (the API fuzz sent one).
        next: more.then(|| offset.saturating_add(limit)),
    }))
}

#[utoipa::path(get, path = "/assets/{asset}", tag = "risk", params(("asset" = i64, Path)),
    responses((status = 200, body = AssetOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_asset(
    State(state): State<AppState>,
    user: ApiUser,
    Path(asset): Path<i64>,
) -> Result<Json<AssetOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(state.store.asset(user.0.org_id, asset).await?.into()))
}

#[utoipa::path(patch, path = "/assets/{asset}", tag = "risk", params(("asset" = i64, Path)), request_body = AssetIn,
    responses((status = 200, body = AssetOut),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or name taken: nothing saved", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field or a dependency cycle", body = Problem, content_type = "application/problem+json")))]
pub async fn patch_asset(
    State(state): State<AppState>,
    user: ApiUser,
    Path(asset): Path<i64>,
    input: Result<Json<AssetIn>, JsonRejection>,
) -> Result<Json<AssetOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let a = state
        .store
        .update_asset(user.0.org_id, asset, &body(input)?.into(), &user.actor())
        .await?;
    Ok(Json(a.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeleteAssetQuery {
    /// Remove the asset's links to risks too (otherwise a linked asset is kept: 409).
    #[serde(default)]
    unlink: bool,
}

#[utoipa::path(delete, path = "/assets/{asset}", tag = "risk", params(("asset" = i64, Path), DeleteAssetQuery),
    responses((status = 204, description = "Deleted"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Still linked to risks", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_asset(
    State(state): State<AppState>,
    user: ApiUser,
    Path(asset): Path<i64>,
    Query(q): Query<DeleteAssetQuery>,
) -> Result<StatusCode, ApiError> {
    user.require(Permission::EditIsms)?;
    state
        .store
        .delete_asset(user.0.org_id, asset, q.unlink, &user.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct RiskListQuery {
    /// Words that must all start a word of the title or description (prefix match).
    pub q: Option<String>,
    /// level (inherent, highest first; the default), residual, or created.
    pub sort: Option<String>,
    pub status: Option<String>,
    pub treatment: Option<String>,
    /// Only risks at this inherent level or above (its name, e.g. High).
    pub level: Option<String>,
    pub asset: Option<i64>,
    /// Only risks treated by this Annex A control.
    pub control: Option<String>,
    /// 1 to 500, default 50.
    pub limit: Option<i64>,
    /// The `next` of the previous page.
    pub after: Option<String>,
}

impl RiskListQuery {
    pub fn to_query(&self, m: &Methodology) -> Result<RiskQuery, WebError> {
        let inv = |e: ApiError| e.0;
        let min_level = match self
            .level
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            None => None,
            Some(name) => Some(
                m.levels
                    .iter()
                    .position(|l| l.name.eq_ignore_ascii_case(name))
                    .ok_or_else(|| {
                        WebError::invalid(format!(
                            "level: unknown level '{name}': use one of {}",
                            m.levels
                                .iter()
                                .map(|l| l.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })? as i64,
            ),
        };
        Ok(RiskQuery {
            q: self.q.clone().filter(|q| !q.trim().is_empty()),
            status: parse::<RiskStatus>("status", self.status.as_deref()).map_err(inv)?,
            treatment: parse::<Treatment>("treatment", self.treatment.as_deref()).map_err(inv)?,
            min_level,
            asset_id: self.asset,
            control_id: self
                .control
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .map(|c| {
                    isms_domain::risk::normalise_control_id(c).ok_or_else(|| {
                        WebError::invalid(format!(
                            "control: '{c}' is not an Annex A control (5.1 .. 8.34)"
                        ))
                    })
                })
                .transpose()?,
            sort: self
                .sort
                .as_deref()
                .unwrap_or("")
                .parse::<RiskSort>()
                .map_err(WebError::from)?,
            limit: self.limit.unwrap_or(50),
            after: self.after.clone(),
        })
    }
}

/// One page of the register.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskPageOut {
    pub items: Vec<RiskOut>,
    /// Send as `after` for the next page; null on the last page.
    pub next: Option<String>,
}

#[utoipa::path(post, path = "/risks", tag = "risk", request_body = RiskIn,
    responses((status = 201, description = "Created, with its computed levels", body = RiskOut),
        (status = 422, description = "A score outside the scale, an unknown asset, control or owner", body = Problem, content_type = "application/problem+json")))]
pub async fn create_risk(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<RiskIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    let r = state
        .store
        .create_risk(org, &body(input)?.into(), &user.actor())
        .await?;
    let m = state.store.risk_methodology(org).await?;
    Ok((StatusCode::CREATED, Json(RiskOut::new(&m, r))).into_response())
}

#[utoipa::path(get, path = "/risks", tag = "risk", params(RiskListQuery),
    responses((status = 200, body = RiskPageOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_risks(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<RiskListQuery>,
) -> Result<Json<RiskPageOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let org = user.0.org_id;
    let m = state.store.risk_methodology(org).await?;
    let page = state.store.risks(org, &q.to_query(&m)?).await?;
    Ok(Json(RiskPageOut {
        items: page
            .items
            .into_iter()
            .map(|r| RiskOut::new(&m, r))
            .collect(),
        next: page.next,
    }))
}

/// The heat map of the open risks: how many sit in each cell of the matrix.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeatMapOut {
    /// The likelihood scale's names, lowest first (the rows).
    likelihood: Vec<String>,
    /// The impact scale's names, lowest first (the columns).
    impact: Vec<String>,
    /// Open risks per cell by inherent likelihood (row) and impact (column).
    inherent: Vec<Vec<i64>>,
    /// The same by residual likelihood and impact.
    residual: Vec<Vec<i64>>,
    /// The heat map drawn as SVG (what the register page and the dashboard show).
    svg: String,
}

#[utoipa::path(get, path = "/risks/heat-map", tag = "risk",
    responses((status = 200, body = HeatMapOut)))]
pub async fn risk_heat_map(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<HeatMapOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let (_, map) = super::export::heat_grid(&state.store, user.0.org_id).await?;
    let svg = isms_reports::risk::heat_map_svg(&map);
    Ok(Json(HeatMapOut {
        likelihood: map.likelihood,
        impact: map.impact,
        inherent: map.inherent,
        residual: map.residual,
        svg,
    }))
}

#[utoipa::path(get, path = "/risks/{risk}", tag = "risk", params(("risk" = i64, Path)),
    responses((status = 200, body = RiskOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_risk(
    State(state): State<AppState>,
    user: ApiUser,
    Path(risk): Path<i64>,
) -> Result<Json<RiskOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let org = user.0.org_id;
    let r = state.store.risk(org, risk).await?;
    let m = state.store.risk_methodology(org).await?;
    Ok(Json(RiskOut::new(&m, r)))
}

#[utoipa::path(patch, path = "/risks/{risk}", tag = "risk", params(("risk" = i64, Path)), request_body = RiskIn,
    responses((status = 200, body = RiskOut),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version: nothing saved", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_risk(
    State(state): State<AppState>,
    user: ApiUser,
    Path(risk): Path<i64>,
    input: Result<Json<RiskIn>, JsonRejection>,
) -> Result<Json<RiskOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    let r = state
        .store
        .update_risk(org, risk, &body(input)?.into(), &user.actor())
        .await?;
    let m = state.store.risk_methodology(org).await?;
    Ok(Json(RiskOut::new(&m, r)))
}

#[utoipa::path(delete, path = "/risks/{risk}", tag = "risk", params(("risk" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_risk(
    State(state): State<AppState>,
    user: ApiUser,
    Path(risk): Path<i64>,
) -> Result<StatusCode, ApiError> {
    user.require(Permission::EditIsms)?;
    state
        .store
        .delete_risk(user.0.org_id, risk, &user.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Acceptance of a risk's residual level.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AcceptIn {
    /// Why the residual risk is accepted (required).
    pub comment: Option<String>,
    /// Accept above the acceptance criteria: administrators only, recorded.
    #[serde(rename = "override", default)]
    pub is_override: bool,
    /// YYYY-MM-DD until which the acceptance holds, or "".
    pub until: Option<String>,
    /// The version you last read; without it, the current one.
    pub version: Option<i64>,
}

/// Who accepts, as the acceptance rule sees it.
pub(crate) fn acceptor(role: Role) -> Acceptor {
    if role == Role::Admin {
        Acceptor::Administrator
    } else {
        Acceptor::Other
    }
}

/// The status of a refused acceptance: 403 for an override the role may
/// not give, 422 otherwise.
pub(crate) fn refused(r: &AcceptRefused) -> WebError {
    match r {
        AcceptRefused::OverrideNotAllowed => WebError::forbidden(r.to_string()),
        AcceptRefused::AboveCriteria { .. } | AcceptRefused::NoComment => {
            WebError::invalid(r.to_string())
        }
    }
}

#[utoipa::path(post, path = "/risks/{risk}/accept", tag = "risk", params(("risk" = i64, Path)), request_body = AcceptIn,
    responses((status = 200, description = "Accepted", body = RiskOut),
        (status = 403, description = "An override by someone other than an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Above the acceptance criteria without an override, or no comment", body = Problem, content_type = "application/problem+json")))]
pub async fn accept_risk(
    State(state): State<AppState>,
    user: ApiUser,
    Path(risk): Path<i64>,
    input: Result<Json<AcceptIn>, JsonRejection>,
) -> Result<Json<RiskOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let a = body(input)?;
    let org = user.0.org_id;
    let r = state
        .store
        .accept_risk(
            org,
            risk,
            acceptor(user.0.role),
            a.comment.as_deref().unwrap_or(""),
            a.is_override,
            a.until.as_deref().unwrap_or(""),
            a.version,
            &user.actor(),
        )
        .await?
        .map_err(|r| ApiError(refused(&r)))?;
    let m = state.store.risk_methodology(org).await?;
    Ok(Json(RiskOut::new(&m, r)))
}

/// The methodology with its version.
#[derive(Debug, Serialize)]
pub struct MethodologyOut {
    methodology: Methodology,
    /// Send it back with a change (0 while the built-in default applies).
    version: i64,
}

#[utoipa::path(get, path = "/risk-methodology", tag = "risk",
    responses((status = 200, description = "Scales, levels, matrix and acceptance criteria, with the version", body = Object)))]
pub async fn get_risk_methodology(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<MethodologyOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let org = user.0.org_id;
    Ok(Json(MethodologyOut {
        methodology: state.store.risk_methodology(org).await?,
        version: state.store.risk_methodology_version(org).await?,
    }))
}

/// A new methodology, previewed or applied.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MethodologyIn {
    /// Scales, levels, matrix and `max_acceptable_level`, as GET returns them.
    #[schema(value_type = Object)]
    pub methodology: Methodology,
    /// The version you last read (0 while the built-in default applies).
    pub version: i64,
    /// false: only list the risks whose level would change; true: save and re-score them.
    #[serde(default)]
    pub apply: bool,
}

#[utoipa::path(put, path = "/risk-methodology", tag = "risk", request_body = MethodologyIn,
    responses((status = 200, description = "What moves (and whether it was applied)", body = Object),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid methodology, or risks scored outside the new scales", body = Problem, content_type = "application/problem+json")))]
pub async fn put_risk_methodology(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<MethodologyIn>, JsonRejection>,
) -> Result<Json<isms_store::MethodologyChange>, ApiError> {
    user.require(Permission::Approve)?;
    let i = body(input)?;
    Ok(Json(
        state
            .store
            .change_risk_methodology(
                user.0.org_id,
                &i.methodology,
                i.version,
                i.apply,
                &user.actor(),
            )
            .await?,
    ))
}

/// A risk matrix imported from a library, offered as a methodology.
#[derive(Debug, Serialize)]
pub struct TemplateOut {
    id: i64,
    urn: String,
    name: String,
    description: String,
    library_urn: String,
    /// The methodology applying it gives (the risk owner's acceptance limit is kept where
    /// the template has that level, else the lowest level).
    methodology: Methodology,
    /// The matrix as the library gives it: levels with descriptions, abbreviations,
    /// colours and translations.
    matrix: isms_catalog::RiskMatrixDef,
}

#[utoipa::path(get, path = "/risk-methodology/templates", tag = "risk",
    responses((status = 200, description = "Risk matrices imported from libraries, each with the methodology it gives", body = Vec<Object>)))]
pub async fn list_methodology_templates(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<TemplateOut>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let current = state.store.risk_methodology(user.0.org_id).await?;
    let templates = state
        .store
        .methodology_templates(isms_store::Tenant::Org(user.0.org_id))
        .await?;
    Ok(Json(
        templates
            .into_iter()
            .map(|t| TemplateOut {
                methodology: isms_store::methodology_from_matrix(
                    &t.matrix,
                    Some(current.max_acceptable_level),
                ),
                id: t.id,
                urn: t.urn,
                name: t.name,
                description: t.description,
                library_urn: t.library_urn,
                matrix: t.matrix,
            })
            .collect(),
    ))
}

/// Choosing a template: previewed (which risks change level) or applied.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TemplateChoice {
    /// The methodology version you last read (0 while the built-in default applies).
    pub version: i64,
    /// false: only list the risks whose level would change; true: save and re-score them.
    #[serde(default)]
    pub apply: bool,
}

#[utoipa::path(post, path = "/risk-methodology/templates/{template}", tag = "risk", request_body = TemplateChoice,
    params(("template" = i64, Path, description = "The template's id")),
    responses((status = 200, description = "What moves (and whether it was applied)", body = Object),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The matrix does not fit the methodology rules, or risks are scored outside its scales", body = Problem, content_type = "application/problem+json")))]
pub async fn choose_methodology_template(
    State(state): State<AppState>,
    user: ApiUser,
    Path(template): Path<i64>,
    input: Result<Json<TemplateChoice>, JsonRejection>,
) -> Result<Json<isms_store::MethodologyChange>, ApiError> {
    user.require(Permission::Approve)?;
    let i = body(input)?;
    let org = user.0.org_id;
    let t = state
        .store
        .methodology_template(template, isms_store::Tenant::Org(org))
        .await?
        .ok_or_else(|| {
            ApiError(WebError::not_found(format!(
                "no methodology template {template}"
            )))
        })?;
    let current = state.store.risk_methodology(org).await?;
    let to = isms_store::methodology_from_matrix(&t.matrix, Some(current.max_acceptable_level));
    Ok(Json(
        state
            .store
            .change_risk_methodology(org, &to, i.version, i.apply, &user.actor())
            .await?,
    ))
}

/// The threat and vulnerability library.
#[derive(Debug, Serialize, ToSchema)]
pub struct LibraryOut {
    #[schema(value_type = Vec<Object>)]
    threats: &'static [isms_domain::risk_library::LibraryEntry],
    #[schema(value_type = Vec<Object>)]
    vulnerabilities: &'static [isms_domain::risk_library::LibraryEntry],
    /// Threats imported from threat catalogs (libraries).
    #[schema(value_type = Vec<Object>)]
    imported_threats: Vec<isms_store::LibraryThreat>,
}

#[utoipa::path(get, path = "/risk-library", tag = "risk",
    responses((status = 200, description = "Threats and vulnerabilities with the Annex A controls that commonly treat them", body = LibraryOut)))]
pub async fn get_risk_library(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<LibraryOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(LibraryOut {
        threats: isms_domain::risk_library::THREATS,
        vulnerabilities: isms_domain::risk_library::VULNERABILITIES,
        imported_threats: state
            .store
            .library_threats(isms_store::Tenant::Org(user.0.org_id))
            .await?,
    }))
}

/// A treatment action to add (`title` required) or a change to one (`version` required).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ActionIn {
    pub title: Option<String>,
    /// E-mail of a member; "" removes the owner.
    pub owner: Option<String>,
    /// YYYY-MM-DD or "".
    pub due_date: Option<String>,
    /// open, in_progress, done or cancelled.
    pub status: Option<String>,
    /// Whole currency units, 0 or more.
    pub cost: Option<i64>,
    pub version: Option<i64>,
}

impl From<ActionIn> for isms_store::ActionInput {
    fn from(a: ActionIn) -> Self {
        isms_store::ActionInput {
            title: a.title,
            owner: a.owner,
            due_date: a.due_date,
            status: a.status,
            cost: a.cost,
            version: a.version,
        }
    }
}

#[utoipa::path(post, path = "/risks/{risk}/actions", tag = "risk", params(("risk" = i64, Path)), request_body = ActionIn,
    responses((status = 201, description = "The action", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_risk_action(
    State(state): State<AppState>,
    user: ApiUser,
    Path(risk): Path<i64>,
    input: Result<Json<ActionIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let a = state
        .store
        .create_risk_action(user.0.org_id, risk, &body(input)?.into(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

#[utoipa::path(get, path = "/risks/{risk}/actions", tag = "risk", params(("risk" = i64, Path)),
    responses((status = 200, description = "The risk's treatment actions by due date", body = Vec<Object>),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_risk_actions(
    State(state): State<AppState>,
    user: ApiUser,
    Path(risk): Path<i64>,
) -> Result<Json<Vec<isms_store::RiskAction>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let org = user.0.org_id;
    state.store.risk(org, risk).await?;
    Ok(Json(state.store.risk_actions(org, risk).await?))
}

#[utoipa::path(patch, path = "/risk-actions/{action}", tag = "risk", params(("action" = i64, Path)), request_body = ActionIn,
    responses((status = 200, description = "The action", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_risk_action(
    State(state): State<AppState>,
    user: ApiUser,
    Path(action): Path<i64>,
    input: Result<Json<ActionIn>, JsonRejection>,
) -> Result<Json<isms_store::RiskAction>, ApiError> {
    user.require(Permission::EditIsms)?;
    Ok(Json(
        state
            .store
            .update_risk_action(user.0.org_id, action, &body(input)?.into(), &user.actor())
            .await?,
    ))
}

#[utoipa::path(get, path = "/risk-actions/overdue", tag = "risk",
    responses((status = 200, description = "Open actions past their due date, oldest first", body = Vec<Object>)))]
pub async fn overdue_risk_actions(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<isms_store::RiskAction>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let today = isms_store::now();
    Ok(Json(
        state
            .store
            .overdue_risk_actions(user.0.org_id, today.get(..10).unwrap_or(""))
            .await?,
    ))
}

/// A snapshot to take.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SnapshotIn {
    /// E.g. "Assessment 2026 Q4".
    pub title: String,
}

#[utoipa::path(post, path = "/risk-snapshots", tag = "risk", request_body = SnapshotIn,
    responses((status = 201, description = "The register, frozen", body = Object), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_risk_snapshot(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<SnapshotIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let s = state
        .store
        .take_risk_snapshot(user.0.org_id, &i.title, &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

#[utoipa::path(get, path = "/risk-snapshots", tag = "risk",
    responses((status = 200, description = "Snapshots, newest first", body = Vec<Object>)))]
pub async fn list_risk_snapshots(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<isms_store::RiskSnapshotInfo>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(state.store.risk_snapshots(user.0.org_id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SnapshotCompareQuery {
    /// The earlier snapshot's id.
    from: i64,
    /// The later snapshot's id.
    to: i64,
}

#[utoipa::path(get, path = "/risk-snapshots/compare", tag = "risk", params(SnapshotCompareQuery),
    responses((status = 200, description = "New, closed and changed risks", body = Object), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn compare_risk_snapshots(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<SnapshotCompareQuery>,
) -> Result<Json<isms_domain::risk::SnapshotComparison>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(
        state
            .store
            .compare_risk_snapshots(user.0.org_id, q.from, q.to)
            .await?,
    ))
}
