//! A flat, storage-ready view of an OSCAL catalog: one [`CatalogNode`] per group and control,
//! in document order, with the statement and guidance rendered to plain text.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::resolve::for_each_insert;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// An OSCAL group (e.g. the 800-53 family "Access Control", a CSF function).
    Group,
    /// A control directly under a group or the catalog.
    Control,
    /// A control inside a control (e.g. AC-2(1), a CSF subcategory).
    Enhancement,
}

/// A parameter of a control, ready to display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeParam {
    /// OSCAL parameter id, e.g. `ac-1_prm_1`.
    pub id: String,
    pub label: Option<String>,
    /// Set values (from the catalog or a profile's set-parameters).
    pub values: Vec<String>,
    /// Choices of a selection parameter (rendered).
    pub choices: Vec<String>,
    /// How the parameter reads in text: its values, `[Selection: ...]` or `[Assignment: label]`.
    pub text: String,
}

/// One group or control of a catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogNode {
    /// Display id: the `label` property when present and a single token (e.g. `AC-2(1)`),
    /// else the OSCAL id upper-cased (e.g. `AC-2.1`, `GV`); for a group without id,
    /// `GROUP-<n>`.
    pub ref_id: String,
    /// The OSCAL `id` (empty for a group without one).
    pub id: String,
    /// The `ref_id` of the enclosing group or control.
    pub parent_ref_id: Option<String>,
    pub title: String,
    pub kind: NodeKind,
    /// Position in document order, from 0.
    pub order: usize,
    /// Nesting depth (0 for top level).
    pub depth: usize,
    /// The `statement` part as plain text, parameters replaced by their values, choices or
    /// labels; sub-items one per line, prefixed by their labels (`a.`, `1.`).
    pub statement: String,
    /// The `guidance` part as plain text (for groups: an `overview` part, if any).
    pub guidance: String,
    /// Withdrawn controls (`status` property `withdrawn`).
    pub withdrawn: bool,
    pub params: Vec<NodeParam>,
}

/// Flatten a catalog into nodes, in document order.
///
/// Accepts the whole document (`{"catalog": {...}}`) or the catalog object itself.
pub fn catalog_nodes(catalog: &Value) -> Vec<CatalogNode> {
    let body = catalog.get("catalog").unwrap_or(catalog);
    let mut params: HashMap<String, &Value> = HashMap::new();
    collect_params(body, &mut params);
    let mut ctx = Ctx {
        params,
        out: Vec::new(),
        groups_without_id: 0,
    };
    for c in list(body, "controls") {
        ctx.control(c, None, 0);
    }
    for g in list(body, "groups") {
        ctx.group(g, None, 0);
    }
    ctx.out
}

struct Ctx<'a> {
    params: HashMap<String, &'a Value>,
    out: Vec<CatalogNode>,
    groups_without_id: usize,
}

impl<'a> Ctx<'a> {
    fn group(&mut self, g: &'a Value, parent: Option<&str>, depth: usize) {
        let id = str_of(g, "id").to_string();
        let ref_id = label_of(g).map_or_else(
            || {
                if id.is_empty() {
                    self.groups_without_id += 1;
                    format!("GROUP-{}", self.groups_without_id)
                } else {
                    id.to_uppercase()
                }
            },
            str::to_string,
        );
        let guidance = self.part_text(g, &["overview", "guidance"]);
        let statement = self.part_text(g, &["statement"]);
        let node = CatalogNode {
            ref_id: ref_id.clone(),
            id,
            parent_ref_id: parent.map(str::to_string),
            title: str_of(g, "title").to_string(),
            kind: NodeKind::Group,
            order: self.out.len(),
            depth,
            statement,
            guidance,
            withdrawn: is_withdrawn(g),
            params: self.node_params(g),
        };
        self.out.push(node);
        for c in list(g, "controls") {
            self.control(c, Some((&ref_id, false)), depth + 1);
        }
        for sub in list(g, "groups") {
            self.group(sub, Some(&ref_id), depth + 1);
        }
    }

    fn control(&mut self, c: &'a Value, parent: Option<(&str, bool)>, depth: usize) {
        let id = str_of(c, "id").to_string();
        let ref_id = label_of(c).map_or_else(|| id.to_uppercase(), str::to_string);
        let kind = if matches!(parent, Some((_, true))) {
            NodeKind::Enhancement
        } else {
            NodeKind::Control
        };
        let node = CatalogNode {
            ref_id: ref_id.clone(),
            id,
            parent_ref_id: parent.map(|p| p.0.to_string()),
            title: str_of(c, "title").to_string(),
            kind,
            order: self.out.len(),
            depth,
            statement: self.part_text(c, &["statement"]),
            guidance: self.part_text(c, &["guidance"]),
            withdrawn: is_withdrawn(c),
            params: self.node_params(c),
        };
        self.out.push(node);
        for child in list(c, "controls") {
            self.control(child, Some((&ref_id, true)), depth + 1);
        }
    }

