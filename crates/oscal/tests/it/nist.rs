//! The SP 800-53 Rev 5 baselines resolved against the full (legacy) catalog, compared with
//! NIST's own resolved catalogs.

use std::collections::HashSet;

use isms_oscal::{
    DocumentKind, Loaded, Loader, NodeKind, OscalError, catalog_nodes, parse_document,
    resolve_profile, validate_value,
};
use serde_json::Value;

use crate::read;

const CATALOG: &str =
    "oscal/nist-sp800-53-rev5/legacy-catalog-oscal-1.0.0/NIST_SP-800-53_rev5_catalog.json";

/// Every import (here: a back-matter resource whose rlinks do not exist locally) gets the
/// catalog, as `--catalog` does on the command line.
struct OneCatalog(Value);

impl Loader for OneCatalog {
    fn load(&self, _href: &str, _base: &str) -> Result<Loaded, OscalError> {
        Ok(Loaded {
            id: CATALOG.into(),
            document: self.0.clone(),
        })
    }
}

#[derive(Debug, Default, PartialEq)]
struct Counts {
    groups: usize,
    top: usize,
    enhancements: usize,
    params: usize,
}

fn walk(cat: &Value, counts: &mut Counts, ids: &mut Vec<String>, params: &mut Vec<String>) {
    fn control(
        c: &Value,
        depth: usize,
        counts: &mut Counts,
        ids: &mut Vec<String>,
        params: &mut Vec<String>,
    ) {
        ids.push(c["id"].as_str().unwrap().to_string());
        if depth == 0 {
            counts.top += 1;
        } else {
            counts.enhancements += 1;
        }
        for p in c["params"].as_array().into_iter().flatten() {
            params.push(p["id"].as_str().unwrap().to_string());
        }
        for child in c["controls"].as_array().into_iter().flatten() {
            control(child, depth + 1, counts, ids, params);
        }
    }
    for g in cat["groups"].as_array().into_iter().flatten() {
        counts.groups += 1;
        for c in g["controls"].as_array().into_iter().flatten() {
            control(c, 0, counts, ids, params);
        }
    }
    for c in cat["controls"].as_array().into_iter().flatten() {
        control(c, 0, counts, ids, params);
    }
    counts.params = params.len();
}

