//! CISO Assistant library YAML: a framework library (`objects.framework.requirement_nodes`), its
//! optional `reference_controls`, mapping libraries (`objects.requirement_mapping_sets`, or
//! the older single `requirement_mapping_set`), risk matrices (`objects.risk_matrix`) and threat
//! catalogs (`objects.threats`).
//!
//! Requirement nodes are identified by their URN, as CISO Assistant does: a ref id may repeat
//! under different parents (ENS "op.acc.1" › "1", FINMA margin numbers), and a node may have
//! no ref id at all (its URN's last segment is then its label).
//!
//! The layout follows CISO Assistant's published library format; no CISO Assistant file is
//! embedded or copied.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{ImportError, Issue, MAX_ISSUES, MAX_ITEMS, Place, input_text};
use crate::import_csv::tree_issues;
use crate::mapping::{Mapping, Relationship, framework_id};
use crate::model::{
    Framework, FrameworkTree, NodeKind, RequirementNode, slugify, title_from_description,
};

/// What a CISO Assistant library file held.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CisoLibrary {
    pub urn: String,
    pub name: String,
    /// The library's version (`version:`, an integer in CISO Assistant), when it has one.
    pub version: Option<i64>,
    /// The library's own name and description in other languages.
    pub translations: Option<serde_json::Value>,
    /// Present for framework libraries.
    pub framework: Option<FrameworkTree>,
    /// The framework's URN (its identity across versions and files).
    pub framework_urn: Option<String>,
    /// The framework's name and description in other languages.
    pub framework_translations: Option<serde_json::Value>,
    /// The library's `reference_controls` (CISO Assistant's generic measures): they go into
    /// the catalog of reference measures applied controls can be created from.
    pub reference_controls: Vec<ReferenceControl>,
    /// The library's metric definitions: templates metrics can be created from.
    pub metric_definitions: Vec<MetricDef>,
    /// Present for a preset: a bundle to import and enable in one step.
    pub preset: Option<PresetDef>,
    /// The library URNs this library depends on (`dependencies`).
    pub dependencies: Vec<String>,
    /// Who publishes the library (`provider`).
    pub provider: Option<String>,
    /// (requirement URN, reference control URN) links from the requirement nodes.
    pub requirement_reference_controls: Vec<(String, String)>,
    /// Mappings from the library's mapping sets, with framework ids and ref ids resolved as
    /// described on [`import_ciso_assistant`].
    pub mappings: Vec<Mapping>,
    /// The (source, target) requirement URNs of each of `mappings`, same order: the stable
    /// identity a mapping resolves by once both frameworks are installed.
    pub mapping_urns: Vec<(String, String)>,
    /// Mapping entries with relationship `not_related`: they state the absence of a link and
    /// are not imported.
    pub skipped_not_related: usize,
    /// Risk matrices: methodology templates for the risk module.
    pub risk_matrices: Vec<RiskMatrixDef>,
    /// Threats for the risk module's threat library.
    pub threats: Vec<ThreatDef>,
    /// Objects isms does not know, by key.
    pub unsupported: Vec<Unsupported>,
    /// Problems that did not stop the import (a mapping to an unknown node, ...).
    pub warnings: Vec<String>,
}

/// A reference control (a generic measure) of a library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceControl {
    pub urn: String,
    pub ref_id: Option<String>,
    /// `name`, else a title made from the description, else the ref id or the URN's tail.
    pub name: String,
    /// As the library writes it (`policy`, `process`, `technical`, `physical`, ...).
    pub category: Option<String>,
    /// The NIST CSF function it serves, when given.
    pub csf_function: Option<String>,
    pub description: Option<String>,
    pub annotation: Option<String>,
    pub translations: Option<serde_json::Value>,
}

/// A metric definition of a library: what to measure, in which unit, which way is good.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDef {
    pub urn: String,
    pub ref_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    /// The unit values are recorded in (`%`, `days`, ...); empty when the library gives none.
    pub unit: String,
    pub category: Option<String>,
    /// `higher` or `lower`: which side of the target is good, when the library says.
    pub direction: Option<String>,
    pub target: Option<f64>,
    /// `weekly`, `monthly`, ... when the library says.
    pub frequency: Option<String>,
    pub translations: Option<serde_json::Value>,
}

/// A preset: the libraries it bundles (by URN, its `dependencies` and the library URNs its
/// `preset` object names) besides what the file holds itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresetDef {
    pub name: String,
    pub description: Option<String>,
    pub libraries: Vec<String>,
}

/// One step of a risk matrix's probability or impact scale, or one of its risk levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixStep {
    pub abbreviation: String,
    pub name: String,
    pub description: String,
    /// `#rrggbb` when the source gives a usable colour.
    pub colour: Option<String>,
    pub translations: Option<serde_json::Value>,
}

/// A risk matrix of a library: two scales, the risk levels and the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskMatrixDef {
    pub urn: String,
    pub ref_id: String,
    pub name: String,
    pub description: String,
    pub probability: Vec<MatrixStep>,
    pub impact: Vec<MatrixStep>,
    /// Levels from lowest to highest.
    pub risk: Vec<MatrixStep>,
    /// `grid[probability][impact]` is an index into `risk`.
    pub grid: Vec<Vec<usize>>,
    pub translations: Option<serde_json::Value>,
}

/// A threat of a threat catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreatDef {
    pub urn: String,
    pub ref_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub translations: Option<serde_json::Value>,
}

/// Objects of a library that isms does not import (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unsupported {
    /// The key under `objects`, e.g. `metric_definitions`.
    pub key: String,
    /// Which part of isms would hold them and why they are not imported.
    pub reason: String,
}

/// How the refusal of a library holding only objects isms does not know begins.
pub const NOTHING_IMPORTED: &str = "nothing was imported";

/// Accept any YAML scalar as text: `ref_id: 5.10` must stay "5.10", not become the number 5.1.
/// Asking the YAML deserializer for a string makes it hand over the scalar as written.
fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Text;
    impl<'de> serde::de::Visitor<'de> for Text {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("text")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_str(self)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
    }
    d.deserialize_option(Text)
}

/// `translations:` kept as JSON (any shape the source uses).
fn translations<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    let v: Option<serde_json::Value> = Option::deserialize(d)?;
    Ok(v.filter(|v| !v.is_null()))
}

