//! Bad input: every refusal names the file and the place.

use isms_oscal::{
    DocumentKind, MAX_DOCUMENT_BYTES, OscalError, parse_document, parse_json, validate_value,
};
use serde_json::{Value, json};

use crate::read;

#[test]
fn malformed_json_names_file_line_and_column() {
    let err =
        parse_document(b"{\n  \"catalog\": {\n    \"uuid\": 12,,\n", "broken.json").unwrap_err();
    match &err {
        OscalError::Syntax {
            file,
            line,
            column,
            format,
            ..
        } => {
            assert_eq!((file.as_str(), *line, *format), ("broken.json", 3, "JSON"));
            assert!(*column > 0);
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().starts_with("broken.json:3:"), "{err}");
}

#[test]
fn malformed_xml_names_file_and_line() {
    let err = parse_document(b"<catalog>\n <metadata>\n </catalog>", "broken.xml").unwrap_err();
    assert!(
        matches!(err, OscalError::Syntax { format: "XML", .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("broken.xml:"), "{err}");
}

#[test]
fn unknown_documents_are_refused() {
    for (doc, needle) in [
        ("[]", "not a JSON object"),
        ("{}", "empty"),
        (r#"{"catalogue": {}}"#, "unknown root key \"catalogue\""),
        (r#"{"catalog": {}, "profile": {}}"#, "exactly one"),
    ] {
        let err = parse_document(doc.as_bytes(), "x.json").unwrap_err();
        assert!(err.to_string().contains(needle), "{doc}: {err}");
    }
}

#[test]
fn schema_errors_name_the_json_path_and_rule_and_are_all_reported() {
    let mut doc: Value =
        serde_json::from_slice(&read("oscal/examples/catalog/basic-catalog.json")).unwrap();
    // Three independent violations.
    doc["catalog"]["groups"][0]["groups"][0]["controls"][0]["id"] = json!("not valid id!");
    doc["catalog"]["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("title");
    doc["catalog"]["groups"][0]["bogus"] = json!(1);
    let bytes = serde_json::to_vec(&doc).unwrap();
    let err = parse_document(&bytes, "bad-catalog.json").unwrap_err();
    let OscalError::Invalid {
        file,
        total,
        violations,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(file, "bad-catalog.json");
    assert_eq!(*total, 3, "{violations:?}");
    let find = |path: &str| {
        violations
            .iter()
            .find(|v| v.instance_path == path)
            .unwrap_or_else(|| panic!("{path} not in {violations:?}"))
    };
    assert_eq!(
        find("/catalog/groups/0/groups/0/controls/0/id").keyword,
        "pattern"
    );
    assert_eq!(find("/catalog/metadata").keyword, "required");
    assert_eq!(find("/catalog/groups/0").keyword, "additionalProperties");
    assert!(err.to_string().contains("3 schema error(s)"), "{err}");
}

#[test]
fn many_errors_are_capped() {
    let mut doc: Value = serde_json::from_slice(&read(
        "oscal/nist-sp800-53-rev5/legacy-catalog-oscal-1.0.0/NIST_SP-800-53_rev5_catalog.json",
    ))
    .unwrap();
    for g in doc["catalog"]["groups"].as_array_mut().unwrap() {
        for c in g["controls"].as_array_mut().unwrap() {
            c["id"] = json!("bad id");
        }
    }
    let (total, shown) = validate_value(&doc, DocumentKind::Catalog);
    assert!(total > 300, "{total}");
    assert_eq!(shown.len(), isms_oscal::MAX_REPORTED_ERRORS);
}

#[test]
fn a_profile_is_checked_against_the_profile_model() {
    let doc = json!({"profile": {"uuid": "00000000-0000-4000-8000-000000000000",
        "metadata": {"title": "t", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.1.2"},
        "imports": [{"href": "x.json", "include-controls": [{"with-child-controls": "maybe"}]}]}});
    let (total, v) = validate_value(&doc, DocumentKind::Profile);
    assert_eq!(total, 1, "{v:?}");
    assert_eq!(
        v[0].instance_path,
        "/profile/imports/0/include-controls/0/with-child-controls"
    );
    assert_eq!(v[0].keyword, "enum");
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let err = isms_oscal::document::check_size(MAX_DOCUMENT_BYTES + 1, "huge.json").unwrap_err();
    assert!(
        err.to_string().contains("huge.json: file is too large"),
        "{err}"
    );
    // A sparse 500 MB file: refused from its size, without reading it.
    let dir = std::env::temp_dir().join(format!("isms-oscal-huge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.json");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(500 * 1024 * 1024).unwrap();
    let err = isms_oscal::cli::read_limited(&path).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        matches!(err, OscalError::TooLarge { size, .. } if size == 500 * 1024 * 1024),
        "{err}"
    );
}

#[test]
fn every_shared_oscal_json_file_validates() {
    for rel in [
        "oscal/examples/catalog/basic-catalog.json",
        "oscal/examples/component-definition/example-component-definition.json",
        "oscal/examples/component-definition/example-component.json",
        "oscal/examples/ssp/ssp-example.json",
        "oscal/examples/ssp/ifa_ssp-example.json",
        "oscal/examples/ssp/oscal_leveraged-example_ssp.json",
        "oscal/examples/ssp/oscal_leveraging-example_ssp.json",
        "oscal/examples/ap/ifa_assessment-plan-example.json",
        "oscal/examples/ar/ifa_assessment-results-example.json",
        "oscal/examples/poam/ifa_plan-of-action-and-milestones.json",
        "oscal/nist-sp800-53-rev5/profiles/NIST_SP-800-53_rev5_LOW-baseline_profile.json",
        "oscal/nist-sp800-53-rev5/resolved-catalogs/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json",
        "nist-csf-2.0/NIST_CSF_v2.0_catalog.json",
    ] {
        if let Err(e) = parse_document(&read(rel), rel) {
            panic!("{e}");
        }
    }
}

#[test]
fn csf_xml_converts_to_the_same_json_as_nist_csf_json() {
    let from_xml = parse_document(&read("nist-csf-2.0/NIST_CSF_v2.0_catalog.xml"), "csf.xml")
        .expect("the converted XML validates");
    let json = parse_json(&read("nist-csf-2.0/NIST_CSF_v2.0_catalog.json"), "csf.json").unwrap();
    assert_eq!(from_xml.kind, DocumentKind::Catalog);
    let strip = |v: &Value| {
        let mut v = v.clone();
        v["catalog"]["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("last-modified");
        v
    };
    assert_eq!(strip(&from_xml.value), strip(&json));
    let nodes = isms_oscal::catalog_nodes(&from_xml.value);
    let gv = nodes
        .iter()
        .find(|n| n.ref_id == "GV")
        .expect("GV function");
    assert_eq!(
        (gv.kind, gv.title.as_str()),
        (isms_oscal::NodeKind::Group, "GOVERN")
    );
    let pr_aa_01 = nodes
        .iter()
        .find(|n| n.ref_id == "PR.AA-01")
        .expect("PR.AA-01");
    assert_eq!(pr_aa_01.parent_ref_id.as_deref(), Some("PR.AA"));
    assert!(
        pr_aa_01
            .statement
            .starts_with("Identities and credentials for authorized users"),
        "{}",
        pr_aa_01.statement
    );
}

#[test]
fn yaml_documents_are_read_and_validated() {
    let json: Value =
        parse_json(&read("oscal/examples/catalog/basic-catalog.json"), "c.json").unwrap();
    let yaml = serde_norway::to_string(&json).unwrap();
    let doc = parse_document(yaml.as_bytes(), "basic-catalog.yaml").expect("valid YAML catalog");
    assert_eq!(doc.value, json);
    let err = parse_document(b"catalog:\n  uuid: [unclosed\n", "bad.yaml").unwrap_err();
    assert!(
        matches!(err, OscalError::Syntax { format: "YAML", .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("bad.yaml:"), "{err}");
    // A YAML catalog whose version is a number is refused by the schema, with its path.
    let numeric = yaml.replace("version: '1.1'", "version: 1.1");
    assert!(numeric != yaml, "the fixture's version is the string '1.1'");
    match parse_document(numeric.as_bytes(), "v.yaml") {
        Err(OscalError::Invalid { violations, .. }) => {
            assert_eq!(violations[0].instance_path, "/catalog/metadata/version");
        }
        other => panic!("expected a schema error, got {other:?}"),
    }
}
