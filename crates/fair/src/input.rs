//! The simulation input: types, parsing from YAML or JSON, validation.
//!
//! Parsing goes through a generic document tree and is written by hand so that every refusal
//! names the risk (or control) and the field, e.g. `risk "Laptop theft", field lm.triangular.mode:
//! mode (40000) is outside [low 500, high 30000]`.

use crate::dist::Dist;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt;

/// Largest accepted iteration count: each scenario keeps one f64 per simulated year.
pub const MAX_ITERATIONS: u64 = 10_000_000;
/// Largest amount of money (a loss parameter) accepted: far above any real loss in any currency,
/// far below where sums of squares of simulated years overflow.
pub const MAX_AMOUNT: f64 = 1e18;
/// Largest loss or threat event frequency (events per year) accepted.
pub const MAX_FREQUENCY: f64 = 1e9;
/// Iterations when neither the input nor the options say.
pub const DEFAULT_ITERATIONS: u64 = 1_000_000;
/// Seed when neither the input nor the options say: runs are reproducible by default.
pub const DEFAULT_SEED: u64 = 1;

/// How a simulated year's loss is formed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Per year: draw the frequency, a Poisson number of events at that rate, and each event's
    /// loss; the year's loss is their sum (FAIR as defined).
    #[default]
    Compound,
    /// Per year: sampled frequency times sampled magnitude (what pyfair and most tools compute).
    Expected,
}

impl Model {
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Compound => "compound",
            Model::Expected => "expected",
        }
    }
}

/// A whole scenario set. `Deserialize` runs the same checks as [`crate::parse_input`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub struct Input {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<Model>,
    pub risks: Vec<Risk>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<Control>,
    /// Risk tolerance curve: the largest acceptable probability of exceeding each loss in a year.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerance: Vec<TolerancePoint>,
}

/// One loss scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    pub name: String,
    /// Loss event frequency, events per year.
    pub lef: Frequency,
    /// Loss magnitude, money per event.
    pub lm: Magnitude,
}

/// Loss event frequency: directly, or as threat event frequency times vulnerability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Frequency {
    Direct(Dist),
    /// LEF = TEF x vulnerability, vulnerability being the probability that a threat event
    /// becomes a loss event (a distribution on [0, 1]).
    Decomposed {
        tef: Dist,
        vulnerability: Dist,
    },
}

/// Loss magnitude: directly, or as a primary loss plus an optional secondary loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Magnitude {
    Direct(Dist),
    Split {
        primary: Dist,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secondary: Option<Secondary>,
    },
}

/// Secondary loss (fines, reputation, ...): with `probability` per loss event (a distribution on
/// [0, 1], drawn once per simulated year) a further `magnitude` is lost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Secondary {
    pub probability: Dist,
    pub magnitude: Dist,
}

/// A control (treatment measure) and what it changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Control {
    pub name: String,
    /// Yearly cost, same currency as the losses.
    pub cost: f64,
    /// Names of the risks it acts on.
    pub risks: Vec<String>,
    /// Fraction by which it cuts the loss event frequency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_reduction: Option<Reduction>,
    /// Fraction by which it cuts each event's loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magnitude_reduction: Option<Reduction>,
}

/// A reduction: a fixed fraction in [0, 1] (input may also say `"30%"`), or a distribution of the
/// fraction (drawn once per simulated year).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Reduction {
    Fraction(f64),
    Dist(Dist),
}

/// One point of the tolerance curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TolerancePoint {
    pub loss: f64,
    /// Largest acceptable probability that a year's loss exceeds `loss`.
    pub probability: f64,
}

/// Why an input was refused: which risk or control, which field, what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The risk's name (or `risks[i]` when it has none yet).
    pub risk: Option<String>,
    /// The control's name, for errors inside `controls`.
    pub control: Option<String>,
    /// Dotted path of the field, e.g. `lm.pert.mode`; empty for document-level errors.
    pub field: String,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.risk {
            write!(f, "risk \"{r}\", ")?;
        }
        if let Some(c) = &self.control {
            write!(f, "control \"{c}\", ")?;
        }
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

/// Where we are in the document, for error messages.
#[derive(Clone, Default)]
struct At {
    risk: Option<String>,
    control: Option<String>,
    path: String,
}