fn resources(cat: &Value) -> Vec<String> {
    cat.pointer("/back-matter/resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| r["uuid"].as_str().unwrap().to_string())
        .collect()
}

fn check_baseline(level: &str, expected_file: &str, expected: &Counts) {
    let catalog = parse_document(&read(CATALOG), CATALOG).expect("catalog validates");
    let profile_path = format!(
        "oscal/nist-sp800-53-rev5/profiles/NIST_SP-800-53_rev5_{level}-baseline_profile.json"
    );
    let profile = parse_document(&read(&profile_path), &profile_path).expect("profile validates");
    assert_eq!(profile.kind, DocumentKind::Profile);
    let resolved = resolve_profile(&profile.value, &profile_path, &OneCatalog(catalog.value))
        .expect("resolves");
    assert!(resolved.warnings.is_empty(), "{:?}", resolved.warnings);
    let (n, errors) = validate_value(&resolved.catalog, DocumentKind::Catalog);
    assert_eq!(n, 0, "resolved {level} does not validate: {errors:?}");

    let nist_path = format!("oscal/nist-sp800-53-rev5/resolved-catalogs/{expected_file}");
    let nist: Value = serde_json::from_slice(&read(&nist_path)).unwrap();
    let (ours, theirs) = (&resolved.catalog["catalog"], &nist["catalog"]);
    let (mut c1, mut ids1, mut p1) = (Counts::default(), Vec::new(), Vec::new());
    let (mut c2, mut ids2, mut p2) = (Counts::default(), Vec::new(), Vec::new());
    walk(ours, &mut c1, &mut ids1, &mut p1);
    walk(theirs, &mut c2, &mut ids2, &mut p2);
    assert_eq!(&c1, expected, "{level} counts");
    // Same controls in the same (catalog) order as NIST's resolver.
    assert_eq!(ids1, ids2, "{level} control ids");
    assert_eq!(
        (c1.groups, c1.top, c1.enhancements),
        (c2.groups, c2.top, c2.enhancements)
    );
    // NIST resolved against the newer catalog, whose parameters were renamed (ODP ids) and
    // carry the old id as `alt-identifier`: all of those must be in ours.
    let ours_params: HashSet<&String> = p1.iter().collect();
    let mut alt = 0;
    for p in nist_params(theirs) {
        if let Some(old) = p["props"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["name"] == "alt-identifier")
        {
            alt += 1;
            let old = old["value"].as_str().unwrap().to_string();
            assert!(
                ours_params.contains(&old),
                "{level}: parameter {old} missing"
            );
        }
    }
    assert!(alt > 100, "{level}: {alt} alt-identifiers");
    // The same back-matter resources, in the same order.
    assert_eq!(resources(ours), resources(theirs), "{level} back-matter");
    // Fresh metadata per the specification.
    let md = &ours["metadata"];
    assert_eq!(md["title"], profile.body()["metadata"]["title"]);
    assert_eq!(md["oscal-version"], "1.1.2");
    assert!(
        md["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "source-profile")
    );
    assert!(
        md["props"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "resolution-tool")
    );
}

fn nist_params(cat: &Value) -> Vec<&Value> {
    fn node<'a>(n: &'a Value, out: &mut Vec<&'a Value>) {
        out.extend(n["params"].as_array().into_iter().flatten());
        for key in ["controls", "groups"] {
            for c in n[key].as_array().into_iter().flatten() {
                node(c, out);
            }
        }
    }
    let mut out = Vec::new();
    node(cat, &mut out);
    out
}

#[test]
fn moderate_baseline() {
    check_baseline(
        "MODERATE",
        "NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json",
        &Counts {
            groups: 18,
            top: 177,
            enhancements: 110,
            params: 506,
        },
    );
}

#[test]
fn low_baseline() {
    check_baseline(
        "LOW",
        "NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog.json",
        &Counts {
            groups: 18,
            top: 131,
            enhancements: 18,
            params: 359,
        },
    );
}

#[test]
fn high_baseline() {
    check_baseline(
        "HIGH",
        "NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json",
        &Counts {
            groups: 18,
            top: 188,
            enhancements: 182,
            params: 607,
        },
    );
}

#[test]
fn privacy_baseline_brings_parent_controls_along() {
    check_baseline(
        "PRIVACY",
        "NIST_SP-800-53_rev5_PRIVACY-baseline-resolved-profile_catalog.json",
        &Counts {
            groups: 16,
            top: 81,
            enhancements: 21,
            params: 198,
        },
    );
}

#[test]
fn catalog_nodes_of_800_53() {
    let catalog: Value = serde_json::from_slice(&read(CATALOG)).unwrap();
    let nodes = catalog_nodes(&catalog);
    let groups = nodes.iter().filter(|n| n.kind == NodeKind::Group).count();
    let controls = nodes.iter().filter(|n| n.kind != NodeKind::Group).count();
    assert_eq!((groups, controls), (20, 1189));
    assert!(nodes.iter().enumerate().all(|(i, n)| n.order == i));
    let ac = &nodes[0];
    assert_eq!(
        (ac.ref_id.as_str(), ac.title.as_str()),
        ("AC", "Access Control")
    );
    let ac1 = nodes.iter().find(|n| n.id == "ac-1").unwrap();
    assert_eq!(ac1.ref_id, "AC-1");
    assert_eq!(ac1.parent_ref_id.as_deref(), Some("AC"));
    assert_eq!(ac1.kind, NodeKind::Control);
    // Parameters render as assignments/selections; items one per line with their labels.
    assert!(ac1.statement.starts_with("a. Develop, document, and disseminate to [Assignment: organization-defined personnel or roles]:"), "{}", ac1.statement);
    assert!(ac1.statement.contains("\n  1. [Selection (one or more): Organization-level; Mission/business process-level; System-level] access control policy that:"), "{}", ac1.statement);
    assert!(!ac1.statement.contains("{{"));
    assert!(
        ac1.guidance.starts_with("Access control policy"),
        "{}",
        ac1.guidance
    );
    assert!(!ac1.params.is_empty());
    let ac2_1 = nodes.iter().find(|n| n.id == "ac-2.1").unwrap();
    assert_eq!(ac2_1.ref_id, "AC-2(1)");
    assert_eq!(ac2_1.parent_ref_id.as_deref(), Some("AC-2"));
    assert_eq!(ac2_1.kind, NodeKind::Enhancement);
    let withdrawn = nodes.iter().filter(|n| n.withdrawn).count();
    assert!(withdrawn > 100, "{withdrawn}");
}

#[test]
fn profile_set_values_show_in_node_text() {
    // A resolved catalog with a value set by the profile renders the value, not the label.
    let catalog: Value = serde_json::from_slice(&read(CATALOG)).unwrap();
    let profile = serde_json::json!({"profile": {
        "uuid": "00000000-0000-4000-8000-000000000000",
        "metadata": {"title": "t", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.1.2"},
        "imports": [{"href": "x.json", "include-controls": [{"with-ids": ["ac-1"]}]}],
        "modify": {"set-parameters": [{"param-id": "ac-1_prm_1", "values": ["the CISO"]}]}}});
    let r = resolve_profile(&profile, "p.json", &OneCatalog(catalog)).unwrap();
    let nodes = catalog_nodes(&r.catalog);
    assert_eq!(nodes.len(), 1);
    assert!(
        nodes[0]
            .statement
            .starts_with("a. Develop, document, and disseminate to the CISO:"),
        "{}",
        nodes[0].statement
    );
}
