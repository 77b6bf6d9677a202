//! Training records for the auditor (clauses 7.2, 7.3): where each person
//! stands with each assigned course, and every submission, as CSV, XLSX and
//! PDF.

use crate::ReportError;
use crate::cells::{self, Cell, write_record};
use crate::pdf::{TableDoc, render};

/// One person's assignment of one course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingLine {
    pub course: String,
    pub person: String,
    pub name: String,
    pub due_date: String,
    /// A label: To do, Overdue, Completed, Expiring soon, Expired.
    pub status: String,
    pub completed_on: String,
    /// Percent, or "" without a quiz.
    pub score: String,
    pub expires_on: String,
    pub attempts: i64,
}

/// One submission, passed or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionLine {
    pub course: String,
    pub person: String,
    pub completed_at: String,
    pub score: String,
    pub passed: bool,
    pub expires_on: String,
}

/// The training records of an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingDocument {
    pub organisation: String,
    /// RFC 3339: the last submission (every date inside the files is this one).
    pub date: String,
    /// By course, then person.
    pub lines: Vec<TrainingLine>,
    /// Newest first.
    pub submissions: Vec<SubmissionLine>,
}

pub const TRAINING_CSV_HEADER: [&str; 9] = [
    "course",
    "person",
    "name",
    "due_date",
    "status",
    "completed_on",
    "score",
    "expires_on",
    "attempts",
];

fn cells_of(l: &TrainingLine) -> [String; 9] {
    [
        l.course.clone(),
        l.person.clone(),
        l.name.clone(),
        l.due_date.clone(),
        l.status.clone(),
        l.completed_on.clone(),
        l.score.clone(),
        l.expires_on.clone(),
        l.attempts.to_string(),
    ]
}

/// One row per person and course (formula-like cells neutralised).
pub fn training_csv(doc: &TrainingDocument) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| ReportError::Csv(e.to_string());
    cells::write_csv_record(&mut w, TRAINING_CSV_HEADER).map_err(err)?;
    for l in &doc.lines {
        cells::write_csv_record(&mut w, cells_of(l)).map_err(err)?;
    }
    w.into_inner().map_err(|e| ReportError::Csv(e.to_string()))
}