impl At {
    fn field(&self, name: &str) -> At {
        let path = if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        };
        At {
            path,
            ..self.clone()
        }
    }
    fn index(&self, i: usize) -> At {
        At {
            path: format!("{}[{i}]", self.path),
            ..self.clone()
        }
    }
    fn err(&self, message: impl Into<String>) -> InputError {
        InputError {
            risk: self.risk.clone(),
            control: self.control.clone(),
            field: self.path.clone(),
            message: message.into(),
        }
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text \"{s}\""),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn as_map<'a>(v: &'a Value, at: &At, what: &str) -> Result<&'a Map<String, Value>, InputError> {
    v.as_object()
        .ok_or_else(|| at.err(format!("expected {what}, found {}", describe(v))))
}

fn check_keys(m: &Map<String, Value>, allowed: &[&str], at: &At) -> Result<(), InputError> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(at.field(k).err(format!(
                "unknown field `{k}` (expected one of: {})",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

fn required<'a>(m: &'a Map<String, Value>, key: &str, at: &At) -> Result<&'a Value, InputError> {
    match m.get(key) {
        Some(Value::Null) | None => Err(at.field(key).err(format!("missing field `{key}`"))),
        Some(v) => Ok(v),
    }
}

fn number(v: &Value, at: &At) -> Result<f64, InputError> {
    let x = v
        .as_f64()
        .ok_or_else(|| at.err(format!("expected a number, found {}", describe(v))))?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(at.err("must be a finite number"))
    }
}

fn whole(v: &Value, at: &At) -> Result<u64, InputError> {
    if let Some(n) = v.as_u64() {
        return Ok(n);
    }
    // YAML 1.1 style `100_000` arrives as text.
    if let Value::String(s) = v
        && let Ok(n) = s.trim().replace('_', "").parse::<u64>()
    {
        return Ok(n);
    }
    if let Some(x) = v.as_f64() {
        if x >= 0.0 && x.fract() == 0.0 && x <= u64::MAX as f64 {
            return Ok(x as u64);
        }
        return Err(at.err(format!("expected a whole number >= 0, found {x}")));
    }
    Err(at.err(format!("expected a whole number, found {}", describe(v))))
}

fn text(v: &Value, at: &At) -> Result<String, InputError> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::String(_) => Err(at.err("must not be empty")),
        other => Err(at.err(format!("expected text, found {}", describe(other)))),
    }
}

const DIST_KINDS: &str = "pert, lognormal, triangular, uniform, constant";

fn dist(v: &Value, at: &At) -> Result<Dist, InputError> {
    if v.is_number() {
        // Shorthand: a bare number is a constant.
        return Ok(Dist::Constant(number(v, at)?));
    }
    let m = as_map(
        v,
        at,
        &format!("a distribution such as {{pert: {{low, mode, high}}}} ({DIST_KINDS})"),
    )?;
    if m.len() != 1 {
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        return Err(at.err(format!(
            "a distribution has exactly one key ({DIST_KINDS}), found {}: {}",
            keys.len(),
            keys.join(", ")
        )));
    }
    let (kind, params) = m.iter().next().expect("one entry");
    let at = at.field(kind);
    let take = |names: &[&str], optional: &[&str]| -> Result<Vec<Option<f64>>, InputError> {
        let pm = as_map(
            params,
            &at,
            &format!("the parameters of {kind} ({})", names.join(", ")),
        )?;
        let all: Vec<&str> = names.iter().chain(optional).copied().collect();
        check_keys(pm, &all, &at)?;
        let mut out = Vec::new();
        for n in names {
            out.push(Some(number(required(pm, n, &at)?, &at.field(n))?));
        }
        for n in optional {
            out.push(match pm.get(*n) {
                None | Some(Value::Null) => None,
                Some(x) => Some(number(x, &at.field(n))?),
            });
        }
        Ok(out)
    };
    let d = match kind.as_str() {
        "pert" => {
            let p = take(&["low", "mode", "high"], &["gamma"])?;
            Dist::Pert {
                low: p[0].unwrap_or_default(),
                mode: p[1].unwrap_or_default(),
                high: p[2].unwrap_or_default(),
                gamma: p[3],
            }
        }
        "triangular" => {
            let p = take(&["low", "mode", "high"], &[])?;
            Dist::Triangular {
                low: p[0].unwrap_or_default(),
                mode: p[1].unwrap_or_default(),
                high: p[2].unwrap_or_default(),
            }
        }
        "lognormal" => {
            let p = take(&["low", "high"], &[])?;
            Dist::Lognormal {
                low: p[0].unwrap_or_default(),
                high: p[1].unwrap_or_default(),
            }
        }
        "uniform" => {
            let p = take(&["low", "high"], &[])?;
            Dist::Uniform {
                low: p[0].unwrap_or_default(),
                high: p[1].unwrap_or_default(),
            }
        }
        "constant" => Dist::Constant(number(params, &at)?),
        other => {
            return Err(at.err(format!(
                "unknown distribution `{other}` (expected one of: {DIST_KINDS})"
            )));
        }
    };
    Ok(d)
}

