//! Importers and mappings against the real files in testdata/ (copied from the shared data with their sources and licences: testdata/SOURCES.md).

use std::collections::{BTreeSet, HashSet};

use isms_catalog::{
    ISO27001_2013, ISO27001_2022, MappingSet, NodeKind, Relationship, builtin_mappings,
    import_ciso_assistant, import_oscal_catalog, iso27001_2013, iso27001_2022, parse_mapping_csv,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");

fn read(rel: &str) -> Vec<u8> {
    let path = format!("{DATA}/{rel}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&read(rel)).unwrap()
}

const MAPPING_FILES: [(&str, usize); 7] = [
    ("nist-800-53r5-to-iso27001-2013.csv", 578),
    ("iso27001-2013-to-nist-800-53r5.csv", 602),
    ("nist-csf-1.1-to-nist-800-53r5.csv", 549),
    ("nist-privacy-framework-1.0-to-nist-800-53r5.csv", 562),
    ("nist-csf-2.0-to-nist-800-53r5.csv", 746),
    ("nist-csf-2.0-to-iso27001-2022.csv", 412),
    ("nist-csf-2.0-to-nist-csf-1.1.csv", 185),
];

#[test]
fn every_shared_mapping_file_parses_with_its_documented_row_count() {
    for (name, rows) in MAPPING_FILES {
        let m = parse_mapping_csv(name, &read(&format!("mappings/{name}"))).unwrap();
        assert_eq!(m.len(), rows, "{name}");
        assert!(
            m.iter().all(|m| m.relationship == Relationship::Related),
            "{name}"
        );
    }
}

#[test]
fn embedded_copies_match_the_shared_files() {
    for f in isms_catalog::BUILTIN_MAPPING_FILES {
        let shared =
            parse_mapping_csv(f.file_name, &read(&format!("mappings/{}", f.file_name))).unwrap();
        assert_eq!(f.mappings(), shared, "{}", f.file_name);
    }
    let shared_csv = read("iso27001-2022-annex-a.csv");
    let embedded = include_bytes!("../data/iso27001-2022-annex-a.csv");
    assert_eq!(shared_csv, embedded.to_vec());
}

#[test]
fn csf_pr_aa_01_maps_to_iso_controls_through_the_user_imported_csv() {
    let name = "nist-csf-2.0-to-iso27001-2022.csv";
    let set = MappingSet::new(parse_mapping_csv(name, &read(&format!("mappings/{name}"))).unwrap());
    let targets: BTreeSet<&str> = set
        .targets_of("nist-csf-2.0", "PR.AA-01", Some(ISO27001_2022))
        .iter()
        .map(|m| m.target_ref.as_str())
        .collect();
    assert_eq!(
        targets,
        BTreeSet::from(["A.5.15", "A.5.18", "A.8.2", "A.8.5"])
    );
    // Every target names a real 2022 node, except the two oddities the data README lists.
    let tree = iso27001_2022();
    let unknown: BTreeSet<&str> = set
        .all()
        .iter()
        .filter(|m| tree.node(&m.target_ref).is_none())
        .map(|m| m.target_ref.as_str())
        .collect();
    assert_eq!(unknown, BTreeSet::from(["6.11", "6.13"]));
    // Reverse: which CSF outcomes does 8.5 serve?
    let sources = set.sources_of(ISO27001_2022, "A.8.5", Some("nist-csf-2.0"));
    assert!(sources.iter().any(|m| m.source_ref == "PR.AA-01"));
}

#[test]
fn iso_2013_refs_in_nist_tables_resolve_in_the_2013_skeleton() {
    let tree = iso27001_2013();
    for name in [
        "nist-800-53r5-to-iso27001-2013.csv",
        "iso27001-2013-to-nist-800-53r5.csv",
    ] {
        for m in parse_mapping_csv(name, &read(&format!("mappings/{name}"))).unwrap() {
            let (fw, r) = if m.source_framework == ISO27001_2013 {
                (&m.source_framework, &m.source_ref)
            } else {
                (&m.target_framework, &m.target_ref)
            };
            assert_eq!(fw, ISO27001_2013);
            assert!(
                tree.node(r).is_some(),
                "{name}: {r} not in the 2013 skeleton"
            );
        }
    }
}

#[test]
fn ciso_assistant_csf_fixture_imports_134_nodes() {
    let name = "nist-csf-2.0-fixture.yaml";
    let lib = import_ciso_assistant(name, &read(&format!("ciso-assistant/{name}"))).unwrap();
    let t = lib.framework.expect("framework library");
    assert_eq!(t.framework.id, "nist-csf-2.0");
    assert_eq!(t.framework.publisher, "NIST");
    assert_eq!(t.nodes.len(), 134);
    assert_eq!(
        t.nodes.iter().filter(|n| n.kind == NodeKind::Item).count(),
        106
    );
    assert_eq!(t.children(None).count(), 6);
    let n = t.node("GV.OC-01").unwrap();
    assert_eq!(n.parent_ref_id.as_deref(), Some("GV.OC"));
    assert!(
        n.description
            .as_deref()
            .unwrap()
            .starts_with("The organizational mission")
    );
    assert!(lib.mappings.is_empty());
    // With the CSF -> ISO CSV imported, PR.AA-01 of this framework has ISO controls.
    assert!(t.node("PR.AA-01").is_some());
}

#[test]
fn ciso_assistant_fixture_corruptions_are_refused_with_a_place() {
    let text = String::from_utf8(read("ciso-assistant/nist-csf-2.0-fixture.yaml")).unwrap();
    let broken = text.replacen(
        "parent_urn: urn:isms-fixture:risk:req_node:nist-csf-2.0:gv.oc\n",
        "parent_urn: urn:isms-fixture:risk:req_node:nist-csf-2.0:nope\n",
        1,
    );
    let err = import_ciso_assistant("f.yaml", broken.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("f.yaml: objects.framework.requirement_nodes[2]: parent_urn"),
        "{err}"
    );
    let truncated = &text[..text.len() / 2];
    // Cut mid-document: either a syntax error with a line, or a valid prefix (YAML is forgiving);
    // never a panic.
    let _ = import_ciso_assistant("f.yaml", truncated.as_bytes());
    let tabbed = text.replacen(
        "    requirement_nodes:\n",
        "    requirement_nodes:\n\t- bad\n",
        1,
    );
    let err = import_ciso_assistant("f.yaml", tabbed.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("f.yaml: line "), "{err}");
}

#[test]
fn oscal_csf_catalog_converts_with_all_groups_and_controls() {
    let t = import_oscal_catalog(
        "csf.json",
        &json("nist-csf-2.0/NIST_CSF_v2.0_catalog.json"),
        Some("nist-csf-2.0"),
    )
    .unwrap();
    assert_eq!(
        t.nodes.iter().filter(|n| n.kind == NodeKind::Group).count(),
        6
    );
    // 34 categories (22 active, 12 withdrawn) and 185 subcategories (106 active, 79 withdrawn).
    assert_eq!(
        t.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Control)
            .count(),
        34
    );
    assert_eq!(
        t.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Enhancement)
            .count(),
        185
    );
    assert_eq!(t.node("GV").unwrap().title, "GOVERN");
    let s = t.node("GV.OC-01").unwrap();
    assert_eq!(s.parent_ref_id.as_deref(), Some("GV.OC"));
    assert!(
        s.description
            .as_deref()
            .unwrap()
            .starts_with("The organizational mission")
    );
}

