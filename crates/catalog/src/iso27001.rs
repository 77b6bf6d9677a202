//! ISO/IEC 27001:2022 built in: clauses 4-10 (titles and descriptions in our own words), the
//! 93 Annex A controls (ids, official short titles and themes from `data/iso27001-2022-annex-a.csv`)
//! with original practitioner guidance (`data/guidance/*.toml`), and the Annex A correspondence
//! to the 2013 edition.
//!
//! Ref ids: clauses keep their numbers (`4.1` .. `10.2`); Annex A controls are `A.5.1` .. `A.8.34`
//! because clause 5.1 (leadership) and control 5.1 (policies) would otherwise collide. The bare
//! id (`5.1`) is kept in [`RequirementNode::control_id`] and [`AnnexAControl::control_id`]; the
//! Statement of Applicability is keyed by it.
//!
//! ISO/IEC 27001:2013 is built in as a skeleton only (decision): its clauses, the 14 Annex A
//! domains and the 114 control ids, each control titled by its id and described by the 2022
//! controls that replace it. The 2013 control titles are not in our source data, and the
//! skeleton is enough for the NIST 800-53 <-> 2013 mappings to resolve and for migration views.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::model::{Framework, FrameworkTree, Guidance, NodeKind, RequirementNode};

pub const ISO27001_2022: &str = "iso27001-2022";
pub const ISO27001_2013: &str = "iso27001-2013";

const ANNEX_A_CSV: &str = include_str!("../data/iso27001-2022-annex-a.csv");
const GUIDANCE_FILES: [(&str, &str); 4] = [
    (
        "iso27001-2022-organizational.toml",
        include_str!("../data/guidance/iso27001-2022-organizational.toml"),
    ),
    (
        "iso27001-2022-people.toml",
        include_str!("../data/guidance/iso27001-2022-people.toml"),
    ),
    (
        "iso27001-2022-physical.toml",
        include_str!("../data/guidance/iso27001-2022-physical.toml"),
    ),
    (
        "iso27001-2022-technological.toml",
        include_str!("../data/guidance/iso27001-2022-technological.toml"),
    ),
];

/// The four Annex A themes (clauses 5 to 8 of Annex A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    Organizational,
    People,
    Physical,
    Technological,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Organizational => "Organizational",
            Theme::People => "People",
            Theme::Physical => "Physical",
            Theme::Technological => "Technological",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Organizational" => Theme::Organizational,
            "People" => Theme::People,
            "Physical" => Theme::Physical,
            "Technological" => Theme::Technological,
            _ => return None,
        })
    }
}

/// How a 2022 control relates to the 2013 edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeFrom2013 {
    /// No 2013 predecessor (11 controls).
    New,
    /// Several 2013 controls merged into this one (24 controls).
    Merged,
    /// One 2013 control, renumbered and possibly reworded (58 controls).
    RenumberedOrUpdated,
}

/// One ISO/IEC 27001:2022 Annex A control with our guidance: what the SoA is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnexAControl {
    /// `5.1` .. `8.34`: the SoA key.
    pub control_id: String,
    /// `A.5.1` .. `A.8.34`: the requirement node's ref id in the `iso27001-2022` framework.
    pub ref_id: String,
    /// Annex A clause number, 5 to 8.
    pub clause: u8,
    pub theme: Theme,
    /// Official short title.
    pub title: String,
    pub change_from_2013: ChangeFrom2013,
    /// ISO/IEC 27001:2013 Annex A ids this control replaces (`A.9.2.1`), empty for new controls.
    pub ids_2013: Vec<String>,
    pub guidance: Guidance,
}

