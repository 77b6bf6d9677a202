//! Risk management (ISO/IEC 27001:2022 6.1.2, 6.1.3, 8.2, 8.3, Annex A 5.9):
//! asset types, treatment options, risk statuses, the methodology that turns
//! a likelihood and an impact into a level, and the acceptance rule. Pure
//! functions only; the store loads, calls these, writes and audits.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Input that breaks a rule: the field and what is wrong, in one sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {why}")]
pub struct Invalid {
    pub field: String,
    pub why: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, why: impl Into<String>) -> Self {
        Invalid {
            field: field.into(),
            why: why.into(),
        }
    }
}

/// An unknown name for one of the enums below.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}': use one of {allowed}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
    pub allowed: String,
}

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident, $kind:literal, { $($variant:ident => $text:literal / $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// A human label for pages and reports.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(t))
                    .ok_or_else(|| UnknownName {
                        kind: $kind,
                        value: s.to_owned(),
                        allowed: $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                    })
            }
        }
    };
}

// The audit, nonconformity and review modules name their enums the same way.
pub(crate) use named_enum;

named_enum!(
    /// What kind of thing an asset is (Annex A 5.9).
    AssetType, "asset type", {
    Information => "information" / "Information",
    Software => "software" / "Software",
    Hardware => "hardware" / "Hardware",
    Service => "service" / "Service",
    People => "people" / "People",
    Site => "site" / "Site",
    Supplier => "supplier" / "Supplier",
});

named_enum!(
    /// What is done about a risk (6.1.3).
    Treatment, "treatment", {
    Modify => "modify" / "Modify (reduce with controls)",
    Retain => "retain" / "Retain (live with it)",
    Avoid => "avoid" / "Avoid (stop the activity)",
    Share => "share" / "Share (insure or outsource)",
});

named_enum!(
    /// Where a risk stands.
    RiskStatus, "risk status", {
    Identified => "identified" / "Identified",
    Assessed => "assessed" / "Assessed",
    Treating => "treating" / "Being treated",
    Accepted => "accepted" / "Accepted",
    Closed => "closed" / "Closed",
});

named_enum!(
    /// Where a treatment action stands.
    ActionStatus, "action status", {
    Open => "open" / "Open",
    InProgress => "in_progress" / "In progress",
    Done => "done" / "Done",
    Cancelled => "cancelled" / "Cancelled",
});

impl ActionStatus {
    /// Whether the action still has to be done (and so can be overdue).
    pub fn is_pending(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::InProgress)
    }
}

/// One step of a likelihood or impact scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleStep {
    pub name: String,
    pub description: String,
}

/// A risk level of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
}

/// How an organisation scores risks: two scales, the matrix from a pair of
/// scores to a level, and the highest level a risk owner may accept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Methodology {
    pub likelihood: Vec<ScaleStep>,
    pub impact: Vec<ScaleStep>,
    /// Levels from lowest to highest.
    pub levels: Vec<Level>,
    /// `matrix[likelihood - 1][impact - 1]` is an index into `levels`.
    pub matrix: Vec<Vec<usize>>,
    /// Levels with an index up to this one may be accepted by the risk owner;
    /// above it only an administrator's recorded override accepts.
    pub max_acceptable_level: usize,
}

fn steps(items: &[(&str, &str)]) -> Vec<ScaleStep> {
    items
        .iter()
        .map(|(n, d)| ScaleStep {
            name: (*n).to_owned(),
            description: (*d).to_owned(),
        })
        .collect()
}

