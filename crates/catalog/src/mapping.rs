//! Mappings between requirements of two frameworks: parsing, the built-in NIST mappings, the
//! ISO/IEC 27001 2013 -> 2022 correspondence, derived (composed) mappings and queries.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::csvread::read_csv;
use crate::error::{ImportError, Issue, MAX_ISSUES, Place};
use crate::iso27001::{ISO27001_2013, ISO27001_2022, annex_a_controls, iso27001_2022};
use crate::model::Framework;

/// How the source requirement relates to the target requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    /// Same meaning.
    Equal,
    /// The source is contained in the target.
    SubsetOf,
    /// The source contains the target.
    SupersetOf,
    /// They overlap; neither contains the other.
    IntersectsWith,
    /// Some connection, not stated as a set relation (all NIST mappings we ship).
    Related,
}

impl Relationship {
    pub const ALL_NAMES: &'static str = "equal, subset_of, superset_of, intersects_with, related";

    /// Parse the names we write (`subset_of`) and the variants other tools use: CISO
    /// Assistant's `subset`, `superset`, `intersect`; `equivalent`; any case, `-` or space for `_`.
    pub fn parse(s: &str) -> Option<Self> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Some(match norm.as_str() {
            "equal" | "equals" | "equivalent" | "=" => Relationship::Equal,
            "subset_of" | "subset" | "is_subset_of" => Relationship::SubsetOf,
            "superset_of" | "superset" | "is_superset_of" => Relationship::SupersetOf,
            "intersects_with" | "intersect" | "intersects" | "intersection" => {
                Relationship::IntersectsWith
            }
            "related" | "related_to" => Relationship::Related,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Equal => "equal",
            Relationship::SubsetOf => "subset_of",
            Relationship::SupersetOf => "superset_of",
            Relationship::IntersectsWith => "intersects_with",
            Relationship::Related => "related",
        }
    }

    /// The relationship seen from the target's side.
    #[must_use]
    pub fn inverse(self) -> Self {
        match self {
            Relationship::SubsetOf => Relationship::SupersetOf,
            Relationship::SupersetOf => Relationship::SubsetOf,
            other => other,
        }
    }

    /// The relationship of a composed mapping `a -> b -> c` whose legs are `self` and `next`.
    ///
    /// Rule: a derived mapping never claims more than `intersects_with`. It is `related` when
    /// either leg is `related` (a loose link stays loose through a chain), and `intersects_with`
    /// otherwise. Set algebra would allow `equal`+`equal` = `equal` or `subset_of`+`subset_of`
    /// = `subset_of`, but the middle framework's requirement is usually broader or narrower
    /// than either end (controls merged or split between editions), and nobody reviewed the
    /// composed pair, so a stronger claim would overstate what we know.
    #[must_use]
    pub fn compose(self, next: Relationship) -> Relationship {
        if self == Relationship::Related || next == Relationship::Related {
            Relationship::Related
        } else {
            Relationship::IntersectsWith
        }
    }
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One link from a requirement of one framework to a requirement of another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub source_framework: String,
    pub source_ref: String,
    pub target_framework: String,
    pub target_ref: String,
    pub relationship: Relationship,
    pub note: Option<String>,
    /// `Some` for mappings isms composed itself: the chain of `framework:ref` it went through,
    /// e.g. `["nist-800-53r5:AC-2", "iso27001-2013:A.9.2.1", "iso27001-2022:A.5.16"]`.
    /// Derived mappings are never official.
    pub derived_path: Option<Vec<String>>,
}

impl Mapping {
    pub fn is_derived(&self) -> bool {
        self.derived_path.is_some()
    }

    /// The same link seen from the target's side.
    #[must_use]
    pub fn reversed(&self) -> Mapping {
        Mapping {
            source_framework: self.target_framework.clone(),
            source_ref: self.target_ref.clone(),
            target_framework: self.source_framework.clone(),
            target_ref: self.source_ref.clone(),
            relationship: self.relationship.inverse(),
            note: self.note.clone(),
            derived_path: self
                .derived_path
                .as_ref()
                .map(|p| p.iter().rev().cloned().collect()),
        }
    }
}