/// Two sheets: where each person stands, and every submission.
pub fn training_xlsx(doc: &TrainingDocument) -> Result<Vec<u8>, ReportError> {
    use rust_xlsxwriter::Format;
    let err = |e: rust_xlsxwriter::XlsxError| ReportError::Xlsx(e.to_string());
    let mut wb = crate::workbook(
        format!("Training records: {}", doc.organisation),
        Some("ISO/IEC 27001:2022 clauses 7.2 and 7.3".into()),
        &doc.organisation,
        &doc.date,
    )
    .map_err(err)?;
    let bold = Format::new().set_bold();
    let plain = Format::new();
    let ws = wb.add_worksheet();
    ws.set_name("Training").map_err(err)?;
    let headers = [
        "Course",
        "Person",
        "Name",
        "Due date",
        "Status",
        "Completed on",
        "Score (%)",
        "Expires on",
        "Attempts",
    ];
    for (c, t) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *t, &bold)
            .map_err(err)?;
    }
    let mut row = 1u32;
    for l in &doc.lines {
        let cells = cells_of(l);
        let mut record: Vec<Cell<'_>> = cells[..8].iter().map(|t| Cell::Text(t)).collect();
        record.push(Cell::Number(l.attempts as f64));
        row += write_record(ws, row, &record, 0, &plain).map_err(err)?;
    }
    for (c, w) in [36.0, 28.0, 24.0, 12.0, 14.0, 14.0, 10.0, 12.0, 9.0]
        .into_iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, w).map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;

    let ws = wb.add_worksheet();
    ws.set_name("Submissions").map_err(err)?;
    for (c, t) in [
        "Course",
        "Person",
        "Submitted at (UTC)",
        "Score (%)",
        "Passed",
        "Expires on",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *t, &bold)
            .map_err(err)?;
    }
    let mut row = 1u32;
    for s in &doc.submissions {
        let record = [
            Cell::Text(&s.course),
            Cell::Text(&s.person),
            Cell::Text(&s.completed_at),
            Cell::Text(&s.score),
            Cell::Text(if s.passed { "Yes" } else { "No" }),
            Cell::Text(&s.expires_on),
        ];
        row += write_record(ws, row, &record, 0, &plain).map_err(err)?;
    }
    for (c, w) in [36.0, 28.0, 28.0, 10.0, 8.0, 12.0].into_iter().enumerate() {
        ws.set_column_width(c as u16, w).map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// The records as a PDF, one band per course.
pub fn training_pdf(doc: &TrainingDocument) -> Vec<u8> {
    let mut sections: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for l in &doc.lines {
        if sections.last().is_none_or(|(c, _)| *c != l.course) {
            sections.push((l.course.clone(), Vec::new()));
        }
        if let Some((_, rows)) = sections.last_mut() {
            rows.push(vec![
                l.person.clone(),
                l.name.clone(),
                l.due_date.clone(),
                l.status.clone(),
                l.completed_on.clone(),
                l.score.clone(),
                l.expires_on.clone(),
                l.attempts.to_string(),
            ]);
        }
    }
    let completed = doc
        .lines
        .iter()
        .filter(|l| l.status == "Completed" || l.status == "Expiring soon")
        .count();
    let overdue = doc.lines.iter().filter(|l| l.status == "Overdue").count();
    let day = doc.date.get(..10).unwrap_or("").to_owned();
    render(&TableDoc {
        title: "Training records".into(),
        subtitle: "ISO/IEC 27001:2022, clauses 7.2 and 7.3".into(),
        facts: vec![
            ("Organisation".to_owned(), doc.organisation.clone()),
            ("Last submission".to_owned(), day.clone()),
            (
                "Assignments".to_owned(),
                format!(
                    "{}: {completed} completed and valid, {overdue} overdue; {} submission(s) in all",
                    doc.lines.len(),
                    doc.submissions.len()
                ),
            ),
        ],
        banner: None,
        footer: format!(
            "{} \u{2013} Training records \u{2013} {day}",
            doc.organisation
        ),
        columns: vec![
            ("Person", 190.0),
            ("Name", 150.0),
            ("Due date", 62.0),
            ("Status", 70.0),
            ("Completed on", 62.0),
            ("Score (%)", 50.0),
            ("Expires on", 62.0),
            ("Attempts", 124.0),
        ],
        sections,
        info_title: format!("Training records: {}", doc.organisation),
        author: doc.organisation.clone(),
        date: crate::date_parts(&doc.date),
    })
}

/// One requirement of a person's role, and the evidence they hold for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetenceLine {
    /// The role's label, e.g. "Employee".
    pub role: String,
    pub person: String,
    pub name: String,
    pub requirement: String,
    /// "Held", "Expired" or "Gap" (no evidence).
    pub status: String,
    /// What proves it ("" for a gap).
    pub evidence: String,
    pub achieved_on: String,
    pub expires_on: String,
}

/// Competence (clause 7.2): per role, what it requires against the evidence
/// each person holds, and the gaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetenceDocument {
    pub organisation: String,
    /// RFC 3339: the last change to a record ("" when none); every date
    /// inside the files is this one, so the bytes depend on the data only.
    pub date: String,
    /// Per role: its label and what it requires (titles).
    pub roles: Vec<(String, Vec<String>)>,
    /// By role, person, requirement.
    pub lines: Vec<CompetenceLine>,
}

pub const COMPETENCE_CSV_HEADER: [&str; 8] = [
    "role",
    "person",
    "name",
    "requirement",
    "status",
    "evidence",
    "achieved_on",
    "expires_on",
];

fn competence_cells(l: &CompetenceLine) -> [String; 8] {
    [
        l.role.clone(),
        l.person.clone(),
        l.name.clone(),
        l.requirement.clone(),
        l.status.clone(),
        l.evidence.clone(),
        l.achieved_on.clone(),
        l.expires_on.clone(),
    ]
}

