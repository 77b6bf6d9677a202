//! Internal audit (ISO/IEC 27001:2022 9.2): audit statuses and their
//! transitions, finding results and which of them raise a nonconformity,
//! requirement ids as people type them, auditor independence, and the
//! coverage of the audit programme. Pure functions; the store loads, calls
//! these, writes and audits.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::risk::{Invalid, UnknownName, named_enum};

named_enum!(
    /// Where an audit stands.
    AuditStatus, "audit status", {
    Planned => "planned" / "Planned",
    InProgress => "in_progress" / "In progress",
    Completed => "completed" / "Completed",
    Cancelled => "cancelled" / "Cancelled",
});

impl AuditStatus {
    /// Whether an audit may move from `self` to `to`.
    pub fn can_become(self, to: AuditStatus) -> bool {
        use AuditStatus as S;
        matches!(
            (self, to),
            (S::Planned, S::InProgress | S::Cancelled | S::Completed)
                | (S::InProgress, S::Completed | S::Cancelled)
                // Re-opened to record a late finding.
                | (S::Completed, S::InProgress)
        ) || self == to
    }

    /// The move to `to`, or why it is refused.
    pub fn transition(self, to: AuditStatus) -> Result<AuditStatus, Invalid> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(Invalid::new(
                "status",
                format!(
                    "an audit that is {} cannot become {}",
                    self.label().to_lowercase(),
                    to.label().to_lowercase()
                ),
            ))
        }
    }

    /// The status after a finding is recorded, or why none may be.
    pub fn on_finding(self) -> Result<AuditStatus, Invalid> {
        match self {
            AuditStatus::Planned | AuditStatus::InProgress => Ok(AuditStatus::InProgress),
            AuditStatus::Completed | AuditStatus::Cancelled => Err(Invalid::new(
                "audit",
                format!(
                    "the audit is {}: findings are recorded while it is planned or in progress (re-open it first)",
                    self.label().to_lowercase()
                ),
            )),
        }
    }
}

named_enum!(
    /// The result of one checklist item.
    FindingResult, "finding result", {
    Conform => "conform" / "Conform",
    MinorNonconformity => "minor_nonconformity" / "Minor nonconformity",
    MajorNonconformity => "major_nonconformity" / "Major nonconformity",
    Observation => "observation" / "Observation",
    Opportunity => "opportunity" / "Opportunity for improvement",
});

impl FindingResult {
    /// The severity of the nonconformity this result raises, if it raises one.
    pub fn raises(self) -> Option<crate::nonconformity::Severity> {
        match self {
            FindingResult::MinorNonconformity => Some(crate::nonconformity::Severity::Minor),
            FindingResult::MajorNonconformity => Some(crate::nonconformity::Severity::Major),
            _ => None,
        }
    }
}

/// The built-in framework whose bare Annex A ids (`8.5`) people type.
pub const ISO27001: &str = "iso27001-2022";

/// The framework's ref id of a requirement as typed. In ISO/IEC
/// 27001:2022 a bare id naming an Annex A control (`8.5`, as the SoA and
/// the risk register write it) is that control (`A.8.5`); clauses are
/// written `clause 5.1` (or by a number no control has, such as `9.2`).
/// In other frameworks the ref id is taken as typed.
pub fn resolve_ref(framework: &str, typed: &str, annex_a: impl Fn(&str) -> bool) -> String {
    let t = typed.trim();
    if framework != ISO27001 {
        return t.to_owned();
    }
    let lower = t.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("clause") {
        return rest.trim().to_owned();
    }
    if let Some(rest) = t.strip_prefix("A.").or_else(|| t.strip_prefix("a.")) {
        return format!("A.{rest}");
    }
    if annex_a(t) {
        return format!("A.{t}");
    }
    t.to_owned()
}

/// How a ref id is shown and typed back: `8.5` for Annex A control
/// `A.8.5`; `clause 5.1` for a clause whose number a control also has.
pub fn short_ref(framework: &str, ref_id: &str, annex_a: impl Fn(&str) -> bool) -> String {
    if framework != ISO27001 {
        return ref_id.to_owned();
    }
    if let Some(bare) = ref_id.strip_prefix("A.") {
        return bare.to_owned();
    }
    if annex_a(ref_id) {
        format!("clause {ref_id}")
    } else {
        ref_id.to_owned()
    }
}