/// A framework we know by id even when it is not stored: names used in the NIST mapping files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KnownFramework {
    pub id: &'static str,
    pub name: &'static str,
    /// Other spellings met in mapping files and CISO Assistant URNs.
    pub aliases: &'static [&'static str],
}

const KNOWN: &[KnownFramework] = &[
    KnownFramework {
        id: ISO27001_2022,
        name: "ISO/IEC 27001:2022",
        aliases: &["ISO 27001:2022", "iso27001-2022"],
    },
    KnownFramework {
        id: ISO27001_2013,
        name: "ISO/IEC 27001:2013",
        aliases: &["ISO 27001:2013", "iso27001-2013"],
    },
    KnownFramework {
        id: "nist-800-53r5",
        name: "NIST SP 800-53 Rev 5",
        aliases: &[
            "NIST SP 800-53 Rev. 5",
            "nist-sp-800-53-rev5",
            "nist-800-53-rev5",
        ],
    },
    KnownFramework {
        id: "nist-csf-2.0",
        name: "NIST CSF 2.0",
        aliases: &["NIST Cybersecurity Framework 2.0", "nist-csf-2"],
    },
    KnownFramework {
        id: "nist-csf-1.1",
        name: "NIST CSF 1.1",
        aliases: &["NIST Cybersecurity Framework 1.1", "nist-csf-1"],
    },
    KnownFramework {
        id: "nist-privacy-1.0",
        name: "NIST Privacy Framework 1.0",
        aliases: &["nist-privacy-framework-1.0", "nist-pf-1.0"],
    },
];

/// Frameworks referred to by the built-in mappings, with their display names.
pub fn known_frameworks() -> &'static [KnownFramework] {
    KNOWN
}

/// Resolve a framework name as written in a mapping file to our id: a known display name or
/// alias (case-insensitive), else the text itself when it is already a valid framework id.
pub fn framework_id(name: &str) -> Result<String, String> {
    let name = name.trim();
    for k in KNOWN {
        if k.id.eq_ignore_ascii_case(name)
            || k.name.eq_ignore_ascii_case(name)
            || k.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        {
            return Ok(k.id.to_owned());
        }
    }
    Framework::check_id(name).map(|()| name.to_owned()).map_err(|_| {
        format!(
            "unknown framework {name:?}: use a framework id (lower-case slug such as nist-csf-2.0) or one of: {}",
            KNOWN.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
        )
    })
}

const MAPPING_COLUMNS: [&str; 5] = [
    "source_framework",
    "source_ref",
    "target_framework",
    "target_ref",
    "relationship",
];

