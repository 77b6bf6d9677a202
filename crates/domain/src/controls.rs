//! Applied controls (8.1), evidence, control reviews and measurement (9.1, the
//! ISO/IEC 27004 way): the enums, the date and threshold rules, the suggested
//! SoA status and the check that an uploaded file's bytes agree with its name.
//! Pure functions only; the store loads, calls these, writes and audits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use crate::risk::{Invalid, UnknownName};

named_enum!(
    /// What kind of measure a control is.
    ControlCategory, "category", {
    Policy => "policy" / "Policy",
    Process => "process" / "Process",
    Technical => "technical" / "Technical",
    Physical => "physical" / "Physical",
});

named_enum!(
    /// Where an applied control stands.
    ControlStatus, "status", {
    Planned => "planned" / "Planned",
    InProgress => "in_progress" / "In progress",
    Implemented => "implemented" / "Implemented",
    Retired => "retired" / "Retired",
});

named_enum!(
    /// How often a control is reviewed.
    ReviewSchedule, "review schedule", {
    Monthly => "monthly" / "Monthly",
    Quarterly => "quarterly" / "Quarterly",
    HalfYearly => "half_yearly" / "Every six months",
    Yearly => "yearly" / "Yearly",
});

named_enum!(
    /// What a control review found.
    ReviewResult, "result", {
    Effective => "effective" / "Effective",
    PartiallyEffective => "partially_effective" / "Partially effective",
    NotEffective => "not_effective" / "Not effective",
});

named_enum!(
    /// How often a metric is measured.
    Frequency, "frequency", {
    Weekly => "weekly" / "Weekly",
    Monthly => "monthly" / "Monthly",
    Quarterly => "quarterly" / "Quarterly",
    HalfYearly => "half_yearly" / "Every six months",
    Yearly => "yearly" / "Yearly",
});

named_enum!(
    /// Which side of the target is good.
    Direction, "direction", {
    Higher => "higher" / "Higher is better",
    Lower => "lower" / "Lower is better",
});

named_enum!(
    /// A metric's latest value against its target.
    Rag, "status", {
    Green => "green" / "On target",
    Amber => "amber" / "Near target",
    Red => "red" / "Off target",
});

/// A calendar date, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl Date {
    /// Reads `YYYY-MM-DD`; `field` names the input in the error.
    pub fn parse(field: &str, s: &str) -> Result<Date, Invalid> {
        let bad = || Invalid::new(field, format!("'{s}' is not a date: use YYYY-MM-DD"));
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let year: i32 = s[0..4].parse().map_err(|_| bad())?;
        let month: u32 = s[5..7].parse().map_err(|_| bad())?;
        let day: u32 = s[8..10].parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(bad());
        }
        Ok(Date { year, month, day })
    }

    /// The same day `n` months later (the last day of a shorter month).
    #[must_use]
    pub fn add_months(self, n: u32) -> Date {
        let total = self.year * 12
            + i32::try_from(self.month - 1).unwrap_or(0)
            + i32::try_from(n).unwrap_or(0);
        let year = total.div_euclid(12);
        let month = u32::try_from(total.rem_euclid(12)).unwrap_or(0) + 1;
        Date {
            year,
            month,
            day: self.day.min(days_in_month(year, month)),
        }
    }
}

