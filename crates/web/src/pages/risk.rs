//! Risk management pages: the register (filters kept in the URL, keyset
//! pages, the heat map, a form to add a risk), a risk's page (edit,
//! acceptance), and the asset inventory. Forms keep what was typed after a
//! 409 or 422.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_domain::risk::{AssetType, Methodology, RiskStatus, Treatment};
use isms_store::{AssetInput, AssetQuery, RiskInput, StoreError};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::risk::api::{RiskListQuery, acceptor, refused};
use crate::risk::export::heat_map;
use crate::risk::views::{AssetOut, RiskOut};

/// What the risk form sends: text, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RiskForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    threat: String,
    #[serde(default)]
    vulnerability: String,
    #[serde(default)]
    consequence: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    likelihood: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    treatment: String,
    #[serde(default)]
    residual_likelihood: String,
    #[serde(default)]
    residual_impact: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    next_review: String,
    /// Asset names separated by `;`.
    #[serde(default)]
    assets: String,
    /// Annex A control ids separated by commas, `;` or spaces.
    #[serde(default)]
    controls: String,
    /// Ids of applied controls, separated by commas.
    #[serde(default)]
    applied: String,
    #[serde(default)]
    version: String,
}

fn number(field: &str, v: &str) -> Result<Option<i64>, StoreError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| StoreError::Invalid(format!("{field}: '{v}' is not a whole number")))
}

impl RiskForm {
    fn from_risk(r: &RiskOut, names: &HashMap<i64, String>) -> Self {
        RiskForm {
            title: r.title.clone(),
            description: r.description.clone(),
            threat: r.threat.clone(),
            vulnerability: r.vulnerability.clone(),
            consequence: r.consequence.clone(),
            owner: r.owner.clone().unwrap_or_default(),
            likelihood: r.likelihood.to_string(),
            impact: r.impact.to_string(),
            treatment: r.treatment.clone(),
            residual_likelihood: r.residual_likelihood.to_string(),
            residual_impact: r.residual_impact.to_string(),
            status: r.status.clone(),
            next_review: r.next_review.clone(),
            assets: r
                .asset_ids
                .iter()
                .filter_map(|a| names.get(a).cloned())
                .collect::<Vec<_>>()
                .join("; "),
            controls: r.annex_a_controls.join(", "),
            applied: r
                .applied_controls
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            version: r.version.to_string(),
        }
    }

    /// The store's input; asset names resolved against `by_name` (lower case).
    fn input(
        &self,
        by_name: &HashMap<String, i64>,
        editing: bool,
    ) -> Result<RiskInput, StoreError> {
        let text = |s: &str| {
            if editing || !s.trim().is_empty() {
                Some(s.to_owned())
            } else {
                None
            }
        };
        let mut asset_ids = Vec::new();
        for name in self
            .assets
            .split(';')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let id = by_name.get(&name.to_lowercase()).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "assets: there is no asset named '{name}': add it to the inventory first"
                ))
            })?;
            asset_ids.push(*id);
        }
        let controls: Vec<String> = self
            .controls
            .split([',', ';', ' '])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        let applied = if editing || !self.applied.trim().is_empty() {
            let mut ids = Vec::new();
            for v in self
                .applied
                .split([',', ';', ' '])
                .map(str::trim)
                .filter(|v| !v.is_empty())
            {
                ids.push(v.trim_start_matches('#').parse().map_err(|_| {
                    StoreError::Invalid(format!(
                        "applied_controls: '{v}' is not the number of an applied control"
                    ))
                })?);
            }
            Some(ids)
        } else {
            None
        };
        Ok(RiskInput {
            applied_controls: applied,
            title: Some(self.title.clone()),
            description: text(&self.description),
            threat: text(&self.threat),
            vulnerability: text(&self.vulnerability),
            consequence: text(&self.consequence),
            owner: text(&self.owner),
            likelihood: number("likelihood", &self.likelihood)?,
            impact: number("impact", &self.impact)?,
            treatment: text(&self.treatment),
            residual_likelihood: number("residual_likelihood", &self.residual_likelihood)?,
            residual_impact: number("residual_impact", &self.residual_impact)?,
            status: if editing { text(&self.status) } else { None },
            next_review: text(&self.next_review),
            asset_ids: Some(asset_ids),
            annex_a_controls: Some(controls),
            version: number("version", &self.version)?,
        })
    }
}

