//! Convert an OSCAL catalog (already parsed, and validated against the schema by `isms-oscal`)
//! into a framework tree: groups become `group` nodes, controls `control` nodes and controls
//! nested in controls `enhancement` nodes, in document order.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{ImportError, Issue, MAX_ISSUES, MAX_ITEMS, Place};
use crate::import_csv::tree_issues;
use crate::model::{Framework, FrameworkTree, NodeKind, RequirementNode, slugify};

struct Walker<'a> {
    nodes: Vec<RequirementNode>,
    paths: Vec<String>,
    issues: Vec<Issue>,
    /// Parameter id -> how to show it in prose, for the controls being walked.
    params: HashMap<&'a str, String>,
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn prop<'a>(v: &'a Value, name: &str) -> impl Iterator<Item = &'a Value> + 'a {
    let name = name.to_owned();
    array(v, "props")
        .iter()
        .filter(move |p| p.get("name").and_then(Value::as_str) == Some(name.as_str()))
}

/// The ref id: the `label` prop when it looks like an identifier (no spaces; a label without a
/// `class` is preferred over e.g. `zero-padded` ones), else the `id` upper-cased.
/// CSF 2.0 labels such as "GOVERN (GV)" are prose, so CSF falls back to the id.
fn ref_id_of(v: &Value) -> Option<String> {
    let mut labels: Vec<&Value> = prop(v, "label").collect();
    labels.sort_by_key(|p| p.get("class").is_some());
    let label = labels
        .iter()
        .filter_map(|p| str_field(p, "value"))
        .find(|l| !l.chars().any(char::is_whitespace));
    label
        .map(str::to_owned)
        .or_else(|| str_field(v, "id").map(str::to_ascii_uppercase))
}

fn is_withdrawn(v: &Value) -> bool {
    prop(v, "status")
        .any(|p| str_field(p, "value").is_some_and(|s| s.eq_ignore_ascii_case("withdrawn")))
}

fn param_text(p: &Value) -> String {
    let values: Vec<&str> = array(p, "values")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if !values.is_empty() {
        return values.join(", ");
    }
    if let Some(sel) = p.get("select") {
        let choices: Vec<&str> = array(sel, "choice")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let how = if str_field(sel, "how-many") == Some("one-or-more") {
            " (one or more)"
        } else {
            ""
        };
        return format!("[Selection{how}: {}]", choices.join("; "));
    }
    match str_field(p, "label") {
        Some(l) => format!("[Assignment: {l}]"),
        None => format!("[{}]", str_field(p, "id").unwrap_or("parameter")),
    }
}

impl<'a> Walker<'a> {
    fn add_params(&mut self, v: &'a Value) {
        for p in array(v, "params") {
            if let Some(id) = p.get("id").and_then(Value::as_str) {
                self.params.insert(id, param_text(p));
            }
        }
    }

