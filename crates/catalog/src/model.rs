//! The framework model: a framework is a tree of requirement nodes.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A body of requirements: ISO/IEC 27001:2022, NIST CSF 2.0, a customer's own list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Framework {
    /// Stable slug, shared by every installation: `iso27001-2022`, `nist-800-53r5`.
    pub id: String,
    pub name: String,
    pub version: String,
    pub publisher: String,
    /// Who owns the text and what we may do with it; shown next to the framework.
    pub licence_note: String,
}

impl Framework {
    /// Check the id is a usable slug: 1-64 characters of `a-z`, `0-9`, `.`, `-`, `_`,
    /// starting with a letter or digit.
    pub fn check_id(id: &str) -> Result<(), String> {
        if id.is_empty() || id.len() > 64 {
            return Err(format!(
                "framework id {id:?} must be 1 to 64 characters long"
            ));
        }
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._".contains(c);
        if !id.chars().all(ok_char) || !id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "framework id {id:?} may use only a-z, 0-9, '.', '-' and '_', and must start with a letter or digit"
            ));
        }
        Ok(())
    }
}

/// Turn any title or file name into a framework id slug (`"My Controls v2.csv"` -> `"my-controls-v2"`).
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 64 {
            break;
        }
    }
    let out = out.trim_matches(|c| c == '-' || c == '.').to_owned();
    if out.is_empty() {
        "framework".to_owned()
    } else {
        out
    }
}

/// What a node is within its framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A management-system clause or sub-clause (ISO 27001 4.1 - 10.2).
    Clause,
    /// A control (ISO Annex A control, 800-53 base control).
    Control,
    /// A control enhancement (800-53 `AC-2(1)`).
    Enhancement,
    /// A grouping with no requirement of its own (Annex A theme, 800-53 family, CSF function).
    Group,
    /// Any other assessable requirement (CSF subcategory, a row of a customer's list).
    Item,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Clause => "clause",
            NodeKind::Control => "control",
            NodeKind::Enhancement => "enhancement",
            NodeKind::Group => "group",
            NodeKind::Item => "item",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "clause" => NodeKind::Clause,
            "control" => NodeKind::Control,
            "enhancement" => NodeKind::Enhancement,
            "group" => NodeKind::Group,
            "item" | "requirement" => NodeKind::Item,
            _ => return None,
        })
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Practitioner guidance for a requirement (written for this project for ISO 27001 Annex A).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guidance {
    /// Why the control exists, in one or two sentences.
    pub purpose: String,
    /// Concrete steps organisations typically take.
    pub implementation: Vec<String>,
    /// What an auditor typically asks to see.
    pub evidence: Vec<String>,
}

/// One requirement in a framework tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementNode {
    /// Unique within the framework: `4.1`, `A.5.1`, `AC-2(1)`, `GV.OC-01`.
    pub ref_id: String,
    pub parent_ref_id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub kind: NodeKind,
    /// 0-based position among its siblings, in the source's order (not string order).
    pub order: u32,
    /// ISO 27001:2022 Annex A only: the bare control id the SoA is keyed by (`5.1` for `A.5.1`).
    pub control_id: Option<String>,
    pub guidance: Option<Guidance>,
    /// Further explanatory text from the source (OSCAL `guidance` part, CISO Assistant `annotation`).
    pub discussion: Option<String>,
    /// The source marks this requirement as withdrawn (kept so references to it still resolve).
    pub withdrawn: bool,
    /// The source's stable identity (a CISO Assistant URN). When set, it, not `ref_id`,
    /// identifies the node within its framework, and ref ids may repeat under different
    /// parents (`ref_id` stays the label people see).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urn: Option<String>,
    /// The parent's URN when the source identifies nodes by URN (`parent_ref_id` then holds
    /// the parent's label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_urn: Option<String>,
    /// Names and descriptions in other languages, as the source gives them
    /// (`{"fr": {"name": "...", "description": "..."}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translations: Option<serde_json::Value>,
}