    fn node_params(&self, n: &Value) -> Vec<NodeParam> {
        list(n, "params")
            .iter()
            .map(|p| NodeParam {
                id: str_of(p, "id").to_string(),
                label: p.get("label").and_then(Value::as_str).map(str::to_string),
                values: strings(p, "values"),
                choices: p
                    .get("select")
                    .map(|s| {
                        strings(s, "choice")
                            .iter()
                            .map(|c| self.render(c, 0))
                            .collect()
                    })
                    .unwrap_or_default(),
                text: self.param_text(p, 0),
            })
            .collect()
    }

    /// Plain text of the parts named `names` (the first name that exists).
    fn part_text(&self, n: &Value, names: &[&str]) -> String {
        for name in names {
            let parts: Vec<&Value> = list(n, "parts")
                .iter()
                .filter(|p| str_of(p, "name") == *name)
                .collect();
            if !parts.is_empty() {
                let mut out = String::new();
                for p in parts {
                    self.render_part(p, 0, &mut out);
                }
                return out.trim_end().to_string();
            }
        }
        String::new()
    }

    fn render_part(&self, p: &Value, indent: usize, out: &mut String) {
        let label = part_label(p);
        let prose = p
            .get("prose")
            .and_then(Value::as_str)
            .map(|s| self.render(s, 0));
        let title = p.get("title").and_then(Value::as_str);
        let mut line = String::new();
        if let Some(l) = label {
            line.push_str(l);
            line.push(' ');
        }
        if let Some(t) = title {
            line.push_str(t);
            if prose.is_some() {
                line.push_str(": ");
            }
        }
        if let Some(prose) = prose {
            line.push_str(prose.trim());
        }
        let line = line.trim_end();
        if !line.is_empty() {
            for _ in 0..indent {
                out.push_str("  ");
            }
            out.push_str(line);
            out.push('\n');
        }
        let child_indent = if line.is_empty() { indent } else { indent + 1 };
        for child in list(p, "parts") {
            // Assessment objectives and methods are not part of the statement text.
            if matches!(
                str_of(child, "name"),
                "objective" | "assessment" | "assessment-method"
            ) {
                continue;
            }
            self.render_part(child, child_indent, out);
        }
    }

    /// Replace `{{ insert: param, id }}` by the parameter's text.
    fn render(&self, s: &str, depth: usize) -> String {
        if !s.contains("{{") {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start..];
            let Some(end) = after.find("}}") else {
                out.push_str(after);
                return out;
            };
            let token = &after[..end + 2];
            let mut replaced = None;
            for_each_insert(token, |kind, id| {
                if kind == "param" {
                    replaced = Some(
                        self.params
                            .get(id)
                            .map_or_else(|| format!("[{id}]"), |p| self.param_text(p, depth + 1)),
                    );
                }
            });
            out.push_str(replaced.as_deref().unwrap_or(token));
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn param_text(&self, p: &Value, depth: usize) -> String {
        if depth > 8 {
            return format!("[{}]", str_of(p, "id"));
        }
        let values = strings(p, "values");
        if !values.is_empty() {
            return values.join(", ");
        }
        if let Some(select) = p.get("select") {
            let choices: Vec<String> = strings(select, "choice")
                .iter()
                .map(|c| self.render(c, depth + 1))
                .collect();
            let how = match select.get("how-many").and_then(Value::as_str) {
                Some("one-or-more") => "Selection (one or more)",
                _ => "Selection",
            };
            return format!("[{how}: {}]", choices.join("; "));
        }
        match p.get("label").and_then(Value::as_str) {
            Some(l) => format!("[Assignment: {}]", self.render(l, depth + 1)),
            None => format!("[{}]", str_of(p, "id")),
        }
    }
}

fn collect_params<'a>(n: &'a Value, out: &mut HashMap<String, &'a Value>) {
    for p in list(n, "params") {
        if let Some(id) = p.get("id").and_then(Value::as_str) {
            out.entry(id.to_string()).or_insert(p);
        }
    }
    for key in ["controls", "groups"] {
        for child in list(n, key) {
            collect_params(child, out);
        }
    }
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    list(v, key)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// The `label` property usable as an identifier: preferring one without a class (800-53
/// also carries `sp800-53a` / `zero-padded` labels such as `AC-01`), and only when it is a
/// single token (CSF labels its functions `GOVERN (GV)`; there the id `GV` is better).
fn label_of(v: &Value) -> Option<&str> {
    part_label(v).filter(|l| !l.is_empty() && !l.contains(char::is_whitespace))
}

/// The `label` property as written (sub-item markers such as `a.` or `1.`).
fn part_label(v: &Value) -> Option<&str> {
    let labels: Vec<&Value> = list(v, "props")
        .iter()
        .filter(|p| str_of(p, "name") == "label")
        .collect();
    labels
        .iter()
        .find(|p| p.get("class").is_none())
        .or(labels.first())
        .and_then(|p| p.get("value").and_then(Value::as_str))
}

fn is_withdrawn(v: &Value) -> bool {
    list(v, "props")
        .iter()
        .any(|p| str_of(p, "name") == "status" && str_of(p, "value") == "withdrawn")
}