impl Date {
    /// `n` days later.
    #[must_use]
    pub fn add_days(self, n: u32) -> Date {
        let mut d = self;
        for _ in 0..n {
            if d.day < days_in_month(d.year, d.month) {
                d.day += 1;
            } else if d.month < 12 {
                d = Date {
                    day: 1,
                    month: d.month + 1,
                    ..d
                };
            } else {
                d = Date {
                    year: d.year + 1,
                    month: 1,
                    day: 1,
                };
            }
        }
        d
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// An optional date field: empty stays empty, anything else must be a date.
pub fn optional_date(field: &str, s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    if s.is_empty() {
        Ok(String::new())
    } else {
        Date::parse(field, s).map(|d| d.to_string())
    }
}

impl ReviewSchedule {
    pub fn months(self) -> u32 {
        match self {
            ReviewSchedule::Monthly => 1,
            ReviewSchedule::Quarterly => 3,
            ReviewSchedule::HalfYearly => 6,
            ReviewSchedule::Yearly => 12,
        }
    }

    /// When the next review falls, one period after `last`.
    pub fn next_after(self, last: Date) -> Date {
        last.add_months(self.months())
    }
}

/// Evidence is collected on a date and may expire on a later one.
pub fn check_evidence_dates(collected_on: &str, expires_on: &str) -> Result<(), Invalid> {
    let collected = Date::parse("collected_on", collected_on)?;
    if expires_on.trim().is_empty() {
        return Ok(());
    }
    let expires = Date::parse("expires_on", expires_on)?;
    if expires < collected {
        return Err(Invalid::new(
            "expires_on",
            format!("{expires} is before the collection date {collected}"),
        ));
    }
    Ok(())
}

/// Whether evidence expiring on `expires_on` (YYYY-MM-DD or empty) has expired by `today`.
pub fn is_expired(expires_on: &str, today: &str) -> bool {
    !expires_on.is_empty() && expires_on < today
}

/// The SoA status the linked controls suggest (`None` without live controls):
/// all implemented -> implemented; some implemented or under way ->
/// partially implemented; only planned -> planned.
pub fn suggested_soa_status(statuses: &[ControlStatus]) -> Option<&'static str> {
    let live: Vec<ControlStatus> = statuses
        .iter()
        .copied()
        .filter(|s| *s != ControlStatus::Retired)
        .collect();
    if live.is_empty() {
        return None;
    }
    let implemented = live
        .iter()
        .filter(|s| **s == ControlStatus::Implemented)
        .count();
    Some(if implemented == live.len() {
        "implemented"
    } else if implemented > 0 || live.contains(&ControlStatus::InProgress) {
        "partially_implemented"
    } else {
        "planned"
    })
}

/// How well a requirement is covered by the controls linked to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// At least one implemented control.
    Implemented,
    /// Controls, none implemented yet.
    Planned,
    /// No live control.
    None,
}

impl Coverage {
    pub fn of(statuses: &[ControlStatus]) -> Coverage {
        if statuses.contains(&ControlStatus::Implemented) {
            Coverage::Implemented
        } else if statuses.iter().any(|s| *s != ControlStatus::Retired) {
            Coverage::Planned
        } else {
            Coverage::None
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::Implemented => "implemented",
            Coverage::Planned => "planned",
            Coverage::None => "none",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Coverage::Implemented => "Implemented control",
            Coverage::Planned => "Only planned controls",
            Coverage::None => "No control",
        }
    }
}

/// A metric's thresholds: green on the target's good side, amber up to
/// `red_threshold` on the other, red beyond (no amber band without one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub target: f64,
    pub direction: Direction,
    pub red_threshold: Option<f64>,
}

