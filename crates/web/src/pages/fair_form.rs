//! The form editor for quantitative scenarios: per risk a name and, for its
//! loss event frequency and loss magnitude, a distribution and its numbers.
//! The server turns the form into the same YAML text the text editor saves
//! (through `isms_fair::input_to_yaml`), so saving and running are the same.
//! It works without JavaScript: adding and removing rows are round trips.
//! A set's controls, tolerance curve and model are kept as they are; sets
//! using what the form cannot show (decomposed frequency, split magnitude)
//! are edited as text.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_fair::{Dist, Frequency, Input, Magnitude, Risk};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;

/// The distributions the form offers: (value, label).
const KINDS: &[(&str, &str)] = &[
    ("constant", "Constant"),
    ("uniform", "Uniform (low, high)"),
    ("pert", "PERT (low, most likely, high)"),
    ("triangular", "Triangular (low, most likely, high)"),
    ("lognormal", "Lognormal (90% between low and high)"),
];

/// At most this many risks in one form.
const MAX_ROWS: usize = 100;

#[derive(Debug, Clone, Default)]
pub struct DistForm {
    pub kind: String,
    pub low: String,
    /// The most likely value, or the value of a constant.
    pub mode: String,
    pub high: String,
}

impl DistForm {
    fn of(d: &Dist) -> DistForm {
        let n = |x: f64| format!("{x}");
        let (low, mode, high) = match *d {
            Dist::Constant(c) => (String::new(), n(c), String::new()),
            Dist::Uniform { low, high } | Dist::Lognormal { low, high } => {
                (n(low), String::new(), n(high))
            }
            Dist::Pert {
                low, mode, high, ..
            }
            | Dist::Triangular { low, mode, high } => (n(low), n(mode), n(high)),
        };
        DistForm {
            kind: d.kind().to_owned(),
            low,
            mode,
            high,
        }
    }