#[test]
fn oscal_800_53_catalog_converts_1189_controls_in_order() {
    let doc = json(
        "oscal/nist-sp800-53-rev5/legacy-catalog-oscal-1.0.0/NIST_SP-800-53_rev5_catalog.json",
    );
    let t = import_oscal_catalog("800-53.json", &doc, None).unwrap();
    assert_eq!(t.framework.id, "nist-800-53r5", "recognised from the title");
    let count = |k| t.nodes.iter().filter(|n| n.kind == k).count();
    assert_eq!(count(NodeKind::Group), 20);
    assert_eq!(count(NodeKind::Control), 322);
    assert_eq!(count(NodeKind::Enhancement), 867);
    assert_eq!(t.nodes.iter().filter(|n| n.withdrawn).count(), 182);
    let ac2 = t.node("AC-2").unwrap();
    assert_eq!(ac2.title, "Account Management");
    assert!(
        ac2.description
            .as_deref()
            .unwrap()
            .contains("[Assignment: "),
        "parameters rendered"
    );
    assert!(ac2.discussion.is_some());
    assert_eq!(
        t.node("AC-2(1)").unwrap().parent_ref_id.as_deref(),
        Some("AC-2")
    );
    // Catalog order, not string order: AC-2 .. AC-9 before AC-10.
    let pos = |r: &str| t.nodes.iter().position(|n| n.ref_id == r).unwrap();
    assert!(pos("AC-9") < pos("AC-10"));

    // Every 800-53 id in the built-in mappings exists in this catalog, except the ones the
    // data README names as Rev 5.2.0 additions.
    let refs: HashSet<&str> = builtin_mappings()
        .all()
        .iter()
        .flat_map(|m| {
            [
                (&m.source_framework, &m.source_ref),
                (&m.target_framework, &m.target_ref),
            ]
        })
        .filter(|(f, _)| f.as_str() == "nist-800-53r5")
        .map(|(_, r)| r.as_str())
        .collect();
    let missing: BTreeSet<&str> = refs.into_iter().filter(|r| t.node(r).is_none()).collect();
    assert_eq!(
        missing,
        BTreeSet::from(["IA-13", "SA-15(13)", "SA-24", "SI-2(7)"])
    );
}

#[test]
fn derived_800_53_to_2022_mappings_are_marked_and_queryable() {
    let set = builtin_mappings();
    let ac2: BTreeSet<&str> = set
        .targets_of("nist-800-53r5", "AC-2", Some(ISO27001_2022))
        .iter()
        .map(|m| m.target_ref.as_str())
        .collect();
    assert!(ac2.contains("A.5.16") && ac2.contains("A.5.18"), "{ac2:?}");
    let tree = iso27001_2022();
    for m in set.all().iter().filter(|m| m.is_derived()) {
        assert!(
            tree.node(&m.target_ref).is_some(),
            "derived target {} is a 2022 node",
            m.target_ref
        );
        assert!(
            m.note
                .as_deref()
                .unwrap()
                .contains("not an official mapping")
        );
        assert_eq!(m.derived_path.as_ref().unwrap().len(), 3);
    }
}
