//! The quantitative bridge: FAIR inputs on a register risk, simulated by the
//! FAIR engine (bounded, off the async threads, fixed seed so the same
//! inputs give the same figures), the annualised loss stored beside the
//! qualitative level, and the portfolio of all quantified risks with its
//! loss exceedance curve. Shared by the API and the pages.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_store::{Actor, RiskQuantitative, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};
use crate::risk::api::body;

/// Simulated years per risk: enough for a stable mean and P90, quick.
pub const ITERATIONS: u64 = 20_000;
/// Simulated years of a portfolio run.
pub const PORTFOLIO_ITERATIONS: u64 = 20_000;

/// The FAIR engine's input for the given `(name, {"lef", "lm"})` risks.
fn engine_input(risks: &[(String, &Value)], iterations: u64) -> Result<isms_fair::Input, String> {
    let list: Vec<Value> = risks
        .iter()
        .map(|(name, i)| json!({"name": name, "lef": i.get("lef"), "lm": i.get("lm")}))
        .collect();
    let doc = json!({"iterations": iterations, "seed": 1, "model": "compound", "risks": list});
    isms_fair::parse_input(&doc.to_string()).map_err(|e| e.to_string())
}

/// Checks the inputs (`{"lef": DIST, "lm": DIST}`), simulates them and
/// saves the figures on the risk.
pub async fn quantify(
    state: &AppState,
    org_id: i64,
    risk_id: i64,
    input: Value,
    actor: &Actor,
) -> Result<RiskQuantitative, WebError> {
    // The risk must be the organisation's before any work is done.
    state.store.risk(org_id, risk_id).await?;
    let (Some(lef), Some(lm)) = (input.get("lef"), input.get("lm")) else {
        return Err(WebError::invalid(
            "lef and lm are required: the loss event frequency (events per year) and the loss magnitude (money per event), each a distribution such as {\"pert\": {\"low\": 0.5, \"mode\": 2, \"high\": 8}}",
        ));
    };
    let kept = json!({"lef": lef, "lm": lm});
    let engine = engine_input(&[(format!("RISK-{risk_id}"), &kept)], ITERATIONS)
        .map_err(WebError::invalid)?;
    let report = crate::pages::fair::simulate(state, engine).await?;
    let s = &report.risks.first().ok_or_else(WebError::internal)?.summary;
    Ok(state
        .store
        .set_risk_quantitative(
            org_id,
            risk_id,
            isms_store::QuantFigures {
                input: &kept,
                ale_mean: s.mean,
                ale_p90: s.p90,
                iterations: ITERATIONS as i64,
            },
            actor,
        )
        .await?)
}

/// The portfolio of quantified risks.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioOut {
    /// The quantified open risks, highest annualised loss first.
    #[schema(value_type = Vec<Object>)]
    pub risks: Vec<PortfolioRisk>,
    /// The portfolio's annual loss (all risks over the same simulated
    /// years): mean, P90, P99 and the loss exceedance curve; absent when
    /// no risk is quantified.
    #[schema(value_type = Option<Object>)]
    pub portfolio: Option<isms_fair::Summary>,
    /// ISO 4217 code of every amount.
    pub currency: String,
}

#[derive(Debug, Serialize)]
pub struct PortfolioRisk {
    pub id: i64,
    pub title: String,
    pub ale_mean: f64,
    pub ale_p90: f64,
}

/// Simulates all quantified risks of the organisation together.
pub async fn portfolio(
    state: &AppState,
    store: &Store,
    org_id: i64,
) -> Result<PortfolioOut, WebError> {
    let risks = store.quantified_risks(org_id).await?;
    let currency = store.org_settings(org_id).await?.currency;
    let portfolio = if risks.is_empty() {
        None
    } else {
        let named: Vec<(String, &Value)> = risks
            .iter()
            .map(|(_, q)| (format!("RISK-{}", q.risk_id), &q.input))
            .collect();
        let input = engine_input(&named, PORTFOLIO_ITERATIONS).map_err(WebError::invalid)?;
        Some(crate::pages::fair::simulate(state, input).await?.portfolio)
    };
    Ok(PortfolioOut {
        risks: risks
            .into_iter()
            .map(|(title, q)| PortfolioRisk {
                id: q.risk_id,
                title,
                ale_mean: q.ale_mean,
                ale_p90: q.ale_p90,
            })
            .collect(),
        portfolio,
        currency,
    })
}

/// FAIR inputs for a register risk.
#[derive(Debug, Deserialize, ToSchema)]
pub struct QuantitativeIn {
    /// Loss event frequency (events per year), a FAIR engine distribution,
    /// e.g. `{"pert": {"low": 0.5, "mode": 2, "high": 8}}`.
    #[schema(value_type = Object)]
    pub lef: Value,
    /// Loss magnitude (money per event), e.g. `{"lognormal": {"low": 1000, "high": 50000}}`.
    #[schema(value_type = Object)]
    pub lm: Value,
}

#[utoipa::path(put, path = "/risks/{risk}/quantitative", tag = "risk", params(("risk" = i64, Path)), request_body = QuantitativeIn,
    responses((status = 200, description = "Saved with the simulated annual loss (ale_mean, ale_p90)", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A distribution is not valid, or the run would be too large", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every simulation slot is busy", body = Problem, content_type = "application/problem+json")))]
pub async fn put_risk_quantitative(
    State(state): State<AppState>,
    user: ApiUser,
    Path(risk): Path<i64>,
    input: Result<Json<QuantitativeIn>, JsonRejection>,
) -> Result<Json<RiskQuantitative>, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let q = quantify(
        &state,
        user.0.org_id,
        risk,
        json!({"lef": i.lef, "lm": i.lm}),
        &user.actor(),
    )
    .await?;
    Ok(Json(q))
}

#[utoipa::path(get, path = "/risks/{risk}/quantitative", tag = "risk", params(("risk" = i64, Path)),
    responses((status = 200, description = "The risk's FAIR inputs and annual loss", body = Object),
        (status = 404, description = "No such risk, or it has no FAIR inputs", body = Problem, content_type = "application/problem+json")))]
pub async fn get_risk_quantitative(
    State(state): State<AppState>,
    user: ApiUser,
    Path(risk): Path<i64>,
) -> Result<Json<RiskQuantitative>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let org = user.0.org_id;
    state.store.risk(org, risk).await?;
    match state.store.risk_quantitative(org, risk).await? {
        Some(q) => Ok(Json(q)),
        None => Err(ApiError(WebError::new(
            StatusCode::NOT_FOUND,
            "Not found",
            format!("RISK-{risk} has no FAIR inputs: PUT them to quantify it"),
        ))),
    }
}

#[utoipa::path(delete, path = "/risks/{risk}/quantitative", tag = "risk", params(("risk" = i64, Path)),
    responses((status = 204, description = "Removed (or there were none)"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_risk_quantitative(
    State(state): State<AppState>,
    user: ApiUser,
    Path(risk): Path<i64>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let org = user.0.org_id;
    state.store.risk(org, risk).await?;
    state
        .store
        .clear_risk_quantitative(org, risk, &user.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/risk-portfolio", tag = "risk",
    responses((status = 200, description = "The quantified risks and their portfolio's annual loss with its loss exceedance curve", body = PortfolioOut),
        (status = 503, description = "Every simulation slot is busy", body = Problem, content_type = "application/problem+json")))]
pub async fn get_risk_portfolio(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<PortfolioOut>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(portfolio(&state, &state.store, user.0.org_id).await?))
}