impl RequirementNode {
    /// A node with only the required fields set.
    pub fn new(
        ref_id: impl Into<String>,
        parent: Option<&str>,
        title: impl Into<String>,
        kind: NodeKind,
    ) -> Self {
        Self {
            ref_id: ref_id.into(),
            parent_ref_id: parent.map(str::to_owned),
            title: title.into(),
            description: None,
            kind,
            order: 0,
            control_id: None,
            guidance: None,
            discussion: None,
            withdrawn: false,
            urn: None,
            parent_urn: None,
            translations: None,
        }
    }

    /// What identifies the node within its framework: its URN when the source has one,
    /// else its ref id.
    pub fn key(&self) -> &str {
        self.urn.as_deref().unwrap_or(&self.ref_id)
    }

    /// The parent's [`key`](Self::key).
    pub fn parent_key(&self) -> Option<&str> {
        if self.urn.is_some() {
            self.parent_urn.as_deref().or(self.parent_ref_id.as_deref())
        } else {
            self.parent_ref_id.as_deref()
        }
    }
}

/// Longest title made up from a description.
pub const MADE_UP_TITLE_CHARS: usize = 80;

/// A title for a node that has none: the description's first sentence, shortened to
/// [`MADE_UP_TITLE_CHARS`] at a word boundary (with "…"); `None` for a blank description.
pub fn title_from_description(description: &str) -> Option<String> {
    let text = description.trim();
    let first_line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    // The first sentence ends at ". ", "? " or "! " (not inside "e.g. x" abbreviations we
    // cannot tell apart; good enough for a label).
    let mut end = first_line.len();
    for (i, c) in first_line.char_indices() {
        if matches!(c, '.' | '?' | '!' | ';' | ':')
            && first_line[i + c.len_utf8()..].starts_with(' ')
            && i > 0
        {
            end = i;
            break;
        }
    }
    let sentence = first_line[..end].trim_end_matches(['.', ':', ';']).trim();
    if sentence.chars().count() <= MADE_UP_TITLE_CHARS {
        return Some(sentence.to_owned());
    }
    let cut: String = sentence.chars().take(MADE_UP_TITLE_CHARS - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(sp) if sp > MADE_UP_TITLE_CHARS / 2 => &cut[..sp],
        _ => cut.as_str(),
    };
    Some(format!("{}…", cut.trim_end_matches([',', ' ', ';', ':'])))
}

/// A problem with a list of nodes, found by [`FrameworkTree::new`]. `index` is the node's
/// position in the list given, so importers can name the line or path it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeProblem {
    EmptyRef {
        index: usize,
    },
    EmptyTitle {
        index: usize,
        ref_id: String,
    },
    DuplicateRef {
        index: usize,
        ref_id: String,
        first_index: usize,
    },
    /// Two nodes carry the same URN (the source's identity).
    DuplicateUrn {
        index: usize,
        urn: String,
        first_index: usize,
    },
    UnknownParent {
        index: usize,
        ref_id: String,
        parent: String,
    },
    /// The parent chain starting at this node comes back to it. `cycle` lists the ref ids in it.
    Cycle {
        index: usize,
        ref_id: String,
        cycle: Vec<String>,
    },
    TooMany {
        count: usize,
        limit: usize,
    },
}

impl TreeProblem {
    pub fn index(&self) -> Option<usize> {
        match self {
            TreeProblem::EmptyRef { index }
            | TreeProblem::EmptyTitle { index, .. }
            | TreeProblem::DuplicateRef { index, .. }
            | TreeProblem::DuplicateUrn { index, .. }
            | TreeProblem::UnknownParent { index, .. }
            | TreeProblem::Cycle { index, .. } => Some(*index),
            TreeProblem::TooMany { .. } => None,
        }
    }
}

