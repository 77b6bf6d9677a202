//! Training and awareness (ISO/IEC 27001:2022 clauses 7.2 and 7.3): courses
//! with an optional quiz, who must take them by when, what a completion is
//! worth and for how long, and what each role must be able to show.
//!
//! Rules here, no I/O and no clock: the caller passes "today".
//!
//! Decisions:
//! - A quiz is multiple choice, one right option per question; the score is
//!   the percentage of right answers, rounded down; the course passes at or
//!   above its pass mark.
//! - A failed attempt is recorded and may be retaken until the due date; a
//!   passed completion that is still valid refuses another submission
//!   ("twice"). Once it has expired the person takes the course again, by the
//!   due date the manager sets for the renewal.
//! - Nothing is accepted after the due date: a manager moves the due date
//!   (the assignment is versioned) when someone may still complete.
//! - A completion expires `validity_months` after its date (0: never); it
//!   counts as expiring in the last [`EXPIRING_DAYS`] days.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Role;

/// A completion counts as "expiring" this many days before its expiry.
pub const EXPIRING_DAYS: i64 = 30;
/// The most questions a quiz holds.
pub const MAX_QUESTIONS: usize = 50;
/// The most options a question offers.
pub const MAX_OPTIONS: usize = 10;
/// The longest validity, in months (10 years).
pub const MAX_VALIDITY_MONTHS: i64 = 120;

/// What is wrong with an input: the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: String,
    pub reason: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// One multiple-choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub text: String,
    pub options: Vec<String>,
    /// The index (from 0) of the right option.
    pub answer: usize,
}

/// A quiz: questions and the percentage needed to pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quiz {
    /// 1 to 100 (percent of right answers).
    pub pass_mark: i64,
    pub questions: Vec<Question>,
}

