//! Management review (ISO/IEC 27001:2022 9.3): the inputs a review
//! considers, compiled from the data as sections of linked lines; the kinds
//! of decision it takes; its actions; and when reviews count as current.
//! Pure types and rules; the store compiles each section with a small
//! function of its own.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::risk::{Invalid, UnknownName, named_enum};

named_enum!(
    /// What a decision of the review is about (9.3.3).
    DecisionKind, "decision kind", {
    Improvement => "improvement" / "Opportunity for improvement",
    Change => "change" / "Change to the ISMS",
    Resources => "resources" / "Resources",
    Other => "other" / "Other",
});

named_enum!(
    /// Where an action of the review stands.
    ReviewActionStatus, "action status", {
    Open => "open" / "Open",
    Done => "done" / "Done",
});

/// One line of an input section, with a link to where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputLine {
    pub text: String,
    /// A local path in the web application, or empty.
    pub link: String,
}

/// One input of 9.3.2 (a), (b), ... compiled from the data (and kept as
/// JSON when a review freezes its inputs, hence owned text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSection {
    /// Stable key, e.g. `nonconformities`.
    pub key: String,
    /// The clause item it answers, e.g. `9.3.2 d) 1)`.
    pub clause: String,
    pub title: String,
    /// One sentence summing the section up.
    pub summary: String,
    pub lines: Vec<InputLine>,
}

impl InputSection {
    pub fn new(key: &'static str, clause: &'static str, title: &'static str) -> Self {
        InputSection {
            key: key.into(),
            clause: clause.into(),
            title: title.into(),
            summary: String::new(),
            lines: Vec::new(),
        }
    }
    pub fn line(&mut self, text: impl Into<String>, link: impl Into<String>) {
        self.lines.push(InputLine {
            text: text.into(),
            link: link.into(),
        });
    }
}

/// The inputs this product cannot compile yet, said plainly so the
/// minutes show they were considered.
pub fn not_compiled(
    key: &'static str,
    clause: &'static str,
    title: &'static str,
    why: &str,
) -> InputSection {
    let mut s = InputSection::new(key, clause, title);
    why.clone_into(&mut s.summary);
    s
}

/// The cut-off of a review's inputs: the end of its date, or when it was
/// recorded if that is later (minutes written after the meeting still see
/// what the meeting saw).
pub fn cutoff(review_date: &str, created_at: &str) -> String {
    let end = format!("{review_date}T23:59:59Z");
    if created_at > end.as_str() {
        created_at.to_owned()
    } else {
        end
    }
}

/// A title and date of a review to record.
pub fn check_review(title: &str, date: &str) -> Result<(), Invalid> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > 300 {
        return Err(Invalid::new("title", "1 to 300 characters"));
    }
    if date.is_empty() {
        return Err(Invalid::new(
            "date",
            "required: the date of the meeting, YYYY-MM-DD",
        ));
    }
    Ok(())
}

/// What the readiness checklist needs to know about reviews.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewFacts {
    pub reviews: i64,
    /// YYYY-MM-DD of the last review held (dated today or earlier).
    pub last_held: Option<String>,
    /// Whether that review recorded at least one decision.
    pub last_has_decisions: bool,
    pub open_actions_overdue: i64,
}

/// Clause 9.3: a review held within the year, with decisions recorded.
pub fn review_readiness(f: &ReviewFacts, year_ago: &str) -> (crate::risk::Readiness, String) {
    use crate::risk::Readiness as R;
    let Some(last) = &f.last_held else {
        return if f.reviews == 0 {
            (R::Missing, "no management review recorded".into())
        } else {
            (
                R::Incomplete,
                "a management review is planned but not yet held".into(),
            )
        };
    };
    if last.as_str() < year_ago.get(..10).unwrap_or(year_ago) {
        return (
            R::Incomplete,
            format!("the last management review was held on {last}, over a year ago"),
        );
    }
    if !f.last_has_decisions {
        return (
            R::Incomplete,
            format!("the review of {last} records no decision: record its decisions"),
        );
    }
    if f.open_actions_overdue > 0 {
        return (
            R::Incomplete,
            format!(
                "review of {last} held; {} of its actions overdue",
                f.open_actions_overdue
            ),
        );
    }
    (
        R::Ready,
        format!("last review held on {last}, with its decisions recorded"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_the_later_of_the_date_and_the_record() {
        assert_eq!(
            cutoff("2026-03-01", "2026-02-01T10:00:00Z"),
            "2026-03-01T23:59:59Z"
        );
        assert_eq!(
            cutoff("2026-01-01", "2026-02-01T10:00:00Z"),
            "2026-02-01T10:00:00Z"
        );
    }

    #[test]
    fn reviews_need_a_title_and_a_date() {
        assert_eq!(check_review("", "2026-01-01").unwrap_err().field, "title");
        assert_eq!(check_review("Q1", "").unwrap_err().field, "date");
        assert!(check_review("Q1", "2026-01-01").is_ok());
    }

    #[test]
    fn readiness_wants_a_recent_review_with_decisions() {
        use crate::risk::Readiness as R;
        assert_eq!(
            review_readiness(&ReviewFacts::default(), "2025-01-01").0,
            R::Missing
        );
        let f = ReviewFacts {
            reviews: 1,
            last_held: Some("2025-06-01".into()),
            last_has_decisions: true,
            open_actions_overdue: 0,
        };
        assert_eq!(review_readiness(&f, "2025-01-01").0, R::Ready);
        assert_eq!(review_readiness(&f, "2025-07-01").0, R::Incomplete);
        let f = ReviewFacts {
            last_has_decisions: false,
            ..f
        };
        assert_eq!(review_readiness(&f, "2025-01-01").0, R::Incomplete);
        let mut s = InputSection::new("k", "9.3.2", "T");
        s.line("x", "/x");
        assert_eq!(s.lines.len(), 1);
        assert!(not_compiled("m", "9.3.2", "M", "later").lines.is_empty());
    }
}