/// One row per person and required competence (formula-like cells neutralised).
pub fn competence_csv(doc: &CompetenceDocument) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| ReportError::Csv(e.to_string());
    cells::write_csv_record(&mut w, COMPETENCE_CSV_HEADER).map_err(err)?;
    for l in &doc.lines {
        cells::write_csv_record(&mut w, competence_cells(l)).map_err(err)?;
    }
    w.into_inner().map_err(|e| ReportError::Csv(e.to_string()))
}

/// One sheet, one row per person and required competence.
pub fn competence_xlsx(doc: &CompetenceDocument) -> Result<Vec<u8>, ReportError> {
    use rust_xlsxwriter::Format;
    let err = |e: rust_xlsxwriter::XlsxError| ReportError::Xlsx(e.to_string());
    let mut wb = crate::workbook(
        format!("Competence: {}", doc.organisation),
        Some("ISO/IEC 27001:2022 clause 7.2".into()),
        &doc.organisation,
        &doc.date,
    )
    .map_err(err)?;
    let bold = Format::new().set_bold();
    let plain = Format::new();
    let ws = wb.add_worksheet();
    ws.set_name("Competence").map_err(err)?;
    for (c, t) in [
        "Role",
        "Person",
        "Name",
        "Requirement",
        "Status",
        "Evidence",
        "Achieved on",
        "Expires on",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *t, &bold)
            .map_err(err)?;
    }
    let mut row = 1u32;
    for l in &doc.lines {
        let cells = competence_cells(l);
        let record: Vec<Cell<'_>> = cells.iter().map(|t| Cell::Text(t)).collect();
        row += write_record(ws, row, &record, 0, &plain).map_err(err)?;
    }
    for (c, w) in [16.0, 28.0, 24.0, 32.0, 10.0, 48.0, 12.0, 12.0]
        .into_iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, w).map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// Competence as a PDF: one band per role (naming what it requires), one