impl fmt::Display for TreeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeProblem::EmptyRef { .. } => f.write_str("empty ref id"),
            TreeProblem::EmptyTitle { ref_id, .. } => {
                write!(f, "requirement {ref_id:?} has an empty title")
            }
            TreeProblem::DuplicateRef { ref_id, .. } => write!(f, "duplicate ref id {ref_id:?}"),
            TreeProblem::DuplicateUrn {
                urn, first_index, ..
            } => write!(
                f,
                "duplicate urn {urn:?} (also node {} of the list)",
                first_index + 1
            ),
            TreeProblem::UnknownParent { ref_id, parent, .. } => {
                write!(
                    f,
                    "requirement {ref_id:?} names parent {parent:?}, which is not in the file"
                )
            }
            TreeProblem::Cycle { ref_id, cycle, .. } => write!(
                f,
                "requirement {ref_id:?} is its own ancestor: parent cycle {} -> {ref_id}",
                cycle.join(" -> ")
            ),
            TreeProblem::TooMany { count, limit } => {
                write!(f, "{count} requirements, more than the limit of {limit}")
            }
        }
    }
}

/// Between the parts of a parent path: "3.3 › 3".
pub const PATH_SEPARATOR: &str = "›";

/// A validated framework: the nodes form a forest, ref ids are unique, and the list is in
/// depth-first pre-order (every parent before its children, siblings by `order`), so storage can
/// insert them front to back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkTree {
    pub framework: Framework,
    pub nodes: Vec<RequirementNode>,
}

impl FrameworkTree {
    /// Validate `nodes` and order them. Siblings are sorted by their `order` field (stable, so
    /// equal orders keep the list's order) and then renumbered 0, 1, 2...
    pub fn new(
        framework: Framework,
        nodes: Vec<RequirementNode>,
    ) -> Result<Self, Vec<TreeProblem>> {
        let problems = validate_nodes(&nodes);
        if !problems.is_empty() {
            return Err(problems);
        }
        let nodes = preorder(nodes);
        Ok(Self { framework, nodes })
    }

    /// The first node labelled `ref_id` (ref ids are unique unless the source identifies
    /// nodes by URN; see [`Self::nodes_by_ref`]).
    pub fn node(&self, ref_id: &str) -> Option<&RequirementNode> {
        self.nodes.iter().find(|n| n.ref_id == ref_id)
    }

    /// Every node labelled `ref_id`, in tree order.
    pub fn nodes_by_ref<'a>(
        &'a self,
        ref_id: &'a str,
    ) -> impl Iterator<Item = &'a RequirementNode> {
        self.nodes.iter().filter(move |n| n.ref_id == ref_id)
    }

    /// The node identified by `key` (its URN, or its ref id when it has none).
    pub fn node_by_key(&self, key: &str) -> Option<&RequirementNode> {
        self.nodes.iter().find(|n| n.key() == key)
    }

    /// Children of the node keyed `parent` (`None`: the roots), in order.
    pub fn children<'a>(
        &'a self,
        parent: Option<&'a str>,
    ) -> impl Iterator<Item = &'a RequirementNode> + 'a {
        self.nodes.iter().filter(move |n| n.parent_key() == parent)
    }

    /// Depth of each node (roots are 0), in the order of `nodes`.
    pub fn depths(&self) -> Vec<usize> {
        let mut depth_of: HashMap<&str, usize> = HashMap::with_capacity(self.nodes.len());
        let mut out = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            // Pre-order guarantees the parent was seen already.
            let d = n
                .parent_key()
                .and_then(|p| depth_of.get(p))
                .map_or(0, |d| d + 1);
            depth_of.insert(n.key(), d);
            out.push(d);
        }
        out
    }

    /// The label each node is shown with, in the order of `nodes`: its ref id, or, where
    /// the ref id repeats in the framework, the parent's label and the ref id ("3.3 › 3"),
    /// so that every node can be told apart in lists, exports and search.
    pub fn display_refs(&self) -> Vec<String> {
        let mut count: HashMap<&str, usize> = HashMap::with_capacity(self.nodes.len());
        for n in &self.nodes {
            *count.entry(n.ref_id.as_str()).or_default() += 1;
        }
        let mut label_of: HashMap<&str, String> = HashMap::with_capacity(self.nodes.len());
        let mut out = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            let label = if count.get(n.ref_id.as_str()).copied().unwrap_or(0) > 1 {
                match n.parent_key().and_then(|p| label_of.get(p)) {
                    Some(parent) => format!("{parent} {PATH_SEPARATOR} {}", n.ref_id),
                    None => n.ref_id.clone(),
                }
            } else {
                n.ref_id.clone()
            };
            label_of.insert(n.key(), label.clone());
            out.push(label);
        }
        out
    }

    /// Nodes whose ref id or title contains every word of `query` (case-insensitive).
    pub fn search<'a>(&'a self, query: &str) -> Vec<&'a RequirementNode> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        self.nodes
            .iter()
            .filter(|n| {
                let hay = format!(
                    "{} {} {}",
                    n.ref_id,
                    n.title,
                    n.description.as_deref().unwrap_or("")
                )
                .to_lowercase();
                words.iter().all(|w| hay.contains(w.as_str()))
            })
            .collect()
    }
}