impl Quiz {
    /// Checks the quiz is answerable: questions with text, 2 to
    /// [`MAX_OPTIONS`] distinct options, the right answer among them.
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(1..=100).contains(&self.pass_mark) {
            return Err(Invalid::new(
                "quiz.pass_mark",
                format!("{} is not a percentage from 1 to 100", self.pass_mark),
            ));
        }
        if self.questions.is_empty() || self.questions.len() > MAX_QUESTIONS {
            return Err(Invalid::new(
                "quiz.questions",
                format!("1 to {MAX_QUESTIONS} questions"),
            ));
        }
        for (i, q) in self.questions.iter().enumerate() {
            let field = format!("quiz.questions[{i}]");
            if q.text.trim().is_empty() || q.text.chars().count() > 1000 {
                return Err(Invalid::new(
                    format!("{field}.text"),
                    "1 to 1000 characters",
                ));
            }
            if q.options.len() < 2 || q.options.len() > MAX_OPTIONS {
                return Err(Invalid::new(
                    format!("{field}.options"),
                    format!("2 to {MAX_OPTIONS} options"),
                ));
            }
            for (j, o) in q.options.iter().enumerate() {
                if o.trim().is_empty() || o.chars().count() > 500 {
                    return Err(Invalid::new(
                        format!("{field}.options[{j}]"),
                        "1 to 500 characters",
                    ));
                }
                if q.options[..j].iter().any(|p| p.trim() == o.trim()) {
                    return Err(Invalid::new(
                        format!("{field}.options[{j}]"),
                        format!("'{}' is offered twice", o.trim()),
                    ));
                }
            }
            if q.answer >= q.options.len() {
                return Err(Invalid::new(
                    format!("{field}.answer"),
                    format!(
                        "{} is not one of the options (0 to {})",
                        q.answer,
                        q.options.len() - 1
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A quiz as people type it in a form: a question on a line starting with
/// `?`, its options below it on lines starting with `-`, the right one with
/// `*` instead. Blank text: no quiz.
pub fn parse_quiz_text(text: &str, pass_mark: i64) -> Result<Option<Quiz>, Invalid> {
    let mut questions: Vec<Question> = Vec::new();
    let mut right: Vec<Option<usize>> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |why: &str| Invalid::new("quiz", format!("line {}: {why}", n + 1));
        if let Some(q) = line.strip_prefix('?') {
            questions.push(Question {
                text: q.trim().to_owned(),
                options: Vec::new(),
                answer: 0,
            });
            right.push(None);
        } else if let Some((mark, option)) = line
            .strip_prefix('-')
            .map(|o| (false, o))
            .or_else(|| line.strip_prefix('*').map(|o| (true, o)))
        {
            let (Some(q), Some(r)) = (questions.last_mut(), right.last_mut()) else {
                return Err(bad(
                    "an option before any question (start a question with ?)",
                ));
            };
            if mark {
                if r.is_some() {
                    return Err(bad("a second right option (*): mark one per question"));
                }
                *r = Some(q.options.len());
            }
            q.options.push(option.trim().to_owned());
        } else {
            return Err(bad(
                "start a question with ?, an option with - and the right option with *",
            ));
        }
    }
    if questions.is_empty() {
        return Ok(None);
    }
    for (i, (q, r)) in questions.iter_mut().zip(&right).enumerate() {
        let Some(r) = r else {
            return Err(Invalid::new(
                "quiz",
                format!("question {} has no right option: mark it with *", i + 1),
            ));
        };
        q.answer = *r;
    }
    let quiz = Quiz {
        pass_mark,
        questions,
    };
    quiz.validate()?;
    Ok(Some(quiz))
}

/// A quiz in the form's text format ([`parse_quiz_text`]).
pub fn quiz_text(quiz: &Quiz) -> String {
    let mut out = String::new();
    for q in &quiz.questions {
        out.push_str("? ");
        out.push_str(&q.text);
        out.push('\n');
        for (i, o) in q.options.iter().enumerate() {
            out.push_str(if i == q.answer { "* " } else { "- " });
            out.push_str(o);
            out.push('\n');
        }
    }
    out
}

/// The result of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Score {
    pub correct: usize,
    pub total: usize,
    /// Percentage of right answers, rounded down.
    pub percent: i64,
    pub passed: bool,
}

/// Scores `answers` (one option index per question, in order).
pub fn score(quiz: &Quiz, answers: &[usize]) -> Result<Score, Invalid> {
    if answers.len() != quiz.questions.len() {
        return Err(Invalid::new(
            "answers",
            format!(
                "{} answer(s) for {} question(s): answer every question once",
                answers.len(),
                quiz.questions.len()
            ),
        ));
    }
    let mut correct = 0;
    for (i, (q, &a)) in quiz.questions.iter().zip(answers).enumerate() {
        if a >= q.options.len() {
            return Err(Invalid::new(
                format!("answers[{i}]"),
                format!("{a} is not an option of question {}", i + 1),
            ));
        }
        if a == q.answer {
            correct += 1;
        }
    }
    let total = quiz.questions.len();
    let percent = (correct * 100 / total) as i64;
    Ok(Score {
        correct,
        total,
        percent,
        passed: percent >= quiz.pass_mark,
    })
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl FromStr for Day {
    type Err = Invalid;
    /// `YYYY-MM-DD`, a real date.
    fn from_str(s: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("date", format!("'{s}' is not a date (YYYY-MM-DD)"));
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let year: i32 = s[..4].parse().map_err(|_| bad())?;
        let month: u32 = s[5..7].parse().map_err(|_| bad())?;
        let day: u32 = s[8..].parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(bad());
        }
        Ok(Day { year, month, day })
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Day {
    /// `months` later; the 31st becomes the month's last day where the month
    /// is shorter (31 January + 1 month = 28 or 29 February).
    #[must_use]
    pub fn plus_months(self, months: i64) -> Day {
        let index = i64::from(self.year) * 12 + i64::from(self.month - 1) + months;
        let year = index.div_euclid(12) as i32;
        let month = index.rem_euclid(12) as u32 + 1;
        Day {
            year,
            month,
            day: self.day.min(days_in_month(year, month)),
        }
    }

    /// Days since 1970-01-01 (negative before).
    pub fn ordinal(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

/// The day a completion on `completed` stops counting, or `None` when the
/// course does not expire (`validity_months` 0).
pub fn expiry(completed: Day, validity_months: i64) -> Option<Day> {
    (validity_months > 0).then(|| completed.plus_months(validity_months))
}

/// Where a person stands with one assigned course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not completed, due date not passed.
    Pending,
    /// Not completed (or expired) and past the due date.
    Overdue,
    /// Passed and valid.
    Completed,
    /// Passed, valid, expiring within [`EXPIRING_DAYS`].
    Expiring,
    /// Passed once, no longer valid, and the renewal not yet overdue.
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Overdue => "overdue",
            Status::Completed => "completed",
            Status::Expiring => "expiring",
            Status::Expired => "expired",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "To do",
            Status::Overdue => "Overdue",
            Status::Completed => "Completed",
            Status::Expiring => "Expiring soon",
            Status::Expired => "Expired",
        }
    }
    /// Whether the person holds a valid completion.
    pub fn is_valid(self) -> bool {
        matches!(self, Status::Completed | Status::Expiring)
    }
}

/// Whether a course is in use: a retired course takes no new assignments;
/// its assignments and completion records stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CourseStatus {
    Active,
    Retired,
}

impl CourseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CourseStatus::Active => "active",
            CourseStatus::Retired => "retired",
        }
    }
}

impl std::str::FromStr for CourseStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "active" => Ok(CourseStatus::Active),
            "retired" => Ok(CourseStatus::Retired),
            other => Err(format!(
                "'{other}' is not a course status (active or retired)"
            )),
        }
    }
}