fn frequency(v: &Value, at: &At) -> Result<Frequency, InputError> {
    if let Some(m) = v.as_object()
        && (m.contains_key("tef") || m.contains_key("vulnerability"))
    {
        check_keys(m, &["tef", "vulnerability"], at)?;
        return Ok(Frequency::Decomposed {
            tef: dist(required(m, "tef", at)?, &at.field("tef"))?,
            vulnerability: dist(
                required(m, "vulnerability", at)?,
                &at.field("vulnerability"),
            )?,
        });
    }
    Ok(Frequency::Direct(dist(v, at)?))
}

fn magnitude(v: &Value, at: &At) -> Result<Magnitude, InputError> {
    if let Some(m) = v.as_object()
        && (m.contains_key("primary") || m.contains_key("secondary"))
    {
        check_keys(m, &["primary", "secondary"], at)?;
        let primary = dist(required(m, "primary", at)?, &at.field("primary"))?;
        let secondary = match m.get("secondary") {
            None | Some(Value::Null) => None,
            Some(s) => {
                let at = at.field("secondary");
                let sm = as_map(s, &at, "a mapping with probability and magnitude")?;
                check_keys(sm, &["probability", "magnitude"], &at)?;
                Some(Secondary {
                    probability: dist(required(sm, "probability", &at)?, &at.field("probability"))?,
                    magnitude: dist(required(sm, "magnitude", &at)?, &at.field("magnitude"))?,
                })
            }
        };
        return Ok(Magnitude::Split { primary, secondary });
    }
    Ok(Magnitude::Direct(dist(v, at)?))
}

fn reduction(v: &Value, at: &At) -> Result<Reduction, InputError> {
    if let Value::String(s) = v {
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%')
            && let Ok(x) = p.trim().parse::<f64>()
        {
            return Ok(Reduction::Fraction(x / 100.0));
        }
        return Err(at.err(format!(
            "expected a fraction such as 0.3, a percentage such as \"30%\", or a distribution; found \"{s}\""
        )));
    }
    if v.is_number() {
        return Ok(Reduction::Fraction(number(v, at)?));
    }
    Ok(Reduction::Dist(dist(v, at)?))
}

fn tolerance_point(v: &Value, at: &At) -> Result<TolerancePoint, InputError> {
    match v {
        Value::Array(a) if a.len() == 2 => Ok(TolerancePoint {
            loss: number(&a[0], &at.index(0))?,
            probability: number(&a[1], &at.index(1))?,
        }),
        Value::Object(m) => {
            check_keys(m, &["loss", "probability"], at)?;
            Ok(TolerancePoint {
                loss: number(required(m, "loss", at)?, &at.field("loss"))?,
                probability: number(required(m, "probability", at)?, &at.field("probability"))?,
            })
        }
        other => Err(at.err(format!(
            "expected {{loss, probability}} or [loss, probability], found {}",
            describe(other)
        ))),
    }
}

impl TryFrom<Value> for Input {
    type Error = InputError;
    fn try_from(v: Value) -> Result<Self, InputError> {
        Input::from_value(&v)
    }
}