/// Check a node list: empty ref ids and titles, duplicate identities (ref ids, or URNs for
/// nodes that have one: ref ids may then repeat), unknown parents, parent cycles. Returns
/// every problem found (at most [`crate::MAX_ISSUES`] of each kind is useful to show;
/// callers truncate).
pub fn validate_nodes(nodes: &[RequirementNode]) -> Vec<TreeProblem> {
    let mut problems = Vec::new();
    if nodes.len() > crate::MAX_ITEMS {
        problems.push(TreeProblem::TooMany {
            count: nodes.len(),
            limit: crate::MAX_ITEMS,
        });
        return problems;
    }
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
    for (index, n) in nodes.iter().enumerate() {
        if n.ref_id.trim().is_empty() {
            problems.push(TreeProblem::EmptyRef { index });
            continue;
        }
        if n.title.trim().is_empty() {
            problems.push(TreeProblem::EmptyTitle {
                index,
                ref_id: n.ref_id.clone(),
            });
        }
        if let Some(&first_index) = first.get(n.key()) {
            problems.push(match &n.urn {
                Some(urn) => TreeProblem::DuplicateUrn {
                    index,
                    urn: urn.clone(),
                    first_index,
                },
                None => TreeProblem::DuplicateRef {
                    index,
                    ref_id: n.ref_id.clone(),
                    first_index,
                },
            });
        } else {
            first.insert(n.key(), index);
        }
    }
    // Parent of each node by index; None for roots and for nodes already reported.
    let mut parent_of: Vec<Option<usize>> = vec![None; nodes.len()];
    for (index, n) in nodes.iter().enumerate() {
        let Some(p) = n.parent_key() else {
            continue;
        };
        match first.get(p) {
            Some(&pi) => parent_of[index] = Some(pi),
            None => problems.push(TreeProblem::UnknownParent {
                index,
                ref_id: n.ref_id.clone(),
                parent: p.to_owned(),
            }),
        }
    }
    // Cycle detection: 0 = unvisited, 1 = on the current chain, 2 = reaches a root.
    let mut state = vec![0u8; nodes.len()];
    for start in 0..nodes.len() {
        if state[start] != 0 {
            continue;
        }
        let mut chain = Vec::new();
        let mut cur = Some(start);
        while let Some(i) = cur {
            match state[i] {
                0 => {
                    state[i] = 1;
                    chain.push(i);
                    cur = parent_of[i];
                }
                1 => {
                    // `i` is on the chain: the part of the chain from `i` onwards is a cycle.
                    let pos = chain.iter().position(|&c| c == i).unwrap_or(0);
                    let members = &chain[pos..];
                    let cycle = members.iter().map(|&m| nodes[m].ref_id.clone()).collect();
                    problems.push(TreeProblem::Cycle {
                        index: i,
                        ref_id: nodes[i].ref_id.clone(),
                        cycle,
                    });
                    break;
                }
                _ => break,
            }
        }
        for i in chain {
            state[i] = 2;
        }
    }
    problems
}

