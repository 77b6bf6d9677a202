//! `/api/v1/fair/simulate`: the FAIR-style Monte Carlo engine over HTTP.

use axum::Json;
use axum::http::StatusCode;
use isms_domain::Permission;

use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};
use crate::pages::fair::{WEB_DEFAULT_ITERATIONS, simulate as run_simulation};

/// Simulates annual losses for the scenarios in the body (the input format of
/// `isms risk simulate`, as JSON) and answers with the same JSON as
/// `isms risk simulate --format json`: model, iterations, seed, each risk's
/// mean, p10, p50, p90, p95, p99, prob_loss and loss exceedance curve, and
/// the portfolio. Runs default to 100,000 simulated years (at most 2,000,000);
/// the work (scenario-years, each control acting on a risk adding one, plus
/// the compound model's loss events) and the memory a run needs are bounded
/// before it starts, and a run stops when its request is abandoned.
#[utoipa::path(post, path = "/fair/simulate", tag = "risk",
    request_body(content = Object, content_type = "application/json",
        description = "{\"iterations\": 100000, \"seed\": 7, \"model\": \"compound\", \"risks\": [{\"name\": \"...\", \"lef\": {\"pert\": {\"low\": 0.5, \"mode\": 2, \"high\": 8}}, \"lm\": {\"constant\": 250000}}]}"),
    responses(
        (status = 200, description = "The simulation report", body = Object),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 1 MB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid scenarios (the detail names the risk and the field), results that overflow, or more work than the server takes on (the detail says the bound)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every simulation slot is taken; try again", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn simulate(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    user: ApiUser,
    headers: axum::http::HeaderMap,
    body: String,
) -> Result<Json<serde_json::Value>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !is_json(content_type) {
        return Err(ApiError(WebError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            "send the scenarios as JSON, with `Content-Type: application/json`",
        )));
    }
    if body.len() > 1024 * 1024 {
        return Err(ApiError(WebError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "the scenarios are larger than 1 MB",
        )));
    }
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&body) {
        return Err(ApiError(WebError::new(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            format!("the body is not valid JSON: {e}"),
        )));
    }
    if !body.trim_start().starts_with('{') {
        return Err(ApiError(WebError::invalid(
            "send the scenarios as a JSON object",
        )));
    }
    let mut input =
        isms_fair::parse_input(&body).map_err(|e| ApiError(WebError::invalid(e.to_string())))?;
    input.iterations.get_or_insert(WEB_DEFAULT_ITERATIONS);
    let report = run_simulation(&state, input)
        .await
        .map_err(|f| ApiError(f.into()))?;
    Ok(Json(
        serde_json::to_value(&report).map_err(|_| ApiError(WebError::internal()))?,
    ))
}

/// `application/json`, or a `+json` type, with or without parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_content_types_are_recognised() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(super::is_json(ok), "{ok}");
        }
        for bad in [
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "text/json+x",
            "application/jsonx",
        ] {
            assert!(!super::is_json(bad), "{bad}");
        }
    }
}