impl Default for Methodology {
    /// Five by five; the level follows likelihood × impact: up to 4 low, up
    /// to 9 medium, up to 16 high, above critical. Low and medium may be
    /// accepted by the risk owner.
    fn default() -> Self {
        let likelihood = steps(&[
            ("Rare", "Not expected in the next five years"),
            ("Unlikely", "Could happen once in a few years"),
            ("Possible", "Could happen about once a year"),
            ("Likely", "Expected several times a year"),
            ("Almost certain", "Expected monthly or more often"),
        ]);
        let impact = steps(&[
            ("Negligible", "Hardly noticed; no lasting harm"),
            ("Minor", "Some hours of disruption or a small cost"),
            (
                "Moderate",
                "Days of disruption, complaints or a notable cost",
            ),
            (
                "Major",
                "Weeks of disruption, a reportable breach or a large cost",
            ),
            (
                "Severe",
                "Threatens the organisation, its customers or its licence",
            ),
        ]);
        let level = |name: &str, colour: &str| Level {
            name: name.into(),
            colour: colour.into(),
        };
        let levels = vec![
            level("Low", "#2e7d32"),
            level("Medium", "#f9a825"),
            level("High", "#ef6c00"),
            level("Critical", "#c62828"),
        ];
        let matrix = (1..=5)
            .map(|l| {
                (1..=5)
                    .map(|i| match l * i {
                        0..=4 => 0,
                        5..=9 => 1,
                        10..=16 => 2,
                        _ => 3,
                    })
                    .collect()
            })
            .collect();
        Methodology {
            likelihood,
            impact,
            levels,
            matrix,
            max_acceptable_level: 1,
        }
    }
}

/// The smallest and largest number of steps a scale may have.
pub const SCALE_STEPS: std::ops::RangeInclusive<usize> = 3..=7;

impl Methodology {
    /// Checks that the scales, levels and matrix fit together.
    pub fn validate(&self) -> Result<(), Invalid> {
        for (field, scale) in [("likelihood", &self.likelihood), ("impact", &self.impact)] {
            if !SCALE_STEPS.contains(&scale.len()) {
                return Err(Invalid::new(
                    field,
                    format!(
                        "a scale has {} to {} steps, not {}",
                        SCALE_STEPS.start(),
                        SCALE_STEPS.end(),
                        scale.len()
                    ),
                ));
            }
            if let Some(i) = scale.iter().position(|s| s.name.trim().is_empty()) {
                return Err(Invalid::new(field, format!("step {} has no name", i + 1)));
            }
        }
        if self.levels.is_empty() {
            return Err(Invalid::new("levels", "at least one level is needed"));
        }
        for (i, l) in self.levels.iter().enumerate() {
            if l.name.trim().is_empty() {
                return Err(Invalid::new(
                    "levels",
                    format!("level {} has no name", i + 1),
                ));
            }
            let c = l.colour.as_bytes();
            if c.len() != 7 || c[0] != b'#' || !c[1..].iter().all(u8::is_ascii_hexdigit) {
                return Err(Invalid::new(
                    "levels",
                    format!("colour of '{}' is not #rrggbb", l.name),
                ));
            }
        }
        if self.matrix.len() != self.likelihood.len()
            || self.matrix.iter().any(|r| r.len() != self.impact.len())
        {
            return Err(Invalid::new(
                "matrix",
                format!(
                    "needs {} rows (likelihood) of {} cells (impact)",
                    self.likelihood.len(),
                    self.impact.len()
                ),
            ));
        }
        if self
            .matrix
            .iter()
            .flatten()
            .any(|&l| l >= self.levels.len())
        {
            return Err(Invalid::new(
                "matrix",
                format!("a cell names a level above {}", self.levels.len()),
            ));
        }
        if self.max_acceptable_level >= self.levels.len() {
            return Err(Invalid::new(
                "max_acceptable_level",
                format!("must be below {}", self.levels.len()),
            ));
        }
        Ok(())
    }

    /// Checks one score against its scale; the error names the field and
    /// the allowed range.
    pub fn check_score(&self, field: &str, value: i64, impact: bool) -> Result<u8, Invalid> {
        let n = if impact {
            self.impact.len()
        } else {
            self.likelihood.len()
        };
        if value < 1 || value > n as i64 {
            return Err(Invalid::new(
                field,
                format!("{value} is outside the scale: use 1 to {n}"),
            ));
        }
        Ok(value as u8)
    }

    /// The level index of a pair of scores already checked.
    pub fn level_of(&self, likelihood: u8, impact: u8) -> usize {
        self.matrix[usize::from(likelihood) - 1][usize::from(impact) - 1]
    }