impl Input {
    /// Builds and validates an input from a parsed JSON/YAML tree.
    pub fn from_value(v: &Value) -> Result<Self, InputError> {
        let root = At::default();
        if v.is_null() {
            return Err(root.err("the input is empty: expected a mapping with a `risks` list"));
        }
        let m = as_map(v, &root, "a mapping with a `risks` list")?;
        check_keys(
            m,
            &[
                "iterations",
                "seed",
                "model",
                "risks",
                "controls",
                "tolerance",
            ],
            &root,
        )?;
        let opt = |k: &str| m.get(k).filter(|x| !x.is_null());
        let iterations = opt("iterations")
            .map(|x| whole(x, &root.field("iterations")))
            .transpose()?;
        let seed = opt("seed")
            .map(|x| whole(x, &root.field("seed")))
            .transpose()?;
        let model = opt("model")
            .map(|x| {
                let at = root.field("model");
                match x.as_str().map(str::trim) {
                    Some("compound") => Ok(Model::Compound),
                    Some("expected") => Ok(Model::Expected),
                    _ => Err(at.err(format!(
                        "expected `compound` or `expected`, found {}",
                        describe(x)
                    ))),
                }
            })
            .transpose()?;
        let at = root.field("risks");
        let list = required(m, "risks", &root)?
            .as_array()
            .ok_or_else(|| at.err("expected a list of risks"))?;
        let mut risks = Vec::with_capacity(list.len());
        for (i, r) in list.iter().enumerate() {
            let mut at = At {
                risk: Some(format!("risks[{i}]")),
                ..At::default()
            };
            let rm = as_map(r, &at, "a risk: a mapping with name, lef and lm")?;
            if let Some(n) = rm.get("name").and_then(Value::as_str)
                && !n.trim().is_empty()
            {
                at.risk = Some(n.trim().to_string());
            }
            check_keys(rm, &["name", "lef", "lm"], &at)?;
            let name = text(required(rm, "name", &at)?, &at.field("name"))?;
            let lef = frequency(required(rm, "lef", &at)?, &at.field("lef"))?;
            let lm = magnitude(required(rm, "lm", &at)?, &at.field("lm"))?;
            risks.push(Risk { name, lef, lm });
        }
        let mut controls = Vec::new();
        if let Some(cv) = opt("controls") {
            let at = root.field("controls");
            let list = cv
                .as_array()
                .ok_or_else(|| at.err("expected a list of controls"))?;
            for (i, c) in list.iter().enumerate() {
                let mut at = At {
                    control: Some(format!("controls[{i}]")),
                    ..At::default()
                };
                let cm = as_map(c, &at, "a control: a mapping with name, cost and risks")?;
                if let Some(n) = cm.get("name").and_then(Value::as_str)
                    && !n.trim().is_empty()
                {
                    at.control = Some(n.trim().to_string());
                }
                check_keys(
                    cm,
                    &[
                        "name",
                        "cost",
                        "risks",
                        "frequency_reduction",
                        "magnitude_reduction",
                    ],
                    &at,
                )?;
                let name = text(required(cm, "name", &at)?, &at.field("name"))?;
                let cost = number(required(cm, "cost", &at)?, &at.field("cost"))?;
                let rat = at.field("risks");
                let names = match required(cm, "risks", &at)? {
                    Value::Array(a) => a
                        .iter()
                        .enumerate()
                        .map(|(j, n)| text(n, &rat.index(j)))
                        .collect::<Result<Vec<_>, _>>()?,
                    Value::String(s) => vec![text(&Value::String(s.clone()), &rat)?],
                    other => {
                        return Err(rat.err(format!(
                            "expected a list of risk names, found {}",
                            describe(other)
                        )));
                    }
                };
                let red = |k: &str| {
                    cm.get(k)
                        .filter(|x| !x.is_null())
                        .map(|x| reduction(x, &at.field(k)))
                        .transpose()
                };
                controls.push(Control {
                    name,
                    cost,
                    risks: names,
                    frequency_reduction: red("frequency_reduction")?,
                    magnitude_reduction: red("magnitude_reduction")?,
                });
            }
        }
        let mut tolerance = Vec::new();
        if let Some(tv) = opt("tolerance") {
            let at = root.field("tolerance");
            let list = tv
                .as_array()
                .ok_or_else(|| at.err("expected a list of {loss, probability} points"))?;
            for (i, p) in list.iter().enumerate() {
                tolerance.push(tolerance_point(p, &at.index(i))?);
            }
        }
        let input = Input {
            iterations,
            seed,
            model,
            risks,
            controls,
            tolerance,
        };
        input.validate()?;
        Ok(input)
    }