#[derive(Deserialize)]
struct YLibrary {
    #[serde(default, deserialize_with = "scalar")]
    urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    ref_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    name: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    copyright: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    version: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    provider: Option<String>,
    #[serde(default, deserialize_with = "translations")]
    translations: Option<serde_json::Value>,
    /// A list of library URNs; any other shape is ignored.
    #[serde(default)]
    dependencies: Option<serde_json::Value>,
    objects: Option<YObjects>,
}

#[derive(Deserialize)]
struct YObjects {
    framework: Option<YFramework>,
    #[serde(default)]
    reference_controls: Vec<YReferenceControl>,
    requirement_mapping_set: Option<YMappingSet>,
    #[serde(default)]
    requirement_mapping_sets: Vec<YMappingSet>,
    #[serde(default)]
    risk_matrix: Vec<YRiskMatrix>,
    #[serde(default)]
    threats: Vec<YThreat>,
    #[serde(default)]
    metric_definitions: Vec<YMetric>,
    #[serde(default)]
    preset: Option<serde_json::Value>,
}

/// Only the keys under `objects`, to name what a library holds that isms does not import.
#[allow(clippy::zero_sized_map_values)] // a set cannot be read from a YAML mapping
#[derive(Deserialize)]
struct YKeys {
    #[serde(default)]
    objects: BTreeMap<String, serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct YFramework {
    #[serde(default, deserialize_with = "scalar")]
    urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    ref_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    name: Option<String>,
    #[serde(default, deserialize_with = "translations")]
    translations: Option<serde_json::Value>,
    #[serde(default)]
    requirement_nodes: Vec<YNode>,
}

#[derive(Deserialize)]
struct YNode {
    #[serde(default, deserialize_with = "scalar")]
    urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    parent_urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    ref_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    name: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    description: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    annotation: Option<String>,
    #[serde(default)]
    assessable: Option<bool>,
    #[serde(default)]
    reference_controls: Vec<String>,
    #[serde(default, deserialize_with = "translations")]
    translations: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct YReferenceControl {
    #[serde(default, deserialize_with = "scalar")]
    urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    ref_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    name: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    category: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    csf_function: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    description: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    annotation: Option<String>,
    #[serde(default, deserialize_with = "translations")]
    translations: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct YMetric {
    #[serde(default, deserialize_with = "scalar")]
    urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    ref_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    name: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    description: Option<String>,
    /// Text (`"%"`) or a mapping with a `name`.
    #[serde(default)]
    unit: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "scalar")]
    category: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    higher_is_better: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    direction: Option<String>,
    #[serde(default, alias = "default_target", deserialize_with = "scalar")]
    target: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    frequency: Option<String>,
    #[serde(default, deserialize_with = "translations")]
    translations: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct YMappingSet {
    #[serde(default, deserialize_with = "scalar")]
    source_framework_urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    target_framework_urn: Option<String>,
    #[serde(default)]
    requirement_mappings: Vec<YMapping>,
}

#[derive(Deserialize)]
struct YMapping {
    #[serde(default, deserialize_with = "scalar")]
    source_requirement_urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    target_requirement_urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    relationship: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    rationale: Option<String>,
}

#[derive(Deserialize)]
struct YStep {
    #[serde(default, deserialize_with = "scalar")]
    abbreviation: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    name: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    description: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    hexcolor: Option<String>,
    #[serde(default, deserialize_with = "translations")]
    translations: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct YRiskMatrix {
    #[serde(default, deserialize_with = "scalar")]
    urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    ref_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    name: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    description: Option<String>,
    #[serde(default)]
    probability: Vec<YStep>,
    #[serde(default)]
    impact: Vec<YStep>,
    #[serde(default)]
    risk: Vec<YStep>,
    #[serde(default)]
    grid: Vec<Vec<i64>>,
    #[serde(default, deserialize_with = "translations")]
    translations: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct YThreat {
    #[serde(default, deserialize_with = "scalar")]
    urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    ref_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    name: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    description: Option<String>,
    #[serde(default, deserialize_with = "translations")]
    translations: Option<serde_json::Value>,
}

fn nonempty(s: Option<&String>) -> Option<&str> {
    s.map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn urn_tail(urn: &str) -> &str {
    urn.rsplit(':').next().unwrap_or(urn)
}

/// Our framework id for a CISO Assistant framework URN (`urn:intuitem:risk:framework:nist-csf-2.0`
/// -> `nist-csf-2.0`; `...:nist-sp-800-53-rev5` -> `nist-800-53r5`).
pub fn framework_id_from_urn(urn: &str) -> String {
    let tail = urn_tail(urn);
    framework_id(tail).unwrap_or_else(|_| slugify(tail))
}

/// Best-effort ref id from a requirement URN of a framework not in the file: the part after
/// `req_node:<framework>:`, upper-cased (CISO Assistant lower-cases ref ids in URNs), with
/// 800-53 enhancements written as NIST prints them (`ac-2.1` -> `AC-2(1)`).
fn ref_from_requirement_urn(urn: &str, framework: &str) -> String {
    let after = urn
        .split_once(":req_node:")
        .and_then(|(_, rest)| rest.split_once(':').map(|(_, r)| r))
        .unwrap_or_else(|| urn_tail(urn));
    let upper = after.to_ascii_uppercase();
    match upper.split_once('.') {
        Some((base, enh))
            if framework == "nist-800-53r5"
                && !enh.is_empty()
                && enh.chars().all(|c| c.is_ascii_digit()) =>
        {
            format!("{base}({enh})")
        }
        _ => upper,
    }
}

fn yaml_error(file: &str, e: &serde_norway::Error) -> ImportError {
    let place = e
        .location()
        .map_or(Place::File, |l| Place::Line(l.line() as u64));
    ImportError::one(
        file,
        place,
        format!("malformed CISO Assistant library: {e}"),
    )
}

/// A `#rrggbb` colour from what a library writes (`"#00FF00"`, `'#faf7e9'`, `#abc`).
fn colour(text: Option<&String>) -> Option<String> {
    let t = nonempty(text)?.trim_start_matches('#');
    let hex = |s: &str| s.chars().all(|c| c.is_ascii_hexdigit());
    match t.len() {
        6 if hex(t) => Some(format!("#{}", t.to_ascii_lowercase())),
        3 if hex(t) => Some(format!(
            "#{}",
            t.chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_ascii_lowercase()
        )),
        _ => None,
    }
}

fn steps(list: &[YStep]) -> Vec<MatrixStep> {
    list.iter()
        .enumerate()
        .map(|(i, s)| MatrixStep {
            abbreviation: nonempty(s.abbreviation.as_ref())
                .unwrap_or_default()
                .to_owned(),
            name: nonempty(s.name.as_ref())
                .or(nonempty(s.abbreviation.as_ref()))
                .map_or_else(|| format!("{}", i + 1), str::to_owned),
            description: nonempty(s.description.as_ref())
                .unwrap_or_default()
                .to_owned(),
            colour: colour(s.hexcolor.as_ref()),
            translations: s.translations.clone(),
        })
        .collect()
}

fn risk_matrix(m: &YRiskMatrix, path: &str, issues: &mut Vec<Issue>) -> Option<RiskMatrixDef> {
    let place = || Place::Path(path.to_owned());
    let Some(urn) = nonempty(m.urn.as_ref()) else {
        issues.push(Issue::new(place(), "risk matrix has no urn"));
        return None;
    };
    let (probability, impact, risk) = (steps(&m.probability), steps(&m.impact), steps(&m.risk));
    for (what, list) in [
        ("probability", &probability),
        ("impact", &impact),
        ("risk", &risk),
    ] {
        if list.is_empty() {
            issues.push(Issue::new(
                place(),
                format!("the matrix has no {what} steps"),
            ));
            return None;
        }
    }
    if m.grid.len() != probability.len() || m.grid.iter().any(|r| r.len() != impact.len()) {
        issues.push(Issue::new(
            place(),
            format!(
                "the grid needs {} rows (probability) of {} cells (impact)",
                probability.len(),
                impact.len()
            ),
        ));
        return None;
    }
    let mut grid = Vec::with_capacity(m.grid.len());
    for row in &m.grid {
        let mut out = Vec::with_capacity(row.len());
        for &cell in row {
            match usize::try_from(cell) {
                Ok(c) if c < risk.len() => out.push(c),
                _ => {
                    issues.push(Issue::new(
                        place(),
                        format!(
                            "grid cell {cell} names no risk level (0 to {})",
                            risk.len() - 1
                        ),
                    ));
                    return None;
                }
            }
        }
        grid.push(out);
    }
    let name = nonempty(m.name.as_ref())
        .or(nonempty(m.ref_id.as_ref()))
        .unwrap_or_else(|| urn_tail(urn))
        .to_owned();
    Some(RiskMatrixDef {
        urn: urn.to_owned(),
        ref_id: nonempty(m.ref_id.as_ref())
            .unwrap_or_else(|| urn_tail(urn))
            .to_owned(),
        name,
        description: nonempty(m.description.as_ref())
            .unwrap_or_default()
            .to_owned(),
        probability,
        impact,
        risk,
        grid,
        translations: m.translations.clone(),
    })
}

fn metric_def(
    m: &YMetric,
    i: usize,
    issues: &mut Vec<Issue>,
    warnings: &mut Vec<String>,
    file: &str,
) -> Option<MetricDef> {
    let place = || Place::Path(format!("objects.metric_definitions[{i}]"));
    let Some(urn) = nonempty(m.urn.as_ref()) else {
        issues.push(Issue::new(place(), "metric definition has no urn"));
        return None;
    };
    let ref_id = nonempty(m.ref_id.as_ref()).map(str::to_owned);
    let description = nonempty(m.description.as_ref()).map(str::to_owned);
    let unit = match &m.unit {
        Some(serde_json::Value::String(u)) => u.trim().to_owned(),
        Some(serde_json::Value::Object(o)) => o
            .get("name")
            .or_else(|| o.get("symbol"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned(),
        _ => String::new(),
    };
    let higher = nonempty(m.higher_is_better.as_ref()).map(str::to_ascii_lowercase);
    let direction = match (higher.as_deref(), nonempty(m.direction.as_ref())) {
        (Some("true" | "yes"), _) => Some("higher".to_owned()),
        (Some("false" | "no"), _) => Some("lower".to_owned()),
        (_, Some(d)) => {
            let d = d.to_ascii_lowercase();
            if d.starts_with("higher") || d.starts_with("increase") || d == "up" {
                Some("higher".to_owned())
            } else if d.starts_with("lower") || d.starts_with("decrease") || d == "down" {
                Some("lower".to_owned())
            } else {
                warnings.push(format!(
                    "{file}: objects.metric_definitions[{i}]: direction {d:?} is not higher or lower; left for the metric's creator"
                ));
                None
            }
        }
        (_, None) => None,
    };
    let target = match nonempty(m.target.as_ref()) {
        None => None,
        Some(t) => match t.trim_end_matches('%').trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                warnings.push(format!(
                    "{file}: objects.metric_definitions[{i}]: target {t:?} is not a number; left for the metric's creator"
                ));
                None
            }
        },
    };
    Some(MetricDef {
        urn: urn.to_owned(),
        name: nonempty(m.name.as_ref())
            .map(str::to_owned)
            .or_else(|| description.as_deref().and_then(title_from_description))
            .or_else(|| ref_id.clone())
            .unwrap_or_else(|| urn_tail(urn).to_owned()),
        ref_id,
        description,
        unit,
        category: nonempty(m.category.as_ref()).map(str::to_owned),
        direction,
        target,
        frequency: nonempty(m.frequency.as_ref()).map(str::to_ascii_lowercase),
        translations: m.translations.clone(),
    })
}

/// Every library URN (`urn:...:library:...`) a preset object names, anywhere in it.
fn library_urns_in(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) if s.starts_with("urn:") && s.contains(":library:") => {
            out.push(s.trim().to_owned());
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| library_urns_in(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| library_urns_in(x, out)),
        _ => {}
    }
}

/// Import a CISO Assistant library: a framework, mapping sets, risk matrices, threats.
///
/// Framework: the id comes from the framework URN's last segment (mapped to our ids for the
/// NIST and ISO frameworks we know), the name from `name`, the version from the library
/// `version`, the publisher from `provider`, the licence note from `copyright`. Each node is
/// identified by its URN; its label is `ref_id` (or its URN's last segment), which may repeat
/// under different parents. Its title is `name`, else the first sentence of its description
/// (shortened), else its label; kind `item` when assessable and `group` otherwise.
///
/// Mappings: requirement URNs of the framework in the same file resolve to its labels; other
/// URNs give a best-effort ref id (see `ref_from_requirement_urn`) and keep the URN, which
/// the store resolves against installed frameworks. A mapping naming a URN of the file's own
/// framework that no node carries is reported as a warning and left out; the rest imports
/// (mapping libraries are maintained apart from the frameworks they link, and one stale link
/// should not cost the hundreds of good ones). Relationships `equal`, `subset`, `superset`,
/// `intersect` map to ours; `not_related` entries are counted, not kept.
///
/// Reference controls go to the catalog of reference measures, metric definitions to the
/// metric templates, a preset names the libraries it bundles. A library holding only objects
/// isms does not know is refused, naming them.
pub fn import_ciso_assistant(file: &str, data: &[u8]) -> Result<CisoLibrary, ImportError> {
    let text = input_text(file, data)?;
    let lib: YLibrary = serde_norway::from_str(text).map_err(|e| yaml_error(file, &e))?;
    let Some(objects) = lib.objects else {
        return Err(ImportError::one(
            file,
            Place::Path("objects".into()),
            "missing `objects`: this is not a CISO Assistant library",
        ));
    };
    let lib_urn = lib.urn.clone().unwrap_or_default();
    let mut issues = Vec::new();
    let mut warnings = Vec::new();
    let mut urn_to_ref: HashMap<String, String> = HashMap::new();
    let mut framework_tree = None;
    let mut req_ref_controls = Vec::new();
    let mut own_framework: Option<(String, String)> = None; // (urn, id)
    let version = nonempty(lib.version.as_ref()).and_then(|v| {
        let n = v.parse::<i64>().ok();
        if n.is_none() {
            issues.push(Issue::new(
                Place::Path("version".into()),
                format!("version {v:?} is not a whole number"),
            ));
        }
        n
    });

    if let Some(fw) = &objects.framework {
        let fw_urn = nonempty(fw.urn.as_ref()).unwrap_or("").to_owned();
        let id = if fw_urn.is_empty() {
            slugify(nonempty(fw.ref_id.as_ref()).unwrap_or("ciso-assistant-framework"))
        } else {
            framework_id_from_urn(&fw_urn)
        };
        let framework = Framework {
            id: id.clone(),
            name: nonempty(fw.name.as_ref())
                .or(nonempty(lib.name.as_ref()))
                .unwrap_or(&id)
                .to_owned(),
            version: lib.version.clone().unwrap_or_default(),
            publisher: lib.provider.clone().unwrap_or_default(),
            licence_note: lib.copyright.clone().unwrap_or_default(),
        };
        if fw.requirement_nodes.is_empty() {
            issues.push(Issue::new(
                Place::Path("objects.framework.requirement_nodes".into()),
                "the framework has no requirement nodes",
            ));
        }
        if fw.requirement_nodes.len() > MAX_ITEMS {
            return Err(ImportError::one(
                file,
                Place::Path("objects.framework.requirement_nodes".into()),
                format!("more than {MAX_ITEMS} requirement nodes"),
            ));
        }
        let path = |i: usize| format!("objects.framework.requirement_nodes[{i}]");
        let mut first_urn: HashMap<&str, usize> =
            HashMap::with_capacity(fw.requirement_nodes.len());
        for (i, n) in fw.requirement_nodes.iter().enumerate() {
            match nonempty(n.urn.as_ref()) {
                None => issues.push(Issue::new(
                    Place::Path(path(i)),
                    "requirement node has no urn",
                )),
                Some(u) => {
                    if let Some(f) = first_urn.insert(u, i) {
                        issues.push(Issue::new(
                            Place::Path(path(i)),
                            format!(
                                "duplicate urn {u:?}: requirement_nodes[{f}] and requirement_nodes[{i}] both carry it"
                            ),
                        ));
                    }
                    let r = nonempty(n.ref_id.as_ref()).unwrap_or_else(|| urn_tail(u));
                    urn_to_ref
                        .entry(u.to_owned())
                        .or_insert_with(|| r.to_owned());
                }
            }
        }
        let mut nodes = Vec::with_capacity(fw.requirement_nodes.len());
        for (i, n) in fw.requirement_nodes.iter().enumerate() {
            let urn = nonempty(n.urn.as_ref()).unwrap_or("");
            let ref_id = urn_to_ref.get(urn).cloned().unwrap_or_default();
            let mut parent = None;
            let parent_urn = nonempty(n.parent_urn.as_ref());
            if let Some(p) = parent_urn {
                parent = urn_to_ref.get(p).cloned();
                if parent.is_none() {
                    issues.push(Issue::new(
                        Place::Path(path(i)),
                        format!("parent_urn {p:?} is not a requirement node in this file"),
                    ));
                }
            }
            let description = nonempty(n.description.as_ref()).map(str::to_owned);
            let title = nonempty(n.name.as_ref())
                .map(str::to_owned)
                .or_else(|| description.as_deref().and_then(title_from_description))
                .unwrap_or_else(|| ref_id.clone());
            let kind = if n.assessable.unwrap_or(false) {
                NodeKind::Item
            } else {
                NodeKind::Group
            };
            let mut node = RequirementNode::new(ref_id.clone(), parent.as_deref(), title, kind);
            node.description = description;
            node.discussion = nonempty(n.annotation.as_ref()).map(str::to_owned);
            node.order = i as u32;
            node.urn = Some(urn.to_owned());
            node.parent_urn = parent_urn.map(str::to_owned);
            node.translations.clone_from(&n.translations);
            for rc in &n.reference_controls {
                req_ref_controls.push((urn.to_owned(), rc.clone()));
            }
            nodes.push(node);
        }
        if issues.is_empty() {
            match FrameworkTree::new(framework, nodes) {
                Ok(t) => framework_tree = Some(t),
                Err(problems) => {
                    let urns: Vec<&str> = fw
                        .requirement_nodes
                        .iter()
                        .map(|n| nonempty(n.urn.as_ref()).unwrap_or(""))
                        .collect();
                    issues.extend(tree_issues(&problems, |i| {
                        Place::Path(format!("{} (urn {})", path(i), urns[i]))
                    }));
                }
            }
        }
        own_framework = Some((fw_urn, id));
    }

    let reference_controls: Vec<ReferenceControl> = objects
        .reference_controls
        .iter()
        .enumerate()
        .filter_map(|(i, rc)| {
            let Some(urn) = nonempty(rc.urn.as_ref()) else {
                issues.push(Issue::new(
                    Place::Path(format!("objects.reference_controls[{i}]")),
                    "reference control has no urn",
                ));
                return None;
            };
            let ref_id = nonempty(rc.ref_id.as_ref()).map(str::to_owned);
            let description = nonempty(rc.description.as_ref()).map(str::to_owned);
            Some(ReferenceControl {
                urn: urn.to_owned(),
                name: nonempty(rc.name.as_ref())
                    .map(str::to_owned)
                    .or_else(|| description.as_deref().and_then(title_from_description))
                    .or_else(|| ref_id.clone())
                    .unwrap_or_else(|| urn_tail(urn).to_owned()),
                ref_id,
                category: nonempty(rc.category.as_ref()).map(str::to_owned),
                csf_function: nonempty(rc.csf_function.as_ref()).map(str::to_owned),
                description,
                annotation: nonempty(rc.annotation.as_ref()).map(str::to_owned),
                translations: rc.translations.clone(),
            })
        })
        .collect();
    // A repeated reference-control URN costs the repeat, not the library (a framework
    // library with a slip in its measures still imports): reported, the first kept.
    let mut seen_urns: HashMap<String, usize> = HashMap::new();
    let mut reference_controls = reference_controls;
    let mut index = 0;
    reference_controls.retain(|rc| {
        index += 1;
        if let Some(f) = seen_urns.get(&rc.urn) {
            warnings.push(format!(
                "{file}: objects.reference_controls[{}]: duplicate urn {:?} (first at reference_controls[{f}]); the repeat was left out",
                index - 1,
                rc.urn
            ));
            return false;
        }
        seen_urns.insert(rc.urn.clone(), index - 1);
        true
    });
    let metric_definitions: Vec<MetricDef> = objects
        .metric_definitions
        .iter()
        .enumerate()
        .filter_map(|(i, m)| metric_def(m, i, &mut issues, &mut warnings, file))
        .collect();
    let dependencies: Vec<String> = lib
        .dependencies
        .as_ref()
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| match d {
            serde_json::Value::String(s) => Some(s.trim().to_owned()),
            serde_json::Value::Object(o) => o
                .get("urn")
                .and_then(serde_json::Value::as_str)
                .map(|s| s.trim().to_owned()),
            _ => None,
        })
        .filter(|d| !d.is_empty())
        .collect();
    let preset = objects.preset.as_ref().map(|p| {
        let mut libraries: Vec<String> = dependencies.clone();
        library_urns_in(p, &mut libraries);
        let mut seen = std::collections::HashSet::new();
        libraries.retain(|u| seen.insert(u.clone()) && *u != lib_urn);
        let text = |k: &str| {
            p.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        PresetDef {
            name: text("name")
                .or_else(|| nonempty(lib.name.as_ref()).map(str::to_owned))
                .unwrap_or_else(|| urn_tail(&lib_urn).to_owned()),
            description: text("description"),
            libraries,
        }
    });

    let mut mappings = Vec::new();
    let mut mapping_urns = Vec::new();
    let mut skipped_not_related = 0;
    let (sets_path, sets): (&str, Vec<&YMappingSet>) =
        if objects.requirement_mapping_sets.is_empty() {
            (
                "objects.requirement_mapping_set",
                objects.requirement_mapping_set.iter().collect(),
            )
        } else {
            (
                "objects.requirement_mapping_sets",
                objects.requirement_mapping_sets.iter().collect(),
            )
        };
    for (si, set) in sets.iter().enumerate() {
        let set_path = if sets_path.ends_with('s') {
            format!("{sets_path}[{si}]")
        } else {
            sets_path.to_owned()
        };
        let (Some(src_fw_urn), Some(tgt_fw_urn)) = (
            nonempty(set.source_framework_urn.as_ref()),
            nonempty(set.target_framework_urn.as_ref()),
        ) else {
            issues.push(Issue::new(
                Place::Path(set_path),
                "mapping set needs source_framework_urn and target_framework_urn",
            ));
            continue;
        };
        let is_own = |urn: &str| matches!(&own_framework, Some((u, _)) if u == urn);
        let fw_id_of = |urn: &str| match &own_framework {
            Some((u, id)) if u == urn => id.clone(),
            _ => framework_id_from_urn(urn),
        };
        let (sf, tf) = (fw_id_of(src_fw_urn), fw_id_of(tgt_fw_urn));
        for (mi, m) in set.requirement_mappings.iter().enumerate() {
            let at = format!("{set_path}.requirement_mappings[{mi}]");
            let place = || Place::Path(at.clone());
            let (Some(su), Some(tu)) = (
                nonempty(m.source_requirement_urn.as_ref()),
                nonempty(m.target_requirement_urn.as_ref()),
            ) else {
                issues.push(Issue::new(
                    place(),
                    "mapping needs source_requirement_urn and target_requirement_urn",
                ));
                continue;
            };
            let rel_text = nonempty(m.relationship.as_ref()).unwrap_or("");
            let norm = rel_text.to_ascii_lowercase().replace(['-', ' '], "_");
            if norm == "not_related" {
                skipped_not_related += 1;
                continue;
            }
            let Some(relationship) = Relationship::parse(rel_text) else {
                issues.push(Issue::new(
                    place(),
                    format!(
                        "relationship {rel_text:?} is not one of equal, subset, superset, intersect, not_related"
                    ),
                ));
                continue;
            };
            let unknown_own = [(src_fw_urn, su), (tgt_fw_urn, tu)]
                .into_iter()
                .find(|(f, u)| is_own(f) && !urn_to_ref.contains_key(*u));
            if let Some((_, u)) = unknown_own {
                if warnings.len() < MAX_ISSUES {
                    warnings.push(format!(
                        "{file}: {at}: {u:?} is not a requirement of this library's framework; the mapping was left out"
                    ));
                }
                continue;
            }
            let resolve = |urn: &str, fw: &str| {
                urn_to_ref
                    .get(urn)
                    .cloned()
                    .unwrap_or_else(|| ref_from_requirement_urn(urn, fw))
            };
            mappings.push(Mapping {
                source_framework: sf.clone(),
                source_ref: resolve(su, &sf),
                target_framework: tf.clone(),
                target_ref: resolve(tu, &tf),
                relationship,
                note: nonempty(m.rationale.as_ref()).map(str::to_owned),
                derived_path: None,
            });
            mapping_urns.push((su.to_owned(), tu.to_owned()));
            if mappings.len() > MAX_ITEMS {
                return Err(ImportError::one(
                    file,
                    place(),
                    format!("more than {MAX_ITEMS} mappings"),
                ));
            }
        }
    }

    let mut risk_matrices = Vec::new();
    for (i, m) in objects.risk_matrix.iter().enumerate() {
        if let Some(def) = risk_matrix(m, &format!("objects.risk_matrix[{i}]"), &mut issues) {
            risk_matrices.push(def);
        }
    }
    let mut threats = Vec::with_capacity(objects.threats.len());
    for (i, t) in objects.threats.iter().enumerate() {
        let Some(urn) = nonempty(t.urn.as_ref()) else {
            issues.push(Issue::new(
                Place::Path(format!("objects.threats[{i}]")),
                "threat has no urn",
            ));
            continue;
        };
        let ref_id = nonempty(t.ref_id.as_ref()).map(str::to_owned);
        let description = nonempty(t.description.as_ref()).map(str::to_owned);
        let name = nonempty(t.name.as_ref())
            .map(str::to_owned)
            .or_else(|| description.as_deref().and_then(title_from_description))
            .or_else(|| ref_id.clone())
            .unwrap_or_else(|| urn_tail(urn).to_owned());
        threats.push(ThreatDef {
            urn: urn.to_owned(),
            ref_id,
            name,
            description,
            translations: t.translations.clone(),
        });
    }

    let importable = framework_tree.is_some()
        || !sets.is_empty()
        || !risk_matrices.is_empty()
        || !threats.is_empty()
        || !reference_controls.is_empty()
        || !metric_definitions.is_empty()
        || preset.is_some();
    let mut unsupported = Vec::new();
    if !importable && issues.is_empty() {
        // Name what else the library holds: one more (cheap) pass over the keys.
        let keys: YKeys = serde_norway::from_str(text).map_err(|e| yaml_error(file, &e))?;
        for key in keys.objects.keys() {
            let reason = match key.as_str() {
                "framework"
                | "requirement_mapping_set"
                | "requirement_mapping_sets"
                | "risk_matrix"
                | "threats"
                | "reference_controls"
                | "metric_definitions"
                | "preset" => continue,
                other => format!("isms does not know library objects of kind {other:?}"),
            };
            unsupported.push(Unsupported {
                key: key.clone(),
                reason,
            });
        }
        let message = if unsupported.is_empty() {
            "the library holds no objects isms imports (a framework, requirement mapping sets, risk matrices, threats, reference controls, metric definitions or a preset)".to_owned()
        } else {
            format!(
                "{NOTHING_IMPORTED}: {}",
                unsupported
                    .iter()
                    .map(|u| u.reason.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        issues.push(Issue::new(Place::Path("objects".into()), message));
    }
    if !issues.is_empty() {
        issues.truncate(MAX_ISSUES);
        return Err(ImportError::many(file, issues));
    }
    let framework_urn = own_framework
        .as_ref()
        .map(|(u, _)| u.clone())
        .filter(|u| !u.is_empty());
    Ok(CisoLibrary {
        urn: lib_urn,
        name: lib.name.or(lib.ref_id).unwrap_or_default(),
        version,
        translations: lib.translations,
        framework: framework_tree,
        framework_urn,
        framework_translations: objects.framework.and_then(|f| f.translations),
        reference_controls,
        metric_definitions,
        preset,
        dependencies,
        provider: lib.provider.filter(|p| !p.trim().is_empty()),
        requirement_reference_controls: req_ref_controls,
        mappings,
        mapping_urns,
        skipped_not_related,
        risk_matrices,
        threats,
        unsupported,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(text: &str) -> Result<CisoLibrary, ImportError> {
        import_ciso_assistant("lib.yaml", text.as_bytes())
    }

    const SMALL: &str = "\
urn: urn:test:risk:library:own
name: Own library
version: 3
provider: Acme
copyright: CC0
objects:
  reference_controls:
  - urn: urn:test:risk:function:mfa
    ref_id: MFA
    name: Multi-factor authentication
  framework:
    urn: urn:test:risk:framework:own-fw
    ref_id: OWN
    name: Own framework
    requirement_nodes:
    - urn: urn:test:risk:req_node:own-fw:1
      assessable: false
      depth: 1
      ref_id: 1
      name: Governance
    - urn: urn:test:risk:req_node:own-fw:1.10
      assessable: true
      depth: 2
      parent_urn: urn:test:risk:req_node:own-fw:1
      ref_id: 1.10
      description: Tenth item
      reference_controls:
      - urn:test:risk:function:mfa
    - urn: urn:test:risk:req_node:own-fw:1.2
      assessable: true
      depth: 2
      parent_urn: urn:test:risk:req_node:own-fw:1
      ref_id: '1.2'
      name: Second item
";

    #[test]
    fn imports_a_framework_library() {
        let lib = import(SMALL).unwrap();
        let t = lib.framework.unwrap();
        assert_eq!(t.framework.id, "own-fw");
        assert_eq!(t.framework.version, "3");
        assert_eq!(t.framework.publisher, "Acme");
        let ids: Vec<&str> = t.nodes.iter().map(|n| n.ref_id.as_str()).collect();
        assert_eq!(
            ids,
            ["1", "1.10", "1.2"],
            "numbers stay text, file order kept"
        );
        assert_eq!(
            t.nodes[1].title, "Tenth item",
            "a nameless node is titled by its description"
        );
        assert_eq!(t.nodes[1].description.as_deref(), Some("Tenth item"));
        assert_eq!(t.nodes[1].kind, NodeKind::Item);
        assert_eq!(t.nodes[0].kind, NodeKind::Group);
        assert_eq!(lib.reference_controls.len(), 1);
        assert_eq!(
            lib.requirement_reference_controls,
            [(
                "urn:test:risk:req_node:own-fw:1.10".to_owned(),
                "urn:test:risk:function:mfa".to_owned()
            )]
        );
    }

    #[test]
    fn imports_a_mapping_library() {
        let text = "\
urn: urn:test:risk:library:map
name: map
objects:
  requirement_mapping_sets:
  - urn: urn:test:risk:req_mapping_set:a-b
    source_framework_urn: urn:intuitem:risk:framework:nist-sp-800-53-rev5
    target_framework_urn: urn:intuitem:risk:framework:iso27001-2022
    requirement_mappings:
    - source_requirement_urn: urn:intuitem:risk:req_node:nist-sp-800-53-rev5:ac-2.1
      target_requirement_urn: urn:intuitem:risk:req_node:iso27001-2022:a.5.16
      relationship: intersect
      rationale: overlap
    - source_requirement_urn: urn:intuitem:risk:req_node:nist-sp-800-53-rev5:ac-3
      target_requirement_urn: urn:intuitem:risk:req_node:iso27001-2022:a.8.3
      relationship: not_related
";
        let lib = import(text).unwrap();
        assert!(lib.framework.is_none());
        assert_eq!(lib.skipped_not_related, 1);
        let m = &lib.mappings[0];
        assert_eq!(
            (m.source_framework.as_str(), m.source_ref.as_str()),
            ("nist-800-53r5", "AC-2(1)")
        );
        assert_eq!(
            (m.target_framework.as_str(), m.target_ref.as_str()),
            ("iso27001-2022", "A.5.16")
        );
        assert_eq!(m.relationship, Relationship::IntersectsWith);
        assert_eq!(m.note.as_deref(), Some("overlap"));
        let bad = text.replace("relationship: intersect", "relationship: kinda");
        let msg = import(&bad).unwrap_err().to_string();
        assert!(msg.contains("objects.requirement_mapping_sets[0].requirement_mappings[0]: relationship \"kinda\""), "{msg}");
    }

    #[test]
    fn refuses_bad_trees_naming_the_node() {
        let orphan = SMALL.replace(
            "parent_urn: urn:test:risk:req_node:own-fw:1\n      ref_id: '1.2'",
            "parent_urn: urn:nowhere\n      ref_id: '1.2'",
        );
        let msg = import(&orphan).unwrap_err().to_string();
        assert!(
            msg.contains(
                "requirement_nodes[2]: parent_urn \"urn:nowhere\" is not a requirement node"
            ),
            "{msg}"
        );
        let cyc = SMALL.replace(
            "      depth: 1\n",
            "      depth: 1\n      parent_urn: urn:test:risk:req_node:own-fw:1.2\n",
        );
        let msg = import(&cyc).unwrap_err().to_string();
        assert!(msg.contains("parent cycle"), "{msg}");
        let dup_urn = SMALL.replace("own-fw:1.2\n", "own-fw:1.10\n");
        let msg = import(&dup_urn).unwrap_err().to_string();
        assert!(
            msg.contains("duplicate urn \"urn:test:risk:req_node:own-fw:1.10\": requirement_nodes[1] and requirement_nodes[2] both carry it"),
            "{msg}"
        );
    }

    #[test]
    fn refuses_malformed_yaml_with_a_line() {
        let msg = import("urn: x\nobjects:\n  framework: [unclosed\n")
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("lib.yaml: line "), "{msg}");
        assert!(msg.contains("malformed"), "{msg}");
        let msg = import("urn: x\nname: no objects\n")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("lib.yaml: objects: missing `objects`"),
            "{msg}"
        );
        assert!(import("").unwrap_err().to_string().contains("empty"));
        assert!(import("- just\n- a list\n").is_err());
        let msg =
            import("objects:\n  framework:\n    urn: u\n    requirement_nodes:\n    - urn: [1]\n")
                .unwrap_err()
                .to_string();
        assert!(msg.contains("expected text"), "{msg}");
        let msg = import("objects: {}\n").unwrap_err().to_string();
        assert!(msg.contains("holds no objects isms imports"), "{msg}");
        assert!(!msg.contains("neither a framework nor"), "{msg}");
    }

    /// ENS / FINMA shape: sub-items "1", "2" under several parents, some nodes without a
    /// ref id or a name.
    const REPEATED: &str = "\
urn: urn:test:risk:library:rep
name: Repeated
version: 2
translations:
  fr:
    name: Répété
objects:
  framework:
    urn: urn:test:risk:framework:rep
    name: Repeated refs
    translations:
      fr:
        name: Réf répétées
    requirement_nodes:
    - urn: urn:test:risk:req_node:rep:3.3
      ref_id: '3.3'
      name: Three three
    - urn: urn:test:risk:req_node:rep:3.3:3
      parent_urn: urn:test:risk:req_node:rep:3.3
      ref_id: '3'
      assessable: true
      description: Keep logs. Review them weekly.
      translations:
        fr:
          description: Garder les journaux.
    - urn: urn:test:risk:req_node:rep:4.1
      ref_id: '4.1'
      name: Four one
    - urn: urn:test:risk:req_node:rep:4.1:3
      parent_urn: urn:test:risk:req_node:rep:4.1
      ref_id: '3'
      assessable: true
      name: Third of four one
    - urn: urn:test:risk:req_node:rep:4.1:x
      parent_urn: urn:test:risk:req_node:rep:4.1
      assessable: true
";

    #[test]
    fn repeated_ref_ids_under_different_parents_import_by_urn() {
        let lib = import(REPEATED).unwrap();
        assert_eq!(lib.version, Some(2));
        assert_eq!(lib.translations.as_ref().unwrap()["fr"]["name"], "Répété");
        assert_eq!(
            lib.framework_translations.as_ref().unwrap()["fr"]["name"],
            "Réf répétées"
        );
        let t = lib.framework.unwrap();
        assert_eq!(t.nodes.len(), 5);
        let labels = t.display_refs();
        assert_eq!(labels, ["3.3", "3.3 › 3", "4.1", "4.1 › 3", "x"]);
        assert_eq!(t.nodes_by_ref("3").count(), 2);
        assert_eq!(t.nodes[1].title, "Keep logs");
        assert_eq!(
            t.nodes[1].translations.as_ref().unwrap()["fr"]["description"],
            "Garder les journaux."
        );
        assert_eq!(t.nodes[4].title, "x", "no name, no description: the label");
        assert_eq!(t.nodes[3].parent_ref_id.as_deref(), Some("4.1"));
        assert_eq!(
            t.nodes[3].parent_urn.as_deref(),
            Some("urn:test:risk:req_node:rep:4.1")
        );
        assert_eq!(t.depths(), [0, 1, 0, 1, 1]);
    }

    #[test]
    fn a_cyclic_parent_chain_is_refused_naming_the_nodes() {
        let cyc = REPEATED.replace(
            "    - urn: urn:test:risk:req_node:rep:3.3\n      ref_id: '3.3'\n",
            "    - urn: urn:test:risk:req_node:rep:3.3\n      parent_urn: urn:test:risk:req_node:rep:3.3:3\n      ref_id: '3.3'\n",
        );
        let msg = import(&cyc).unwrap_err().to_string();
        assert!(msg.contains("parent cycle 3.3 -> 3 -> 3.3"), "{msg}");
    }

    #[test]
    fn titles_made_up_from_descriptions_are_short() {
        use crate::model::title_from_description;
        assert_eq!(title_from_description("One. Two.").unwrap(), "One");
        assert_eq!(title_from_description("  \n").as_deref(), None);
        let long = "word ".repeat(40);
        let t = title_from_description(&long).unwrap();
        assert!(t.ends_with('…') && t.chars().count() <= 80, "{t}");
        assert_eq!(
            title_from_description("First line\nsecond line").unwrap(),
            "First line"
        );
    }

    #[test]
    fn risk_matrices_and_threats_are_read() {
        let text = "\
urn: urn:test:risk:library:m3
name: Matrix
version: 1
objects:
  risk_matrix:
  - urn: urn:test:risk:matrix:m3
    ref_id: m3
    name: Three
    probability:
    - {abbreviation: L, name: Low, description: rare}
    - {abbreviation: M, name: Medium}
    - {abbreviation: H, name: High}
    impact:
    - {abbreviation: L, name: Low}
    - {abbreviation: M, name: Medium}
    - {abbreviation: H, name: High}
    risk:
    - {abbreviation: L, name: Low, hexcolor: '#00FF00'}
    - {abbreviation: M, name: Medium, hexcolor: '#ff0'}
    - {abbreviation: H, name: High}
    grid:
    - [0, 1, 1]
    - [1, 1, 2]
    - [1, 2, 2]
  threats:
  - urn: urn:test:risk:threat:t1
    ref_id: T1
    name: Flood
";
        let lib = import(text).unwrap();
        let m = &lib.risk_matrices[0];
        assert_eq!(m.grid[2][1], 2);
        assert_eq!(m.risk[0].colour.as_deref(), Some("#00ff00"));
        assert_eq!(m.risk[1].colour.as_deref(), Some("#ffff00"));
        assert_eq!(m.risk[2].colour, None);
        assert_eq!(lib.threats[0].name, "Flood");
        let bad = text.replace("- [1, 2, 2]", "- [1, 2, 7]");
        let msg = import(&bad).unwrap_err().to_string();
        assert!(msg.contains("grid cell 7 names no risk level"), "{msg}");
        let short = text.replace("    - [1, 2, 2]\n", "");
        let msg = import(&short).unwrap_err().to_string();
        assert!(msg.contains("3 rows (probability) of 3 cells"), "{msg}");
    }

    #[test]
    fn reference_controls_metrics_and_presets_are_read() {
        let rc = "\
urn: urn:test:risk:library:rc
objects:
  reference_controls:
  - urn: urn:test:risk:function:a
    ref_id: RC-1
    name: Keep an asset inventory
    category: technical
    csf_function: identify
  - urn: urn:test:risk:function:b
    description: Review privileged accounts every quarter. Remove the unused ones.
";
        let lib = import(rc).unwrap();
        assert_eq!(lib.reference_controls.len(), 2);
        assert_eq!(lib.reference_controls[0].name, "Keep an asset inventory");
        assert_eq!(
            lib.reference_controls[1].name,
            "Review privileged accounts every quarter"
        );
        let dup = rc.replace("function:b", "function:a");
        let lib = import(&dup).unwrap();
        assert_eq!(lib.reference_controls.len(), 1);
        assert!(
            lib.warnings[0].contains("duplicate urn"),
            "{:?}",
            lib.warnings
        );
        let metrics = "urn: x\nobjects:\n  metric_definitions:\n  - urn: m\n    name: Patch delay\n    unit: days\n    higher_is_better: false\n    target: 14\n";
        let lib = import(metrics).unwrap();
        assert_eq!(lib.metric_definitions[0].unit, "days");
        assert_eq!(
            lib.metric_definitions[0].direction.as_deref(),
            Some("lower")
        );
        assert_eq!(lib.metric_definitions[0].target, Some(14.0));
        let bad = metrics.replace("    higher_is_better: false\n", "    direction: sideways\n");
        let lib = import(&bad).unwrap();
        assert!(lib.metric_definitions[0].direction.is_none());
        assert!(lib.warnings[0].contains("sideways"), "{:?}", lib.warnings);
        let no_urn = "urn: x\nobjects:\n  metric_definitions:\n  - name: Lost\n";
        assert!(
            import(no_urn)
                .unwrap_err()
                .to_string()
                .contains("metric definition has no urn")
        );
        let preset = "urn: urn:test:risk:library:p\nname: Starter\ndependencies:\n- urn:test:risk:library:a\nobjects:\n  preset:\n    name: Starter kit\n    libraries: [urn:test:risk:library:b, urn:test:risk:library:a]\n";
        let lib = import(preset).unwrap();
        let p = lib.preset.unwrap();
        assert_eq!(p.name, "Starter kit");
        assert_eq!(
            p.libraries,
            ["urn:test:risk:library:a", "urn:test:risk:library:b"]
        );
        let unknown = "urn: x\nobjects:\n  gizmos:\n  - urn: g\n";
        let msg = import(unknown).unwrap_err().to_string();
        assert!(msg.contains("gizmos") && !msg.contains("neither"), "{msg}");
        let lib = import(SMALL).unwrap();
        assert!(lib.framework.is_some() && !lib.reference_controls.is_empty());
        assert!(lib.unsupported.is_empty());
    }

    #[test]
    fn a_mapping_to_an_unknown_node_of_the_own_framework_is_reported_and_left_out() {
        let text = format!(
            "{SMALL}  requirement_mapping_sets:
  - urn: urn:test:risk:req_mapping_set:own-iso
    source_framework_urn: urn:test:risk:framework:own-fw
    target_framework_urn: urn:intuitem:risk:framework:iso27001-2022
    requirement_mappings:
    - source_requirement_urn: urn:test:risk:req_node:own-fw:1.2
      target_requirement_urn: urn:intuitem:risk:req_node:iso27001-2022:a.5.1
      relationship: equal
    - source_requirement_urn: urn:test:risk:req_node:own-fw:9.9
      target_requirement_urn: urn:intuitem:risk:req_node:iso27001-2022:a.5.2
      relationship: equal
"
        );
        let lib = import(&text).unwrap();
        assert_eq!(lib.mappings.len(), 1);
        assert_eq!(lib.mappings[0].source_ref, "1.2");
        assert_eq!(lib.mapping_urns[0].0, "urn:test:risk:req_node:own-fw:1.2");
        assert_eq!(lib.warnings.len(), 1);
        assert!(lib.warnings[0].contains("own-fw:9.9"), "{:?}", lib.warnings);
    }

    #[test]
    fn urn_helpers() {
        assert_eq!(
            framework_id_from_urn("urn:intuitem:risk:framework:nist-csf-2.0"),
            "nist-csf-2.0"
        );
        assert_eq!(framework_id_from_urn("urn:x:Weird Name"), "weird-name");
        assert_eq!(
            ref_from_requirement_urn(
                "urn:intuitem:risk:req_node:nist-csf-2.0:gv.oc-01",
                "nist-csf-2.0"
            ),
            "GV.OC-01"
        );
        assert_eq!(
            ref_from_requirement_urn(
                "urn:intuitem:risk:req_node:nist-sp-800-53-rev5:ac-2",
                "nist-800-53r5"
            ),
            "AC-2"
        );
    }
}