/// Why a course's status cannot change as asked.
pub fn status_change(title: &str, from: CourseStatus, to: CourseStatus) -> Result<(), String> {
    if from == to {
        return Err(match to {
            CourseStatus::Retired => format!("the course “{title}” is retired already"),
            CourseStatus::Active => format!("the course “{title}” is active already"),
        });
    }
    Ok(())
}

/// The last passed completion of an assignment: its date and expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passed {
    pub on: Day,
    pub expires: Option<Day>,
}

/// The status of an assignment due on `due`, given its last pass.
pub fn status(today: Day, due: Day, last_pass: Option<Passed>) -> Status {
    match last_pass {
        Some(Passed { expires: None, .. }) => Status::Completed,
        Some(Passed {
            expires: Some(e), ..
        }) if today < e => {
            if e.ordinal() - today.ordinal() <= EXPIRING_DAYS {
                Status::Expiring
            } else {
                Status::Completed
            }
        }
        // Expired: a renewal is due by the (moved) due date.
        Some(Passed { on, .. }) if due > on && today <= due => Status::Expired,
        Some(_) => {
            if today > due {
                Status::Overdue
            } else {
                Status::Expired
            }
        }
        None if today > due => Status::Overdue,
        None => Status::Pending,
    }
}

/// Why a submission is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("already completed on {on}{}: a second submission is not taken", .until.map(|u| format!(", valid until {u}")).unwrap_or_default())]
    AlreadyCompleted { on: Day, until: Option<Day> },
    #[error(
        "the due date {due} has passed: nothing is accepted after it; ask a training manager to move the due date"
    )]
    PastDue { due: Day },
}

/// Whether a person may submit (complete or attempt the quiz) today.
pub fn may_submit(today: Day, due: Day, last_pass: Option<Passed>) -> Result<(), Refused> {
    if let Some(p) = last_pass
        && p.expires.is_none_or(|e| today < e)
    {
        return Err(Refused::AlreadyCompleted {
            on: p.on,
            until: p.expires,
        });
    }
    if today > due {
        return Err(Refused::PastDue { due });
    }
    Ok(())
}

/// Who a course is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every active member.
    All,
    /// Every active member with this role.
    Role(Role),
    /// Named people (e-mail addresses, lower-cased, without repeats).
    People(Vec<String>),
}

impl Audience {
    /// `"all"`, a role name (`"employee"`, or `"employees"`), or a list of
    /// e-mail addresses.
    pub fn parse(v: &serde_json::Value) -> Result<Audience, Invalid> {
        match v {
            serde_json::Value::String(s) => match s.trim() {
                "all" => Ok(Audience::All),
                "employees" => Ok(Audience::Role(Role::Employee)),
                other => other.parse::<Role>().map(Audience::Role).map_err(|_| {
                    Invalid::new(
                        "to",
                        format!(
                            "'{other}' is neither \"all\", a role ({}) nor a list of e-mail addresses",
                            Role::ALL.map(Role::as_str).join(", ")
                        ),
                    )
                }),
            },
            serde_json::Value::Array(items) => {
                let mut people: Vec<String> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let Some(e) = item.as_str().map(|e| e.trim().to_lowercase()) else {
                        return Err(Invalid::new(format!("to[{i}]"), "an e-mail address"));
                    };
                    if !e.contains('@') || e.len() > 254 {
                        return Err(Invalid::new(
                            format!("to[{i}]"),
                            format!("'{e}' is not an e-mail address"),
                        ));
                    }
                    if !people.contains(&e) {
                        people.push(e);
                    }
                }
                if people.is_empty() {
                    return Err(Invalid::new("to", "name at least one person"));
                }
                Ok(Audience::People(people))
            }
            _ => Err(Invalid::new(
                "to",
                "required: \"all\", a role name or a list of e-mail addresses",
            )),
        }
    }
}