    /// Checks both scores and returns the level index.
    pub fn score(
        &self,
        fields: (&str, &str),
        likelihood: i64,
        impact: i64,
    ) -> Result<usize, Invalid> {
        let l = self.check_score(fields.0, likelihood, false)?;
        let i = self.check_score(fields.1, impact, true)?;
        Ok(self.level_of(l, i))
    }

    /// The name of a level index (empty if out of range).
    pub fn level_name(&self, level: usize) -> &str {
        self.levels.get(level).map_or("", |l| l.name.as_str())
    }

    pub fn level_colour(&self, level: usize) -> &str {
        self.levels
            .get(level)
            .map_or("#777777", |l| l.colour.as_str())
    }

    /// Whether the risk owner may accept a residual risk at `level`.
    pub fn acceptable(&self, level: usize) -> bool {
        level <= self.max_acceptable_level
    }
}

/// How one risk's levels change under another methodology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelMove {
    pub id: i64,
    pub inherent_from: String,
    pub inherent_to: String,
    pub residual_from: String,
    pub residual_to: String,
}

/// A risk's scores, as re-scoring sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores {
    pub id: i64,
    pub likelihood: i64,
    pub impact: i64,
    pub residual_likelihood: i64,
    pub residual_impact: i64,
}

/// What moves when `to` replaces `from`: the risks whose level name
/// changes. Fails, naming the risks, when a score lies outside the new scales.
pub fn rescore(
    from: &Methodology,
    to: &Methodology,
    risks: &[Scores],
) -> Result<Vec<LevelMove>, Invalid> {
    to.validate()?;
    let outside: Vec<String> = risks
        .iter()
        .filter(|r| {
            to.score(("l", "i"), r.likelihood, r.impact).is_err()
                || to
                    .score(("l", "i"), r.residual_likelihood, r.residual_impact)
                    .is_err()
        })
        .take(20)
        .map(|r| format!("RISK-{}", r.id))
        .collect();
    if !outside.is_empty() {
        return Err(Invalid::new(
            "methodology",
            format!(
                "risks scored outside the new scales ({}): re-score them on the old scales first",
                outside.join(", ")
            ),
        ));
    }
    let name = |m: &Methodology, l: i64, i: i64| {
        m.score(("l", "i"), l, i)
            .map_or_else(|_| String::new(), |x| m.level_name(x).to_owned())
    };
    Ok(risks
        .iter()
        .filter_map(|r| {
            let mv = LevelMove {
                id: r.id,
                inherent_from: name(from, r.likelihood, r.impact),
                inherent_to: name(to, r.likelihood, r.impact),
                residual_from: name(from, r.residual_likelihood, r.residual_impact),
                residual_to: name(to, r.residual_likelihood, r.residual_impact),
            };
            (mv.inherent_from != mv.inherent_to || mv.residual_from != mv.residual_to).then_some(mv)
        })
        .collect())
}

/// A risk as a snapshot freezes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRisk {
    pub id: i64,
    pub title: String,
    pub level: String,
    pub residual_level: String,
    pub status: String,
}

/// What changed between two snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SnapshotComparison {
    /// In the later snapshot only.
    pub new: Vec<SnapshotRisk>,
    /// Gone from the later snapshot, or closed in it (and not before).
    pub closed: Vec<SnapshotRisk>,
    /// In both, with another inherent or residual level: (before, after).
    pub changed: Vec<(SnapshotRisk, SnapshotRisk)>,
}

/// Compares an earlier snapshot with a later one.
pub fn compare_snapshots(earlier: &[SnapshotRisk], later: &[SnapshotRisk]) -> SnapshotComparison {
    let before: HashMap<i64, &SnapshotRisk> = earlier.iter().map(|r| (r.id, r)).collect();
    let after: HashMap<i64, &SnapshotRisk> = later.iter().map(|r| (r.id, r)).collect();
    let mut out = SnapshotComparison::default();
    for r in later {
        match before.get(&r.id) {
            None => out.new.push(r.clone()),
            Some(b) if r.status == "closed" && b.status != "closed" => out.closed.push(r.clone()),
            Some(b) if b.level != r.level || b.residual_level != r.residual_level => {
                out.changed.push(((*b).clone(), r.clone()));
            }
            Some(_) => {}
        }
    }
    for r in earlier {
        if !after.contains_key(&r.id) && r.status != "closed" {
            out.closed.push(r.clone());
        }
    }
    out.closed.sort_by_key(|r| r.id);
    out
}