/// row per person and requirement, gaps marked.
pub fn competence_pdf(doc: &CompetenceDocument) -> Vec<u8> {
    let mut sections: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for (role, required) in &doc.roles {
        let rows: Vec<Vec<String>> = doc
            .lines
            .iter()
            .filter(|l| &l.role == role)
            .map(|l| {
                vec![
                    l.person.clone(),
                    l.name.clone(),
                    l.requirement.clone(),
                    l.status.clone(),
                    l.evidence.clone(),
                    l.achieved_on.clone(),
                    l.expires_on.clone(),
                ]
            })
            .collect();
        let head = if required.is_empty() {
            format!("{role}: no requirements")
        } else {
            format!("{role}: requires {}", required.join("; "))
        };
        sections.push((head, rows));
    }
    let gaps = doc.lines.iter().filter(|l| l.status != "Held").count();
    let mut people: Vec<&str> = doc.lines.iter().map(|l| l.person.as_str()).collect();
    people.sort_unstable();
    people.dedup();
    let day = doc.date.get(..10).unwrap_or("").to_owned();
    render(&TableDoc {
        title: "Competence records".into(),
        subtitle: "ISO/IEC 27001:2022, clause 7.2: what each role requires and the evidence held"
            .into(),
        facts: vec![
            ("Organisation".to_owned(), doc.organisation.clone()),
            ("Last change".to_owned(), day.clone()),
            (
                "Required competences".to_owned(),
                format!(
                    "{} for {} person(s): {} held, {gaps} gap(s)",
                    doc.lines.len(),
                    people.len(),
                    doc.lines.len() - gaps
                ),
            ),
        ],
        banner: (gaps > 0).then(|| {
            (
                format!("{gaps} gap(s)"),
                "People lack current evidence for a competence their role requires: see the rows marked Gap or Expired."
                    .to_owned(),
            )
        }),
        footer: format!("{} \u{2013} Competence records \u{2013} {day}", doc.organisation),
        columns: vec![
            ("Person", 150.0),
            ("Name", 110.0),
            ("Requirement", 140.0),
            ("Status", 50.0),
            ("Evidence", 196.0),
            ("Achieved on", 62.0),
            ("Expires on", 62.0),
        ],
        sections,
        info_title: format!("Competence records: {}", doc.organisation),
        author: doc.organisation.clone(),
        date: crate::date_parts(&doc.date),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> TrainingDocument {
        TrainingDocument {
            organisation: "\u{141}\u{f3}d\u{17a} Ltd".into(),
            date: "2026-11-20T10:00:00.000000Z".into(),
            lines: vec![TrainingLine {
                course: "Phishing".into(),
                person: "ann@x.test".into(),
                name: "=Ann \u{3a0}\u{3b1}\u{3c0}\u{3b1}\u{3b4}\u{3cc}\u{3c0}\u{3bf}\u{3c5}\u{3bb}\u{3bf}\u{3c2}".into(),
                due_date: "2026-12-01".into(),
                status: "Completed".into(),
                completed_on: "2026-11-20".into(),
                score: "80".into(),
                expires_on: "2027-11-20".into(),
                attempts: 2,
            }],
            submissions: vec![SubmissionLine {
                course: "Phishing".into(),
                person: "ann@x.test".into(),
                completed_at: "2026-11-20T10:00:00.000000Z".into(),
                score: "80".into(),
                passed: true,
                expires_on: "2027-11-20".into(),
            }],
        }
    }

    #[test]
    fn every_format_is_deterministic_and_safe() {
        let d = doc();
        let csv = String::from_utf8(training_csv(&d).unwrap()).unwrap();
        assert!(csv.starts_with("course,person,name,due_date,status"));
        assert!(csv.contains("'=Ann"), "formula neutralised: {csv}");
        assert_eq!(training_xlsx(&d).unwrap(), training_xlsx(&d).unwrap());
        let pdf = training_pdf(&d);
        assert_eq!(pdf, training_pdf(&d));
        let text = crate::pdf_text(&pdf);
        assert!(
            text.contains("\u{141}\u{f3}d\u{17a} Ltd") && text.contains("\u{3a0}\u{3b1}\u{3c0}")
        );
        assert!(text.contains("Phishing") && text.contains("2027-11-20"));
    }

    #[test]
    fn the_competence_report_names_requirements_evidence_and_gaps() {
        let d = CompetenceDocument {
            organisation: "\u{c6}r\u{f8} ApS".into(),
            date: "2026-11-20T10:00:00.000000Z".into(),
            roles: vec![("Employee".into(), vec!["Phishing awareness".into()])],
            lines: vec![
                CompetenceLine {
                    role: "Employee".into(),
                    person: "ann@x.test".into(),
                    name: "Ann".into(),
                    requirement: "Phishing awareness".into(),
                    status: "Held".into(),
                    evidence: "=Course certificate".into(),
                    achieved_on: "2026-10-01".into(),
                    expires_on: String::new(),
                },
                CompetenceLine {
                    role: "Employee".into(),
                    person: "bob@x.test".into(),
                    name: "Bob".into(),
                    requirement: "Phishing awareness".into(),
                    status: "Gap".into(),
                    evidence: String::new(),
                    achieved_on: String::new(),
                    expires_on: String::new(),
                },
            ],
        };
        let csv = String::from_utf8(competence_csv(&d).unwrap()).unwrap();
        assert!(csv.starts_with("role,person,name,requirement,status"));
        assert!(csv.contains("'=Course certificate"), "{csv}");
        assert_eq!(competence_xlsx(&d).unwrap(), competence_xlsx(&d).unwrap());
        let pdf = competence_pdf(&d);
        assert_eq!(pdf, competence_pdf(&d));
        let text = crate::pdf_text(&pdf);
        assert!(text.contains("\u{c6}r\u{f8} ApS"), "{text}");
        assert!(text.contains("requires Phishing awareness") && text.contains("Gap"));
        assert!(text.contains("bob@x.test") && text.contains("1 gap(s)"));
    }
}