/// The fields of a course as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CourseFields {
    pub title: String,
    pub description: String,
    /// Markdown, shown rendered without raw HTML.
    pub content: String,
    /// An external course (http or https), or "".
    pub link: String,
    pub validity_months: i64,
    pub quiz: Option<Quiz>,
}

impl CourseFields {
    /// Trims and checks every field.
    pub fn validate(mut self) -> Result<CourseFields, Invalid> {
        self.title = self.title.trim().to_owned();
        if self.title.is_empty() || self.title.chars().count() > 200 {
            return Err(Invalid::new("title", "1 to 200 characters"));
        }
        self.description = self.description.trim().to_owned();
        if self.description.chars().count() > 2000 {
            return Err(Invalid::new("description", "at most 2000 characters"));
        }
        if self.content.chars().count() > 100_000 {
            return Err(Invalid::new("content", "at most 100,000 characters"));
        }
        self.link = self.link.trim().to_owned();
        if !self.link.is_empty()
            && (!(self.link.starts_with("https://") || self.link.starts_with("http://"))
                || self.link.len() > 2000
                || self.link.chars().any(char::is_whitespace))
        {
            return Err(Invalid::new(
                "link",
                "an http:// or https:// address without spaces, or empty",
            ));
        }
        if self.content.trim().is_empty() && self.link.is_empty() {
            return Err(Invalid::new(
                "content",
                "give the course content (Markdown) or a link to it",
            ));
        }
        if !(0..=MAX_VALIDITY_MONTHS).contains(&self.validity_months) {
            return Err(Invalid::new(
                "validity_months",
                format!("0 (never expires) to {MAX_VALIDITY_MONTHS}"),
            ));
        }
        if let Some(q) = &self.quiz {
            q.validate()?;
        }
        Ok(self)
    }
}

/// Competence for clause 7.2: what a role requires, against what a person holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub requirement_id: i64,
    pub title: String,
}