/// Options of the form's selects.
struct Choices {
    treatments: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    levels: Vec<String>,
    scale: Vec<i64>,
    impact_scale: Vec<i64>,
    asset_types: Vec<(&'static str, &'static str)>,
}

/// The library's threats and vulnerabilities, offered by the risk form.
const fn library() -> (
    &'static [isms_domain::risk_library::LibraryEntry],
    &'static [isms_domain::risk_library::LibraryEntry],
) {
    (
        isms_domain::risk_library::THREATS,
        isms_domain::risk_library::VULNERABILITIES,
    )
}

fn choices(m: &Methodology) -> Choices {
    Choices {
        treatments: Treatment::ALL
            .iter()
            .map(|t| (t.as_str(), t.label()))
            .collect(),
        statuses: RiskStatus::ALL
            .iter()
            .filter(|s| **s != RiskStatus::Accepted)
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        levels: m.levels.iter().map(|l| l.name.clone()).collect(),
        scale: (1..=m.likelihood.len() as i64).collect(),
        impact_scale: (1..=m.impact.len() as i64).collect(),
        asset_types: AssetType::ALL
            .iter()
            .map(|t| (t.as_str(), t.label()))
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "page_risks.html")]
struct RegisterPage {
    threats: &'static [isms_domain::risk_library::LibraryEntry],
    /// Threats imported from threat catalogs (libraries), offered beside the built-in ones.
    imported_threats: Vec<isms_store::LibraryThreat>,
    vulnerabilities: &'static [isms_domain::risk_library::LibraryEntry],
    chrome: Option<Chrome>,
    risks: Vec<RiskOut>,
    filter: Filter,
    next_link: Option<String>,
    heat_map: String,
    choices: Choices,
    form: RiskForm,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
}

/// The register's filters as sent (so the page shows them and links keep them).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    treatment: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    after: String,
}