    /// Checks every value; [`crate::simulate`] calls it too, for inputs built in code.
    pub fn validate(&self) -> Result<(), InputError> {
        let root = At::default();
        if let Some(n) = self.iterations {
            check_iterations(n).map_err(|m| root.field("iterations").err(m))?;
        }
        if self.risks.is_empty() {
            return Err(root.field("risks").err("the list of risks is empty"));
        }
        let mut names = HashSet::new();
        for r in &self.risks {
            let at = At {
                risk: Some(r.name.clone()),
                ..At::default()
            };
            if r.name.trim().is_empty() {
                return Err(at.field("name").err("must not be empty"));
            }
            if !names.insert(r.name.as_str()) {
                return Err(at
                    .field("name")
                    .err("two risks have this name; names must be unique"));
            }
            match &r.lef {
                Frequency::Direct(d) => check_dist(d, Quantity::Frequency, &at.field("lef"))?,
                Frequency::Decomposed { tef, vulnerability } => {
                    check_dist(tef, Quantity::Frequency, &at.field("lef.tef"))?;
                    check_dist(
                        vulnerability,
                        Quantity::Probability,
                        &at.field("lef.vulnerability"),
                    )?;
                }
            }
            match &r.lm {
                Magnitude::Direct(d) => check_dist(d, Quantity::Money, &at.field("lm"))?,
                Magnitude::Split { primary, secondary } => {
                    check_dist(primary, Quantity::Money, &at.field("lm.primary"))?;
                    if let Some(s) = secondary {
                        check_dist(
                            &s.probability,
                            Quantity::Probability,
                            &at.field("lm.secondary.probability"),
                        )?;
                        check_dist(
                            &s.magnitude,
                            Quantity::Money,
                            &at.field("lm.secondary.magnitude"),
                        )?;
                    }
                }
            }
        }
        let mut cnames = HashSet::new();
        for c in &self.controls {
            let at = At {
                control: Some(c.name.clone()),
                ..At::default()
            };
            if c.name.trim().is_empty() {
                return Err(at.field("name").err("must not be empty"));
            }
            if !cnames.insert(c.name.as_str()) {
                return Err(at
                    .field("name")
                    .err("two controls have this name; names must be unique"));
            }
            if !c.cost.is_finite() || c.cost < 0.0 {
                return Err(at
                    .field("cost")
                    .err(format!("must be a yearly cost >= 0, found {}", c.cost)));
            }
            if c.risks.is_empty() {
                return Err(at.field("risks").err("name at least one risk"));
            }
            for (j, n) in c.risks.iter().enumerate() {
                if !names.contains(n.as_str()) {
                    return Err(at
                        .field("risks")
                        .index(j)
                        .err(format!("there is no risk named \"{n}\"")));
                }
            }
            if c.frequency_reduction.is_none() && c.magnitude_reduction.is_none() {
                return Err(at.err(
                    "give frequency_reduction and/or magnitude_reduction (a fraction such as 0.3, \"30%\", or a distribution)",
                ));
            }
            for (k, r) in [
                ("frequency_reduction", &c.frequency_reduction),
                ("magnitude_reduction", &c.magnitude_reduction),
            ] {
                match r {
                    Some(Reduction::Fraction(x)) if !(0.0..=1.0).contains(x) => {
                        return Err(at.field(k).err(format!(
                            "a reduction is a fraction between 0 and 1 (0.3 or \"30%\" for 30%), found {x}"
                        )));
                    }
                    None | Some(Reduction::Fraction(_)) => {}
                    Some(Reduction::Dist(d)) => check_dist(d, Quantity::Probability, &at.field(k))?,
                }
            }
        }
        for (i, p) in self.tolerance.iter().enumerate() {
            let at = root.field("tolerance").index(i);
            if !p.loss.is_finite() || p.loss <= 0.0 {
                return Err(at
                    .field("loss")
                    .err(format!("must be a loss > 0, found {}", p.loss)));
            }
            if !(0.0..=1.0).contains(&p.probability) {
                return Err(at.field("probability").err(format!(
                    "must be a probability between 0 and 1, found {}",
                    p.probability
                )));
            }
        }
        Ok(())
    }
}