/// The Annex A control id (`8.5`) of a ref id of ISO/IEC 27001:2022, if it is one.
pub fn annex_a_control(framework: &str, ref_id: &str) -> Option<String> {
    (framework == ISO27001)
        .then(|| ref_id.strip_prefix("A.").map(str::to_owned))
        .flatten()
}

/// A member who would audit what they own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub auditor: String,
    /// The requirement (as shown) the auditor owns something of.
    pub requirement: String,
    /// What they own: "SoA entry", "applied control ...".
    pub what: String,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} owns the {} of {}, which this audit covers",
            self.auditor, self.what, self.requirement
        )
    }
}

/// Auditors must be independent of what they audit (9.2): every auditor who
/// owns something of a requirement in scope. `owners` are (requirement as
/// shown, owner e-mail, what is owned); modules that own things per
/// requirement (the SoA, applied controls) each add their pairs.
pub fn independence_conflicts(
    scope: &[String],
    owners: &[(String, String, String)],
    auditors: &[String],
) -> Vec<Conflict> {
    let mut out = Vec::new();
    for a in auditors {
        for (req, owner, what) in owners {
            if owner.eq_ignore_ascii_case(a) && scope.iter().any(|s| s == req) {
                out.push(Conflict {
                    auditor: a.clone(),
                    requirement: req.clone(),
                    what: what.clone(),
                });
            }
        }
    }
    out
}

/// The refusal for conflicts, naming each one.
pub fn independence(conflicts: &[Conflict]) -> Result<(), Invalid> {
    if conflicts.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
    Err(Invalid::new(
        "auditors",
        format!(
            "auditors must be independent of what they audit: {}; choose another auditor or take the requirement out of the scope",
            list.join("; ")
        ),
    ))
}