    /// Replace `{{ insert: param, id }}` with the parameter's text.
    fn render(&self, prose: &str) -> String {
        let mut out = String::with_capacity(prose.len());
        let mut rest = prose;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                return out;
            };
            let inner = after[..end].trim();
            let id = inner
                .strip_prefix("insert:")
                .map(str::trim)
                .and_then(|s| s.strip_prefix("param,"))
                .map(str::trim);
            match id {
                Some(id) => out.push_str(self.params.get(id).map_or(id, String::as_str)),
                None => out.push_str(&rest[start..start + 2 + end + 2]),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// Flatten a part and its sub-parts to text, one line per part, prefixed by its label.
    fn flatten(&self, part: &Value, depth: usize, out: &mut Vec<String>) {
        let label = prop(part, "label").find_map(|p| str_field(p, "value"));
        let prose = str_field(part, "prose").map(|p| self.render(p));
        let line = match (label, prose) {
            (Some(l), Some(p)) => Some(format!("{l} {p}")),
            (None, Some(p)) => Some(p),
            (Some(l), None) => Some(l.to_owned()),
            (None, None) => None,
        };
        if let Some(line) = line {
            out.push(format!("{}{line}", "  ".repeat(depth)));
        }
        for sub in array(part, "parts") {
            self.flatten(sub, depth + usize::from(label.is_some() || depth > 0), out);
        }
    }

    fn part_text(&self, v: &Value, name: &str) -> Option<String> {
        let mut lines = Vec::new();
        for part in array(v, "parts")
            .iter()
            .filter(|p| str_field(p, "name") == Some(name))
        {
            self.flatten(part, 0, &mut lines);
        }
        let text = lines.join("\n");
        (!text.trim().is_empty()).then_some(text)
    }

    fn push(
        &mut self,
        v: &'a Value,
        path: String,
        parent: Option<&str>,
        kind: NodeKind,
        order: usize,
    ) -> Option<String> {
        if self.nodes.len() >= MAX_ITEMS {
            if self.issues.is_empty() {
                self.issues.push(Issue::new(
                    Place::Path(path),
                    format!("more than {MAX_ITEMS} groups and controls"),
                ));
            }
            return None;
        }
        let Some(ref_id) = ref_id_of(v) else {
            self.issues
                .push(Issue::new(Place::Path(path), "neither an id nor a label"));
            return None;
        };
        let title = str_field(v, "title").unwrap_or("").to_owned();
        let mut node = RequirementNode::new(ref_id.clone(), parent, title, kind);
        node.description = self
            .part_text(v, "statement")
            .or_else(|| self.part_text(v, "overview"));
        node.discussion = self.part_text(v, "guidance");
        node.withdrawn = is_withdrawn(v);
        node.order = order as u32;
        self.nodes.push(node);
        self.paths.push(path);
        Some(ref_id)
    }

    fn control(
        &mut self,
        c: &'a Value,
        path: &str,
        parent: Option<&str>,
        kind: NodeKind,
        order: usize,
    ) {
        let saved = self.params.clone();
        self.add_params(c);
        let me = self.push(c, path.to_owned(), parent, kind, order);
        if let Some(me) = me {
            for (i, sub) in array(c, "controls").iter().enumerate() {
                self.control(
                    sub,
                    &format!("{path}.controls[{i}]"),
                    Some(&me),
                    NodeKind::Enhancement,
                    i,
                );
            }
        }
        self.params = saved;
    }

    fn group(&mut self, g: &'a Value, path: &str, parent: Option<&str>, order: usize) {
        let saved = self.params.clone();
        self.add_params(g);
        if let Some(me) = self.push(g, path.to_owned(), parent, NodeKind::Group, order) {
            self.children(g, path, Some(&me));
        }
        self.params = saved;
    }

    fn children(&mut self, v: &'a Value, path: &str, parent: Option<&str>) {
        let controls = array(v, "controls");
        for (i, c) in controls.iter().enumerate() {
            self.control(
                c,
                &format!("{path}.controls[{i}]"),
                parent,
                NodeKind::Control,
                i,
            );
        }
        for (i, g) in array(v, "groups").iter().enumerate() {
            self.group(
                g,
                &format!("{path}.groups[{i}]"),
                parent,
                controls.len() + i,
            );
        }
    }
}

fn publisher(metadata: &Value) -> String {
    let parties: HashMap<&str, &str> = array(metadata, "parties")
        .iter()
        .filter_map(|p| Some((p.get("uuid")?.as_str()?, str_field(p, "name")?)))
        .collect();
    for role in ["publisher", "creator", "author"] {
        for rp in array(metadata, "responsible-parties") {
            if str_field(rp, "role-id") != Some(role) {
                continue;
            }
            let name = array(rp, "party-uuids")
                .iter()
                .filter_map(Value::as_str)
                .find_map(|u| parties.get(u));
            if let Some(name) = name {
                return (*name).to_owned();
            }
        }
    }
    String::new()
}

/// The framework id for a catalog title: a known framework (`NIST Cybersecurity Framework 2.0`
/// -> `nist-csf-2.0`; the full SP 800-53 Rev 5 catalog -> `nist-800-53r5`, so the built-in
/// mappings apply to it), an 800-53 Rev 5 baseline (`nist-800-53r5-moderate`), else a slug.
pub fn framework_id_for_title(title: &str) -> String {
    let known = crate::mapping::framework_id(title).ok().filter(|id| {
        crate::mapping::known_frameworks()
            .iter()
            .any(|k| k.id == id.as_str())
    });
    if let Some(id) = known {
        return id;
    }
    let upper = title.to_ascii_uppercase();
    if upper.contains("800-53") && upper.contains("REVISION 5") {
        for level in ["LOW", "MODERATE", "HIGH", "PRIVACY"] {
            if upper.contains(&format!("{level} BASELINE"))
                || upper.contains(&format!("{level} IMPACT BASELINE"))
            {
                return format!("nist-800-53r5-{}", level.to_ascii_lowercase());
            }
        }
        if !upper.contains("BASELINE") {
            return "nist-800-53r5".to_owned();
        }
    }
    slugify(title)
}

/// Convert an OSCAL catalog document (`{"catalog": {...}}` or the catalog object itself).
/// `framework_id` overrides the id, which otherwise comes from [`framework_id_for_title`].
/// Ref ids come from each group's or control's `label` prop when it is identifier-like, else
/// from its `id` upper-cased (`ac-2.1` -> label `AC-2(1)`; CSF `GV.OC-01` -> `GV.OC-01`).
pub fn import_oscal_catalog(
    file: &str,
    doc: &Value,
    framework_id: Option<&str>,
) -> Result<FrameworkTree, ImportError> {
    let (catalog, root) = match doc.get("catalog") {
        Some(c) => (c, "catalog"),
        None if doc.get("metadata").is_some() => (doc, "$"),
        None => {
            return Err(ImportError::one(
                file,
                Place::Path("$".into()),
                "not an OSCAL catalog: no `catalog` object",
            ));
        }
    };
    if !catalog.is_object() {
        return Err(ImportError::one(
            file,
            Place::Path(root.into()),
            "`catalog` is not an object",
        ));
    }
    let metadata = catalog.get("metadata").unwrap_or(&Value::Null);
    let title = str_field(metadata, "title")
        .unwrap_or("OSCAL catalog")
        .to_owned();
    let id = framework_id.map_or_else(|| framework_id_for_title(&title), str::to_owned);
    Framework::check_id(&id).map_err(|e| ImportError::one(file, Place::File, e))?;
    let framework = Framework {
        id,
        name: title,
        version: str_field(metadata, "version").unwrap_or("").to_owned(),
        publisher: publisher(metadata),
        licence_note: String::new(),
    };
    let mut w = Walker {
        nodes: Vec::new(),
        paths: Vec::new(),
        issues: Vec::new(),
        params: HashMap::new(),
    };
    w.add_params(catalog);
    w.children(catalog, root, None);
    if !w.issues.is_empty() {
        w.issues.truncate(MAX_ISSUES);
        return Err(ImportError::many(file, w.issues));
    }
    if w.nodes.is_empty() {
        return Err(ImportError::one(
            file,
            Place::Path(root.into()),
            "the catalog has no groups or controls",
        ));
    }
    let paths = w.paths;
    FrameworkTree::new(framework, w.nodes).map_err(|problems| {
        ImportError::many(
            file,
            tree_issues(&problems, |i| Place::Path(paths[i].clone())),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({"catalog": {
            "uuid": "x",
            "metadata": {"title": "Tiny Catalog", "version": "1.2",
                "parties": [{"uuid": "p1", "type": "organization", "name": "Tiny Org"}],
                "responsible-parties": [{"role-id": "creator", "party-uuids": ["p1"]}]},
            "groups": [{
                "id": "ac", "title": "Access Control",
                "controls": [{
                    "id": "ac-1", "title": "Policy",
                    "params": [{"id": "ac-1_prm_1", "label": "organization-defined personnel"},
                               {"id": "ac-1_prm_2", "select": {"how-many": "one-or-more", "choice": ["daily", "weekly"]}}],
                    "props": [{"name": "label", "value": "AC-1"}, {"name": "label", "class": "zero-padded", "value": "AC-01"}],
                    "parts": [
                        {"id": "ac-1_smt", "name": "statement", "parts": [
                            {"id": "ac-1_smt.a", "name": "item", "props": [{"name": "label", "value": "a."}],
                             "prose": "Give the policy to {{ insert: param, ac-1_prm_1 }}, {{ insert: param, ac-1_prm_2 }};"},
                            {"id": "ac-1_smt.b", "name": "item", "props": [{"name": "label", "value": "b."}], "prose": "Review it."}]},
                        {"id": "ac-1_gdn", "name": "guidance", "prose": "Why it matters."}],
                    "controls": [{"id": "ac-1.1", "title": "Old", "props": [{"name": "label", "value": "AC-1(1)"}, {"name": "status", "value": "withdrawn"}]}]
                }, {"id": "ac-10", "title": "Tenth"}, {"id": "ac-2", "title": "Second"}]
            }]
        }})
    }

    #[test]
    fn converts_groups_controls_enhancements_in_order() {
        let t = import_oscal_catalog("c.json", &doc(), None).unwrap();
        assert_eq!(t.framework.id, "tiny-catalog");
        assert_eq!(t.framework.version, "1.2");
        assert_eq!(t.framework.publisher, "Tiny Org");
        let ids: Vec<(&str, NodeKind)> = t
            .nodes
            .iter()
            .map(|n| (n.ref_id.as_str(), n.kind))
            .collect();
        assert_eq!(
            ids,
            [
                ("AC", NodeKind::Group),
                ("AC-1", NodeKind::Control),
                ("AC-1(1)", NodeKind::Enhancement),
                ("AC-10", NodeKind::Control),
                ("AC-2", NodeKind::Control)
            ]
        );
        let ac1 = t.node("AC-1").unwrap();
        assert_eq!(
            ac1.description.as_deref(),
            Some(
                "a. Give the policy to [Assignment: organization-defined personnel], [Selection (one or more): daily; weekly];\nb. Review it."
            )
        );
        assert_eq!(ac1.discussion.as_deref(), Some("Why it matters."));
        assert!(t.node("AC-1(1)").unwrap().withdrawn);
        assert!(!ac1.withdrawn);
    }

    #[test]
    fn framework_ids_from_titles() {
        assert_eq!(
            framework_id_for_title("NIST Cybersecurity Framework 2.0"),
            "nist-csf-2.0"
        );
        assert_eq!(
            framework_id_for_title(
                "NIST Special Publication 800-53 Revision 5: Security and Privacy Controls for Federal Information Systems and Organizations"
            ),
            "nist-800-53r5"
        );
        assert_eq!(
            framework_id_for_title(
                "NIST Special Publication 800-53 Revision 5.1.1 MODERATE IMPACT BASELINE"
            ),
            "nist-800-53r5-moderate"
        );
        assert_eq!(
            framework_id_for_title(
                "NIST Special Publication 800-53 Revision 5.1.1 PRIVACY BASELINE"
            ),
            "nist-800-53r5-privacy"
        );
        assert_eq!(
            framework_id_for_title("Acme Cloud Controls"),
            "acme-cloud-controls"
        );
    }

    #[test]
    fn refuses_non_catalogs_and_bad_trees() {
        let msg = import_oscal_catalog("p.json", &json!({"profile": {}}), None)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("p.json: $: not an OSCAL catalog"), "{msg}");
        let mut d = doc();
        d["catalog"]["groups"][0]["controls"][2]["id"] = json!("ac-10");
        let msg = import_oscal_catalog("c.json", &d, None)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("c.json: catalog.groups[0].controls[2]: duplicate ref id \"AC-10\""),
            "{msg}"
        );
        let mut d = doc();
        d["catalog"]["groups"][0]["controls"][1] = json!({"title": "no id"});
        let msg = import_oscal_catalog("c.json", &d, None)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("catalog.groups[0].controls[1]: neither an id nor a label"),
            "{msg}"
        );
        let msg = import_oscal_catalog(
            "c.json",
            &json!({"catalog": {"metadata": {"title": "E"}}}),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("no groups or controls"), "{msg}");
        assert!(import_oscal_catalog("c.json", &doc(), Some("Bad Id")).is_err());
    }
}