/// Parse the mapping CSV format
/// `source_framework,source_ref,target_framework,target_ref,relationship,note`
/// (columns found by header name, `note` optional, extra columns ignored, BOM tolerated).
/// Errors name the file and line; the whole file is refused when any row is bad.
pub fn parse_mapping_csv(file: &str, data: &[u8]) -> Result<Vec<Mapping>, ImportError> {
    let table = read_csv(file, data, &MAPPING_COLUMNS)?;
    let col = |n| {
        table
            .column(n)
            .expect("required column checked by read_csv")
    };
    let (c_sf, c_sr, c_tf, c_tr, c_rel) = (
        col("source_framework"),
        col("source_ref"),
        col("target_framework"),
        col("target_ref"),
        col("relationship"),
    );
    let c_note = table.column("note");
    let mut out = Vec::with_capacity(table.rows.len());
    let mut issues = Vec::new();
    let mut seen: HashMap<(String, String, String, String), u64> = HashMap::new();
    for (line, row) in &table.rows {
        let place = || Place::Line(*line);
        let field = |i: usize| row.get(i).map_or("", String::as_str);
        let mut bad = |msg: String| issues.push(Issue::new(place(), msg));
        let sf = framework_id(field(c_sf)).map_err(|e| format!("source_framework: {e}"));
        let tf = framework_id(field(c_tf)).map_err(|e| format!("target_framework: {e}"));
        let rel = Relationship::parse(field(c_rel)).ok_or_else(|| {
            format!(
                "relationship {:?} is not one of {}",
                field(c_rel),
                Relationship::ALL_NAMES
            )
        });
        let (sr, tr) = (field(c_sr), field(c_tr));
        if sr.is_empty() {
            bad("source_ref is empty".into());
        }
        if tr.is_empty() {
            bad("target_ref is empty".into());
        }
        let (sf, tf, rel) = match (sf, tf, rel) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (a, b, c) => {
                for e in [a.err(), b.err(), c.err()].into_iter().flatten() {
                    bad(e);
                }
                continue;
            }
        };
        if sr.is_empty() || tr.is_empty() {
            continue;
        }
        let key = (sf.clone(), sr.to_owned(), tf.clone(), tr.to_owned());
        if let Some(first) = seen.get(&key) {
            bad(format!(
                "duplicate mapping {sf}:{sr} -> {tf}:{tr} (first on line {first})"
            ));
            continue;
        }
        seen.insert(key, *line);
        let note = c_note
            .map(field)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        out.push(Mapping {
            source_framework: sf,
            source_ref: sr.to_owned(),
            target_framework: tf,
            target_ref: tr.to_owned(),
            relationship: rel,
            note,
            derived_path: None,
        });
        if issues.len() >= MAX_ISSUES {
            break;
        }
    }
    issues.truncate(MAX_ISSUES);
    if !issues.is_empty() {
        return Err(ImportError::many(file, issues));
    }
    if out.is_empty() {
        return Err(ImportError::one(
            file,
            Place::File,
            "the file has a header but no mapping rows",
        ));
    }
    Ok(out)
}

/// A mapping file embedded in the binary.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinMappingFile {
    pub file_name: &'static str,
    pub source_framework: &'static str,
    pub target_framework: &'static str,
    /// Where it comes from, for display.
    pub provenance: &'static str,
    csv: &'static str,
}

impl BuiltinMappingFile {
    pub fn mappings(&self) -> Vec<Mapping> {
        parse_mapping_csv(self.file_name, self.csv.as_bytes())
            .expect("embedded mapping CSV is valid (checked by unit tests)")
    }
}

macro_rules! builtin {
    ($file:literal, $src:literal, $tgt:literal, $prov:literal) => {
        BuiltinMappingFile {
            file_name: $file,
            source_framework: $src,
            target_framework: $tgt,
            provenance: $prov,
            csv: include_str!(concat!("../data/mappings/", $file)),
        }
    };
}

/// The public-domain NIST mappings built in. The CSF 2.0 -> ISO/IEC 27001:2022 pairs are
/// deliberately absent: their authorship is uncertain, so they are only ever user imports.
pub const BUILTIN_MAPPING_FILES: &[BuiltinMappingFile] = &[
    builtin!(
        "nist-800-53r5-to-iso27001-2013.csv",
        "nist-800-53r5",
        "iso27001-2013",
        "NIST, SP 800-53 Rev 5 control mappings to ISO/IEC 27001 (Table 1); public domain"
    ),
    builtin!(
        "iso27001-2013-to-nist-800-53r5.csv",
        "iso27001-2013",
        "nist-800-53r5",
        "NIST, SP 800-53 Rev 5 control mappings to ISO/IEC 27001 (Table 2); public domain"
    ),
    builtin!(
        "nist-csf-2.0-to-nist-800-53r5.csv",
        "nist-csf-2.0",
        "nist-800-53r5",
        "NIST OLIR 186, CSF 2.0 to SP 800-53 Rev 5.2.0 concept crosswalk (draft); public domain"
    ),
    builtin!(
        "nist-csf-2.0-to-nist-csf-1.1.csv",
        "nist-csf-2.0",
        "nist-csf-1.1",
        "NIST CSF 2.0 Reference Tool, CSF v1.1 references; public domain"
    ),
    builtin!(
        "nist-csf-1.1-to-nist-800-53r5.csv",
        "nist-csf-1.1",
        "nist-800-53r5",
        "NIST, CSF to SP 800-53 Rev 5 mapping; public domain"
    ),
    builtin!(
        "nist-privacy-framework-1.0-to-nist-800-53r5.csv",
        "nist-privacy-1.0",
        "nist-800-53r5",
        "NIST, Privacy Framework to SP 800-53 Rev 5 mapping; public domain"
    ),
];