impl Filter {
    fn query(&self) -> RiskListQuery {
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        RiskListQuery {
            q: opt(&self.q),
            sort: opt(&self.sort),
            status: opt(&self.status),
            treatment: opt(&self.treatment),
            level: opt(&self.level),
            limit: Some(50),
            after: opt(&self.after),
            ..RiskListQuery::default()
        }
    }
    /// The URL of this filter at page `after`.
    fn link(&self, after: &str) -> String {
        let pairs = [
            ("q", self.q.as_str()),
            ("status", &self.status),
            ("treatment", &self.treatment),
            ("level", &self.level),
            ("sort", &self.sort),
            ("after", after),
        ];
        let qs = serde_urlencoded::to_string(
            pairs
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default();
        format!("/risks?{qs}")
    }
}

async fn register(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    filter: Filter,
    form: RiskForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let chrome = Chrome::new(state, &user.0, "risks").await?;
    let (m, svg) = heat_map(&state.store, org).await?;
    let page = state
        .store
        .risks(org, &filter.query().to_query(&m)?)
        .await?;
    let html = render(&RegisterPage {
        threats: library().0,
        imported_threats: state
            .store
            .library_threats(isms_store::Tenant::Org(org))
            .await?,
        vulnerabilities: library().1,
        chrome: Some(chrome),
        next_link: page.next.as_deref().map(|n| filter.link(n)),
        risks: page
            .items
            .into_iter()
            .map(|r| RiskOut::new(&m, r))
            .collect(),
        filter,
        heat_map: svg,
        choices: choices(&m),
        form,
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(filter): Query<Filter>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let form = RiskForm {
        likelihood: "3".into(),
        impact: "3".into(),
        treatment: "modify".into(),
        ..RiskForm::default()
    };
    register(&state, &user, StatusCode::OK, filter, form, None).await
}

async fn asset_ids_by_name(state: &AppState, org: i64) -> Result<HashMap<String, i64>, WebError> {
    Ok(state
        .store
        .asset_names(org)
        .await?
        .into_iter()
        .map(|(id, n)| (n.to_lowercase(), id))
        .collect())
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<RiskForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    let by_name = asset_ids_by_name(&state, org).await?;
    let result = match f.input(&by_name, false) {
        Ok(input) => state.store.create_risk(org, &input, &user.actor()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => Ok(Redirect::to(&format!("/risks/{}", r.id)).into_response()),
        Err(StoreError::Invalid(m)) => {
            register(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Filter::default(),
                f,
                Some(format!("Nothing was saved: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "page_risk.html")]
struct RiskPage {
    actions: Vec<isms_store::RiskAction>,
    today: String,
    threats: &'static [isms_domain::risk_library::LibraryEntry],
    /// Threats imported from threat catalogs (libraries), offered beside the built-in ones.
    imported_threats: Vec<isms_store::LibraryThreat>,
    vulnerabilities: &'static [isms_domain::risk_library::LibraryEntry],
    chrome: Option<Chrome>,
    risk: RiskOut,
    assets: Vec<(i64, String)>,
    form: RiskForm,
    choices: Choices,
    can_edit: bool,
    is_admin: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
    quant: Option<isms_store::RiskQuantitative>,
    fair: FairForm,
    /// The applied controls that treat the risk: id, name, status.
    applied: Vec<(i64, String, String)>,
}

async fn risk_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    status: StatusCode,
    form: Option<RiskForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    risk_page_with(state, user, id, (status, form, error, notice), None).await
}

/// The risk page; `fair` keeps the quantitative form as typed.
async fn risk_page_with(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    (status, form, error, notice): (StatusCode, Option<RiskForm>, Option<String>, Option<String>),
    typed_fair: Option<FairForm>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let chrome = Chrome::new(state, &user.0, "risks").await?;
    let m = state.store.risk_methodology(org).await?;
    let risk = RiskOut::new(&m, state.store.risk(org, id).await?);
    let names: HashMap<i64, String> = state.store.asset_names(org).await?.into_iter().collect();
    let assets = risk
        .asset_ids
        .iter()
        .filter_map(|a| names.get(a).map(|n| (*a, n.clone())))
        .collect();
    let actions = state.store.risk_actions(org, id).await?;
    let applied = state
        .store
        .applied_control_names(org, &risk.applied_controls)
        .await?;
    let today = isms_store::now().get(..10).unwrap_or("").to_owned();
    let quant = state.store.risk_quantitative(org, id).await?;
    let fair = typed_fair.unwrap_or_else(|| {
        quant
            .as_ref()
            .map(|q| FairForm::from_input(&q.input))
            .unwrap_or_default()
    });
    let html = render(&RiskPage {
        applied,
        quant,
        fair,
        actions,
        today,
        threats: library().0,
        imported_threats: state
            .store
            .library_threats(isms_store::Tenant::Org(org))
            .await?,
        vulnerabilities: library().1,
        chrome: Some(chrome),
        form: form.unwrap_or_else(|| RiskForm::from_risk(&risk, &names)),
        risk,
        assets,
        choices: choices(&m),
        can_edit: user.0.role.can(Permission::EditIsms),
        is_admin: user.0.role == isms_domain::Role::Admin,
        csrf: user.0.csrf_token.clone(),
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(risk): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let notice = q.saved.map(|s| format!("Saved: {s}."));
    risk_page(&state, &user, risk, StatusCode::OK, None, None, notice).await
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(risk): Path<i64>,
    Form(f): Form<RiskForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    let by_name = asset_ids_by_name(&state, org).await?;
    let result = match f.input(&by_name, true) {
        Ok(input) => {
            state
                .store
                .update_risk(org, risk, &input, &user.actor())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/risks/{risk}?saved=changes")).into_response()),
        Err(StoreError::Invalid(m)) => {
            risk_page(
                &state,
                &user,
                risk,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(f),
                Some(format!("Nothing was saved: {m}.")),
                None,
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            // Keep what was typed; the next save is against the current version.
            let current = state.store.risk(org, risk).await?;
            let f = RiskForm {
                version: current.version.to_string(),
                ..f
            };
            risk_page(
                &state,
                &user,
                risk,
                StatusCode::CONFLICT,
                Some(f),
                Some(format!("{m}. Your changes are kept below.")),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    comment: String,
    #[serde(default)]
    until: String,
    #[serde(default, rename = "override")]
    is_override: Option<String>,
    #[serde(default)]
    version: String,
}

pub async fn accept(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(risk): Path<i64>,
    Form(f): Form<AcceptForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    let result = state
        .store
        .accept_risk(
            org,
            risk,
            acceptor(user.0.role),
            &f.comment,
            f.is_override.is_some(),
            &f.until,
            f.version.trim().parse().ok(),
            &user.actor(),
        )
        .await;
    let (status, message) = match result {
        Ok(Ok(_)) => {
            return Ok(Redirect::to(&format!("/risks/{risk}?saved=acceptance")).into_response());
        }
        Ok(Err(r)) => {
            let e = refused(&r);
            (e.status, e.detail)
        }
        Err(StoreError::Invalid(m)) => (StatusCode::UNPROCESSABLE_ENTITY, m),
        Err(StoreError::Conflict(m)) => (StatusCode::CONFLICT, m),
        Err(e) => return Err(e.into()),
    };
    risk_page(
        &state,
        &user,
        risk,
        status,
        None,
        Some(format!("Not accepted: {message}.")),
        None,
    )
    .await
}

// ---------------------------------------------------------------- assets

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssetForm {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    asset_type: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    classification: String,
    #[serde(default)]
    confidentiality: String,
    #[serde(default)]
    integrity: String,
    #[serde(default)]
    availability: String,
    /// Names of the assets this one depends on, separated by `;`.
    #[serde(default)]
    depends_on: String,
    #[serde(default)]
    version: String,
}

impl AssetForm {
    fn from_asset(a: &AssetOut, names: &HashMap<i64, String>) -> Self {
        AssetForm {
            name: a.name.clone(),
            asset_type: a.asset_type.clone(),
            description: a.description.clone(),
            owner: a.owner.clone().unwrap_or_default(),
            location: a.location.clone(),
            classification: a.classification.clone(),
            confidentiality: a.confidentiality.to_string(),
            integrity: a.integrity.to_string(),
            availability: a.availability.to_string(),
            depends_on: a
                .depends_on
                .iter()
                .filter_map(|d| names.get(d).cloned())
                .collect::<Vec<_>>()
                .join("; "),
            version: a.version.to_string(),
        }
    }

    fn input(&self, by_name: &HashMap<String, i64>) -> Result<AssetInput, StoreError> {
        let mut deps = Vec::new();
        for name in self
            .depends_on
            .split(';')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            deps.push(*by_name.get(&name.to_lowercase()).ok_or_else(|| {
                StoreError::Invalid(format!("depends_on: there is no asset named '{name}'"))
            })?);
        }
        Ok(AssetInput {
            name: Some(self.name.clone()),
            asset_type: Some(self.asset_type.clone()),
            description: Some(self.description.clone()),
            owner: Some(self.owner.clone()),
            location: Some(self.location.clone()),
            classification: Some(self.classification.clone()),
            confidentiality: number("confidentiality", &self.confidentiality)?,
            integrity: number("integrity", &self.integrity)?,
            availability: number("availability", &self.availability)?,
            depends_on: Some(deps),
            version: number("version", &self.version)?,
        })
    }
}

#[derive(Template)]
#[template(path = "page_risk_assets.html")]
struct InventoryPage {
    chrome: Option<Chrome>,
    assets: Vec<AssetOut>,
    q: String,
    form: AssetForm,
    choices: Choices,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InventoryQuery {
    #[serde(default)]
    q: String,
}

async fn inventory(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    q: String,
    form: AssetForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let chrome = Chrome::new(state, &user.0, "inventory").await?;
    let m = state.store.risk_methodology(org).await?;
    let assets = state
        .store
        .assets(
            org,
            &AssetQuery {
                q: Some(q.clone()),
                limit: isms_store::MAX_PAGE,
                ..AssetQuery::default()
            },
        )
        .await?;
    let html = render(&InventoryPage {
        chrome: Some(chrome),
        assets: assets.into_iter().map(AssetOut::from).collect(),
        q,
        form,
        choices: choices(&m),
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn assets(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<InventoryQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let form = AssetForm {
        asset_type: "information".into(),
        ..AssetForm::default()
    };
    inventory(&state, &user, StatusCode::OK, q.q, form, None).await
}

pub async fn create_asset(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<AssetForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    let by_name = asset_ids_by_name(&state, org).await?;
    let result = match f.input(&by_name) {
        Ok(input) => state.store.create_asset(org, &input, &user.actor()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(a) => Ok(Redirect::to(&format!("/inventory/{}", a.id)).into_response()),
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            inventory(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                String::new(),
                f,
                Some(format!("Nothing was saved: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "page_risk_asset.html")]
struct AssetPage {
    chrome: Option<Chrome>,
    asset: AssetOut,
    form: AssetForm,
    risks: Vec<RiskOut>,
    choices: Choices,
    can_edit: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
}

async fn asset_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    status: StatusCode,
    form: Option<AssetForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let chrome = Chrome::new(state, &user.0, "inventory").await?;
    let m = state.store.risk_methodology(org).await?;
    let asset = AssetOut::from(state.store.asset(org, id).await?);
    let names: HashMap<i64, String> = state.store.asset_names(org).await?.into_iter().collect();
    let risks = state
        .store
        .risks(
            org,
            &isms_store::RiskQuery {
                asset_id: Some(id),
                limit: isms_store::MAX_PAGE,
                ..isms_store::RiskQuery::default()
            },
        )
        .await?
        .items
        .into_iter()
        .map(|r| RiskOut::new(&m, r))
        .collect();
    let html = render(&AssetPage {
        chrome: Some(chrome),
        form: form.unwrap_or_else(|| AssetForm::from_asset(&asset, &names)),
        asset,
        risks,
        choices: choices(&m),
        can_edit: user.0.role.can(Permission::EditIsms),
        csrf: user.0.csrf_token.clone(),
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

pub async fn show_asset(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(asset): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let notice = q.saved.map(|s| format!("Saved: {s}."));
    asset_page(&state, &user, asset, StatusCode::OK, None, None, notice).await
}

pub async fn save_asset(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(asset): Path<i64>,
    Form(f): Form<AssetForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    let by_name = asset_ids_by_name(&state, org).await?;
    let result = match f.input(&by_name) {
        Ok(input) => {
            state
                .store
                .update_asset(org, asset, &input, &user.actor())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/inventory/{asset}?saved=changes")).into_response()),
        Err(StoreError::Invalid(m)) => {
            asset_page(
                &state,
                &user,
                asset,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(f),
                Some(format!("Nothing was saved: {m}.")),
                None,
            )
            .await
        }
        Err(StoreError::Conflict(m)) => {
            let current = state.store.asset(org, asset).await?;
            let f = AssetForm {
                version: current.version.to_string(),
                ..f
            };
            asset_page(
                &state,
                &user,
                asset,
                StatusCode::CONFLICT,
                Some(f),
                Some(format!("{m}. Your changes are kept below.")),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    unlink: Option<String>,
}

pub async fn delete_asset(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(asset): Path<i64>,
    Form(f): Form<DeleteForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    match state
        .store
        .delete_asset(user.0.org_id, asset, f.unlink.is_some(), &user.actor())
        .await
    {
        Ok(()) => Ok(Redirect::to("/inventory").into_response()),
        Err(StoreError::Conflict(m)) => {
            asset_page(
                &state,
                &user,
                asset,
                StatusCode::CONFLICT,
                None,
                Some(format!("Not deleted: {m}.")),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    cost: String,
}

pub async fn add_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(risk): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = match number("cost", &f.cost) {
        Ok(cost) => {
            state
                .store
                .create_risk_action(
                    user.0.org_id,
                    risk,
                    &isms_store::ActionInput {
                        title: Some(f.title.clone()),
                        owner: Some(f.owner.clone()),
                        due_date: Some(f.due_date.clone()),
                        cost,
                        ..isms_store::ActionInput::default()
                    },
                    &user.actor(),
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/risks/{risk}?saved=action")).into_response()),
        Err(StoreError::Invalid(m)) => {
            risk_page(
                &state,
                &user,
                risk,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(format!("The action was not added: {m}.")),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// The quantitative form: loss event frequency and loss magnitude as PERT
/// ranges (lowest, most likely, highest), the FAIR engine's usual choice.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct FairForm {
    #[serde(default)]
    pub lef_low: String,
    #[serde(default)]
    pub lef_mode: String,
    #[serde(default)]
    pub lef_high: String,
    #[serde(default)]
    pub lm_low: String,
    #[serde(default)]
    pub lm_mode: String,
    #[serde(default)]
    pub lm_high: String,
}

impl FairForm {
    /// The form's values from stored inputs (empty when not PERT-shaped).
    fn from_input(v: &serde_json::Value) -> FairForm {
        let get = |d: &str, k: &str| {
            v.get(d)
                .and_then(|x| x.get("pert"))
                .and_then(|x| x.get(k))
                .map(ToString::to_string)
                .unwrap_or_default()
        };
        FairForm {
            lef_low: get("lef", "low"),
            lef_mode: get("lef", "mode"),
            lef_high: get("lef", "high"),
            lm_low: get("lm", "low"),
            lm_mode: get("lm", "mode"),
            lm_high: get("lm", "high"),
        }
    }

    /// The engine's input, or which field is not a number.
    fn input(&self) -> Result<serde_json::Value, String> {
        let num = |label: &str, v: &str| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{label}: enter a number"))
        };
        let lef = serde_json::json!({"pert": {
            "low": num("lowest frequency", &self.lef_low)?,
            "mode": num("most likely frequency", &self.lef_mode)?,
            "high": num("highest frequency", &self.lef_high)?}});
        let lm = serde_json::json!({"pert": {
            "low": num("lowest loss", &self.lm_low)?,
            "mode": num("most likely loss", &self.lm_mode)?,
            "high": num("highest loss", &self.lm_high)?}});
        Ok(serde_json::json!({"lef": lef, "lm": lm}))
    }
}

/// Saves the risk's FAIR inputs and shows the simulated annual loss.
pub async fn quantify(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(risk): Path<i64>,
    Form(f): Form<FairForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    let result = match f.input() {
        Ok(input) => crate::risk::quantitative::quantify(&state, org, risk, input, &user.actor())
            .await
            .map_err(|e| (e.status, e.detail)),
        Err(m) => Err((StatusCode::UNPROCESSABLE_ENTITY, m)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/risks/{risk}?saved=the annual loss")).into_response()),
        Err((status, m)) if status.is_client_error() && status != StatusCode::NOT_FOUND => {
            risk_page_with(
                &state,
                &user,
                risk,
                (
                    status,
                    None,
                    Some(format!("The FAIR inputs were not saved: {m}.")),
                    None,
                ),
                Some(f),
            )
            .await
        }
        Err((status, m)) => Err(WebError::new(status, "Not saved", m)),
    }
}

/// Removes the risk's FAIR inputs.
pub async fn unquantify(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(risk): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    state.store.risk(org, risk).await?;
    state
        .store
        .clear_risk_quantitative(org, risk, &user.actor())
        .await?;
    Ok(Redirect::to(&format!("/risks/{risk}?saved=FAIR inputs removed")).into_response())
}