/// Checks an iteration count; the message says what to use instead.
pub fn check_iterations(n: u64) -> Result<(), String> {
    if n == 0 {
        Err("must be at least 1 (100000 or more gives stable percentiles)".into())
    } else if n > MAX_ITERATIONS {
        Err(format!(
            "{n} is too many: at most {MAX_ITERATIONS} (each scenario keeps 8 bytes per simulated year)"
        ))
    } else {
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Quantity {
    Frequency,
    Money,
    Probability,
}

fn check_dist(d: &Dist, q: Quantity, at: &At) -> Result<(), InputError> {
    let at = if matches!(d, Dist::Constant(_)) {
        at.clone()
    } else {
        at.field(d.kind())
    };
    let named: Vec<(&str, f64)> = match *d {
        Dist::Pert {
            low,
            mode,
            high,
            gamma,
        } => {
            let mut v = vec![("low", low), ("mode", mode), ("high", high)];
            if let Some(g) = gamma {
                if !(0.0..=1000.0).contains(&g) {
                    return Err(at.field("gamma").err(format!(
                        "must be between 0 and 1000 (4 is usual), found {g}"
                    )));
                }
                v.push(("gamma", g));
            }
            v
        }
        Dist::Triangular { low, mode, high } => vec![("low", low), ("mode", mode), ("high", high)],
        Dist::Lognormal { low, high } | Dist::Uniform { low, high } => {
            vec![("low", low), ("high", high)]
        }
        Dist::Constant(c) => vec![("", c)],
    };
    let f = |name: &str| {
        if name.is_empty() {
            at.clone()
        } else {
            at.field(name)
        }
    };
    for &(name, x) in &named {
        if !x.is_finite() {
            return Err(f(name).err("must be a finite number"));
        }
        if q == Quantity::Money && x > MAX_AMOUNT {
            return Err(f(name).err(format!(
                "{x} is more than {MAX_AMOUNT:e}, the largest amount accepted (the simulated years would overflow)"
            )));
        }
        if q == Quantity::Frequency && x > MAX_FREQUENCY {
            return Err(f(name).err(format!(
                "{x} is more than {MAX_FREQUENCY:e} events a year, the largest frequency accepted"
            )));
        }
        if x < 0.0 {
            let what = match q {
                Quantity::Frequency => "a frequency (events per year)",
                Quantity::Money => "a loss",
                Quantity::Probability => "a probability",
            };
            return Err(f(name).err(format!("{x} is negative; {what} cannot be negative")));
        }
        if q == Quantity::Probability && name != "gamma" && x > 1.0 {
            return Err(f(name).err(format!("{x} is above 1; a probability is between 0 and 1")));
        }
    }
    match *d {
        Dist::Pert {
            low, mode, high, ..
        }
        | Dist::Triangular { low, mode, high } => {
            if low > high {
                return Err(at
                    .field("low")
                    .err(format!("low ({low}) is greater than high ({high})")));
            }
            if mode < low || mode > high {
                return Err(at
                    .field("mode")
                    .err(format!("mode ({mode}) is outside [low {low}, high {high}]")));
            }
        }
        Dist::Uniform { low, high } => {
            if low > high {
                return Err(at
                    .field("low")
                    .err(format!("low ({low}) is greater than high ({high})")));
            }
        }
        Dist::Lognormal { low, high } => {
            if q == Quantity::Probability {
                return Err(at.err(
                    "a lognormal is unbounded and cannot describe a probability; use pert, triangular or uniform",
                ));
            }
            if low <= 0.0 {
                return Err(at.field("low").err(format!(
                    "low ({low}) must be above 0: a lognormal's 5th percentile is positive"
                )));
            }
            if low >= high {
                return Err(at.field("low").err(format!(
                    "low ({low}) must be below high ({high}); for a fixed value use constant"
                )));
            }
        }
        Dist::Constant(_) => {}
    }
    Ok(())
}

/// Parses the text of a YAML or JSON document into a tree. JSON (text starting with `{`) goes
/// through the JSON parser for its precise messages; everything else through YAML.
pub(crate) fn parse_document(text: &str) -> Result<Value, InputError> {
    let syntax = |lang: &str, line: Option<usize>, col: Option<usize>, msg: String| {
        let place = match (line, col) {
            (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
            (Some(l), None) => format!(" at line {l}"),
            _ => String::new(),
        };
        let near = line
            .and_then(|l| entry_before_line(text, l))
            .map(|n| format!(" (in or after the entry named \"{n}\")"))
            .unwrap_or_default();
        InputError {
            risk: None,
            control: None,
            field: String::new(),
            message: format!("{lang} syntax error{place}{near}: {msg}"),
        }
    };
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text)
            .map_err(|e| syntax("JSON", Some(e.line()), Some(e.column()), e.to_string()))
    } else {
        serde_norway::from_str::<Value>(text).map_err(|e| {
            let loc = e.location();
            syntax(
                "YAML",
                loc.as_ref().map(serde_norway::Location::line),
                loc.as_ref().map(serde_norway::Location::column),
                e.to_string(),
            )
        })
    }
}

/// The last `name:` value at or before 1-based line `line`, to point at the entry around an error.
fn entry_before_line(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .filter_map(|l| {
            let t = l.trim_start().trim_start_matches('-').trim_start();
            let t = t
                .strip_prefix("name:")
                .or_else(|| t.strip_prefix("\"name\":"))?;
            let n = t
                .trim()
                .trim_end_matches(',')
                .trim()
                .trim_matches('"')
                .trim_matches('\'');
            (!n.is_empty()).then(|| n.to_string())
        })
        .last()
}