    /// The distribution, or a sentence naming the field at fault.
    fn dist(&self, what: &str) -> Result<Dist, String> {
        let num = |field: &str, v: &str| -> Result<f64, String> {
            let v = v.trim();
            if v.is_empty() {
                return Err(format!("{what}: enter the {field} value"));
            }
            v.replace([',', '_', ' '], "")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{what}: the {field} value '{v}' is not a number"))
        };
        Ok(match self.kind.as_str() {
            "constant" => Dist::Constant(num("constant", &self.mode)?),
            "uniform" => Dist::Uniform {
                low: num("low", &self.low)?,
                high: num("high", &self.high)?,
            },
            "lognormal" => Dist::Lognormal {
                low: num("low", &self.low)?,
                high: num("high", &self.high)?,
            },
            "pert" => Dist::Pert {
                low: num("low", &self.low)?,
                mode: num("most likely", &self.mode)?,
                high: num("high", &self.high)?,
                gamma: None,
            },
            "triangular" => Dist::Triangular {
                low: num("low", &self.low)?,
                mode: num("most likely", &self.mode)?,
                high: num("high", &self.high)?,
            },
            other => return Err(format!("{what}: choose a distribution ('{other}' is none)")),
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct RowForm {
    pub name: String,
    pub lef: DistForm,
    pub lm: DistForm,
    /// The mean of each distribution and the expected annual loss, when
    /// the numbers make sense (a preview, not the simulation).
    pub preview: Option<(String, String, String)>,
}

impl RowForm {
    fn blank() -> RowForm {
        RowForm {
            name: String::new(),
            lef: DistForm {
                kind: "pert".into(),
                ..DistForm::default()
            },
            lm: DistForm {
                kind: "lognormal".into(),
                ..DistForm::default()
            },
            preview: None,
        }
    }

    fn risk(&self, i: usize) -> Result<Risk, String> {
        let name = self.name.trim();
        let what = if name.is_empty() {
            format!("risk {}", i + 1)
        } else {
            name.to_owned()
        };
        if name.is_empty() {
            return Err(format!("{what}: give the risk a name"));
        }
        Ok(Risk {
            name: name.to_owned(),
            lef: Frequency::Direct(self.lef.dist(&format!("{what}, loss event frequency"))?),
            lm: Magnitude::Direct(self.lm.dist(&format!("{what}, loss magnitude"))?),
        })
    }

    /// Both distributions with their field prefix and heading.
    pub fn dists(&self) -> [(&'static str, &'static str, &DistForm); 2] {
        [
            ("lef", "Loss event frequency (events a year)", &self.lef),
            ("lm", "Loss magnitude (money per event)", &self.lm),
        ]
    }

    fn with_preview(mut self, i: usize) -> RowForm {
        self.preview = self.risk(i).ok().and_then(|r| {
            let (Frequency::Direct(f), Magnitude::Direct(m)) = (&r.lef, &r.lm) else {
                return None;
            };
            let (f, m) = (f.mean(), m.mean());
            (f.is_finite() && m.is_finite() && f >= 0.0 && m >= 0.0).then(|| {
                (
                    format!("{f:.2} a year"),
                    crate::human::money(m),
                    crate::human::money(f * m),
                )
            })
        });
        self
    }
}

#[derive(Template)]
#[template(path = "page_fair_form.html")]
struct FormPage {
    chrome: Option<Chrome>,
    kinds: &'static [(&'static str, &'static str)],
    scenario: Option<i64>,
    version: i64,
    name: String,
    iterations: String,
    seed: String,
    rows: Vec<RowForm>,
    kept: Vec<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct FormQuery {
    #[serde(default)]
    scenario: Option<i64>,
}

/// The parts of a stored set the form keeps but does not show.
fn kept(input: &Input) -> Vec<&'static str> {
    let mut k = Vec::new();
    if !input.controls.is_empty() {
        k.push("controls");
    }
    if !input.tolerance.is_empty() {
        k.push("the risk tolerance curve");
    }
    if input.model.is_some() {
        k.push("the model");
    }
    k
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FormQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let Some(id) = q.scenario else {
        let rows = vec![RowForm::blank()];
        return form_page(
            &state,
            &user,
            StatusCode::OK,
            FormState {
                rows,
                iterations: "100000".into(),
                seed: "7".into(),
                ..FormState::default()
            },
            None,
        )
        .await;
    };
    let current = super::fair::find(&state, &user, id).await?;
    let input = isms_fair::parse_input(&current.input_text)
        .map_err(|e| WebError::invalid(format!("The saved scenarios cannot be read: {e}")))?;
    let mut rows = Vec::new();
    for r in &input.risks {
        match (&r.lef, &r.lm) {
            (Frequency::Direct(f), Magnitude::Direct(m)) => rows.push(RowForm {
                name: r.name.clone(),
                lef: DistForm::of(f),
                lm: DistForm::of(m),
                preview: None,
            }),
            _ => {
                return Err(WebError::invalid(format!(
                    "The risk {} is described with threat event frequency and vulnerability, or with a secondary loss, which the form does not show: edit this set as text.",
                    r.name
                )));
            }
        }
    }
    form_page(
        &state,
        &user,
        StatusCode::OK,
        FormState {
            scenario: Some(id),
            version: current.version,
            name: current.name.clone(),
            iterations: input.iterations.map(|n| n.to_string()).unwrap_or_default(),
            seed: input.seed.map(|n| n.to_string()).unwrap_or_default(),
            rows,
        },
        None,
    )
    .await
}

#[derive(Default)]
struct FormState {
    scenario: Option<i64>,
    version: i64,
    name: String,
    iterations: String,
    seed: String,
    rows: Vec<RowForm>,
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    f: FormState,
    error: Option<String>,
) -> Result<Response, WebError> {
    let mut kept_parts = Vec::new();
    if let Some(id) = f.scenario {
        let current = super::fair::find(state, user, id).await?;
        if let Ok(input) = isms_fair::parse_input(&current.input_text) {
            kept_parts = kept(&input);
        }
    }
    let chrome = Chrome::new(state, &user.0, "fair").await?;
    let chrome = match f.scenario {
        Some(id) => chrome.detail(
            &[(f.name.as_str(), &format!("/risk/quantitative/{id}"))],
            "Form editor",
        ),
        None => chrome.detail(&[], "New scenario set (form)"),
    };
    let rows = f
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.with_preview(i))
        .collect();
    let html = render(&FormPage {
        chrome: Some(chrome),
        kinds: KINDS,
        scenario: f.scenario,
        version: f.version,
        name: f.name,
        iterations: f.iterations,
        seed: f.seed,
        rows,
        kept: kept_parts,
        error,
    })?;
    Ok((status, html).into_response())
}

/// Reads the posted form: repeated fields, one of each per risk row.
fn read(pairs: &[(String, String)]) -> (FormState, String, Vec<usize>) {
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let all = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let names = all("risk_name");
    let cols = [
        "lef_kind", "lef_low", "lef_mode", "lef_high", "lm_kind", "lm_low", "lm_mode", "lm_high",
    ]
    .map(&all);
    let at = |c: usize, i: usize| cols[c].get(i).cloned().unwrap_or_default();
    let rows = (0..names.len().min(MAX_ROWS))
        .map(|i| RowForm {
            name: names[i].clone(),
            lef: DistForm {
                kind: at(0, i),
                low: at(1, i),
                mode: at(2, i),
                high: at(3, i),
            },
            lm: DistForm {
                kind: at(4, i),
                low: at(5, i),
                mode: at(6, i),
                high: at(7, i),
            },
            preview: None,
        })
        .collect();
    let removed = all("remove")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    (
        FormState {
            scenario: one("scenario").trim().parse().ok(),
            version: one("version").trim().parse().unwrap_or(0),
            name: one("name"),
            iterations: one("iterations"),
            seed: one("seed"),
            rows,
        },
        one("op"),
        removed,
    )
}

/// The input text the form describes, keeping the stored set's controls,
/// tolerance and model.
fn to_text(f: &FormState, base: Option<&Input>) -> Result<String, String> {
    if f.rows.is_empty() {
        return Err("Add at least one risk.".into());
    }
    let risks = f
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| r.risk(i))
        .collect::<Result<Vec<_>, _>>()?;
    let whole = |what: &str, v: &str| -> Result<Option<u64>, String> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.replace([',', '_', ' '], "")
            .parse()
            .map(Some)
            .map_err(|_| format!("{what}: '{v}' is not a whole number"))
    };
    let input = Input {
        iterations: whole("Iterations", &f.iterations)?,
        seed: whole("Seed", &f.seed)?,
        model: base.and_then(|b| b.model),
        risks,
        controls: base.map(|b| b.controls.clone()).unwrap_or_default(),
        tolerance: base.map(|b| b.tolerance.clone()).unwrap_or_default(),
    };
    let text = isms_fair::input_to_yaml(&input);
    // The same check as the text editor's, so the errors read the same.
    isms_fair::parse_input(&text).map_err(|e| e.to_string())?;
    Ok(text)
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let (mut f, op, removed) = read(&pairs);
    let rows = std::mem::take(&mut f.rows);
    f.rows = rows
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !removed.contains(i))
        .map(|(_, r)| r)
        .collect();
    if op == "add" {
        if f.rows.len() < MAX_ROWS {
            f.rows.push(RowForm::blank());
        }
        return form_page(&state, &user, StatusCode::OK, f, None).await;
    }
    if op != "save" {
        // "Update": removals applied and the preview refreshed.
        return form_page(&state, &user, StatusCode::OK, f, None).await;
    }
    let base = match f.scenario {
        Some(id) => {
            let current = super::fair::find(&state, &user, id).await?;
            isms_fair::parse_input(&current.input_text).ok()
        }
        None => None,
    };
    let text = match to_text(&f, base.as_ref()) {
        Ok(t) => t,
        Err(e) => {
            return form_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                Some(format!("Nothing was saved: {e}")),
            )
            .await;
        }
    };
    match state
        .store
        .save_fair_scenario(
            user.0.org_id,
            f.scenario,
            Some(f.version),
            &f.name,
            &text,
            &user.actor(),
        )
        .await
    {
        Ok(saved) => Ok(
            axum::response::Redirect::to(&format!("/risk/quantitative/{}", saved.id))
                .into_response(),
        ),
        Err(isms_store::StoreError::Invalid(m)) => {
            form_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                Some(format!("Nothing was saved: {m}")),
            )
            .await
        }
        Err(isms_store::StoreError::Conflict(m)) => {
            form_page(&state, &user, StatusCode::CONFLICT, f, Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(kind: &str, low: &str, mode: &str, high: &str) -> DistForm {
        DistForm {
            kind: kind.into(),
            low: low.into(),
            mode: mode.into(),
            high: high.into(),
        }
    }

    #[test]
    fn the_form_becomes_text_the_parser_reads() {
        let f = FormState {
            name: "x".into(),
            iterations: "5,000".into(),
            seed: String::new(),
            rows: vec![RowForm {
                name: "Phishing".into(),
                lef: d("pert", "1", "2", "6"),
                lm: d("lognormal", "1000", "", "50000"),
                preview: None,
            }],
            ..FormState::default()
        };
        let text = to_text(&f, None).unwrap();
        let input = isms_fair::parse_input(&text).unwrap();
        assert_eq!(input.iterations, Some(5000));
        assert_eq!(input.risks[0].name, "Phishing");
        assert_eq!(
            DistForm::of(match &input.risks[0].lm {
                Magnitude::Direct(m) => m,
                Magnitude::Split { .. } => unreachable!(),
            })
            .high,
            "50000"
        );
        let mut bad = f;
        bad.rows[0].lef = d("uniform", "5", "", "abc");
        assert!(
            to_text(&bad, None)
                .unwrap_err()
                .contains("'abc' is not a number")
        );
        bad.rows[0].lef = d("uniform", "5", "", "1");
        assert!(to_text(&bad, None).unwrap_err().contains("Phishing"));
    }
}