/// The 2013 clause that carries over to a 2022 clause: the same number, except that 10.1 and
/// 10.2 swapped places in 2022. `None` for refs that are not 2013 clauses.
pub fn clause_2013_to_2022(ref_2013: &str) -> Option<&'static str> {
    let tree = iso27001_2022();
    let target = match ref_2013 {
        "10.1" => "10.2",
        "10.2" => "10.1",
        other => other,
    };
    if ref_2013.starts_with("A.") {
        return None;
    }
    tree.nodes
        .iter()
        .find(|n| n.ref_id == target && n.control_id.is_none())
        .map(|n| n.ref_id.as_str())
}

/// The ISO/IEC 27001:2013 -> 2022 correspondence as mappings (`iso27001-2013:A.9.2.1` ->
/// `iso27001-2022:A.5.16`), plus the clauses. Relationship `related`: controls were merged,
/// split and reworded between editions, so no set relation is claimed.
pub fn correspondence_2013_to_2022() -> Vec<Mapping> {
    let mut out = Vec::new();
    for c in annex_a_controls() {
        for id in &c.ids_2013 {
            let note = match c.ids_2013.len() {
                1 => "edition correspondence: renumbered or updated".to_owned(),
                n => {
                    format!("edition correspondence: one of {n} 2013 controls merged into this one")
                }
            };
            out.push(Mapping {
                source_framework: ISO27001_2013.to_owned(),
                source_ref: id.clone(),
                target_framework: ISO27001_2022.to_owned(),
                target_ref: c.ref_id.clone(),
                relationship: Relationship::Related,
                note: Some(note),
                derived_path: None,
            });
        }
    }
    for n in &crate::iso27001::iso27001_2013().nodes {
        if n.ref_id.starts_with('A') {
            continue;
        }
        if let Some(t) = clause_2013_to_2022(&n.ref_id) {
            out.push(Mapping {
                source_framework: ISO27001_2013.to_owned(),
                source_ref: n.ref_id.clone(),
                target_framework: ISO27001_2022.to_owned(),
                target_ref: t.to_owned(),
                relationship: Relationship::Related,
                note: Some(if t == n.ref_id {
                    "edition correspondence: same clause number".to_owned()
                } else {
                    "edition correspondence: clause renumbered".to_owned()
                }),
                derived_path: None,
            });
        }
    }
    out
}

fn path_of(m: &Mapping) -> Vec<String> {
    m.derived_path.clone().unwrap_or_else(|| {
        vec![
            format!("{}:{}", m.source_framework, m.source_ref),
            format!("{}:{}", m.target_framework, m.target_ref),
        ]
    })
}