/// Compare dotted numeric ids the way people read them: `5.9` < `5.10` < `6.1`, `A.5.2` < `A.5.10`.
/// Non-numeric segments compare as strings, after numeric ones.
pub fn compare_ref_ids(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(seg_a), Some(seg_b)) => {
                let ord = match (seg_a.parse::<u64>(), seg_b.parse::<u64>()) {
                    (Ok(num_a), Ok(num_b)) => num_a.cmp(&num_b),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => seg_a.cmp(seg_b),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuidanceFile {
    control: Vec<GuidanceEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuidanceEntry {
    id: String,
    purpose: String,
    implementation: Vec<String>,
    evidence: Vec<String>,
}

/// Parse the embedded guidance files. Errors name the file; the unit tests make sure the
/// embedded content parses, so the `expect` in [`annex_a_controls`] cannot fire in a release.
fn parse_guidance() -> Result<BTreeMap<String, Guidance>, String> {
    let mut out = BTreeMap::new();
    for (name, text) in GUIDANCE_FILES {
        let file: GuidanceFile = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        for e in file.control {
            let g = Guidance {
                purpose: e.purpose.trim().to_owned(),
                implementation: e.implementation,
                evidence: e.evidence,
            };
            if out.insert(e.id.clone(), g).is_some() {
                return Err(format!("{name}: guidance for control {} given twice", e.id));
            }
        }
    }
    Ok(out)
}

fn parse_annex_a(mut guidance: BTreeMap<String, Guidance>) -> Result<Vec<AnnexAControl>, String> {
    let mut rdr = csv::Reader::from_reader(ANNEX_A_CSV.as_bytes());
    let headers = rdr.headers().map_err(|e| e.to_string())?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("annex A CSV lacks column {name}"))
    };
    let (c_id, c_ref, c_clause, c_theme, c_title, c_status, c_2013) = (
        col("control_id")?,
        col("annex_a_ref")?,
        col("clause")?,
        col("theme")?,
        col("title")?,
        col("status_vs_2013")?,
        col("iso27001_2013_annex_a_ids")?,
    );
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let get = |i: usize| rec.get(i).unwrap_or("").trim().to_owned();
        let control_id = get(c_id);
        let change_from_2013 = match get(c_status).as_str() {
            "new" => ChangeFrom2013::New,
            "merged" => ChangeFrom2013::Merged,
            "renumbered-or-updated" => ChangeFrom2013::RenumberedOrUpdated,
            other => return Err(format!("control {control_id}: unknown status {other:?}")),
        };
        let guidance = guidance
            .remove(&control_id)
            .ok_or_else(|| format!("no guidance written for control {control_id}"))?;
        out.push(AnnexAControl {
            ref_id: get(c_ref),
            clause: get(c_clause)
                .parse()
                .map_err(|_| format!("control {control_id}: bad clause"))?,
            theme: Theme::parse(&get(c_theme))
                .ok_or_else(|| format!("control {control_id}: unknown theme"))?,
            title: get(c_title),
            change_from_2013,
            ids_2013: get(c_2013)
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            guidance,
            control_id,
        });
    }
    if let Some(extra) = guidance.keys().next() {
        return Err(format!("guidance given for unknown control {extra}"));
    }
    out.sort_by(|a, b| compare_ref_ids(&a.control_id, &b.control_id));
    Ok(out)
}

static ANNEX_A: LazyLock<Vec<AnnexAControl>> = LazyLock::new(|| {
    parse_guidance()
        .and_then(parse_annex_a)
        .expect("embedded Annex A data is valid (checked by unit tests)")
});

/// The 93 Annex A controls in numeric order (`5.1`, `5.2`, ..., `5.9`, `5.10`, ..., `8.34`).
pub fn annex_a_controls() -> &'static [AnnexAControl] {
    &ANNEX_A
}

/// Look up an Annex A control by `5.1` or `A.5.1`.
pub fn annex_a_control(id: &str) -> Option<&'static AnnexAControl> {
    let bare = id.strip_prefix("A.").unwrap_or(id);
    ANNEX_A.iter().find(|c| c.control_id == bare)
}