/// Checks the scope of a new audit: at least one requirement, no repeats, at
/// most `max`.
pub fn check_scope(scope: &[String], max: usize) -> Result<(), Invalid> {
    if scope.is_empty() {
        return Err(Invalid::new(
            "scope",
            "name at least one requirement to audit, e.g. [\"8.5\", \"5.15\"]",
        ));
    }
    if scope.len() > max {
        return Err(Invalid::new(
            "scope",
            format!("at most {max} requirements per audit"),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in scope {
        if !seen.insert(s) {
            return Err(Invalid::new("scope", format!("{s} is named twice")));
        }
    }
    Ok(())
}

/// A part of the ISMS the programme must cover once per cycle: an ISO/IEC
/// 27001:2022 clause (4 to 10) or Annex A theme (5 to 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageRow {
    /// `Clause 9` or `Annex A 5 (Organizational)`.
    pub area: String,
    /// The ref id prefix that belongs to the area: `9` or `A.5`.
    pub prefix: String,
    /// YYYY-MM-DD of the last audit that covered it, if any.
    pub last_audited: Option<String>,
    /// The audit that did.
    pub last_audit_id: Option<i64>,
    /// YYYY-MM-DD by which it is next due.
    pub due: String,
    pub overdue: bool,
}

const AREAS: &[(&str, &str)] = &[
    ("4", "Clause 4 (Context of the organization)"),
    ("5", "Clause 5 (Leadership)"),
    ("6", "Clause 6 (Planning)"),
    ("7", "Clause 7 (Support)"),
    ("8", "Clause 8 (Operation)"),
    ("9", "Clause 9 (Performance evaluation)"),
    ("10", "Clause 10 (Improvement)"),
    ("A.5", "Annex A 5 (Organizational controls)"),
    ("A.6", "Annex A 6 (People controls)"),
    ("A.7", "Annex A 7 (Physical controls)"),
    ("A.8", "Annex A 8 (Technological controls)"),
];

fn area_of(ref_id: &str) -> Option<&'static str> {
    let head = if let Some(rest) = ref_id.strip_prefix("A.") {
        let theme = rest.split('.').next()?;
        return AREAS
            .iter()
            .find(|(p, _)| p.strip_prefix("A.") == Some(theme))
            .map(|(p, _)| *p);
    } else {
        ref_id.split('.').next()?
    };
    AREAS.iter().find(|(p, _)| *p == head).map(|(p, _)| *p)
}

/// `date` (YYYY-MM-DD) plus `years`.
pub fn add_years(date: &str, years: i32) -> String {
    let (y, rest) = date.split_at(date.find('-').unwrap_or(date.len()));
    match y.parse::<i32>() {
        Ok(y) => {
            let rest = if rest == "-02-29" { "-02-28" } else { rest };
            format!("{:04}{rest}", y + years)
        }
        Err(_) => date.to_owned(),
    }
}

/// The programme's coverage of ISO/IEC 27001:2022: for each clause and
/// Annex A theme, the last audit that covered it (`audited` holds (audit id,
/// YYYY-MM-DD it was held, ref id) of completed or running audits) and when
/// it is next due, each area once every `cycle_years`. Never audited is due
/// `today`.
pub fn coverage(
    audited: &[(i64, String, String)],
    today: &str,
    cycle_years: i32,
) -> Vec<CoverageRow> {
    let mut last: BTreeMap<&str, (String, i64)> = BTreeMap::new();
    for (id, date, ref_id) in audited {
        if let Some(a) = area_of(ref_id) {
            let e = last.entry(a).or_insert_with(|| (date.clone(), *id));
            if *date > e.0 {
                *e = (date.clone(), *id);
            }
        }
    }
    AREAS
        .iter()
        .map(|(prefix, area)| {
            let l = last.get(prefix);
            let due = l.map_or_else(|| today.to_owned(), |(d, _)| add_years(d, cycle_years));
            CoverageRow {
                area: (*area).to_owned(),
                prefix: (*prefix).to_owned(),
                last_audited: l.map(|(d, _)| d.clone()),
                last_audit_id: l.map(|(_, id)| *id),
                overdue: due.as_str() < today || l.is_none(),
                due,
            }
        })
        .collect()
}

/// What the readiness checklist needs to know about internal audits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFacts {
    pub audits: i64,
    /// YYYY-MM-DD of the last completed audit's end (or start).
    pub last_completed: Option<String>,
    /// Clauses and themes not audited within the cycle.
    pub areas_due: usize,
}

/// Clause 9.2: a programme exists and an audit was completed within the year.
pub fn audit_readiness(f: &AuditFacts, year_ago: &str) -> (crate::risk::Readiness, String) {
    use crate::risk::Readiness as R;
    match (&f.last_completed, f.audits) {
        (_, 0) => (
            R::Missing,
            "no internal audit planned: plan the audit programme".into(),
        ),
        (None, n) => (
            R::Incomplete,
            format!("{n} audit(s) planned, none completed yet"),
        ),
        (Some(d), _) if d.as_str() < year_ago.get(..10).unwrap_or(year_ago) => (
            R::Incomplete,
            format!("the last audit was completed on {d}, over a year ago"),
        ),
        (Some(d), n) if f.areas_due > 0 => (
            R::Ready,
            format!(
                "{n} audit(s), the last completed on {d}; {} clause(s)/theme(s) still due in this cycle",
                f.areas_due
            ),
        ),
        (Some(d), n) => (
            R::Ready,
            format!("{n} audit(s), the last completed on {d}; every clause and theme covered"),
        ),
    }
}

