//! isms-fair: FAIR-style quantitative risk analysis.
//!
//! Per risk, a loss event frequency (events per year) and a loss magnitude (money per event) as
//! distributions; a Monte Carlo simulation of many years gives each risk's annual loss
//! distribution, the portfolio's (the same simulated years added up), their loss exceedance
//! curves, a comparison with a risk tolerance curve, and the value of controls (before/after and
//! return on security investment).
//!
//! The engine ([`parse_input`], [`simulate`], [`lec_svg`]) does no I/O; [`cli`] reads and prints.
//! Input format: see this crate's README.md.

pub mod cli;
mod dist;
mod input;
mod report;
mod rng;
mod sim;
mod svg;

pub use dist::{DEFAULT_GAMMA, Dist, lognormal_params, pert_shape};
pub use input::{
    Control, DEFAULT_ITERATIONS, DEFAULT_SEED, Frequency, Input, InputError, MAX_AMOUNT,
    MAX_FREQUENCY, MAX_ITERATIONS, Magnitude, Model, Reduction, Risk, Secondary, TolerancePoint,
    check_iterations,
};
pub use report::{
    AllControls, Comparison, ControlResult, Report, RiskComparison, RiskResult, Summary,
    ToleranceCheck, ToleranceCheckPoint, money, render_table,
};
pub use sim::{
    CHUNK, Cost, Options, RunError, cost, simulate, simulate_cancellable, simulate_with_progress,
    work_units,
};
pub use svg::{escape_xml, lec_svg, short_money};

/// Parses and validates scenarios written in YAML or JSON (a document starting with `{` is read as
/// JSON). Errors name the risk (or control) and the field.
pub fn parse_input(text: &str) -> Result<Input, InputError> {
    let v = input::parse_document(text)?;
    Input::from_value(&v)
}

/// The input as YAML, e.g. to save a scenario set (JSON: `serde_json::to_string(&input)`).
pub fn input_to_yaml(input: &Input) -> String {
    // Through a JSON tree: serialised directly, enums would get YAML tags (`!pert`) instead of
    // the `{pert: {...}}` mappings the parser reads.
    serde_json::to_value(input)
        .ok()
        .and_then(|v| serde_norway::to_string(&v).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
