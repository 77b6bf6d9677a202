//! Documented information (ISO/IEC 27001:2022 clauses 5.2, 7.3, 7.5; Annex A
//! 5.1, 5.37): documents with versions written in Markdown, the workflow a
//! version goes through (draft, in review, approved, published, superseded),
//! the four-eyes rule, version numbers, who must acknowledge what, review
//! dates and the difference between two versions. Pure rules, no I/O.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Role;

/// Declares a closed set of names with `as_str`, `FromStr` and `ALL`.
macro_rules! names {
    ($(#[$m:meta])* $name:ident, $what:literal { $($v:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let s = s.trim();
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("'{s}' is not a {}: use one of {}", $what, names.join(", "))
                })
            }
        }
    };
}

names!(
    /// What kind of documented information a document is.
    DocType, "document type" {
        Policy => "policy",
        Procedure => "procedure",
        Standard => "standard",
        Record => "record",
        Plan => "plan",
        Statement => "statement",
    }
);

names!(
    /// Who may see a document's content.
    Classification, "classification" {
        Public => "public",
        Internal => "internal",
        Confidential => "confidential",
        Restricted => "restricted",
    }
);

names!(
    /// Where a version stands in the workflow.
    VersionState, "version state" {
        Draft => "draft",
        InReview => "in_review",
        Approved => "approved",
        Published => "published",
        Superseded => "superseded",
    }
);

names!(
    /// A document in use, or retired (kept and readable, no longer in force).
    DocStatus, "document status" {
        Active => "active",
        Retired => "retired",
    }
);

impl VersionState {
    pub fn label(self) -> &'static str {
        match self {
            VersionState::Draft => "Draft",
            VersionState::InReview => "In review",
            VersionState::Approved => "Approved",
            VersionState::Published => "Published",
            VersionState::Superseded => "Superseded",
        }
    }
}

impl DocType {
    pub fn label(self) -> &'static str {
        match self {
            DocType::Policy => "Policy",
            DocType::Procedure => "Procedure",
            DocType::Standard => "Standard",
            DocType::Record => "Record",
            DocType::Plan => "Plan",
            DocType::Statement => "Statement",
        }
    }
}

/// A step of the workflow asked for on the current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Change the text of the current version.
    Edit,
    /// Hand a draft to its reviewers.
    Submit,
    /// Send a version in review back to draft.
    Reject,
    /// Approve a version in review.
    Approve,
    /// Put an approved version in force.
    Publish,
}

impl Step {
    fn verb(self) -> &'static str {
        match self {
            Step::Edit => "edited",
            Step::Submit => "submitted for review",
            Step::Reject => "sent back to draft",
            Step::Approve => "approved",
            Step::Publish => "published",
        }
    }
}

/// Why a step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The version is not in a state the step applies to.
    #[error("version {version} is {state} and cannot be {verb}: {hint}")]
    WrongState {
        version: String,
        state: &'static str,
        verb: &'static str,
        hint: &'static str,
    },
    /// The author (or last editor) tries to approve under four-eyes.
    #[error(
        "four-eyes approval: you wrote or edited version {version}, so someone else with approval rights must approve it (an administrator can turn four-eyes off in the document settings)"
    )]
    SelfApproval { version: String },
    /// The document is retired.
    #[error("the document is retired: it stays readable but its versions no longer change")]
    Retired,
}

/// The state a version moves to when `step` is applied in `state`, or why not.
pub fn next_state(state: VersionState, step: Step, version: &str) -> Result<VersionState, Refused> {
    use VersionState as S;
    let next = match (state, step) {
        (S::Draft, Step::Edit) | (S::InReview | S::Approved, Step::Reject) => Some(S::Draft),
        (S::Draft, Step::Submit) => Some(S::InReview),
        (S::InReview, Step::Approve) => Some(S::Approved),
        (S::Approved, Step::Publish) => Some(S::Published),
        _ => None,
    };
    next.ok_or_else(|| Refused::WrongState {
        version: version.to_owned(),
        state: state.label_lower(),
        verb: step.verb(),
        hint: match (state, step) {
            (S::Published | S::Superseded, Step::Edit) => {
                "a published version never changes; saving a draft starts a new version"
            }
            (S::InReview | S::Approved, Step::Edit) => {
                "send it back to draft first (reject), then edit"
            }
            (S::Draft, Step::Approve | Step::Publish) => "submit it for review first",
            (S::InReview, Step::Publish) => "approve it first",
            _ => "see the document's workflow",
        },
    })
}

