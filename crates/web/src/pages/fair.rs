//! Quantitative risk analysis of the organisation: scenario sets in the
//! `isms risk simulate` format, saved per organisation, simulated on demand,
//! shown as figures and loss exceedance curves against the tolerance curve.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use isms_fair::{Options, Report, RunError};
use isms_store::FairScenario;
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

/// Simulated years for a run from the web page unless the input says otherwise.
pub const WEB_DEFAULT_ITERATIONS: u64 = 100_000;
/// Upper bound for runs from the web page and the API, to keep requests short.
pub const WEB_MAX_ITERATIONS: u64 = 2_000_000;
/// Upper bound on the work of a request: simulated scenario-years plus the loss
/// events the compound model draws (about two seconds of one core).
pub const WEB_MAX_WORK: u64 = 200_000_000;
/// Upper bound on the memory a run's simulated years take at once.
pub const WEB_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// How long a run waits for a free simulation slot before the server says it is busy.
const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

const EXAMPLE: &str =
    "# Annual loss scenarios. Each risk: a loss event frequency (lef, events per year)
# and a loss magnitude (lm, money per event). Distributions: pert, lognormal (90% interval),
# triangular, uniform, constant. See the README for controls and refinements.
iterations: 100000
seed: 7
model: compound
risks:
  - name: Ransomware on file servers
    lef: {pert: {low: 0.5, mode: 2, high: 8}}
    lm:  {pert: {low: 10000, mode: 50000, high: 1000000}}
  - name: Laptop theft
    lef: {lognormal: {low: 1, high: 12}}
    lm:  {triangular: {low: 500, mode: 2000, high: 30000}}
controls:
  - name: Offline backups
    cost: 15000
    risks: [Ransomware on file servers]
    magnitude_reduction: {triangular: {low: 0.3, mode: 0.6, high: 0.8}}
tolerance:
  - {loss: 100000, probability: 0.5}
  - {loss: 1000000, probability: 0.1}
  - {loss: 5000000, probability: 0.01}
";

/// One row of the results table.
pub struct Row {
    pub name: String,
    pub mean: String,
    pub p10: String,
    pub p50: String,
    pub p90: String,
    pub p99: String,
    pub prob_loss: String,
}

fn row(name: &str, s: &isms_fair::Summary) -> Row {
    Row {
        name: name.to_owned(),
        mean: crate::human::money(s.mean),
        p10: crate::human::money(s.p10),
        p50: crate::human::money(s.p50),
        p90: crate::human::money(s.p90),
        p99: crate::human::money(s.p99),
        prob_loss: format!("{:.1}%", s.prob_loss * 100.0),
    }
}

/// What a control buys, as the page shows it.
pub struct ControlRow {
    pub name: String,
    pub cost: String,
    pub ale_before: String,
    pub ale_after: String,
    pub reduction: String,
    pub rosi: String,
}

/// What the page shows of a report.
pub struct Results {
    pub controls: Vec<ControlRow>,
    pub run_at: String,
    pub model: String,
    pub iterations: u64,
    pub seed: u64,
    pub rows: Vec<Row>,
    pub portfolio: Row,
    pub chart: String,
    pub portfolio_chart: String,
    pub tolerance_exceeded: Option<bool>,
}

fn results(report: &Report, input: Option<&isms_fair::Input>, run_at: &str) -> Results {
    let curves: Vec<(&str, &[(f64, f64)])> = report
        .risks
        .iter()
        .map(|r| (r.name.as_str(), r.summary.lec.as_slice()))
        .collect();
    let tolerance: Option<Vec<(f64, f64)>> = input
        .map(|i| {
            i.tolerance
                .iter()
                .map(|t| (t.loss, t.probability))
                .collect::<Vec<_>>()
        })
        .filter(|t| !t.is_empty());
    let rosi =
        |r: Option<f64>| r.map_or_else(|| "n/a".to_owned(), |r| format!("{:.0}%", r * 100.0));
    let mut controls: Vec<ControlRow> = report
        .controls
        .iter()
        .map(|c| ControlRow {
            name: c.name.clone(),
            cost: crate::human::money(c.cost),
            ale_before: crate::human::money(c.ale_before),
            ale_after: crate::human::money(c.ale_after),
            reduction: crate::human::money(c.ale_reduction),
            rosi: rosi(c.rosi),
        })
        .collect();
    if let Some(all) = report
        .all_controls
        .as_ref()
        .filter(|_| report.controls.len() > 1)
    {
        controls.push(ControlRow {
            name: "All controls together".into(),
            cost: crate::human::money(all.cost),
            ale_before: crate::human::money(all.ale_before),
            ale_after: crate::human::money(all.ale_after),
            reduction: crate::human::money(all.ale_reduction),
            rosi: rosi(all.rosi),
        });
    }
    Results {
        controls,
        run_at: run_at.to_owned(),
        model: report.model.as_str().to_owned(),
        iterations: report.iterations,
        seed: report.seed,
        rows: report
            .risks
            .iter()
            .map(|r| row(&r.name, &r.summary))
            .collect(),
        portfolio: row("Portfolio (all risks, same years)", &report.portfolio),
        chart: in_currency(&isms_fair::lec_svg(&curves, None, 760, 360)),
        portfolio_chart: in_currency(&isms_fair::lec_svg(
            &[("Portfolio", report.portfolio.lec.as_slice())],
            tolerance.as_deref(),
            760,
            360,
        )),
        tolerance_exceeded: report.tolerance.as_ref().map(|t| t.exceeded),
    }
}