/// The requirements (id, title) a person lacks: those without a record, or
/// whose records have all expired by `today`.
pub fn competence_gaps(
    today: Day,
    required: &[(i64, String)],
    held: &[(i64, Option<Day>)],
) -> Vec<Gap> {
    required
        .iter()
        .filter(|(id, _)| {
            !held
                .iter()
                .any(|(r, exp)| r == id && exp.is_none_or(|e| today < e))
        })
        .map(|(id, title)| Gap {
            requirement_id: *id,
            title: title.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Day {
        s.parse().unwrap()
    }

    fn quiz() -> Quiz {
        Quiz {
            pass_mark: 75,
            questions: (0..4)
                .map(|i| Question {
                    text: format!("Q{i}"),
                    options: vec!["a".into(), "b".into(), "c".into()],
                    answer: i % 3,
                })
                .collect(),
        }
    }

    #[test]
    fn a_quiz_scores_in_whole_percent_and_passes_at_the_mark() {
        let q = quiz();
        assert_eq!(
            score(&q, &[0, 1, 2, 0]).unwrap(),
            Score {
                correct: 4,
                total: 4,
                percent: 100,
                passed: true
            }
        );
        let s = score(&q, &[0, 1, 2, 1]).unwrap();
        assert_eq!((s.percent, s.passed), (75, true), "at the mark passes");
        let s = score(&q, &[0, 1, 0, 1]).unwrap();
        assert_eq!((s.percent, s.passed), (50, false));
        let third = Quiz {
            pass_mark: 34,
            questions: q.questions[..3].to_vec(),
        };
        assert_eq!(
            score(&third, &[0, 0, 0]).unwrap().percent,
            33,
            "rounded down"
        );
        assert!(!score(&third, &[0, 0, 0]).unwrap().passed);
    }

    #[test]
    fn answers_must_cover_every_question_with_a_real_option() {
        let q = quiz();
        assert_eq!(score(&q, &[0, 1]).unwrap_err().field, "answers");
        assert_eq!(score(&q, &[0, 1, 2, 0, 1]).unwrap_err().field, "answers");
        assert_eq!(score(&q, &[0, 9, 2, 0]).unwrap_err().field, "answers[1]");
    }

    #[test]
    fn a_quiz_typed_in_a_form_round_trips() {
        let text = "? Who may read a confidential report?\n- Anyone\n* Those who need it\n\n? Report phishing to\n* The service desk\n- Nobody\n";
        let q = parse_quiz_text(text, 50).unwrap().unwrap();
        assert_eq!(q.questions.len(), 2);
        assert_eq!((q.questions[0].answer, q.questions[1].answer), (1, 0));
        assert_eq!(parse_quiz_text(&quiz_text(&q), 50).unwrap(), Some(q));
        assert_eq!(parse_quiz_text("  \n", 50).unwrap(), None);
        let e = parse_quiz_text("? Q\n- a\n- b", 50).unwrap_err();
        assert!(e.reason.contains("no right option"), "{e}");
        assert!(
            parse_quiz_text("- a", 50)
                .unwrap_err()
                .reason
                .contains("line 1")
        );
        assert!(
            parse_quiz_text("? Q\n* a\n* b", 50)
                .unwrap_err()
                .reason
                .contains("second right")
        );
        assert_eq!(
            parse_quiz_text("? Q\n* a\n- b", 0).unwrap_err().field,
            "quiz.pass_mark"
        );
    }

    #[test]
    fn a_quiz_must_be_answerable() {
        assert!(quiz().validate().is_ok());
        let mut q = quiz();
        q.pass_mark = 0;
        assert_eq!(q.validate().unwrap_err().field, "quiz.pass_mark");
        let mut q = quiz();
        q.questions[2].answer = 3;
        assert_eq!(q.validate().unwrap_err().field, "quiz.questions[2].answer");
        let mut q = quiz();
        q.questions[1].options = vec!["only".into()];
        assert_eq!(q.validate().unwrap_err().field, "quiz.questions[1].options");
        let mut q = quiz();
        q.questions[0].options[1] = " a ".into();
        assert!(q.validate().unwrap_err().reason.contains("twice"));
        let mut q = quiz();
        q.questions.clear();
        assert_eq!(q.validate().unwrap_err().field, "quiz.questions");
    }

    #[test]
    fn dates_parse_strictly_and_months_clamp_to_the_month_end() {
        assert!("2026-02-29".parse::<Day>().is_err());
        assert!("2028-02-29".parse::<Day>().is_ok());
        assert!("2026-13-01".parse::<Day>().is_err());
        assert!("26-1-1".parse::<Day>().is_err());
        assert_eq!(d("2026-01-31").plus_months(1).to_string(), "2026-02-28");
        assert_eq!(d("2027-11-15").plus_months(12).to_string(), "2028-11-15");
        assert_eq!(d("2026-12-01").plus_months(1).to_string(), "2027-01-01");
        assert_eq!(d("1970-01-01").ordinal(), 0);
        assert_eq!(d("2026-03-01").ordinal() - d("2026-02-28").ordinal(), 1);
        assert_eq!(expiry(d("2026-05-10"), 12), Some(d("2027-05-10")));
        assert_eq!(expiry(d("2026-05-10"), 0), None);
    }

    #[test]
    fn the_status_follows_the_due_date_and_the_expiry() {
        let due = d("2026-06-30");
        assert_eq!(status(d("2026-06-01"), due, None), Status::Pending);
        assert_eq!(status(d("2026-06-30"), due, None), Status::Pending);
        assert_eq!(status(d("2026-07-01"), due, None), Status::Overdue);
        let pass = Passed {
            on: d("2026-06-10"),
            expires: Some(d("2027-06-10")),
        };
        assert_eq!(status(d("2026-07-01"), due, Some(pass)), Status::Completed);
        assert_eq!(status(d("2027-05-20"), due, Some(pass)), Status::Expiring);
        assert_eq!(status(d("2027-06-10"), due, Some(pass)), Status::Overdue);
        // The renewal's due date moved past the old pass.
        assert_eq!(
            status(d("2027-06-10"), d("2027-07-31"), Some(pass)),
            Status::Expired
        );
        let forever = Passed {
            on: d("2026-06-10"),
            expires: None,
        };
        assert_eq!(
            status(d("2040-01-01"), due, Some(forever)),
            Status::Completed
        );
        assert!(Status::Expiring.is_valid() && !Status::Expired.is_valid());
    }

    #[test]
    fn a_second_submission_and_one_after_the_due_date_are_refused() {
        let due = d("2026-06-30");
        assert!(may_submit(d("2026-06-30"), due, None).is_ok());
        assert_eq!(
            may_submit(d("2026-07-01"), due, None),
            Err(Refused::PastDue { due })
        );
        let pass = Passed {
            on: d("2026-06-10"),
            expires: Some(d("2027-06-10")),
        };
        let e = may_submit(d("2026-06-11"), due, Some(pass)).unwrap_err();
        assert!(
            e.to_string()
                .contains("already completed on 2026-06-10, valid until 2027-06-10")
        );
        // Expired: a renewal by the moved due date is taken.
        assert!(may_submit(d("2027-06-11"), d("2027-07-31"), Some(pass)).is_ok());
        assert!(matches!(
            may_submit(d("2027-06-11"), due, Some(pass)),
            Err(Refused::PastDue { .. })
        ));
    }

    #[test]
    fn audiences_are_all_a_role_or_named_people() {
        use serde_json::json;
        assert_eq!(Audience::parse(&json!("all")), Ok(Audience::All));
        assert_eq!(
            Audience::parse(&json!("employees")),
            Ok(Audience::Role(Role::Employee))
        );
        assert_eq!(
            Audience::parse(&json!("auditor")),
            Ok(Audience::Role(Role::Auditor))
        );
        assert_eq!(
            Audience::parse(&json!(["Ann@X.test", "ann@x.test", "bob@x.test"])),
            Ok(Audience::People(vec![
                "ann@x.test".into(),
                "bob@x.test".into()
            ]))
        );
        assert_eq!(Audience::parse(&json!("root")).unwrap_err().field, "to");
        assert_eq!(
            Audience::parse(&json!(["nope"])).unwrap_err().field,
            "to[0]"
        );
        assert_eq!(Audience::parse(&json!([])).unwrap_err().field, "to");
        assert_eq!(Audience::parse(&json!(3)).unwrap_err().field, "to");
    }

    #[test]
    fn a_course_needs_a_title_and_content_or_a_link() {
        let f = CourseFields {
            title: "  Phishing  ".into(),
            description: String::new(),
            content: String::new(),
            link: "https://learn.example/phishing".into(),
            validity_months: 12,
            quiz: Some(quiz()),
        };
        assert_eq!(f.clone().validate().unwrap().title, "Phishing");
        let mut g = f.clone();
        g.link = "javascript:alert(1)".into();
        assert_eq!(g.validate().unwrap_err().field, "link");
        let mut g = f.clone();
        g.link = String::new();
        assert_eq!(g.validate().unwrap_err().field, "content");
        let mut g = f.clone();
        g.validity_months = -1;
        assert_eq!(g.validate().unwrap_err().field, "validity_months");
        let mut g = f;
        g.title = " ".into();
        assert_eq!(g.validate().unwrap_err().field, "title");
    }

    #[test]
    fn competence_gaps_are_requirements_without_a_current_record() {
        let req = vec![
            (1, "Secure coding".to_owned()),
            (2, "Incident handling".to_owned()),
        ];
        let today = d("2026-06-01");
        let gaps = competence_gaps(today, &req, &[(1, None)]);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].requirement_id, 2);
        let gaps = competence_gaps(
            today,
            &req,
            &[(1, Some(d("2026-06-01"))), (2, Some(d("2027-01-01")))],
        );
        assert_eq!(
            gaps.iter().map(|g| g.requirement_id).collect::<Vec<_>>(),
            vec![1]
        );
    }
}