impl From<UnknownName> for Invalid {
    fn from(e: UnknownName) -> Self {
        Invalid::new(e.kind, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_control(s: &str) -> bool {
        ["5.1", "5.15", "8.5"].contains(&s)
    }

    #[test]
    fn bare_annex_a_ids_resolve_to_controls_and_clauses_keep_their_numbers() {
        assert_eq!(resolve_ref(ISO27001, "8.5", is_control), "A.8.5");
        assert_eq!(resolve_ref(ISO27001, " A.5.15 ", is_control), "A.5.15");
        assert_eq!(resolve_ref(ISO27001, "9.2", is_control), "9.2");
        assert_eq!(resolve_ref(ISO27001, "clause 5.1", is_control), "5.1");
        assert_eq!(resolve_ref("nist-csf", "GV.OC-01", is_control), "GV.OC-01");
        assert_eq!(short_ref(ISO27001, "A.8.5", is_control), "8.5");
        assert_eq!(short_ref(ISO27001, "5.1", is_control), "clause 5.1");
        assert_eq!(short_ref(ISO27001, "9.2", is_control), "9.2");
        assert_eq!(annex_a_control(ISO27001, "A.8.5").as_deref(), Some("8.5"));
        assert_eq!(annex_a_control(ISO27001, "9.2"), None);
    }

    #[test]
    fn an_auditor_who_owns_an_audited_requirement_is_refused_by_name() {
        let scope = vec!["8.5".to_owned(), "5.15".to_owned()];
        let owners = vec![
            (
                "8.5".to_owned(),
                "bob@x.test".to_owned(),
                "SoA entry".to_owned(),
            ),
            (
                "5.1".to_owned(),
                "eve@x.test".to_owned(),
                "SoA entry".to_owned(),
            ),
        ];
        let c =
            independence_conflicts(&scope, &owners, &["Bob@x.test".into(), "eve@x.test".into()]);
        assert_eq!(c.len(), 1);
        let e = independence(&c).unwrap_err();
        assert_eq!(e.field, "auditors");
        assert!(
            e.why.contains("Bob@x.test owns the SoA entry of 8.5"),
            "{e}"
        );
        assert!(independence(&[]).is_ok());
    }

    #[test]
    fn audits_move_forward_and_findings_need_an_open_audit() {
        use AuditStatus as S;
        assert!(S::Planned.can_become(S::InProgress));
        assert!(S::InProgress.can_become(S::Completed));
        assert!(!S::Cancelled.can_become(S::InProgress));
        assert!(S::Cancelled.transition(S::Completed).is_err());
        assert_eq!(S::Planned.on_finding(), Ok(S::InProgress));
        assert!(S::Completed.on_finding().is_err());
        assert_eq!(FindingResult::Conform.raises(), None);
        assert_eq!(
            FindingResult::MinorNonconformity.raises(),
            Some(crate::nonconformity::Severity::Minor)
        );
        assert_eq!(
            "minor_nonconformity".parse::<FindingResult>(),
            Ok(FindingResult::MinorNonconformity)
        );
        assert!("good".parse::<FindingResult>().is_err());
    }

    #[test]
    fn coverage_dates_each_area_and_says_what_is_due() {
        let rows = coverage(
            &[
                (1, "2024-03-01".into(), "A.8.5".into()),
                (2, "2026-02-01".into(), "A.8.1".into()),
                (2, "2026-02-01".into(), "9.2".into()),
            ],
            "2026-06-01",
            3,
        );
        let a8 = rows.iter().find(|r| r.prefix == "A.8").unwrap();
        assert_eq!(a8.last_audited.as_deref(), Some("2026-02-01"));
        assert_eq!(a8.last_audit_id, Some(2));
        assert_eq!(a8.due, "2029-02-01");
        assert!(!a8.overdue);
        let c4 = rows.iter().find(|r| r.prefix == "4").unwrap();
        assert!(c4.overdue && c4.last_audited.is_none());
        assert_eq!(rows.len(), 11);
        assert_eq!(add_years("2024-02-29", 1), "2025-02-28");
    }

    #[test]
    fn the_scope_is_required_and_without_repeats() {
        assert!(check_scope(&[], 10).is_err());
        assert!(check_scope(&["8.5".into(), "8.5".into()], 10).is_err());
        assert!(check_scope(&["8.5".into()], 10).is_ok());
    }

    #[test]
    fn readiness_wants_an_audit_completed_within_the_year() {
        use crate::risk::Readiness as R;
        let f = AuditFacts::default();
        assert_eq!(audit_readiness(&f, "2025-06-01").0, R::Missing);
        let f = AuditFacts {
            audits: 1,
            last_completed: Some("2025-01-01".into()),
            areas_due: 0,
        };
        assert_eq!(audit_readiness(&f, "2025-06-01").0, R::Incomplete);
        assert_eq!(audit_readiness(&f, "2024-06-01").0, R::Ready);
    }
}