/// Reorder a valid node list to depth-first pre-order and renumber sibling orders.
fn preorder(mut nodes: Vec<RequirementNode>) -> Vec<RequirementNode> {
    let index_of: HashMap<String, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.key().to_owned(), i))
        .collect();
    let mut roots = Vec::new();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        match n.parent_key().and_then(|p| index_of.get(p)) {
            Some(&p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    let by_order = |list: &mut Vec<usize>, nodes: &[RequirementNode]| {
        list.sort_by_key(|&i| nodes[i].order);
    };
    by_order(&mut roots, &nodes);
    for list in &mut children {
        by_order(list, &nodes);
    }
    for list in std::iter::once(&roots).chain(children.iter()) {
        for (pos, &i) in list.iter().enumerate() {
            nodes[i].order = pos as u32;
        }
    }
    let mut out_index = Vec::with_capacity(nodes.len());
    let mut stack: Vec<usize> = roots.into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        out_index.push(i);
        stack.extend(children[i].iter().rev());
    }
    let mut slots: Vec<Option<RequirementNode>> = nodes.into_iter().map(Some).collect();
    out_index
        .into_iter()
        .filter_map(|i| slots[i].take())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(r: &str, p: Option<&str>) -> RequirementNode {
        RequirementNode::new(r, p, format!("title {r}"), NodeKind::Item)
    }

    fn fw() -> Framework {
        Framework {
            id: "t".into(),
            name: "T".into(),
            version: "1".into(),
            publisher: String::new(),
            licence_note: String::new(),
        }
    }

    #[test]
    fn preorder_puts_parents_first_and_keeps_sibling_order() {
        let mut b = n("b", Some("a"));
        b.order = 1;
        let mut c = n("c", Some("a"));
        c.order = 0;
        let t = FrameworkTree::new(fw(), vec![b, n("d", Some("c")), c, n("a", None)]).unwrap();
        let ids: Vec<_> = t.nodes.iter().map(|n| n.ref_id.as_str()).collect();
        assert_eq!(ids, ["a", "c", "d", "b"]);
        assert_eq!(t.node("b").unwrap().order, 1);
        assert_eq!(t.depths(), [0, 1, 2, 1]);
        assert_eq!(t.children(Some("a")).count(), 2);
    }

    #[test]
    fn finds_duplicates_unknown_parents_empty_titles_and_cycles() {
        let mut empty = n("e", None);
        empty.title = "  ".into();
        let nodes = vec![
            n("a", None),
            n("a", None),
            n("x", Some("nope")),
            empty,
            n("c1", Some("c2")),
            n("c2", Some("c3")),
            n("c3", Some("c1")),
            n("self", Some("self")),
            n("", None),
        ];
        let p = validate_nodes(&nodes);
        assert!(p.contains(&TreeProblem::DuplicateRef {
            index: 1,
            ref_id: "a".into(),
            first_index: 0
        }));
        assert!(p.contains(&TreeProblem::UnknownParent {
            index: 2,
            ref_id: "x".into(),
            parent: "nope".into()
        }));
        assert!(p.contains(&TreeProblem::EmptyTitle {
            index: 3,
            ref_id: "e".into()
        }));
        assert!(p.contains(&TreeProblem::EmptyRef { index: 8 }));
        let cycles: Vec<_> = p
            .iter()
            .filter(|p| matches!(p, TreeProblem::Cycle { .. }))
            .collect();
        assert_eq!(cycles.len(), 2, "{p:?}");
        let text = cycles[0].to_string();
        assert!(
            text.contains("c1") && text.contains("c2") && text.contains("c3"),
            "{text}"
        );
        assert!(cycles[1].to_string().contains("\"self\""));
        assert_eq!(p.len(), 6);
    }

    #[test]
    fn slugs_and_ids() {
        assert_eq!(slugify("My Controls v2.csv"), "my-controls-v2.csv");
        assert_eq!(slugify("  ***  "), "framework");
        assert!(Framework::check_id("nist-800-53r5").is_ok());
        assert!(Framework::check_id("Bad Id").is_err());
        assert!(Framework::check_id("").is_err());
        assert!(Framework::check_id("-x").is_err());
    }

    #[test]
    fn search_matches_all_words() {
        let t = FrameworkTree::new(fw(), vec![n("a.1", None), n("b.2", None)]).unwrap();
        assert_eq!(t.search("TITLE b.2").len(), 1);
        assert_eq!(t.search("title").len(), 2);
        assert!(t.search("zzz").is_empty());
    }
}