/// The 2022 controls that replace a 2013 Annex A control (`A.9.2.1` -> [5.16, 5.18]... as the
/// correspondence says). Most give one; `A.18.2.3` gives two (5.36 and 8.8).
pub fn controls_2022_for_2013(id_2013: &str) -> Vec<&'static AnnexAControl> {
    ANNEX_A
        .iter()
        .filter(|c| c.ids_2013.iter().any(|i| i == id_2013))
        .collect()
}

/// All 114 ISO/IEC 27001:2013 Annex A ids, in numeric order.
pub fn annex_a_2013_ids() -> Vec<&'static str> {
    let mut ids: Vec<&str> = ANNEX_A
        .iter()
        .flat_map(|c| c.ids_2013.iter().map(String::as_str))
        .collect();
    ids.sort_by(|a, b| compare_ref_ids(a, b));
    ids.dedup();
    ids
}

/// A clause of the management-system part: (ref id, title, description), in our own words.
type ClauseText = (&'static str, &'static str, &'static str);

const CLAUSES_2022: &[ClauseText] = &[
    (
        "4",
        "Context of the organisation",
        "Understand the organisation, the parties with a stake in its information security and the boundaries of the ISMS before building it.",
    ),
    (
        "4.1",
        "The organisation and its context",
        "Identify the internal and external issues (business, legal, technical, cultural) that affect what the ISMS has to achieve, and keep that picture current.",
    ),
    (
        "4.2",
        "Interested parties and their requirements",
        "List the parties that matter for information security, such as customers, regulators, staff and suppliers, what they require, and which of those requirements the ISMS will address.",
    ),
    (
        "4.3",
        "Scope of the ISMS",
        "Decide and document what the ISMS covers: locations, business units, systems, and the interfaces and dependencies with activities outside it.",
    ),
    (
        "4.4",
        "Running the ISMS",
        "Set up, operate, maintain and keep improving the ISMS, including the processes it needs and how they interact.",
    ),
    (
        "5",
        "Leadership",
        "Top management owns the ISMS and makes it part of how the organisation is run.",
    ),
    (
        "5.1",
        "Leadership and commitment",
        "Top management visibly drives the ISMS: it sets a policy and objectives that fit the strategy, provides resources, builds security into business processes and supports the people who make it work.",
    ),
    (
        "5.2",
        "Information security policy",
        "Top management issues a policy that fits the organisation's purpose, frames the objectives, commits to meeting requirements and to improving, and is communicated and available.",
    ),
    (
        "5.3",
        "Roles, responsibilities and authorities",
        "Assign and communicate who is responsible for what in the ISMS, including who makes sure it meets the standard and who reports on its performance to top management.",
    ),
    (
        "6",
        "Planning",
        "Plan how the ISMS will deal with risks and opportunities, what it aims to achieve and how it changes.",
    ),
    (
        "6.1",
        "Dealing with risks and opportunities",
        "Plan the ISMS around the risks and opportunities that matter, using a defined risk assessment and risk treatment process.",
    ),
    (
        "6.1.1",
        "Planning for risks and opportunities",
        "Using the context and the parties' needs, work out what could stop the ISMS achieving its outcomes or help it do better, plan actions for those, and plan how to check that the actions work.",
    ),
    (
        "6.1.2",
        "Risk assessment process",
        "Define and apply a repeatable way to assess information security risks: criteria for assessing and accepting risk, identifying risks to confidentiality, integrity and availability with their owners, and analysing and ranking them. Keep records of it.",
    ),
    (
        "6.1.3",
        "Risk treatment process",
        "Choose treatment options, determine the controls needed, check them against Annex A so nothing necessary is missed, write the Statement of Applicability, and have risk owners approve the treatment plan and accept the residual risk.",
    ),
    (
        "6.2",
        "Objectives and plans to achieve them",
        "Set measurable information security objectives consistent with the policy, and plan what will be done, by whom, with which resources, by when, and how results will be judged.",
    ),
    (
        "6.3",
        "Planning changes",
        "When the ISMS needs to change, make the change in a planned, controlled way rather than ad hoc.",
    ),
    (
        "7",
        "Support",
        "Give the ISMS the resources, competent and aware people, communication and documentation it needs.",
    ),
    (
        "7.1",
        "Resources",
        "Provide the people, budget, time and tools the ISMS needs to be set up, run and improved.",
    ),
    (
        "7.2",
        "Competence",
        "Decide what skills people whose work affects information security need, make sure they have them through education, training or experience, close gaps, and keep evidence.",
    ),
    (
        "7.3",
        "Awareness",
        "Everyone working for the organisation knows the security policy, how they contribute to the ISMS, and what happens if they do not follow its requirements.",
    ),
    (
        "7.4",
        "Communication",
        "Decide what to communicate about the ISMS, when, to whom and how, both inside and outside the organisation.",
    ),
    (
        "7.5",
        "Documented information",
        "Keep the documents and records the ISMS needs, and control how they are written, approved and managed.",
    ),
    (
        "7.5.1",
        "What to document",
        "Keep the documented information the standard asks for plus whatever the organisation itself decides is needed for an effective ISMS.",
    ),
    (
        "7.5.2",
        "Creating and updating documents",
        "Give documents an identification, a suitable format and medium, and review and approve them before use.",
    ),
    (
        "7.5.3",
        "Controlling documents",
        "Make documented information available where needed and protect it: distribution, access, storage, versions, retention and disposal, including documents from outside the organisation.",
    ),
    (
        "8",
        "Operation",
        "Run the processes the ISMS planned, including the risk assessments and the risk treatment.",
    ),
    (
        "8.1",
        "Operational planning and control",
        "Plan, run and control the processes needed to meet the requirements and the actions from planning; control changes and any externally provided processes, products or services that matter to the ISMS.",
    ),
    (
        "8.2",
        "Performing risk assessments",
        "Carry out risk assessments at planned intervals and whenever significant changes happen, and keep the results.",
    ),
    (
        "8.3",
        "Performing risk treatment",
        "Carry out the risk treatment plan and keep the results.",
    ),
    (
        "9",
        "Performance evaluation",
        "Find out whether the ISMS works, through measurement, internal audit and management review.",
    ),
    (
        "9.1",
        "Monitoring, measurement, analysis and evaluation",
        "Decide what to measure, how, when and by whom; analyse the results and judge how well information security performs and how effective the ISMS is. Keep the results.",
    ),
    (
        "9.2",
        "Internal audit",
        "Audit the ISMS at planned intervals to find out whether it meets its own requirements and the standard and is working in practice.",
    ),
    (
        "9.2.1",
        "Internal audit: general",
        "Audit at planned intervals whether the ISMS conforms to the organisation's own requirements and the standard, and whether it is effectively implemented and maintained.",
    ),
    (
        "9.2.2",
        "Internal audit programme",
        "Plan an audit programme with frequency, methods, responsibilities, criteria and scope; choose objective auditors, report results to the relevant managers and keep evidence.",
    ),
    (
        "9.3",
        "Management review",
        "Top management reviews the ISMS at planned intervals and decides what to change.",
    ),
    (
        "9.3.1",
        "Management review: general",
        "Top management reviews the ISMS at planned intervals to make sure it stays suitable, adequate and effective.",
    ),
    (
        "9.3.2",
        "Management review inputs",
        "The review considers earlier actions, changes in issues and parties' needs, performance results, nonconformities, audit findings, objectives, feedback, risk assessment and treatment status, and chances to improve.",
    ),
    (
        "9.3.3",
        "Management review results",
        "The review ends with decisions on improvements and any changes needed to the ISMS, and these are documented.",
    ),
    (
        "10",
        "Improvement",
        "Keep making the ISMS better and deal properly with anything that goes wrong.",
    ),
    (
        "10.1",
        "Continual improvement",
        "Keep improving how suitable, adequate and effective the ISMS is.",
    ),
    (
        "10.2",
        "Nonconformity and corrective action",
        "When something does not conform, contain and correct it, find the root cause, check whether it could happen elsewhere, take proportionate corrective action, check that it worked, and keep records.",
    ),
];

const ANNEX_A_ROOT: &str = "A";

fn clause_parent(ref_id: &str) -> Option<String> {
    ref_id.rfind('.').map(|i| ref_id[..i].to_owned())
}

fn iso_licence_note() -> String {
    "ISO/IEC 27001 is copyright ISO/IEC. Only control ids and short titles are reproduced; clause \
     titles, descriptions and all guidance are original text written for isms."
        .to_owned()
}

fn build_2022() -> FrameworkTree {
    let framework = Framework {
        id: ISO27001_2022.to_owned(),
        name: "ISO/IEC 27001:2022".to_owned(),
        version: "2022".to_owned(),
        publisher: "ISO/IEC".to_owned(),
        licence_note: iso_licence_note(),
    };
    let mut nodes = Vec::new();
    for (i, (r, title, desc)) in CLAUSES_2022.iter().enumerate() {
        let mut n = RequirementNode::new(*r, clause_parent(r).as_deref(), *title, NodeKind::Clause);
        n.description = Some((*desc).to_owned());
        n.order = i as u32;
        nodes.push(n);
    }
    let mut root = RequirementNode::new(
        ANNEX_A_ROOT,
        None,
        "Annex A: information security controls",
        NodeKind::Group,
    );
    root.description = Some(
        "The reference set of 93 controls that every Statement of Applicability is compared with."
            .to_owned(),
    );
    root.order = 100;
    nodes.push(root);
    for (i, theme) in [
        Theme::Organizational,
        Theme::People,
        Theme::Physical,
        Theme::Technological,
    ]
    .into_iter()
    .enumerate()
    {
        let mut g = RequirementNode::new(
            format!("A.{}", i + 5),
            Some(ANNEX_A_ROOT),
            format!("{} controls", theme.as_str()),
            NodeKind::Group,
        );
        g.order = i as u32;
        nodes.push(g);
    }
    for (i, c) in ANNEX_A.iter().enumerate() {
        let mut n = RequirementNode::new(
            c.ref_id.clone(),
            Some(&format!("A.{}", c.clause)),
            c.title.clone(),
            NodeKind::Control,
        );
        n.control_id = Some(c.control_id.clone());
        n.guidance = Some(c.guidance.clone());
        n.order = i as u32;
        nodes.push(n);
    }
    FrameworkTree::new(framework, nodes).expect("built-in ISO/IEC 27001:2022 tree is valid")
}

const DOMAINS_2013: &[(&str, &str)] = &[
    ("A.5", "Information security policies"),
    ("A.6", "Organization of information security"),
    ("A.7", "Human resource security"),
    ("A.8", "Asset management"),
    ("A.9", "Access control"),
    ("A.10", "Cryptography"),
    ("A.11", "Physical and environmental security"),
    ("A.12", "Operations security"),
    ("A.13", "Communications security"),
    ("A.14", "System acquisition, development and maintenance"),
    ("A.15", "Supplier relationships"),
    ("A.16", "Information security incident management"),
    (
        "A.17",
        "Information security aspects of business continuity management",
    ),
    ("A.18", "Compliance"),
];

fn build_2013() -> FrameworkTree {
    let framework = Framework {
        id: ISO27001_2013.to_owned(),
        name: "ISO/IEC 27001:2013".to_owned(),
        version: "2013".to_owned(),
        publisher: "ISO/IEC".to_owned(),
        licence_note: format!(
            "{} Skeleton for migration and for the NIST 800-53 mappings: Annex A controls are \
             listed by id only.",
            iso_licence_note()
        ),
    };
    let mut nodes = Vec::new();
    // The 2013 clause structure differs from 2022 only in: no 6.3, no sub-clauses under 9.2
    // and 9.3, and 10.1/10.2 swapped (2013: 10.1 nonconformity, 10.2 continual improvement).
    let mut order = 0u32;
    let text_of = |id: &str| CLAUSES_2022.iter().find(|c| c.0 == id).copied();
    for &(r, title, desc) in CLAUSES_2022 {
        let (title, desc) = match r {
            "6.3" | "9.2.1" | "9.2.2" | "9.3.1" | "9.3.2" | "9.3.3" => continue,
            "10.1" => text_of("10.2").map_or((title, desc), |c| (c.1, c.2)),
            "10.2" => text_of("10.1").map_or((title, desc), |c| (c.1, c.2)),
            _ => (title, desc),
        };
        let mut n = RequirementNode::new(r, clause_parent(r).as_deref(), title, NodeKind::Clause);
        n.description = Some(desc.to_owned());
        n.order = order;
        order += 1;
        nodes.push(n);
    }
    let mut root = RequirementNode::new(ANNEX_A_ROOT, None, "Annex A (2013)", NodeKind::Group);
    root.order = 100;
    nodes.push(root);
    for (i, (r, title)) in DOMAINS_2013.iter().enumerate() {
        let mut g = RequirementNode::new(*r, Some(ANNEX_A_ROOT), *title, NodeKind::Group);
        g.order = i as u32;
        nodes.push(g);
    }
    for (i, id) in annex_a_2013_ids().into_iter().enumerate() {
        let domain: String = id.split('.').take(2).collect::<Vec<_>>().join(".");
        let mut n = RequirementNode::new(id, Some(&domain), id, NodeKind::Control);
        let successors: Vec<String> = controls_2022_for_2013(id)
            .iter()
            .map(|c| format!("{} {}", c.control_id, c.title))
            .collect();
        n.description = Some(format!(
            "Replaced in ISO/IEC 27001:2022 by: {}.",
            successors.join("; ")
        ));
        n.order = i as u32;
        nodes.push(n);
    }
    FrameworkTree::new(framework, nodes).expect("built-in ISO/IEC 27001:2013 tree is valid")
}

static TREE_2022: LazyLock<FrameworkTree> = LazyLock::new(build_2022);
static TREE_2013: LazyLock<FrameworkTree> = LazyLock::new(build_2013);

/// ISO/IEC 27001:2022: clauses 4 to 10.2, then group `A` with `A.5`..`A.8` and the 93 controls.
pub fn iso27001_2022() -> &'static FrameworkTree {
    &TREE_2022
}

