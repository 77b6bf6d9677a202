//! Results of a simulation and their plain-text table.

use crate::input::Model;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Figures for one annual-loss distribution (a risk, or the portfolio).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Annualised loss expectancy (mean annual loss).
    pub mean: f64,
    /// Standard deviation of the annual loss.
    pub sd: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    /// Probability that a year has any loss.
    pub prob_loss: f64,
    /// Loss exceedance curve: `[loss, probability that a year's loss exceeds it]`, losses
    /// increasing, probabilities decreasing. Each point is the (1 - p) quantile for a fixed grid
    /// of p from 0.99 down to 0.0001 (points beyond the simulation's resolution are left out).
    pub lec: Vec<(f64, f64)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskResult {
    pub name: String,
    #[serde(flatten)]
    pub summary: Summary,
}

/// The whole answer; serialises to the JSON of `isms risk simulate --format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub model: Model,
    pub iterations: u64,
    pub seed: u64,
    pub risks: Vec<RiskResult>,
    /// All risks added year by year over the same simulated years.
    pub portfolio: Summary,
    /// The portfolio against the tolerance curve, when the input has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<ToleranceCheck>,
    /// One entry per control, each evaluated alone against the baseline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<ControlResult>,
    /// All controls together, when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_controls: Option<AllControls>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToleranceCheck {
    /// True when the portfolio's exceedance probability is above the tolerance anywhere checked.
    pub exceeded: bool,
    /// Checks at each tolerance point and at each portfolio LEC point inside the tolerance
    /// curve's loss range (tolerance interpolated linearly in log-loss), by increasing loss.
    pub points: Vec<ToleranceCheckPoint>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToleranceCheckPoint {
    pub loss: f64,
    /// Largest acceptable probability of exceeding `loss`.
    pub tolerated: f64,
    /// Simulated probability that the portfolio's annual loss exceeds `loss`.
    pub probability: f64,
    pub exceeded: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub before: Summary,
    pub after: Summary,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskComparison {
    pub name: String,
    pub before: Summary,
    pub after: Summary,
}

/// What one control buys, against the baseline without controls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlResult {
    pub name: String,
    pub cost: f64,
    /// Portfolio annualised loss expectancy without and with the control.
    pub ale_before: f64,
    pub ale_after: f64,
    pub ale_reduction: f64,
    /// Return on security investment (ale_before - ale_after - cost) / cost; absent when cost = 0.
    pub rosi: Option<f64>,
    pub risks: Vec<RiskComparison>,
    pub portfolio: Comparison,
}

/// All controls applied together (reductions multiply when several act on one risk).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AllControls {
    pub cost: f64,
    pub ale_before: f64,
    pub ale_after: f64,
    pub ale_reduction: f64,
    pub rosi: Option<f64>,
    pub portfolio: Summary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<ToleranceCheck>,
}

/// Money with thousands separators and no decimals (decimals below 100).
pub fn money(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if x.abs() < 100.0 {
        return format!("{x:.2}");
    }
    let s = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}

fn pct(p: f64) -> String {
    format!("{:.1}%", p * 100.0)
}

/// A table aligned for a terminal: one row per risk plus the portfolio, then controls and the
/// tolerance check.
pub fn render_table(r: &Report) -> String {
    let headers = [
        "risk",
        "mean (ALE)",
        "P10",
        "P50",
        "P90",
        "P95",
        "P99",
        "P(loss)",
    ];
    let row = |name: &str, s: &Summary| -> Vec<String> {
        vec![
            name.to_string(),
            money(s.mean),
            money(s.p10),
            money(s.p50),
            money(s.p90),
            money(s.p95),
            money(s.p99),
            pct(s.prob_loss),
        ]
    };
    let mut rows: Vec<Vec<String>> = r.risks.iter().map(|x| row(&x.name, &x.summary)).collect();
    rows.push(row("PORTFOLIO", &r.portfolio));
    let mut out = format!(
        "model: {}   iterations: {}   seed: {}\n\n",
        r.model.as_str(),
        r.iterations,
        r.seed
    );
    out.push_str(&align(&headers, &rows));
    if let Some(t) = &r.tolerance {
        out.push_str(&tolerance_text("Portfolio", t));
    }
    if !r.controls.is_empty() {
        out.push('\n');
        let headers = [
            "control",
            "yearly cost",
            "ALE before",
            "ALE after",
            "reduction",
            "ROSI",
        ];
        let mut rows: Vec<Vec<String>> = r
            .controls
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    money(c.cost),
                    money(c.ale_before),
                    money(c.ale_after),
                    money(c.ale_reduction),
                    c.rosi.map_or_else(|| "-".into(), pct),
                ]
            })
            .collect();
        if let Some(a) = &r.all_controls {
            rows.push(vec![
                "ALL CONTROLS".into(),
                money(a.cost),
                money(a.ale_before),
                money(a.ale_after),
                money(a.ale_reduction),
                a.rosi.map_or_else(|| "-".into(), pct),
            ]);
        }
        out.push_str(&align(&headers, &rows));
        if let Some(t) = r.all_controls.as_ref().and_then(|a| a.tolerance.as_ref()) {
            out.push_str(&tolerance_text("With all controls, the portfolio", t));
        }
    }
    out
}

fn tolerance_text(who: &str, t: &ToleranceCheck) -> String {
    let mut out = String::new();
    let bad: Vec<&ToleranceCheckPoint> = t.points.iter().filter(|p| p.exceeded).collect();
    if bad.is_empty() {
        let _ = writeln!(out, "\n{who} is within the risk tolerance curve.");
    } else {
        let _ = writeln!(out, "\n{who} EXCEEDS the risk tolerance curve at:");
        for p in bad {
            let _ = writeln!(
                out,
                "  loss > {}: probability {} (tolerated {})",
                money(p.loss),
                pct(p.probability),
                pct(p.tolerated)
            );
        }
    }
    out
}

fn align(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = w[i] - c.chars().count();
            if i == 0 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("  ");
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let hdr: Vec<String> = headers.iter().map(|h| (*h).to_string()).collect();
    let mut out = line(&hdr);
    let total: usize = w.iter().sum::<usize>() + 2 * (w.len() - 1);
    out.push_str(&"-".repeat(total));
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(1_234_567.4), "1,234,567");
        assert_eq!(money(999.0), "999");
        assert_eq!(money(1000.0), "1,000");
        assert_eq!(money(12.5), "12.50");
        assert_eq!(money(-25_000.0), "-25,000");
    }
}