impl VersionState {
    fn label_lower(self) -> &'static str {
        match self {
            VersionState::Draft => "a draft",
            VersionState::InReview => "in review",
            VersionState::Approved => "approved",
            VersionState::Published => "published",
            VersionState::Superseded => "superseded",
        }
    }
}

/// The four-eyes rule: under it, nobody who wrote or last edited a version
/// approves it.
pub fn check_approver(
    four_eyes: bool,
    approver: Option<i64>,
    authors: &[Option<i64>],
    version: &str,
) -> Result<(), Refused> {
    if four_eyes && approver.is_some() && authors.contains(&approver) {
        return Err(Refused::SelfApproval {
            version: version.to_owned(),
        });
    }
    Ok(())
}

/// A version number: a major change asks everyone to acknowledge again, a
/// minor one does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VersionNo {
    pub major: i64,
    pub minor: i64,
}

impl fmt::Display for VersionNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl VersionNo {
    pub const FIRST: VersionNo = VersionNo { major: 1, minor: 0 };

    /// The number of a new draft after `published` (the latest version ever
    /// published): the first is 1.0; then a minor or a major step.
    pub fn after(published: Option<VersionNo>, major: bool) -> VersionNo {
        match published {
            None => VersionNo::FIRST,
            Some(p) if major => VersionNo {
                major: p.major + 1,
                minor: 0,
            },
            Some(p) => VersionNo {
                major: p.major,
                minor: p.minor + 1,
            },
        }
    }
}

/// Who must acknowledge a published version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every active member.
    All,
    /// Members with the employee role.
    Employees,
    /// Members with this role.
    Role(Role),
    /// These people (e-mail addresses, lower case).
    People(Vec<String>),
}

impl Audience {
    /// Parses `"all"`, `"employees"`, a role name, or a list of e-mail addresses.
    pub fn parse(v: &serde_json::Value) -> Result<Audience, String> {
        const HINT: &str = "use \"all\", \"employees\", a role (e.g. \"auditor\") or a list of members' e-mail addresses";
        match v {
            serde_json::Value::String(s) => match s.trim() {
                "all" => Ok(Audience::All),
                "employees" => Ok(Audience::Employees),
                other => other
                    .parse::<Role>()
                    .map(Audience::Role)
                    .map_err(|_| format!("acknowledge: '{other}' is not a group: {HINT}")),
            },
            serde_json::Value::Array(items) => {
                let mut out = Vec::new();
                for i in items {
                    let Some(e) = i.as_str().map(|e| e.trim().to_lowercase()) else {
                        return Err(format!("acknowledge: {i} is not an e-mail address: {HINT}"));
                    };
                    if !e.contains('@') {
                        return Err(format!("acknowledge: '{e}' is not an e-mail address"));
                    }
                    if !out.contains(&e) {
                        out.push(e);
                    }
                }
                if out.is_empty() {
                    return Err(format!("acknowledge: the list is empty: {HINT}"));
                }
                Ok(Audience::People(out))
            }
            other => Err(format!("acknowledge: {other} is not a group: {HINT}")),
        }
    }

    /// The JSON form stored with the version (what [`Audience::parse`] reads).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Audience::All => "all".into(),
            Audience::Employees => "employees".into(),
            Audience::Role(r) => r.as_str().into(),
            Audience::People(p) => p.clone().into(),
        }
    }

    /// Words for people.
    pub fn describe(&self) -> String {
        match self {
            Audience::All => "all members".into(),
            Audience::Employees => "employees".into(),
            Audience::Role(r) => format!("members with the role {}", r.label()),
            Audience::People(p) => p.join(", "),
        }
    }

    /// Whether a member with `email` and `role` belongs to the audience.
    pub fn includes(&self, email: &str, role: Role) -> bool {
        match self {
            Audience::All => true,
            Audience::Employees => role == Role::Employee,
            Audience::Role(r) => *r == role,
            Audience::People(p) => p.iter().any(|e| e.eq_ignore_ascii_case(email)),
        }
    }
}

/// Whether a person who acknowledged the versions with `acked_majors` must
/// acknowledge a published version of `major`: a new major version asks
/// again, a minor one does not.
pub fn must_acknowledge(major: i64, acked_majors: &[i64]) -> bool {
    !acked_majors.contains(&major)
}

/// Whether `date` is a real calendar date written YYYY-MM-DD.
pub fn valid_date(date: &str) -> bool {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| date.get(r).and_then(|s| s.parse::<u32>().ok());
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(y), Some(m), Some(d)) => (1..=12).contains(&m) && d >= 1 && d <= days_in(y, m),
        _ => false,
    }
}

