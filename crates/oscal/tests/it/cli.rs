//! The command functions the `isms` binary wires in.

use std::path::PathBuf;

use isms_oscal::cli::{ResolveArgs, ValidateArgs, run_resolve, run_validate};
use serde_json::Value;

use crate::data;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("isms-oscal-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const CATALOG: &str =
    "oscal/nist-sp800-53-rev5/legacy-catalog-oscal-1.0.0/NIST_SP-800-53_rev5_catalog.json";
const MODERATE: &str =
    "oscal/nist-sp800-53-rev5/profiles/NIST_SP-800-53_rev5_MODERATE-baseline_profile.json";

#[test]
fn validate_ok_and_invalid() {
    assert!(
        run_validate(&ValidateArgs {
            file: data(CATALOG)
        })
        .unwrap()
    );
    let bad = tmp("bad.json");
    std::fs::write(&bad, br#"{"catalog": {"uuid": "nope"}}"#).unwrap();
    assert!(!run_validate(&ValidateArgs { file: bad.clone() }).unwrap());
    std::fs::write(&bad, b"{ nope").unwrap();
    assert!(!run_validate(&ValidateArgs { file: bad }).unwrap());
    assert!(
        run_validate(&ValidateArgs {
            file: tmp("does-not-exist.json")
        })
        .is_err()
    );
}

#[test]
fn resolve_moderate_with_catalog_flag() {
    let out = tmp("moderate.json");
    run_resolve(&ResolveArgs {
        profile: data(MODERATE),
        catalogs: vec![data(CATALOG)],
        output: Some(out.clone()),
        no_validate: false,
        strict: true,
    })
    .unwrap();
    let doc = isms_oscal::parse_document(&std::fs::read(&out).unwrap(), "moderate.json")
        .expect("the written catalog validates");
    let nodes = isms_oscal::catalog_nodes(&doc.value);
    assert_eq!(
        nodes
            .iter()
            .filter(|n| n.kind != isms_oscal::NodeKind::Group)
            .count(),
        287
    );
    assert_eq!(
        doc.body()["metadata"]["links"][0]["href"],
        "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"
    );
}

#[test]
fn resolve_without_the_catalog_names_the_href() {
    let err = run_resolve(&ResolveArgs {
        profile: data(MODERATE),
        catalogs: vec![],
        output: Some(tmp("never.json")),
        no_validate: false,
        strict: false,
    })
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("#84cbf061-eb87-4ec1-8112-1f529232e907"),
        "{msg}"
    );
    assert!(msg.contains("--catalog"), "{msg}");
    assert!(!tmp("never.json").exists());
}

#[test]
fn url_imports_are_matched_to_catalogs_by_file_name() {
    let profile = tmp("url-profile.json");
    let body = serde_json::json!({"profile": {
        "uuid": "00000000-0000-4000-8000-000000000000",
        "metadata": {"title": "Remote import", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.1.2"},
        "imports": [{"href": "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json",
                     "include-controls": [{"with-ids": ["ac-1", "ac-2"]}]}],
        "merge": {"as-is": true}}});
    std::fs::write(&profile, serde_json::to_vec(&body).unwrap()).unwrap();
    let out = tmp("url-out.json");
    // Two catalogs given: the one with the href's file name is used.
    run_resolve(&ResolveArgs {
        profile: profile.clone(),
        catalogs: vec![
            data("nist-csf-2.0/NIST_CSF_v2.0_catalog.json"),
            data(CATALOG),
        ],
        output: Some(out.clone()),
        no_validate: false,
        strict: true,
    })
    .unwrap();
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        v["catalog"]["groups"][0]["controls"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Two catalogs, none with that name: an error naming the href.
    let err = run_resolve(&ResolveArgs {
        profile,
        catalogs: vec![
            data("nist-csf-2.0/NIST_CSF_v2.0_catalog.json"),
            data("oscal/examples/catalog/basic-catalog.json"),
        ],
        output: Some(out),
        no_validate: false,
        strict: false,
    })
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("https://raw.githubusercontent.com"),
        "{err:#}"
    );
}

#[test]
fn invalid_catalog_is_refused_with_its_path() {
    let cat = tmp("NIST_SP-800-53_rev5_catalog.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(data(CATALOG)).unwrap()).unwrap();
    v["catalog"]["groups"][1]["controls"][0]["id"] = Value::String("bad id".into());
    std::fs::write(&cat, serde_json::to_vec(&v).unwrap()).unwrap();
    let err = run_resolve(&ResolveArgs {
        profile: data(MODERATE),
        catalogs: vec![cat],
        output: None,
        no_validate: false,
        strict: false,
    })
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("/catalog/groups/1/controls/0/id"), "{msg}");
}

/// The shape of FedRAMP's rev5 baselines: the catalog named by an https rlink of a
/// back-matter resource, parameter constraints and guidelines, FedRAMP parts added at the end
/// of controls, parameters of the newer catalog edition that the legacy one lacks.
#[test]
fn fedramp_style_profile_against_the_given_catalog() {
    use isms_oscal::cli::FileLoader;
    let uuid = "6a3a2b9c-4f2e-4f3c-9d0e-2b1f5a7c8d90";
    let profile = serde_json::json!({"profile": {
        "uuid": "1c1e4c4d-9c7b-4e7e-8f6a-0d5b3a2c1b00",
        "metadata": {"title": "FedRAMP-style Moderate", "last-modified": "2024-01-01T00:00:00Z",
            "version": "fedramp-3.0", "oscal-version": "1.1.2",
            "props": [{"name": "resolution-tool", "value": "none", "ns": "https://fedramp.gov/ns/oscal"}]},
        "imports": [{"href": format!("#{uuid}"), "include-controls": [{"with-ids": ["ac-1", "ac-2", "ac-2.1", "au-2"]}]}],
        "merge": {"as-is": true},
        "modify": {
            "set-parameters": [
                {"param-id": "ac-1_prm_2", "constraints": [{"description": "at least every 3 years"}]},
                {"param-id": "au-2_prm_2", "guidelines": [{"prose": "Use the FedRAMP list."}],
                 "props": [{"name": "fedramp-note", "ns": "https://fedramp.gov/ns/oscal", "value": "x"}]},
                {"param-id": "ac-01_odp.05", "values": ["at least every 3 years"]}
            ],
            "alters": [{"control-id": "ac-2", "adds": [{"position": "ending", "parts": [
                {"id": "ac-2_fr", "name": "item", "title": "AC-2 Additional FedRAMP Requirements and Guidance",
                 "parts": [{"id": "ac-2_fr_smt.1", "name": "item",
                            "props": [{"name": "label", "value": "Requirement:"}],
                            "prose": "Review accounts {{ insert: param, ac-2_prm_1 }}."}]}]}]}]
        },
        "back-matter": {"resources": [{"uuid": uuid, "rlinks": [
            {"href": "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json",
             "media-type": "application/oscal.catalog+json"}]}]}
    }});
    assert!(isms_oscal::validate(&profile, isms_oscal::DocumentKind::Profile, "p").is_ok());
    let loader = FileLoader {
        catalogs: vec![data(CATALOG)],
        validate: true,
    };
    let r = isms_oscal::resolve_profile(&profile, "/nowhere/fedramp.json", &loader).unwrap();
    isms_oscal::validate(&r.catalog, isms_oscal::DocumentKind::Catalog, "out").expect("valid");
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("ac-01_odp.05"));
    let nodes = isms_oscal::catalog_nodes(&r.catalog);
    let ids: Vec<&str> = nodes.iter().map(|n| n.ref_id.as_str()).collect();
    assert_eq!(ids, ["AC", "AC-1", "AC-2", "AC-2(1)", "AU", "AU-2"]);
    let ac2 = nodes.iter().find(|n| n.ref_id == "AC-2").unwrap();
    let cat = &r.catalog["catalog"];
    let ac2_json = &cat["groups"][0]["controls"][1];
    assert_eq!(
        ac2_json["parts"].as_array().unwrap().last().unwrap()["id"],
        "ac-2_fr"
    );
    assert!(ac2.params.iter().any(|p| p.id == "ac-2_prm_1"));
    let ac1 = &cat["groups"][0]["controls"][0];
    let p2 = ac1["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "ac-1_prm_2")
        .unwrap();
    assert_eq!(
        p2["constraints"][0]["description"],
        "at least every 3 years"
    );
    // The import's resource is not referenced by the output, so it is not carried over.
    let bm = cat["back-matter"]["resources"].as_array().unwrap();
    assert!(bm.iter().all(|r| r["uuid"] != uuid));
}