/// Compose `first` (A -> B) with `second` (B -> C) through framework `via` (B): one derived
/// mapping A -> C per pair of mappings that meet at the same B requirement. When several B
/// requirements lead to the same (A, C) pair, the first path is kept and the others are named
/// in the note. The relationship follows [`Relationship::compose`]. Mappings from A to C that
/// would go A -> A are skipped.
pub fn compose(first: &[Mapping], second: &[Mapping], via: &str) -> Vec<Mapping> {
    let mut next: HashMap<&str, Vec<&Mapping>> = HashMap::new();
    for m in second.iter().filter(|m| m.source_framework == via) {
        next.entry(m.source_ref.as_str()).or_default().push(m);
    }
    let mut out: Vec<Mapping> = Vec::new();
    let mut index: HashMap<(String, String, String, String), usize> = HashMap::new();
    let mut also: Vec<Vec<String>> = Vec::new();
    for a in first.iter().filter(|m| m.target_framework == via) {
        let Some(bs) = next.get(a.target_ref.as_str()) else {
            continue;
        };
        for b in bs {
            if b.target_framework == a.source_framework {
                continue;
            }
            let key = (
                a.source_framework.clone(),
                a.source_ref.clone(),
                b.target_framework.clone(),
                b.target_ref.clone(),
            );
            let via_ref = format!("{via}:{}", a.target_ref);
            if let Some(&i) = index.get(&key) {
                also[i].push(via_ref);
                // Keep the weakest claim over all paths.
                out[i].relationship = out[i]
                    .relationship
                    .compose(a.relationship.compose(b.relationship));
                continue;
            }
            let mut path = path_of(a);
            path.extend(path_of(b).into_iter().skip(1));
            let leg_notes: Vec<&str> = [a.note.as_deref(), b.note.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            let mut note =
                "derived by isms by composing two mappings; not an official mapping".to_owned();
            if let Some(n) = a.note.as_deref().filter(|_| !leg_notes.is_empty()) {
                note.push_str("; first leg: ");
                note.push_str(n);
            }
            index.insert(key, out.len());
            also.push(Vec::new());
            out.push(Mapping {
                source_framework: a.source_framework.clone(),
                source_ref: a.source_ref.clone(),
                target_framework: b.target_framework.clone(),
                target_ref: b.target_ref.clone(),
                relationship: a.relationship.compose(b.relationship),
                note: Some(note),
                derived_path: Some(path),
            });
        }
    }
    for (m, others) in out.iter_mut().zip(also) {
        if !others.is_empty() {
            let note = m.note.get_or_insert_with(String::new);
            note.push_str("; also via ");
            note.push_str(&others.join(", "));
        }
    }
    out
}

/// NIST SP 800-53 Rev 5 -> ISO/IEC 27001:2022, derived from NIST's 800-53 -> 27001:2013 table
/// (Table 1) and the 2013 -> 2022 correspondence. Rows naming a whole 2013 domain (`A.12`) have
/// no 2022 counterpart and drop out. Every result is marked derived and is `related`.
pub fn derive_800_53_to_iso27001_2022() -> Vec<Mapping> {
    let table1 = BUILTIN_MAPPING_FILES
        .iter()
        .find(|f| f.source_framework == "nist-800-53r5" && f.target_framework == ISO27001_2013)
        .expect("table 1 is built in")
        .mappings();
    compose(&table1, &correspondence_2013_to_2022(), ISO27001_2013)
}

/// Mappings indexed for queries in both directions.
#[derive(Debug, Clone, Default)]
pub struct MappingSet {
    mappings: Vec<Mapping>,
    by_source: HashMap<(String, String), Vec<usize>>,
    by_target: HashMap<(String, String), Vec<usize>>,
}

/// A requirement linked to the one asked about, seen from the asked one's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link<'a> {
    pub framework: &'a str,
    pub ref_id: &'a str,
    /// From the asked requirement to this one (inverted for mappings stored the other way).
    pub relationship: Relationship,
    pub note: Option<&'a str>,
    pub derived_path: Option<&'a [String]>,
    /// The mapping was stored with the asked requirement as its source.
    pub forward: bool,
}

impl MappingSet {
    pub fn new(mappings: Vec<Mapping>) -> Self {
        let mut s = Self::default();
        s.extend(mappings);
        s
    }

    pub fn extend(&mut self, mappings: impl IntoIterator<Item = Mapping>) {
        for m in mappings {
            let i = self.mappings.len();
            self.by_source
                .entry((m.source_framework.clone(), m.source_ref.clone()))
                .or_default()
                .push(i);
            self.by_target
                .entry((m.target_framework.clone(), m.target_ref.clone()))
                .or_default()
                .push(i);
            self.mappings.push(m);
        }
    }

    pub fn all(&self) -> &[Mapping] {
        &self.mappings
    }

    pub fn len(&self) -> usize {
        self.mappings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mappings.is_empty()
    }