/// Who asks to accept a residual risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptor {
    /// An administrator of the organisation.
    Administrator,
    /// Anyone else allowed to edit the ISMS (risk owner, ISMS manager).
    Other,
}

/// Why an acceptance is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcceptRefused {
    #[error(
        "the residual level {level} is above the acceptance criteria (at most {max}): only an administrator can accept it, with \"override\": true"
    )]
    AboveCriteria { level: String, max: String },
    #[error("only an administrator may override the acceptance criteria")]
    OverrideNotAllowed,
    #[error("comment: say why the residual risk is accepted")]
    NoComment,
}

/// Decides whether a residual risk at `level` may be accepted. Returns
/// whether the acceptance is an override (above the criteria).
pub fn may_accept(
    m: &Methodology,
    level: usize,
    who: Acceptor,
    override_asked: bool,
    comment: &str,
) -> Result<bool, AcceptRefused> {
    if comment.trim().is_empty() {
        return Err(AcceptRefused::NoComment);
    }
    if override_asked && who != Acceptor::Administrator {
        return Err(AcceptRefused::OverrideNotAllowed);
    }
    if m.acceptable(level) {
        return Ok(false);
    }
    if override_asked {
        Ok(true)
    } else {
        Err(AcceptRefused::AboveCriteria {
            level: m.level_name(level).to_owned(),
            max: m.level_name(m.max_acceptable_level).to_owned(),
        })
    }
}

/// Whether adding the dependency `from -> to` to `edges` (asset depends on
/// asset) would close a cycle. Returns the cycle as a path `to .. from` if so.
pub fn dependency_cycle(edges: &[(i64, i64)], from: i64, to: i64) -> Option<Vec<i64>> {
    if from == to {
        return Some(vec![from]);
    }
    let mut next: HashMap<i64, Vec<i64>> = HashMap::new();
    for &(a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    // Depth-first from `to`: reaching `from` means from -> to -> .. -> from.
    let mut stack = vec![(to, vec![to])];
    let mut seen = HashSet::new();
    while let Some((at, path)) = stack.pop() {
        if at == from {
            return Some(path);
        }
        if !seen.insert(at) {
            continue;
        }
        for &n in next.get(&at).map_or(&[][..], Vec::as_slice) {
            let mut p = path.clone();
            p.push(n);
            stack.push((n, p));
        }
    }
    None
}

/// An Annex A control id as the register stores it: `8.7` (an `A.` prefix
/// is dropped); `None` if it is not of the form `5..8 . number`.
pub fn normalise_control_id(s: &str) -> Option<String> {
    let t = s.trim();
    let t = t
        .strip_prefix("A.")
        .or_else(|| t.strip_prefix("a."))
        .unwrap_or(t);
    let (theme, n) = t.split_once('.')?;
    let max = match theme {
        "5" => 37,
        "6" => 8,
        "7" => 14,
        "8" => 34,
        _ => return None,
    };
    let n: u32 = n.parse().ok()?;
    (1..=max).contains(&n).then(|| format!("{theme}.{n}"))
}

/// What the readiness checklist needs to know about the register (open
/// risks only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterFacts {
    pub risks: i64,
    pub without_owner: i64,
    /// Still only identified, not assessed.
    pub unassessed: i64,
    /// Next review date in the past.
    pub review_overdue: i64,
    /// Treatment "modify" without a control linked.
    pub modify_without_controls: i64,
    /// Residual risk not (or no longer) accepted.
    pub not_accepted: i64,
    /// The last change to the register, RFC 3339.
    pub last_change: String,
}

/// How far a readiness item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    Incomplete,
    Missing,
}