/// ISO/IEC 27001:2013 skeleton (see the module docs).
pub fn iso27001_2013() -> &'static FrameworkTree {
    &TREE_2013
}

/// Every framework built into the binary, for seeding storage.
pub fn builtin_frameworks() -> [&'static FrameworkTree; 2] {
    [iso27001_2022(), iso27001_2013()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_guidance_and_annex_a_parse() {
        let g = parse_guidance().unwrap();
        assert_eq!(g.len(), 93);
        let controls = parse_annex_a(g).unwrap();
        assert_eq!(controls.len(), 93);
    }

    #[test]
    fn every_control_has_full_guidance() {
        for c in annex_a_controls() {
            let g = &c.guidance;
            assert!(g.purpose.len() > 30, "{}: purpose too short", c.control_id);
            assert!(
                (3..=6).contains(&g.implementation.len()),
                "{}: {} implementation steps",
                c.control_id,
                g.implementation.len()
            );
            assert!(
                (3..=5).contains(&g.evidence.len()),
                "{}: {} evidence items",
                c.control_id,
                g.evidence.len()
            );
            for s in g.implementation.iter().chain(&g.evidence) {
                assert!(s.trim().len() > 10, "{}: thin entry {s:?}", c.control_id);
            }
        }
    }

    #[test]
    fn guidance_with_unknown_or_duplicate_id_is_refused() {
        let mut g = parse_guidance().unwrap();
        g.insert(
            "9.99".into(),
            Guidance {
                purpose: "x".into(),
                implementation: vec![],
                evidence: vec![],
            },
        );
        let err = parse_annex_a(g).unwrap_err();
        assert!(err.contains("9.99"), "{err}");
        let mut g = parse_guidance().unwrap();
        g.remove("8.34");
        assert!(parse_annex_a(g).unwrap_err().contains("8.34"));
    }

    #[test]
    fn numeric_order_and_counts() {
        let ids: Vec<&str> = annex_a_controls()
            .iter()
            .map(|c| c.control_id.as_str())
            .collect();
        assert_eq!(ids[0], "5.1");
        assert_eq!(ids[8], "5.9");
        assert_eq!(ids[9], "5.10");
        assert_eq!(ids[92], "8.34");
        let count = |t| annex_a_controls().iter().filter(|c| c.theme == t).count();
        assert_eq!(
            [
                count(Theme::Organizational),
                count(Theme::People),
                count(Theme::Physical),
                count(Theme::Technological)
            ],
            [37, 8, 14, 34]
        );
        let new = annex_a_controls()
            .iter()
            .filter(|c| c.change_from_2013 == ChangeFrom2013::New)
            .count();
        assert_eq!(new, 11);
        assert_eq!(compare_ref_ids("A.5.9", "A.5.10"), Ordering::Less);
        assert_eq!(compare_ref_ids("10.1", "9.3.3"), Ordering::Greater);
    }

    #[test]
    fn tree_2022_has_clauses_and_controls() {
        let t = iso27001_2022();
        assert_eq!(
            t.nodes
                .iter()
                .filter(|n| n.kind == NodeKind::Control)
                .count(),
            93
        );
        let clause_ids: Vec<&str> = t
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Clause)
            .map(|n| n.ref_id.as_str())
            .collect();
        for r in [
            "4.1", "6.1.1", "6.1.2", "6.1.3", "6.3", "9.2.1", "9.2.2", "9.3.1", "9.3.3", "10.2",
        ] {
            assert!(clause_ids.contains(&r), "missing clause {r}");
        }
        assert_eq!(t.node("5.1").unwrap().kind, NodeKind::Clause);
        let a51 = t.node("A.5.1").unwrap();
        assert_eq!(a51.control_id.as_deref(), Some("5.1"));
        assert_eq!(a51.parent_ref_id.as_deref(), Some("A.5"));
        assert_eq!(a51.title, "Policies for information security");
        assert!(a51.guidance.is_some());
        // Tree order: A.5.9 comes right before A.5.10.
        let pos = |r: &str| t.nodes.iter().position(|n| n.ref_id == r).unwrap();
        assert_eq!(pos("A.5.9") + 1, pos("A.5.10"));
        assert!(pos("10.2") < pos("A"));
        assert_eq!(t.children(Some("A")).count(), 4);
        assert_eq!(t.children(Some("A.6")).count(), 8);
    }

    #[test]
    fn correspondence_2013() {
        let ids = annex_a_2013_ids();
        assert_eq!(ids.len(), 114);
        let to: Vec<&str> = controls_2022_for_2013("A.18.2.3")
            .iter()
            .map(|c| c.control_id.as_str())
            .collect();
        assert_eq!(to, ["5.36", "8.8"]);
        assert_eq!(
            annex_a_control("A.8.5").unwrap().title,
            "Secure authentication"
        );
        let t = iso27001_2013();
        assert_eq!(
            t.nodes
                .iter()
                .filter(|n| n.kind == NodeKind::Control)
                .count(),
            114
        );
        assert_eq!(
            t.node("10.1").unwrap().title,
            "Nonconformity and corrective action"
        );
        assert!(t.node("6.3").is_none());
        assert!(
            t.node("A.9.2.1")
                .unwrap()
                .description
                .as_deref()
                .unwrap()
                .contains("5.16")
        );
    }
}