    fn lookup<'a>(
        &'a self,
        idx: &'a HashMap<(String, String), Vec<usize>>,
        framework: &str,
        ref_id: &str,
    ) -> impl Iterator<Item = &'a Mapping> + 'a {
        idx.get(&(framework.to_owned(), ref_id.to_owned()))
            .into_iter()
            .flatten()
            .map(|&i| &self.mappings[i])
    }

    /// Mappings whose source is (`framework`, `ref_id`), optionally only those into `target_framework`.
    pub fn targets_of(
        &self,
        framework: &str,
        ref_id: &str,
        target_framework: Option<&str>,
    ) -> Vec<&Mapping> {
        self.lookup(&self.by_source, framework, ref_id)
            .filter(|m| target_framework.is_none_or(|t| m.target_framework == t))
            .collect()
    }

    /// Mappings whose target is (`framework`, `ref_id`), optionally only those from `source_framework`.
    pub fn sources_of(
        &self,
        framework: &str,
        ref_id: &str,
        source_framework: Option<&str>,
    ) -> Vec<&Mapping> {
        self.lookup(&self.by_target, framework, ref_id)
            .filter(|m| source_framework.is_none_or(|s| m.source_framework == s))
            .collect()
    }

    /// Everything linked to a requirement, in either direction, optionally limited to one other
    /// framework: what a requirement page shows. Official links come before derived ones; a
    /// pair stated in both directions (NIST's Tables 1 and 2) is listed once.
    pub fn links_of<'a>(
        &'a self,
        framework: &str,
        ref_id: &str,
        other: Option<&str>,
    ) -> Vec<Link<'a>> {
        let forward = self
            .targets_of(framework, ref_id, other)
            .into_iter()
            .map(|m| Link {
                framework: &m.target_framework,
                ref_id: &m.target_ref,
                relationship: m.relationship,
                note: m.note.as_deref(),
                derived_path: m.derived_path.as_deref(),
                forward: true,
            });
        let backward = self
            .sources_of(framework, ref_id, other)
            .into_iter()
            .map(|m| Link {
                framework: &m.source_framework,
                ref_id: &m.source_ref,
                relationship: m.relationship.inverse(),
                note: m.note.as_deref(),
                derived_path: m.derived_path.as_deref(),
                forward: false,
            });
        let mut all: Vec<Link<'a>> = forward.chain(backward).collect();
        all.sort_by_key(|l| l.derived_path.is_some());
        let mut seen = HashSet::new();
        all.retain(|l| seen.insert((l.framework, l.ref_id, l.derived_path.is_some())));
        all
    }
}

static BUILTIN: LazyLock<MappingSet> = LazyLock::new(|| {
    let mut set = MappingSet::default();
    for f in BUILTIN_MAPPING_FILES {
        set.extend(f.mappings());
    }
    set.extend(correspondence_2013_to_2022());
    set.extend(derive_800_53_to_iso27001_2022());
    set
});

