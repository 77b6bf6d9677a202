//! CISO Assistant library YAML: a framework library (`objects.framework.requirement_nodes`), its
//! optional `reference_controls`, and mapping libraries (`objects.requirement_mapping_sets`, or
//! the older single `requirement_mapping_set`).
//!
//! The layout follows CISO Assistant's published library format; no CISO Assistant file is
//! embedded or copied.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{ImportError, Issue, MAX_ISSUES, MAX_ITEMS, Place, input_text};
use crate::import_csv::tree_issues;
use crate::mapping::{Mapping, Relationship, framework_id};
use crate::model::{Framework, FrameworkTree, NodeKind, RequirementNode, slugify};

/// What a CISO Assistant library file held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CisoLibrary {
    pub urn: String,
    pub name: String,
    /// Present for framework libraries.
    pub framework: Option<FrameworkTree>,
    /// The library's `reference_controls` (CISO Assistant's generic measures), if any.
    pub reference_controls: Vec<ReferenceControl>,
    /// (requirement ref id, reference control URN) links from the requirement nodes.
    pub requirement_reference_controls: Vec<(String, String)>,
    /// Mappings from the library's mapping sets, with framework ids and ref ids resolved as
    /// described on [`import_ciso_assistant`].
    pub mappings: Vec<Mapping>,
    /// Mapping entries with relationship `not_related`: they state the absence of a link and
    /// are not imported.
    pub skipped_not_related: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceControl {
    pub urn: String,
    pub ref_id: Option<String>,
    pub name: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
}

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
}

#[derive(Deserialize)]
struct YFramework {
    #[serde(default, deserialize_with = "scalar")]
    urn: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    ref_id: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    name: Option<String>,
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
    description: Option<String>,
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

/// Import a CISO Assistant library (framework and/or mapping library).
///
/// Framework: the id comes from the framework URN's last segment (mapped to our ids for the
/// NIST and ISO frameworks we know), the name from `name`, the version from the library
/// `version`, the publisher from `provider`, the licence note from `copyright`. Each node
/// becomes a requirement with ref id `ref_id` (or its URN's last segment), title `name` (else
/// the ref id, else the description), kind `item` when assessable and `group` otherwise.
///
/// Mappings: requirement URNs of the framework in the same file resolve to its ref ids; other
/// URNs give a best-effort ref id (see `ref_from_requirement_urn`). Relationships `equal`,
/// `subset`, `superset`, `intersect` map to ours; `not_related` entries are counted, not kept.
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
    let mut urn_to_ref: HashMap<String, String> = HashMap::new();
    let mut framework_tree = None;
    let mut req_ref_controls = Vec::new();
    let mut own_framework: Option<(String, String)> = None; // (urn, id)

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
        let mut first_urn: HashMap<&str, usize> = HashMap::new();
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
                            format!("duplicate urn {u:?} (first at requirement_nodes[{f}])"),
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
            if let Some(p) = nonempty(n.parent_urn.as_ref()) {
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
                .or(nonempty(n.ref_id.as_ref()))
                .map(str::to_owned)
                .or_else(|| description.clone())
                .unwrap_or_default();
            let kind = if n.assessable.unwrap_or(false) {
                NodeKind::Item
            } else {
                NodeKind::Group
            };
            let mut node = RequirementNode::new(ref_id.clone(), parent.as_deref(), title, kind);
            node.description = description;
            node.discussion = nonempty(n.annotation.as_ref()).map(str::to_owned);
            node.order = i as u32;
            for rc in &n.reference_controls {
                req_ref_controls.push((ref_id.clone(), rc.clone()));
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
            Some(ReferenceControl {
                urn: urn.to_owned(),
                ref_id: nonempty(rc.ref_id.as_ref()).map(str::to_owned),
                name: nonempty(rc.name.as_ref()).map(str::to_owned),
                category: nonempty(rc.category.as_ref()).map(str::to_owned),
                description: nonempty(rc.description.as_ref()).map(str::to_owned),
            })
        })
        .collect();

    let mut mappings = Vec::new();
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
        let fw_id_of = |urn: &str| match &own_framework {
            Some((u, id)) if u == urn => id.clone(),
            _ => framework_id_from_urn(urn),
        };
        let (sf, tf) = (fw_id_of(src_fw_urn), fw_id_of(tgt_fw_urn));
        for (mi, m) in set.requirement_mappings.iter().enumerate() {
            let place = || Place::Path(format!("{set_path}.requirement_mappings[{mi}]"));
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
            if mappings.len() > MAX_ITEMS {
                return Err(ImportError::one(
                    file,
                    place(),
                    format!("more than {MAX_ITEMS} mappings"),
                ));
            }
        }
    }

    if framework_tree.is_none() && sets.is_empty() && issues.is_empty() {
        issues.push(Issue::new(
            Place::Path("objects".into()),
            "the library holds neither a framework nor requirement mapping sets",
        ));
    }
    if !issues.is_empty() {
        issues.truncate(MAX_ISSUES);
        return Err(ImportError::many(file, issues));
    }
    Ok(CisoLibrary {
        urn: lib_urn,
        name: lib.name.or(lib.ref_id).unwrap_or_default(),
        framework: framework_tree,
        reference_controls,
        requirement_reference_controls: req_ref_controls,
        mappings,
        skipped_not_related,
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
        assert_eq!(t.nodes[1].title, "1.10");
        assert_eq!(t.nodes[1].description.as_deref(), Some("Tenth item"));
        assert_eq!(t.nodes[1].kind, NodeKind::Item);
        assert_eq!(t.nodes[0].kind, NodeKind::Group);
        assert_eq!(lib.reference_controls.len(), 1);
        assert_eq!(
            lib.requirement_reference_controls,
            [("1.10".to_owned(), "urn:test:risk:function:mfa".to_owned())]
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
        let dup = SMALL.replace("ref_id: '1.2'", "ref_id: '1.10'");
        let msg = import(&dup).unwrap_err().to_string();
        assert!(msg.contains("requirement_nodes[2] (urn urn:test:risk:req_node:own-fw:1.2): duplicate ref id \"1.10\""), "{msg}");
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
        assert!(
            import(&dup_urn)
                .unwrap_err()
                .to_string()
                .contains("duplicate urn")
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
        assert!(msg.contains("neither a framework nor"), "{msg}");
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