/// Clause 8.2: risks assessed, owned and reviewed within the year.
pub fn assessment_readiness(f: &RegisterFacts, year_ago: &str) -> (Readiness, String) {
    if f.risks == 0 {
        return (
            Readiness::Missing,
            "no risks assessed yet: add them to the risk register".into(),
        );
    }
    let mut gaps = Vec::new();
    if f.unassessed > 0 {
        gaps.push(format!("{} not yet assessed", f.unassessed));
    }
    if f.without_owner > 0 {
        gaps.push(format!("{} without a risk owner", f.without_owner));
    }
    if f.review_overdue > 0 {
        gaps.push(format!("{} past their review date", f.review_overdue));
    }
    if f.last_change.as_str() < year_ago {
        gaps.push(format!(
            "the register was last changed on {}, over a year ago",
            f.last_change.get(..10).unwrap_or("")
        ));
    }
    if gaps.is_empty() {
        (
            Readiness::Ready,
            format!("{} risk(s) assessed, each with an owner", f.risks),
        )
    } else {
        (
            Readiness::Incomplete,
            format!("{} risk(s): {}", f.risks, gaps.join("; ")),
        )
    }
}

/// Clauses 6.1.3 and 8.3: every risk treated (controls for "modify") and its
/// residual risk accepted by its owner.
pub fn treatment_readiness(f: &RegisterFacts) -> (Readiness, String) {
    if f.risks == 0 {
        return (
            Readiness::Missing,
            "no risks, so no treatment plan yet".into(),
        );
    }
    let mut gaps = Vec::new();
    if f.modify_without_controls > 0 {
        gaps.push(format!(
            "{} to be modified without a control linked",
            f.modify_without_controls
        ));
    }
    if f.not_accepted > 0 {
        gaps.push(format!(
            "{} whose residual risk the owner has not accepted",
            f.not_accepted
        ));
    }
    if gaps.is_empty() {
        (
            Readiness::Ready,
            format!("{} risk(s) treated, residual risk accepted", f.risks),
        )
    } else {
        (
            Readiness::Incomplete,
            format!("{} risk(s): {}", f.risks, gaps.join("; ")),
        )
    }
}