/// Every built-in mapping: the NIST files, the 2013 -> 2022 correspondence and the derived
/// 800-53 -> 2022 mappings (marked derived).
pub fn builtin_mappings() -> &'static MappingSet {
    &BUILTIN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Vec<Mapping>, ImportError> {
        parse_mapping_csv("m.csv", text.as_bytes())
    }

    const HEADER: &str =
        "source_framework,source_ref,target_framework,target_ref,relationship,note\n";

    #[test]
    fn relationships_parse_in_all_spellings() {
        for (s, r) in [
            ("equal", Relationship::Equal),
            ("subset_of", Relationship::SubsetOf),
            ("Subset", Relationship::SubsetOf),
            ("superset-of", Relationship::SupersetOf),
            ("intersect", Relationship::IntersectsWith),
            ("intersects with", Relationship::IntersectsWith),
            ("RELATED", Relationship::Related),
        ] {
            assert_eq!(Relationship::parse(s), Some(r), "{s}");
            assert_eq!(Relationship::parse(r.as_str()), Some(r));
        }
        assert_eq!(Relationship::parse("kind of"), None);
        assert_eq!(Relationship::parse("not_related"), None);
        assert_eq!(Relationship::SubsetOf.inverse(), Relationship::SupersetOf);
        assert_eq!(
            Relationship::Equal.compose(Relationship::Equal),
            Relationship::IntersectsWith
        );
        assert_eq!(
            Relationship::Equal.compose(Relationship::Related),
            Relationship::Related
        );
    }

    #[test]
    fn parses_rows_with_bom_quotes_and_column_order() {
        let text = "\u{feff}relationship,target_ref,target_framework,source_ref,source_framework,extra\n\
                    equal,A.5.1,ISO/IEC 27001:2022,X-1,acme-policy,ignored\n\
                    subset_of,\"A.5.2\",iso27001-2022,X-2,acme-policy,\n";
        let m = csv(text).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].target_framework, "iso27001-2022");
        assert_eq!(m[0].source_framework, "acme-policy");
        assert_eq!(m[1].relationship, Relationship::SubsetOf);
        assert_eq!(m[1].note, None);
    }

    #[test]
    fn bad_rows_are_named_by_line() {
        let text = format!(
            "{HEADER}NIST CSF 2.0,GV.OC-01,NIST SP 800-53 Rev 5,PM-11,sort of,\n\
             NIST CSF 2.0,GV.OC-01\n\
             Some Random Framework!,X,NIST CSF 2.0,Y,related,\n\
             NIST CSF 2.0,,NIST CSF 2.0,Y,related,\n\
             NIST CSF 2.0,A,NIST CSF 2.0,B,related,\n\
             NIST CSF 2.0,A,NIST CSF 2.0,B,equal,\n"
        );
        let err = csv(&text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("m.csv: line 3: expected 6 columns"), "{msg}");
        assert_eq!(
            err.issues.len(),
            1,
            "short rows are reported before the rest: {msg}"
        );
        let text = text.replace("NIST CSF 2.0,GV.OC-01\n", "");
        let msg = csv(&text).unwrap_err().to_string();
        assert!(
            msg.contains("m.csv: line 2: relationship \"sort of\" is not one of"),
            "{msg}"
        );
        assert!(
            msg.contains("line 3: source_framework: unknown framework \"Some Random Framework!\""),
            "{msg}"
        );
        assert!(msg.contains("line 4: source_ref is empty"), "{msg}");
        assert!(
            msg.contains(
                "line 6: duplicate mapping nist-csf-2.0:A -> nist-csf-2.0:B (first on line 5)"
            ),
            "{msg}"
        );
    }

    #[test]
    fn empty_and_headless_files_are_refused() {
        assert!(csv("").unwrap_err().to_string().contains("empty"));
        assert!(
            csv(HEADER)
                .unwrap_err()
                .to_string()
                .contains("no mapping rows")
        );
        let msg = csv("a,b\n1,2\n").unwrap_err().to_string();
        assert!(
            msg.contains("line 1: the header lacks column(s) source_framework"),
            "{msg}"
        );
        let msg = parse_mapping_csv("m.csv", b"source_framework\xff\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not valid UTF-8"), "{msg}");
        let msg = csv(&format!("{HEADER}\"unterminated,x"))
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("m.csv: "), "{msg}");
    }

    #[test]
    fn builtin_files_parse_with_expected_counts() {
        let counts: Vec<(&str, usize)> = BUILTIN_MAPPING_FILES
            .iter()
            .map(|f| (f.file_name, f.mappings().len()))
            .collect();
        assert_eq!(
            counts,
            [
                ("nist-800-53r5-to-iso27001-2013.csv", 578),
                ("iso27001-2013-to-nist-800-53r5.csv", 602),
                ("nist-csf-2.0-to-nist-800-53r5.csv", 746),
                ("nist-csf-2.0-to-nist-csf-1.1.csv", 185),
                ("nist-csf-1.1-to-nist-800-53r5.csv", 549),
                ("nist-privacy-framework-1.0-to-nist-800-53r5.csv", 562),
            ]
        );
        for f in BUILTIN_MAPPING_FILES {
            assert!(
                f.mappings()
                    .iter()
                    .all(|m| m.source_framework == f.source_framework
                        && m.target_framework == f.target_framework)
            );
        }
    }

    #[test]
    fn correspondence_covers_all_2013_controls_and_clauses() {
        let c = correspondence_2013_to_2022();
        let controls = c.iter().filter(|m| m.source_ref.starts_with("A.")).count();
        assert_eq!(controls, 115, "114 ids, A.18.2.3 twice");
        assert!(
            c.iter()
                .any(|m| m.source_ref == "10.1" && m.target_ref == "10.2")
        );
        assert!(
            c.iter()
                .any(|m| m.source_ref == "6.1.2" && m.target_ref == "6.1.2")
        );
        assert_eq!(clause_2013_to_2022("A.5.1.1"), None);
    }

    #[test]
    fn derives_ac_2_to_2022_with_paths() {
        let d = derive_800_53_to_iso27001_2022();
        let ac2: Vec<&Mapping> = d.iter().filter(|m| m.source_ref == "AC-2").collect();
        let targets: HashSet<&str> = ac2.iter().map(|m| m.target_ref.as_str()).collect();
        // Table 1: AC-2 -> A.9.2.1, A.9.2.2, A.9.2.3, A.9.2.5, A.9.2.6.
        assert_eq!(targets, HashSet::from(["A.5.16", "A.5.18", "A.8.2"]));
        let to_516 = ac2.iter().find(|m| m.target_ref == "A.5.16").unwrap();
        assert_eq!(
            to_516.derived_path.as_deref().unwrap(),
            [
                "nist-800-53r5:AC-2",
                "iso27001-2013:A.9.2.1",
                "iso27001-2022:A.5.16"
            ]
        );
        assert_eq!(to_516.relationship, Relationship::Related);
        let to_518 = ac2.iter().find(|m| m.target_ref == "A.5.18").unwrap();
        assert!(
            to_518
                .note
                .as_deref()
                .unwrap()
                .contains("also via iso27001-2013:A.9.2.5, iso27001-2013:A.9.2.6")
        );
        assert!(
            d.iter()
                .all(|m| m.is_derived() && m.relationship == Relationship::Related)
        );
        // Clause rows carry over: AC-1 -> 5.2 (2013) -> 5.2 (2022).
        assert!(
            d.iter()
                .any(|m| m.source_ref == "AC-1" && m.target_ref == "5.2")
        );
        // SC-38 -> A.12 (a whole 2013 domain) has no 2022 counterpart.
        assert!(!d.iter().any(|m| m.source_ref == "SC-38"));
    }

    #[test]
    fn queries_in_both_directions() {
        let set = builtin_mappings();
        let to_iso = set.targets_of("nist-800-53r5", "AC-2", Some(ISO27001_2022));
        assert!(to_iso.iter().all(|m| m.is_derived()));
        assert_eq!(to_iso.len(), 3);
        // "what does 8.5 map to in 800-53": derived mappings seen from the ISO side.
        let from = set.sources_of(ISO27001_2022, "A.8.5", Some("nist-800-53r5"));
        // Table 1 maps AC-7 to A.9.4.2 (2013), which became 8.5 in 2022.
        assert!(from.iter().any(|m| m.source_ref == "AC-7"), "{from:?}");
        let links = set.links_of(ISO27001_2013, "A.9.2.1", Some("nist-800-53r5"));
        let ac2: Vec<_> = links.iter().filter(|l| l.ref_id == "AC-2").collect();
        assert_eq!(ac2.len(), 1, "Table 1 and Table 2 give one link");
        assert!(
            set.targets_of("nist-csf-2.0", "PR.AA-01", Some(ISO27001_2022))
                .is_empty(),
            "CSF->ISO is not built in"
        );
        let mut small = MappingSet::new(vec![Mapping {
            source_framework: "a".into(),
            source_ref: "1".into(),
            target_framework: "b".into(),
            target_ref: "2".into(),
            relationship: Relationship::SubsetOf,
            note: None,
            derived_path: None,
        }]);
        assert_eq!(
            small.links_of("b", "2", None)[0].relationship,
            Relationship::SupersetOf
        );
        small.extend(vec![small.all()[0].reversed()]);
        assert_eq!(small.len(), 2);
        assert_eq!(
            small.sources_of("a", "1", None)[0].relationship,
            Relationship::SupersetOf
        );
    }
}