impl Thresholds {
    /// Checks that the red threshold lies on the bad side of the target.
    pub fn check(&self) -> Result<(), Invalid> {
        if !self.target.is_finite() {
            return Err(Invalid::new("target", "must be a number"));
        }
        if let Some(r) = self.red_threshold {
            let bad_side = match self.direction {
                Direction::Higher => r < self.target,
                Direction::Lower => r > self.target,
            };
            if !r.is_finite() || !bad_side {
                return Err(Invalid::new(
                    "red_threshold",
                    format!(
                        "{r} must lie on the far side of the target {} ({})",
                        self.target,
                        if self.direction == Direction::Higher {
                            "below it: higher is better"
                        } else {
                            "above it: lower is better"
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn status(&self, value: f64) -> Rag {
        let good = match self.direction {
            Direction::Higher => value >= self.target,
            Direction::Lower => value <= self.target,
        };
        if good {
            return Rag::Green;
        }
        match (self.red_threshold, self.direction) {
            (Some(r), Direction::Higher) if value > r => Rag::Amber,
            (Some(r), Direction::Lower) if value < r => Rag::Amber,
            _ => Rag::Red,
        }
    }
}

/// The file types whose extension we check against the bytes: extension ->
/// the kinds the sniffer may report for it (`text` when the bytes are text).
const KNOWN_EXTENSIONS: &[(&str, &[&str])] = &[
    ("pdf", &["pdf"]),
    ("png", &["png"]),
    ("jpg", &["jpg"]),
    ("jpeg", &["jpg"]),
    ("gif", &["gif"]),
    ("webp", &["webp"]),
    ("zip", &["zip"]),
    ("docx", &["docx", "zip"]),
    ("xlsx", &["xlsx", "zip"]),
    ("pptx", &["pptx", "zip"]),
    ("odt", &["odt", "zip"]),
    ("ods", &["ods", "zip"]),
    ("gz", &["gz"]),
    ("txt", &["text"]),
    ("csv", &["text"]),
    ("md", &["text"]),
    ("json", &["text"]),
    ("log", &["text"]),
    ("xml", &["text", "xml"]),
    ("html", &["text", "html"]),
    ("yaml", &["text"]),
    ("yml", &["text"]),
];

/// Refuses a file whose bytes contradict its name. `sniffed` is the
/// extension the sniffer found in the bytes (`None` when it knows none) and
/// `text` whether the first bytes are UTF-8 text without control characters.
/// Unknown extensions are accepted as long as the bytes are not an
/// executable.
pub fn check_upload(file_name: &str, sniffed: Option<&str>, text: bool) -> Result<(), Invalid> {
    if matches!(sniffed, Some("exe" | "elf" | "dll" | "mach" | "dex")) {
        return Err(Invalid::new(
            "file",
            format!("{file_name} is a program; evidence must be documents, images or data"),
        ));
    }
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let Some((_, allowed)) = KNOWN_EXTENSIONS.iter().find(|(e, _)| *e == ext) else {
        return Ok(());
    };
    let found = match sniffed {
        Some(kind) => kind,
        None if text => "text",
        None => "unknown binary data",
    };
    if allowed.contains(&found) {
        Ok(())
    } else {
        Err(Invalid::new(
            "file",
            format!("{file_name}: the bytes are {found}, not what the extension .{ext} says"),
        ))
    }
}

impl FromStr for Date {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Date::parse("date", s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_add_months_to_the_last_day() {
        let d = Date::parse("d", "2026-01-31").unwrap();
        assert_eq!(d.add_months(1).to_string(), "2026-02-28");
        assert_eq!(d.add_months(12).to_string(), "2027-01-31");
        assert_eq!(
            ReviewSchedule::Quarterly
                .next_after(Date::parse("d", "2026-11-15").unwrap())
                .to_string(),
            "2027-02-15"
        );
        assert!(Date::parse("d", "2026-02-30").is_err());
        assert!(Date::parse("d", "26-1-1").is_err());
    }

    #[test]
    fn evidence_cannot_expire_before_it_was_collected() {
        assert!(check_evidence_dates("2026-03-01", "").is_ok());
        assert!(check_evidence_dates("2026-03-01", "2026-03-01").is_ok());
        let e = check_evidence_dates("2026-03-01", "2026-02-28").unwrap_err();
        assert_eq!(e.field, "expires_on");
        assert!(is_expired("2026-01-01", "2026-01-02") && !is_expired("", "2026-01-02"));
    }

    #[test]
    fn the_suggested_status_follows_the_controls() {
        use ControlStatus::*;
        assert_eq!(suggested_soa_status(&[]), None);
        assert_eq!(suggested_soa_status(&[Retired]), None);
        assert_eq!(
            suggested_soa_status(&[Implemented, Retired]),
            Some("implemented")
        );
        assert_eq!(
            suggested_soa_status(&[Implemented, Planned]),
            Some("partially_implemented")
        );
        assert_eq!(
            suggested_soa_status(&[InProgress]),
            Some("partially_implemented")
        );
        assert_eq!(suggested_soa_status(&[Planned]), Some("planned"));
        assert_eq!(Coverage::of(&[Planned, Implemented]), Coverage::Implemented);
        assert_eq!(Coverage::of(&[Retired]), Coverage::None);
    }

    #[test]
    fn thresholds_colour_values() {
        let t = Thresholds {
            target: 95.0,
            direction: Direction::Higher,
            red_threshold: Some(80.0),
        };
        assert_eq!(t.status(97.0), Rag::Green);
        assert_eq!(t.status(90.0), Rag::Amber);
        assert_eq!(t.status(70.0), Rag::Red);
        let l = Thresholds {
            target: 14.0,
            direction: Direction::Lower,
            red_threshold: Some(30.0),
        };
        assert_eq!(l.status(10.0), Rag::Green);
        assert_eq!(l.status(20.0), Rag::Amber);
        assert!(
            Thresholds {
                red_threshold: Some(99.0),
                ..t
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn uploads_must_match_their_extension() {
        assert!(check_upload("scan.pdf", Some("pdf"), false).is_ok());
        assert!(check_upload("notes.txt", None, true).is_ok());
        assert!(check_upload("report.docx", Some("zip"), false).is_ok());
        assert!(check_upload("export.bin", None, false).is_ok());
        let e = check_upload("scan.pdf", Some("png"), false).unwrap_err();
        assert!(e.why.contains("png"), "{e}");
        assert!(check_upload("notes.txt", Some("pdf"), false).is_err());
        assert!(check_upload("fake.pdf", None, true).is_err());
        assert!(check_upload("tool.bin", Some("elf"), false).is_err());
    }
}