/// The warning given when an Annex A control that risks rely on for their
/// treatment is excluded from the SoA: it names the risks (the first ten,
/// then how many more). `None` when no risk relies on the control.
pub fn exclusion_warning(control_id: &str, risks: &[(i64, &str)]) -> Option<String> {
    const SHOWN: usize = 10;
    if risks.is_empty() {
        return None;
    }
    let mut names: Vec<String> = risks
        .iter()
        .take(SHOWN)
        .map(|(id, title)| format!("RISK-{id} ({title})"))
        .collect();
    if risks.len() > SHOWN {
        names.push(format!("and {} more", risks.len() - SHOWN));
    }
    let (noun, verb) = if risks.len() == 1 {
        ("risk", "relies")
    } else {
        ("risks", "rely")
    };
    Some(format!(
        "{n} {noun} {verb} on {control_id} for treatment: {list}. Excluding {control_id} leaves them without it; change their treatment, or confirm the exclusion.",
        n = risks.len(),
        list = names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_and_unknown_names_list_the_allowed_ones() {
        for t in AssetType::ALL {
            assert_eq!(t.as_str().parse::<AssetType>(), Ok(*t));
        }
        for t in Treatment::ALL {
            assert_eq!(t.as_str().parse::<Treatment>(), Ok(*t));
        }
        for t in RiskStatus::ALL {
            assert_eq!(t.as_str().parse::<RiskStatus>(), Ok(*t));
        }
        assert_eq!(" Modify ".parse::<Treatment>(), Ok(Treatment::Modify));
        let e = "ignore".parse::<Treatment>().unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown treatment 'ignore': use one of modify, retain, avoid, share"
        );
    }

    #[test]
    fn the_default_is_a_valid_five_by_five_with_four_levels() {
        let m = Methodology::default();
        m.validate().unwrap();
        assert_eq!(m.likelihood.len(), 5);
        assert_eq!(m.impact.len(), 5);
        assert_eq!(m.level_name(m.level_of(1, 1)), "Low");
        assert_eq!(m.level_name(m.level_of(2, 3)), "Medium");
        assert_eq!(m.level_name(m.level_of(4, 4)), "High");
        assert_eq!(m.level_name(m.level_of(5, 4)), "Critical");
        assert!(m.acceptable(1) && !m.acceptable(2));
    }

    #[test]
    fn a_score_outside_the_scale_names_the_field_and_the_range() {
        let m = Methodology::default();
        let e = m.score(("likelihood", "impact"), 9, 3).unwrap_err();
        assert_eq!(e.field, "likelihood");
        assert_eq!(
            e.to_string(),
            "likelihood: 9 is outside the scale: use 1 to 5"
        );
        let e = m
            .score(("residual_likelihood", "residual_impact"), 2, 0)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "residual_impact: 0 is outside the scale: use 1 to 5"
        );
        assert_eq!(m.score(("l", "i"), 5, 5), Ok(3));
    }

    #[test]
    fn validation_refuses_scales_outside_three_to_seven_and_ragged_matrices() {
        let mut m = Methodology::default();
        m.likelihood.truncate(2);
        assert_eq!(m.validate().unwrap_err().field, "likelihood");
        let mut m = Methodology::default();
        m.matrix[2].pop();
        assert_eq!(m.validate().unwrap_err().field, "matrix");
        let mut m = Methodology::default();
        m.matrix[0][0] = 9;
        assert_eq!(m.validate().unwrap_err().field, "matrix");
        let mut m = Methodology::default();
        m.levels[0].colour = "green".into();
        assert_eq!(m.validate().unwrap_err().field, "levels");
        let m = Methodology {
            max_acceptable_level: 4,
            ..Methodology::default()
        };
        assert_eq!(m.validate().unwrap_err().field, "max_acceptable_level");
    }

    #[test]
    fn acceptance_above_the_criteria_needs_an_administrators_override() {
        let m = Methodology::default();
        assert_eq!(may_accept(&m, 1, Acceptor::Other, false, "ok"), Ok(false));
        assert!(matches!(
            may_accept(&m, 2, Acceptor::Other, false, "ok"),
            Err(AcceptRefused::AboveCriteria { .. })
        ));
        assert_eq!(
            may_accept(&m, 2, Acceptor::Other, true, "ok"),
            Err(AcceptRefused::OverrideNotAllowed)
        );
        assert_eq!(
            may_accept(&m, 3, Acceptor::Administrator, true, "ok"),
            Ok(true)
        );
        assert!(matches!(
            may_accept(&m, 3, Acceptor::Administrator, false, "ok"),
            Err(AcceptRefused::AboveCriteria { .. })
        ));
        assert_eq!(
            may_accept(&m, 0, Acceptor::Other, false, "  "),
            Err(AcceptRefused::NoComment)
        );
    }

    #[test]
    fn a_dependency_that_closes_a_loop_is_a_cycle() {
        let edges = [(1, 2), (2, 3), (3, 4)];
        assert_eq!(dependency_cycle(&edges, 4, 1), Some(vec![1, 2, 3, 4]));
        assert_eq!(dependency_cycle(&edges, 1, 4), None);
        assert_eq!(dependency_cycle(&edges, 5, 5), Some(vec![5]));
        assert_eq!(dependency_cycle(&[(1, 2), (2, 1)], 3, 1), None);
    }

    #[test]
    fn rescoring_names_what_moves_and_refuses_scores_off_the_new_scale() {
        let from = Methodology::default();
        let mut to = Methodology::default();
        // Everything from 10 up is critical now.
        for (l, row) in to.matrix.iter_mut().enumerate() {
            for (i, c) in row.iter_mut().enumerate() {
                if (l + 1) * (i + 1) >= 10 {
                    *c = 3;
                }
            }
        }
        let r = |id, l, i| Scores {
            id,
            likelihood: l,
            impact: i,
            residual_likelihood: 1,
            residual_impact: 1,
        };
        let moves = rescore(&from, &to, &[r(1, 2, 5), r(2, 1, 1), r(3, 5, 5)]).unwrap();
        assert_eq!(moves.len(), 1);
        assert_eq!(moves[0].id, 1);
        assert_eq!(
            (
                moves[0].inherent_from.as_str(),
                moves[0].inherent_to.as_str()
            ),
            ("High", "Critical")
        );
        let mut small = Methodology::default();
        small.likelihood.truncate(3);
        small.matrix.truncate(3);
        let e = rescore(&from, &small, &[r(7, 4, 1)]).unwrap_err();
        assert!(e.why.contains("RISK-7"), "{e}");
    }

    #[test]
    fn snapshots_compare_as_new_closed_and_changed() {
        let r = |id, level: &str, status: &str| SnapshotRisk {
            id,
            title: format!("r{id}"),
            level: level.into(),
            residual_level: "Low".into(),
            status: status.into(),
        };
        let earlier = [
            r(1, "High", "assessed"),
            r(2, "Low", "assessed"),
            r(3, "Low", "assessed"),
        ];
        let later = [
            r(1, "Medium", "assessed"),
            r(3, "Low", "closed"),
            r(4, "Low", "assessed"),
        ];
        let c = compare_snapshots(&earlier, &later);
        assert_eq!(c.new.iter().map(|r| r.id).collect::<Vec<_>>(), [4]);
        assert_eq!(c.closed.iter().map(|r| r.id).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(c.changed.len(), 1);
        assert_eq!(
            (c.changed[0].0.level.as_str(), c.changed[0].1.level.as_str()),
            ("High", "Medium")
        );
    }

    #[test]
    fn readiness_follows_the_register() {
        let empty = RegisterFacts::default();
        assert_eq!(assessment_readiness(&empty, "2025").0, Readiness::Missing);
        assert_eq!(treatment_readiness(&empty).0, Readiness::Missing);
        let mut f = RegisterFacts {
            risks: 3,
            last_change: "2026-12-01T00:00:00Z".into(),
            ..RegisterFacts::default()
        };
        assert_eq!(assessment_readiness(&f, "2025-12-01").0, Readiness::Ready);
        assert_eq!(treatment_readiness(&f).0, Readiness::Ready);
        f.without_owner = 1;
        f.not_accepted = 2;
        let (r, d) = assessment_readiness(&f, "2025-12-01");
        assert_eq!(r, Readiness::Incomplete);
        assert!(d.contains("1 without a risk owner"), "{d}");
        let (r, d) = treatment_readiness(&f);
        assert_eq!(r, Readiness::Incomplete);
        assert!(d.contains("2 whose residual risk"), "{d}");
        f.without_owner = 0;
        assert_eq!(
            assessment_readiness(&f, "2027-01-01").0,
            Readiness::Incomplete
        );
    }

    #[test]
    fn control_ids_are_normalised_and_checked() {
        assert_eq!(normalise_control_id("8.7").as_deref(), Some("8.7"));
        assert_eq!(normalise_control_id(" A.5.37 ").as_deref(), Some("5.37"));
        assert_eq!(normalise_control_id("5.38"), None);
        assert_eq!(normalise_control_id("9.1"), None);
        assert_eq!(normalise_control_id("8"), None);
    }

    #[test]
    fn excluding_a_control_names_the_risks_that_need_it() {
        assert_eq!(exclusion_warning("8.7", &[]), None);
        let one = exclusion_warning("8.7", &[(3, "Ransomware")]).unwrap();
        assert!(one.starts_with("1 risk relies on 8.7"), "{one}");
        assert!(one.contains("RISK-3 (Ransomware)"), "{one}");
        let many: Vec<(i64, String)> = (1..=12).map(|i| (i, format!("R{i}"))).collect();
        let refs: Vec<(i64, &str)> = many.iter().map(|(i, t)| (*i, t.as_str())).collect();
        let w = exclusion_warning("5.15", &refs).unwrap();
        assert!(w.starts_with("12 risks rely on 5.15"), "{w}");
        assert!(
            w.contains("RISK-10 (R10)") && !w.contains("RISK-11") && w.contains("and 2 more"),
            "{w}"
        );
    }
}