fn days_in(y: u32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The date `months` after `date` (YYYY-MM-DD; the day is clamped to the
/// month's end), or "" when `date` is not a date.
pub fn add_months(date: &str, months: i64) -> String {
    if !valid_date(date) {
        return String::new();
    }
    let y: i64 = date[0..4].parse().unwrap_or(0);
    let m: i64 = date[5..7].parse().unwrap_or(1);
    let d: u32 = date[8..10].parse().unwrap_or(1);
    let total = y * 12 + (m - 1) + months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let day = d.min(days_in(ny as u32, nm as u32));
    format!("{ny:04}-{nm:02}-{day:02}")
}

/// The date the next review is due: `review_months` after the last review
/// (or publication), "" while the document was never published.
pub fn review_due(last_review: &str, review_months: i64) -> String {
    add_months(last_review.get(..10).unwrap_or(""), review_months)
}

/// `date` (YYYY-MM-DD) plus `days` (may be negative); "" for a bad date.
pub fn add_days(date: &str, days: i64) -> String {
    if !valid_date(date) {
        return String::new();
    }
    let y: i64 = date[0..4].parse().unwrap_or(0);
    let m: i64 = date[5..7].parse().unwrap_or(1);
    let d: i64 = date[8..10].parse().unwrap_or(1);
    // Days from civil and back (proleptic Gregorian), after H. Hinnant's
    // public-domain description of the arithmetic.
    let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let n = era * 146_097 + doe + days;
    let era = n.div_euclid(146_097);
    let doe = n - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let nd = doy - (153 * mp + 2) / 5 + 1;
    let nm = if mp < 10 { mp + 3 } else { mp - 9 };
    let ny = yoe + era * 400 + i64::from(nm <= 2);
    format!("{ny:04}-{nm:02}-{nd:02}")
}

/// The days people have to read and acknowledge a published version, when
/// the document does not say otherwise.
pub const DEFAULT_READING_DAYS: i64 = 14;
/// The longest reading period.
pub const MAX_READING_DAYS: i64 = 365;

/// Checks a reading period in days (0: by the day of publication).
pub fn check_reading_days(d: i64) -> Result<i64, String> {
    if (0..=MAX_READING_DAYS).contains(&d) {
        Ok(d)
    } else {
        Err(format!(
            "reading_days: {d} is outside 0 to {MAX_READING_DAYS} (days people have to read and acknowledge a published version)"
        ))
    }
}

/// The day by which a version published at `published_at` (RFC 3339) must
/// be acknowledged, `reading_days` later; "" while unpublished.
pub fn read_by(published_at: &str, reading_days: i64) -> String {
    add_days(published_at.get(..10).unwrap_or(""), reading_days)
}

/// The most months between reviews.
pub const MAX_REVIEW_MONTHS: i64 = 60;

/// Checks a review interval in months.
pub fn check_review_months(m: i64) -> Result<i64, String> {
    if (1..=MAX_REVIEW_MONTHS).contains(&m) {
        Ok(m)
    } else {
        Err(format!(
            "review_months: {m} is outside 1 to {MAX_REVIEW_MONTHS} (months between reviews)"
        ))
    }
}

/// The clauses of ISO/IEC 27001:2022 a document can address.
pub const CLAUSES: &[&str] = &[
    "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3", "6.1", "6.1.1", "6.1.2", "6.1.3", "6.2",
    "6.3", "7.1", "7.2", "7.3", "7.4", "7.5", "7.5.1", "7.5.2", "7.5.3", "8.1", "8.2", "8.3",
    "9.1", "9.2", "9.2.1", "9.2.2", "9.3", "9.3.1", "9.3.2", "9.3.3", "10.1", "10.2",
];

/// Checks a clause (`5.2`) or Annex A control (`A.5.1`) reference; returns
/// it in the catalog's spelling.
pub fn check_requirement(r: &str) -> Result<String, String> {
    let r = r.trim();
    if CLAUSES.contains(&r) {
        return Ok(r.to_owned());
    }
    if let Some(rest) = r.strip_prefix("A.").or_else(|| r.strip_prefix("a."))
        && let Some((theme, n)) = rest.split_once('.')
        && let (Ok(theme), Ok(n)) = (theme.parse::<u32>(), n.parse::<u32>())
    {
        let max = match theme {
            5 => 37,
            6 => 8,
            7 => 14,
            8 => 34,
            _ => 0,
        };
        if (1..=max).contains(&n) {
            return Ok(format!("A.{theme}.{n}"));
        }
    }
    Err(format!(
        "requirements: '{r}' is neither a clause of ISO/IEC 27001:2022 (4.1 to 10.2) nor an Annex A control (A.5.1 to A.8.34)"
    ))
}

/// Sorts references in the standard's order: clauses, then Annex A.
pub fn sort_requirements(refs: &mut Vec<String>) {
    fn key(r: &str) -> (bool, Vec<u32>) {
        let annex = r.starts_with("A.");
        let nums = r
            .trim_start_matches("A.")
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        (annex, nums)
    }
    refs.sort_by_key(|r| key(r));
    refs.dedup();
}

/// One line of a difference between two texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// "same", "added" or "removed".
    pub change: &'static str,
    pub text: String,
}

/// The lines of `new` compared with `old`, in reading order.
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    use similar::{ChangeTag, TextDiff};
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|c| DiffLine {
            change: match c.tag() {
                ChangeTag::Equal => "same",
                ChangeTag::Insert => "added",
                ChangeTag::Delete => "removed",
            },
            text: c.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect()
}

/// The facts of the information security policy readiness item (5.2).
#[derive(Debug, Clone, Default)]
pub struct PolicyFacts {
    /// Active documents addressing clause 5.2.
    pub documents: i64,
    /// Of those, the latest publication or review (RFC 3339 text), if any was published.
    pub last_review: Option<String>,
    /// The published version and who approved it.
    pub published: Option<(String, String)>,
}

/// The readiness of "information security policy": an approved, published
/// policy addressing 5.2 that was reviewed within a year.
pub fn policy_readiness(f: &PolicyFacts, year_ago: &str) -> (crate::risk::Readiness, String) {
    use crate::risk::Readiness as R;
    match (&f.published, &f.last_review) {
        _ if f.documents == 0 => (
            R::Missing,
            "no information security policy: create one from the template in Documents".into(),
        ),
        (None, _) | (_, None) => (
            R::Incomplete,
            "the information security policy is not approved and published yet".into(),
        ),
        (Some((v, _)), Some(r)) if r.as_str() < year_ago => (
            R::Incomplete,
            format!(
                "version {v} was last reviewed on {}, over a year ago: review it",
                r.get(..10).unwrap_or("")
            ),
        ),
        (Some((v, by)), Some(r)) => (
            R::Ready,
            format!(
                "version {v} approved by {by}, reviewed on {}",
                r.get(..10).unwrap_or("")
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_added_across_months_years_and_leap_days() {
        assert_eq!(add_days("2026-12-25", 14), "2027-01-08");
        assert_eq!(add_days("2028-02-20", 10), "2028-03-01");
        assert_eq!(add_days("2027-02-20", 9), "2027-03-01");
        assert_eq!(add_days("2026-03-01", -1), "2026-02-28");
        assert_eq!(add_days("2026-05-31", 0), "2026-05-31");
        assert_eq!(add_days("nope", 3), "");
        assert_eq!(read_by("2026-12-06T10:00:00.000000Z", 14), "2026-12-20");
        assert_eq!(read_by("", 14), "");
        assert!(check_reading_days(0).is_ok() && check_reading_days(366).is_err());
        assert!(check_reading_days(-1).unwrap_err().contains("reading_days"));
    }
    use VersionState as S;

    #[test]
    fn a_version_moves_draft_review_approved_published() {
        let mut s = S::Draft;
        for (step, want) in [
            (Step::Edit, S::Draft),
            (Step::Submit, S::InReview),
            (Step::Approve, S::Approved),
            (Step::Publish, S::Published),
        ] {
            s = next_state(s, step, "1.0").unwrap();
            assert_eq!(s, want);
        }
        assert_eq!(next_state(S::InReview, Step::Reject, "1.0"), Ok(S::Draft));
    }

    #[test]
    fn steps_out_of_order_are_refused_with_the_way_forward() {
        let e = next_state(S::Published, Step::Edit, "1.0").unwrap_err();
        assert!(
            e.to_string().contains("published version never changes"),
            "{e}"
        );
        let e = next_state(S::Draft, Step::Approve, "1.1").unwrap_err();
        assert!(e.to_string().contains("version 1.1 is a draft"), "{e}");
        assert!(e.to_string().contains("submit it for review first"), "{e}");
        assert!(next_state(S::InReview, Step::Publish, "1.0").is_err());
        assert!(next_state(S::Superseded, Step::Publish, "1.0").is_err());
        assert!(next_state(S::Published, Step::Approve, "1.0").is_err());
    }

    #[test]
    fn four_eyes_refuses_the_author_and_the_editor_only_when_on() {
        let authors = [Some(1), Some(2)];
        assert!(matches!(
            check_approver(true, Some(1), &authors, "1.0"),
            Err(Refused::SelfApproval { .. })
        ));
        assert!(check_approver(true, Some(2), &authors, "1.0").is_err());
        assert!(check_approver(true, Some(3), &authors, "1.0").is_ok());
        assert!(check_approver(false, Some(1), &authors, "1.0").is_ok());
        // The command line has no user: nobody to compare.
        assert!(check_approver(true, None, &[None], "1.0").is_ok());
    }

    #[test]
    fn version_numbers_step_minor_or_major() {
        assert_eq!(VersionNo::after(None, true).to_string(), "1.0");
        let p = VersionNo { major: 1, minor: 2 };
        assert_eq!(VersionNo::after(Some(p), false).to_string(), "1.3");
        assert_eq!(VersionNo::after(Some(p), true).to_string(), "2.0");
        assert!(must_acknowledge(2, &[1]));
        assert!(!must_acknowledge(1, &[1]));
    }

    #[test]
    fn audiences_parse_from_json() {
        use serde_json::json;
        assert_eq!(
            Audience::parse(&json!("employees")),
            Ok(Audience::Employees)
        );
        assert_eq!(Audience::parse(&json!("all")), Ok(Audience::All));
        assert_eq!(
            Audience::parse(&json!("auditor")),
            Ok(Audience::Role(Role::Auditor))
        );
        assert_eq!(
            Audience::parse(&json!(["Bob@X.test", "bob@x.test"])),
            Ok(Audience::People(vec!["bob@x.test".into()]))
        );
        assert!(
            Audience::parse(&json!("everyone"))
                .unwrap_err()
                .contains("'everyone'")
        );
        assert!(Audience::parse(&json!([])).is_err());
        assert!(Audience::parse(&json!(["nobody"])).is_err());
        assert!(Audience::Employees.includes("e@x", Role::Employee));
        assert!(!Audience::Employees.includes("a@x", Role::Admin));
        let a = Audience::People(vec!["a@x".into()]);
        assert_eq!(Audience::parse(&a.to_json()), Ok(a));
    }

    #[test]
    fn review_dates_add_months_and_clamp() {
        assert_eq!(add_months("2026-01-31", 1), "2026-02-28");
        assert_eq!(add_months("2024-01-31", 1), "2024-02-29");
        assert_eq!(add_months("2026-11-15", 12), "2027-11-15");
        assert_eq!(review_due("2026-03-04T10:00:00.000000Z", 6), "2026-09-04");
        assert_eq!(review_due("", 6), "");
        assert!(!valid_date("2026-02-30"));
        assert!(check_review_months(0).is_err());
        assert_eq!(check_review_months(12), Ok(12));
    }

    #[test]
    fn requirements_are_clauses_or_annex_a_controls() {
        assert_eq!(check_requirement("5.2"), Ok("5.2".into()));
        assert_eq!(check_requirement("a.5.37"), Ok("A.5.37".into()));
        assert!(
            check_requirement("A.5.38")
                .unwrap_err()
                .contains("'A.5.38'")
        );
        assert!(check_requirement("11.1").is_err());
        let mut r = vec![
            "A.8.1".into(),
            "A.5.10".into(),
            "7.5".into(),
            "A.5.2".into(),
        ];
        sort_requirements(&mut r);
        assert_eq!(r, ["7.5", "A.5.2", "A.5.10", "A.8.1"]);
    }

    #[test]
    fn the_diff_names_added_and_removed_lines() {
        let d = diff("a\nb\nc\n", "a\nB\nc\n");
        let changes: Vec<(&str, &str)> = d.iter().map(|l| (l.change, l.text.as_str())).collect();
        assert_eq!(
            changes,
            [
                ("same", "a"),
                ("removed", "b"),
                ("added", "B"),
                ("same", "c")
            ]
        );
    }

    #[test]
    fn the_policy_is_ready_when_published_and_reviewed_within_a_year() {
        use crate::risk::Readiness as R;
        let mut f = PolicyFacts::default();
        assert_eq!(policy_readiness(&f, "2026-01-01").0, R::Missing);
        f.documents = 1;
        assert_eq!(policy_readiness(&f, "2026-01-01").0, R::Incomplete);
        f.published = Some(("1.0".into(), "bob@x".into()));
        f.last_review = Some("2025-06-01T00:00:00Z".into());
        let (s, d) = policy_readiness(&f, "2026-01-01");
        assert_eq!(s, R::Incomplete);
        assert!(d.contains("over a year ago"), "{d}");
        f.last_review = Some("2026-06-01T00:00:00Z".into());
        let (s, d) = policy_readiness(&f, "2026-01-01");
        assert_eq!(s, R::Ready);
        assert!(d.contains("bob@x"), "{d}");
    }
}