/// The chart's money axis names the organisation's currency.
fn in_currency(svg: &str) -> String {
    svg.replace(
        "Annual loss (log scale)",
        &format!("Annual loss in {} (log scale)", crate::human::currency()),
    )
}

#[derive(Template)]
#[template(path = "page_fair.html")]
struct FairPage {
    chrome: Option<Chrome>,
    scenarios: Vec<FairScenario>,
    current: Option<FairScenario>,
    name: String,
    text: String,
    version: i64,
    can_edit: bool,
    error: Option<String>,
    notice: Option<&'static str>,
    results: Option<Results>,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    current: Option<FairScenario>,
    draft: Option<(String, String)>,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, WebError> {
    let mut chrome = Chrome::new(state, &user.0, "fair").await?;
    if let Some(c) = &current {
        chrome = chrome.detail(&[], c.name.clone());
    }
    let scenarios = state.store.fair_scenarios(user.0.org_id).await?;
    let results = current.as_ref().and_then(|c| {
        let report: Report = serde_json::from_str(c.last_report_json.as_deref()?).ok()?;
        let input = isms_fair::parse_input(&c.input_text).ok();
        Some(results(
            &report,
            input.as_ref(),
            c.last_run_at.as_deref().unwrap_or_default(),
        ))
    });
    let (name, text) = draft.unwrap_or_else(|| match &current {
        Some(c) => (c.name.clone(), c.input_text.clone()),
        None => (String::new(), EXAMPLE.to_owned()),
    });
    let html = render(&FairPage {
        chrome: Some(chrome),
        scenarios,
        version: current.as_ref().map_or(0, |c| c.version),
        current,
        name,
        text,
        can_edit: user.0.role.can(Permission::EditIsms),
        error,
        notice,
        results,
    })?;
    Ok((status, html).into_response())
}

pub async fn index(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    page(&state, &user, StatusCode::OK, None, None, None, None).await
}

pub(super) async fn find(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<FairScenario, WebError> {
    state
        .store
        .fair_scenario(user.0.org_id, id)
        .await?
        .ok_or_else(|| WebError::not_found("There is no such scenario set in this organisation."))
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    /// Set by the redirect after a run.
    #[serde(default)]
    ran: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let current = find(&state, &user, id).await?;
    let notice = q
        .ran
        .filter(|_| current.last_report_json.is_some())
        .map(|_| "Simulation finished.");
    page(
        &state,
        &user,
        StatusCode::OK,
        Some(current),
        None,
        None,
        notice,
    )
    .await
}

#[derive(Deserialize)]
pub struct ScenarioForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    input: String,
    #[serde(default)]
    version: Option<i64>,
}

/// Validates the input text; the error names the risk and the field.
fn check_input(text: &str) -> Result<isms_fair::Input, String> {
    if text.len() > 1024 * 1024 {
        return Err("The scenarios are too long (1 MB at most).".into());
    }
    isms_fair::parse_input(text).map_err(|e| e.to_string())
}

async fn save(
    state: &AppState,
    user: &CurrentUser,
    id: Option<i64>,
    f: ScenarioForm,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let current = match id {
        Some(id) => Some(find(state, user, id).await?),
        None => None,
    };
    if let Err(e) = check_input(&f.input) {
        return page(
            state,
            user,
            StatusCode::UNPROCESSABLE_ENTITY,
            current,
            Some((f.name, f.input)),
            Some(e),
            None,
        )
        .await;
    }
    match state
        .store
        .save_fair_scenario(
            user.0.org_id,
            id,
            f.version,
            &f.name,
            &f.input,
            &user.actor(),
        )
        .await
    {
        Ok(saved) => Ok(Redirect::to(&format!("/risk/quantitative/{}", saved.id)).into_response()),
        Err(isms_store::StoreError::Invalid(m)) => {
            page(
                state,
                user,
                StatusCode::UNPROCESSABLE_ENTITY,
                current,
                Some((f.name, f.input)),
                Some(m),
                None,
            )
            .await
        }
        Err(isms_store::StoreError::Conflict(m)) => {
            page(
                state,
                user,
                StatusCode::CONFLICT,
                current,
                Some((f.name, f.input)),
                Some(m),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<ScenarioForm>,
) -> Result<Response, WebError> {
    save(&state, &user, None, f).await
}

/// Saves a scenario file uploaded from the user's computer (YAML or JSON);
/// the set is named after the file unless a name is given.
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let (mut name, mut text, mut file_name) = (String::new(), None, String::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::invalid(format!("The upload could not be read: {e}")))?
    {
        match field.name() {
            Some("name") => name = field.text().await.unwrap_or_default(),
            Some("file") => {
                file_name = field.file_name().unwrap_or("scenarios").to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| WebError::invalid(format!("The upload could not be read: {e}")))?;
                text = Some(String::from_utf8(bytes.to_vec()).map_err(|_| {
                    WebError::invalid(format!("{file_name} is not a text file (YAML or JSON)"))
                })?);
            }
            _ => {}
        }
    }
    let Some(input) = text.filter(|t| !t.trim().is_empty()) else {
        return page(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            None,
            Some("Choose a YAML or JSON file to upload.".into()),
            None,
        )
        .await;
    };
    if name.trim().is_empty() {
        name = file_name
            .rsplit_once('.')
            .map_or(file_name.as_str(), |(stem, _)| stem)
            .to_owned();
    }
    save(
        &state,
        &user,
        None,
        ScenarioForm {
            name,
            input,
            version: None,
        },
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ScenarioForm>,
) -> Result<Response, WebError> {
    save(&state, &user, Some(id), f).await
}

/// Whether the web takes on a run of `cost`; the refusal says which bound it
/// exceeds and what to do instead.
pub fn check_cost(cost: &isms_fair::Cost) -> Result<(), String> {
    if cost.iterations > WEB_MAX_ITERATIONS {
        return Err(format!(
            "{} iterations is more than the web allows ({WEB_MAX_ITERATIONS}); use `isms risk simulate` for longer runs",
            cost.iterations
        ));
    }
    if cost.work() > WEB_MAX_WORK as f64 {
        let events = if cost.events > 0.0 {
            format!(" and draw about {:.0} loss events", cost.events)
        } else {
            String::new()
        };
        return Err(format!(
            "this run would simulate {} scenario-years{events} (every control acting on a risk adds a scenario), more than the web allows ({WEB_MAX_WORK} in all); use fewer iterations or controls, model expected, or `isms risk simulate`",
            cost.scenario_years
        ));
    }
    if cost.bytes > WEB_MAX_BYTES {
        return Err(format!(
            "this run would hold {} MB of simulated years at once (one vector per control), more than the web allows ({} MB); use fewer iterations or controls, or `isms risk simulate`",
            cost.bytes.div_ceil(1024 * 1024),
            WEB_MAX_BYTES / 1024 / 1024
        ));
    }
    Ok(())
}

/// Why the web gave no report.
#[derive(Debug)]
pub enum SimFailure {
    /// The input, or the work it implies, is refused (422); says why.
    Invalid(String),
    /// Every simulation slot stayed taken (503).
    Busy,
    /// The run ended without a report (500).
    Failed,
}

impl From<SimFailure> for WebError {
    fn from(f: SimFailure) -> Self {
        match f {
            SimFailure::Invalid(m) => WebError::invalid(m),
            SimFailure::Busy => WebError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                "The server is running as many simulations as it takes at once. Try again in a minute.",
            ),
            SimFailure::Failed => WebError::internal(),
        }
    }
}

/// Sets the flag when dropped: the request's future is dropped when the
/// client goes away or the timeout answers, and the simulation then stops.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs a simulation for the web: bounded before it starts (iterations, work
/// counting every control and compound event, memory), on the blocking pool,
/// in one of a few slots, and stopped when the request is abandoned.
pub async fn simulate(state: &AppState, input: isms_fair::Input) -> Result<Report, SimFailure> {
    let opts = Options {
        iterations: Some(input.iterations.unwrap_or(WEB_DEFAULT_ITERATIONS)),
        seed: None,
        model: None,
    };
    check_cost(&isms_fair::cost(&input, &opts)).map_err(SimFailure::Invalid)?;
    let slot = tokio::time::timeout(SLOT_WAIT, state.simulations.clone().acquire_owned()).await;
    let Ok(Ok(slot)) = slot else {
        return Err(SimFailure::Busy);
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let _stop_when_abandoned = CancelOnDrop(cancel.clone());
    let run = tokio::task::spawn_blocking(move || {
        // The slot is held until the work has stopped, not only until the request ends.
        let _slot = slot;
        isms_fair::simulate_cancellable(&input, &opts, &cancel)
    });
    match run.await {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(RunError::Invalid(e))) => Err(SimFailure::Invalid(e.to_string())),
        Ok(Err(RunError::Cancelled)) => Err(SimFailure::Failed),
        Err(e) => {
            tracing::error!("a simulation failed: {e}");
            Err(SimFailure::Failed)
        }
    }
}

pub async fn run(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let current = find(&state, &user, id).await?;
    let input = match check_input(&current.input_text) {
        Ok(i) => i,
        Err(e) => {
            return page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(current),
                None,
                Some(e),
                None,
            )
            .await;
        }
    };
    let report = match simulate(&state, input).await {
        Ok(r) => r,
        Err(f) => {
            let e = WebError::from(f);
            return page(
                &state,
                &user,
                e.status,
                Some(current),
                None,
                Some(e.detail),
                None,
            )
            .await;
        }
    };
    let json = serde_json::to_string(&report).map_err(|_| WebError::internal())?;
    let summary = serde_json::json!({
        "iterations": report.iterations, "seed": report.seed, "model": report.model.as_str(),
        "portfolio_mean": report.portfolio.mean, "portfolio_p99": report.portfolio.p99,
    });
    state
        .store
        .save_fair_report(user.0.org_id, id, &json, summary, &user.actor())
        .await?;
    // Post/redirect/get: reloading the results page does not run again.
    Ok(Redirect::to(&format!("/risk/quantitative/{id}?ran=1")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    state
        .store
        .delete_fair_scenario(user.0.org_id, id, &user.actor())
        .await?;
    Ok(Redirect::to("/risk/quantitative").into_response())
}

#[cfg(test)]
mod tests {
    use isms_fair::Cost;

    fn cost(iterations: u64, scenario_years: u64, events: f64, bytes: u64) -> Cost {
        Cost {
            iterations,
            scenario_years,
            events,
            bytes,
        }
    }

    #[test]
    fn the_web_refuses_runs_beyond_its_bounds_and_says_which() {
        assert!(super::check_cost(&cost(100_000, 200_000, 0.0, 1_600_000)).is_ok());
        let e = super::check_cost(&cost(3_000_000, 3_000_000, 0.0, 1)).unwrap_err();
        assert!(e.contains("2000000"), "{e}");
        // Work counts the compound model's events, not only the simulated years.
        let e = super::check_cost(&cost(2_000_000, 20_000_000, 1.6e10, 1)).unwrap_err();
        assert!(
            e.contains("scenario-years") && e.contains("loss events") && e.contains("200000000"),
            "{e}"
        );
        // Memory: one vector per control.
        let e = super::check_cost(&cost(100_000, 200_000_000, 0.0, 3_200_000_000)).unwrap_err();
        assert!(e.contains("3052 MB") && e.contains("256 MB"), "{e}");
    }

    #[test]
    fn the_heavy_runs_of_the_issue_are_refused_before_they_start() {
        let controls = |n: usize, risk: &str| -> String {
            (0..n)
                .map(|k| {
                    format!(
                        "{{\"name\": \"C{k}\", \"cost\": 1, \"risks\": [\"{risk}\"], \"frequency_reduction\": 0.1}}"
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let many = format!(
            r#"{{"iterations": 100000, "model": "expected", "risks": [{{"name": "R", "lef": {{"constant": 1}}, "lm": {{"constant": 10}}}}], "controls": [{}]}}"#,
            controls(1998, "R")
        );
        let compound = format!(
            r#"{{"iterations": 2000000, "model": "compound", "risks": [{{"name": "R", "lef": {{"constant": 800}}, "lm": {{"constant": 10}}}}], "controls": [{}]}}"#,
            controls(8, "R")
        );
        for text in [many, compound] {
            let input = isms_fair::parse_input(&text).expect("valid input");
            let opts = isms_fair::Options::default();
            assert!(super::check_cost(&isms_fair::cost(&input, &opts)).is_err());
        }
    }

    #[test]
    fn the_offered_example_is_valid_and_small_enough_for_the_web() {
        let input = isms_fair::parse_input(super::EXAMPLE).expect("the example parses");
        assert_eq!(input.risks.len(), 2);
        assert!(input.iterations.unwrap_or(0) <= super::WEB_MAX_ITERATIONS);
    }
}
