//! The control register and the coverage of a framework by the applied
//! controls, as CSV, XLSX and PDF. The same document always gives the same
//! bytes: the only date in the files is the document's own.

use std::fmt::Write as _;

use crate::ReportError;
use crate::cells::{self, Cell, write_record};
use crate::pdf::{TableDoc, render};

/// One applied control, ready to print (labels, not codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlLine {
    pub id: i64,
    pub name: String,
    pub category: String,
    pub status: String,
    pub owner: String,
    pub cost: i64,
    pub effort: String,
    pub start_date: String,
    pub due_date: String,
    pub review_schedule: String,
    pub next_review: String,
    /// The linked requirements per framework: (framework, ref ids), both sorted.
    pub requirements: Vec<(String, Vec<String>)>,
    /// "Effective on 2026-03-01 by ann@acme.test", or empty when never reviewed.
    pub latest_review: String,
    /// Evidence items linked to the control.
    pub evidence: i64,
    /// Of which expired.
    pub evidence_expired: i64,
    /// The next expiry date of evidence that has not expired, or empty.
    pub next_expiry: String,
    pub description: String,
}

impl ControlLine {
    /// `iso27001-2022: A.5.15, A.8.5; nist-csf-2.0: PR.AA-05`.
    pub fn requirements_text(&self) -> String {
        self.requirements
            .iter()
            .map(|(f, refs)| format!("{f}: {}", refs.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
    fn evidence_text(&self) -> String {
        let mut s = format!("{} item(s)", self.evidence);
        if self.evidence_expired > 0 {
            let _ = write!(s, ", {} expired", self.evidence_expired);
        }
        if !self.next_expiry.is_empty() {
            let _ = write!(s, ", next expiry {}", self.next_expiry);
        }
        s
    }
}

/// The control register to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlRegister {
    pub organisation: String,
    /// RFC 3339: the register's last change; every date in the files is this one.
    pub date: String,
    /// ISO 4217 code of the costs.
    pub currency: String,
    /// By name.
    pub controls: Vec<ControlLine>,
}

pub const CONTROL_CSV_HEADER: [&str; 18] = [
    "id",
    "name",
    "category",
    "status",
    "owner",
    "cost",
    "currency",
    "effort",
    "start_date",
    "due_date",
    "review_schedule",
    "next_review",
    "requirements",
    "latest_review",
    "evidence",
    "evidence_expired",
    "next_evidence_expiry",
    "description",
];

fn row(c: &ControlLine, currency: &str) -> [String; 18] {
    [
        c.id.to_string(),
        c.name.clone(),
        c.category.clone(),
        c.status.clone(),
        c.owner.clone(),
        c.cost.to_string(),
        currency.to_owned(),
        c.effort.clone(),
        c.start_date.clone(),
        c.due_date.clone(),
        c.review_schedule.clone(),
        c.next_review.clone(),
        c.requirements_text(),
        c.latest_review.clone(),
        c.evidence.to_string(),
        c.evidence_expired.to_string(),
        c.next_expiry.clone(),
        c.description.clone(),
    ]
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(csv_err)`
fn csv_err(e: csv::Error) -> ReportError {
    ReportError::Csv(e.to_string())
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(xlsx_err)`
fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> ReportError {
    ReportError::Xlsx(e.to_string())
}

/// The register as CSV (cells guarded against formula injection).
pub fn controls_csv(doc: &ControlRegister) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    cells::write_csv_record(&mut w, CONTROL_CSV_HEADER).map_err(csv_err)?;
    for c in &doc.controls {
        cells::write_csv_record(&mut w, row(c, &doc.currency)).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| ReportError::Csv(e.to_string()))
}

fn workbook(
    title: String,
    organisation: &str,
    date: &str,
) -> Result<rust_xlsxwriter::Workbook, ReportError> {
    crate::workbook(title, None, organisation, date).map_err(xlsx_err)
}

/// The register as XLSX (text cells never formulas): the sheet "Controls",
/// one row per control, and the sheet "Requirements", one row per linked
/// requirement (control, framework, requirement) for filtering.
pub fn controls_xlsx(doc: &ControlRegister) -> Result<Vec<u8>, ReportError> {
    use rust_xlsxwriter::Format;
    let mut wb = workbook(
        format!("Control register: {}", doc.organisation),
        &doc.organisation,
        &doc.date,
    )?;
    let bold = Format::new().set_bold();
    let plain = Format::new();
    let headers = [
        "Id",
        "Name",
        "Category",
        "Status",
        "Owner",
        "Cost",
        "Currency",
        "Effort",
        "Start",
        "Due",
        "Review schedule",
        "Next review",
        "Requirements",
        "Latest review",
        "Evidence",
        "Evidence expired",
        "Next evidence expiry",
        "Description",
    ];
    {
        let ws = wb.add_worksheet();
        ws.set_name("Controls").map_err(xlsx_err)?;
        for (i, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, *h, &bold)
                .map_err(xlsx_err)?;
        }
        let mut r = 1;
        for c in &doc.controls {
            let texts = row(c, &doc.currency);
            let cells: Vec<Cell<'_>> = texts
                .iter()
                .take(headers.len())
                .enumerate()
                .map(|(i, t)| match i {
                    0 => Cell::Number(c.id as f64),
                    5 => Cell::Number(c.cost as f64),
                    14 => Cell::Number(c.evidence as f64),
                    15 => Cell::Number(c.evidence_expired as f64),
                    _ => Cell::Text(t),
                })
                .collect();
            r += write_record(ws, r, &cells, 1, &plain).map_err(xlsx_err)?;
        }
        for (c, w) in [
            6.0, 36.0, 11.0, 12.0, 24.0, 9.0, 8.0, 7.0, 11.0, 11.0, 12.0, 11.0, 40.0, 34.0, 9.0,
            9.0, 12.0, 40.0,
        ]
        .into_iter()
        .enumerate()
        {
            ws.set_column_width(c as u16, w).map_err(xlsx_err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_err)?;
    }
    let ws = wb.add_worksheet();
    ws.set_name("Requirements").map_err(xlsx_err)?;
    for (i, h) in ["Control id", "Control", "Framework", "Requirement"]
        .iter()
        .enumerate()
    {
        ws.write_string_with_format(0, i as u16, *h, &bold)
            .map_err(xlsx_err)?;
    }
    let mut r = 1;
    for c in &doc.controls {
        for (f, refs) in &c.requirements {
            for reference in refs {
                let cells = [
                    Cell::Number(c.id as f64),
                    Cell::Text(&c.name),
                    Cell::Text(f),
                    Cell::Text(reference),
                ];
                r += write_record(ws, r, &cells, 1, &plain).map_err(xlsx_err)?;
            }
        }
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_err)?;
    wb.save_to_buffer().map_err(xlsx_err)
}

/// The register as a PDF, one band per status.
pub fn controls_pdf(doc: &ControlRegister) -> Vec<u8> {
    let mut sections: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for status in ["Implemented", "In progress", "Planned", "Retired"] {
        let rows: Vec<Vec<String>> = doc
            .controls
            .iter()
            .filter(|c| c.status == status)
            .map(|c| {
                vec![
                    format!("#{}", c.id),
                    if c.description.is_empty() {
                        c.name.clone()
                    } else {
                        format!("{}\n{}", c.name, c.description)
                    },
                    c.category.clone(),
                    c.owner.clone(),
                    format!(
                        "start {}\ndue {}\nreview {}",
                        dash(&c.start_date),
                        dash(&c.due_date),
                        if c.review_schedule.is_empty() {
                            "none".to_owned()
                        } else {
                            format!("{} (next {})", c.review_schedule, dash(&c.next_review))
                        }
                    ),
                    format!("{} {}", c.cost, doc.currency),
                    c.requirements
                        .iter()
                        .map(|(f, refs)| format!("{f}: {}", refs.join(", ")))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    if c.latest_review.is_empty() {
                        "never reviewed".to_owned()
                    } else {
                        c.latest_review.clone()
                    },
                    c.evidence_text(),
                ]
            })
            .collect();
        if !rows.is_empty() {
            sections.push((format!("{status} ({} controls)", rows.len()), rows));
        }
    }
    let count = |s: &str| doc.controls.iter().filter(|c| c.status == s).count();
    let expired: i64 = doc.controls.iter().map(|c| c.evidence_expired).sum();
    let cost: i64 = doc.controls.iter().map(|c| c.cost).sum();
    let day = doc.date.get(..10).unwrap_or("");
    render(&TableDoc {
        title: "Control register".into(),
        subtitle: "The organisation's applied controls (ISO/IEC 27001:2022, clause 8.1)".into(),
        facts: vec![
            ("Organisation".into(), doc.organisation.clone()),
            ("Date".into(), day.to_owned()),
            (
                "Controls".into(),
                format!(
                    "{}: {} implemented, {} in progress, {} planned, {} retired",
                    doc.controls.len(),
                    count("Implemented"),
                    count("In progress"),
                    count("Planned"),
                    count("Retired")
                ),
            ),
            ("Total cost".into(), format!("{cost} {}", doc.currency)),
            ("Expired evidence".into(), expired.to_string()),
        ],
        banner: None,
        footer: format!(
            "{} \u{2013} Control register \u{2013} {day}",
            doc.organisation
        ),
        columns: vec![
            ("Id", 30.0),
            ("Control", 170.0),
            ("Category", 50.0),
            ("Owner", 90.0),
            ("Dates", 96.0),
            ("Cost", 50.0),
            ("Requirements", 120.0),
            ("Latest review", 86.0),
            ("Evidence", 78.0),
        ],
        sections,
        info_title: format!("Control register: {}", doc.organisation),
        author: doc.organisation.clone(),
        date: crate::date_parts(&doc.date),
    })
}

fn dash(s: &str) -> &str {
    if s.is_empty() { "\u{2013}" } else { s }
}

/// A control that covers a requirement through a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedControl {
    pub name: String,
    /// Only through mappings isms composed (never official).
    pub derived: bool,
}

/// One requirement of the framework and what covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageLine {
    pub ref_id: String,
    pub title: String,
    /// implemented, planned or none.
    pub coverage: String,
    /// "Implemented control", "Only planned controls", "No control".
    pub coverage_label: String,
    /// Names of the controls linked to it directly.
    pub controls: Vec<String>,
    /// Controls linked to a requirement of another framework mapped to it.
    pub mapped: Vec<MappedControl>,
}

/// The coverage of one framework by the applied controls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageDocument {
    pub organisation: String,
    /// RFC 3339: the latest change of the controls.
    pub date: String,
    pub framework: String,
    pub framework_name: String,
    pub lines: Vec<CoverageLine>,
    pub implemented: usize,
    pub planned: usize,
    pub none: usize,
}

pub const COVERAGE_CSV_HEADER: [&str; 6] = [
    "ref_id",
    "title",
    "coverage",
    "controls",
    "mapped_controls",
    "derived_only",
];

fn mapped_text(l: &CoverageLine) -> String {
    l.mapped
        .iter()
        .map(|m| {
            if m.derived {
                format!("{} (derived mapping)", m.name)
            } else {
                m.name.clone()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn coverage_row(l: &CoverageLine) -> [String; 6] {
    [
        l.ref_id.clone(),
        l.title.clone(),
        l.coverage.clone(),
        l.controls.join("; "),
        mapped_text(l),
        l.mapped
            .iter()
            .filter(|m| m.derived)
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join("; "),
    ]
}

/// The coverage as CSV, one row per requirement in the framework's order.
pub fn coverage_csv(doc: &CoverageDocument) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    cells::write_csv_record(&mut w, COVERAGE_CSV_HEADER).map_err(csv_err)?;
    for l in &doc.lines {
        cells::write_csv_record(&mut w, coverage_row(l)).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| ReportError::Csv(e.to_string()))
}

/// The coverage as XLSX, one row per requirement.
pub fn coverage_xlsx(doc: &CoverageDocument) -> Result<Vec<u8>, ReportError> {
    use rust_xlsxwriter::Format;
    let mut wb = workbook(
        format!(
            "Coverage of {} by the controls of {}",
            doc.framework_name, doc.organisation
        ),
        &doc.organisation,
        &doc.date,
    )?;
    let bold = Format::new().set_bold();
    let plain = Format::new();
    let ws = wb.add_worksheet();
    ws.set_name("Coverage").map_err(xlsx_err)?;
    for (i, h) in [
        "Requirement",
        "Title",
        "Coverage",
        "Controls",
        "Controls through mappings",
        "Only through derived mappings",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(0, i as u16, *h, &bold)
            .map_err(xlsx_err)?;
    }
    let mut r = 1;
    for l in &doc.lines {
        let texts = coverage_row(l);
        let cells: Vec<Cell<'_>> = texts.iter().map(|t| Cell::Text(t)).collect();
        r += write_record(ws, r, &cells, 0, &plain).map_err(xlsx_err)?;
    }
    for (c, w) in [12.0, 50.0, 12.0, 40.0, 40.0, 30.0].into_iter().enumerate() {
        ws.set_column_width(c as u16, w).map_err(xlsx_err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_err)?;
    wb.save_to_buffer().map_err(xlsx_err)
}

/// The coverage as a PDF, one band per coverage state (no control first).
pub fn coverage_pdf(doc: &CoverageDocument) -> Vec<u8> {
    let mut sections = Vec::new();
    for (key, label) in [
        ("none", "No control"),
        ("planned", "Only planned controls"),
        ("implemented", "Implemented control"),
    ] {
        let rows: Vec<Vec<String>> = doc
            .lines
            .iter()
            .filter(|l| l.coverage == key)
            .map(|l| {
                vec![
                    l.ref_id.clone(),
                    l.title.clone(),
                    l.coverage_label.clone(),
                    l.controls.join("\n"),
                    l.mapped
                        .iter()
                        .map(|m| {
                            if m.derived {
                                format!("{} (derived)", m.name)
                            } else {
                                m.name.clone()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                ]
            })
            .collect();
        if !rows.is_empty() {
            sections.push((format!("{label} ({} requirements)", rows.len()), rows));
        }
    }
    let day = doc.date.get(..10).unwrap_or("");
    render(&TableDoc {
        title: "Coverage by the applied controls".into(),
        subtitle: format!("{} ({})", doc.framework_name, doc.framework),
        facts: vec![
            ("Organisation".into(), doc.organisation.clone()),
            ("Date".into(), day.to_owned()),
            (
                "Requirements".into(),
                format!(
                    "{}: {} with an implemented control, {} with only planned ones, {} with none",
                    doc.lines.len(),
                    doc.implemented,
                    doc.planned,
                    doc.none
                ),
            ),
            (
                "Mappings".into(),
                "Controls linked to a requirement of another framework count through the mappings; \"derived\" marks mappings isms composed from others, which are never official.".into(),
            ),
        ],
        banner: None,
        footer: format!(
            "{} \u{2013} Coverage of {} \u{2013} {day}",
            doc.organisation, doc.framework_name
        ),
        columns: vec![
            ("Requirement", 70.0),
            ("Title", 230.0),
            ("Coverage", 90.0),
            ("Controls", 190.0),
            ("Through mappings", 190.0),
        ],
        sections,
        info_title: format!("Coverage of {}: {}", doc.framework_name, doc.organisation),
        author: doc.organisation.clone(),
        date: crate::date_parts(&doc.date),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register() -> ControlRegister {
        ControlRegister {
            organisation: "Acme Ltd".into(),
            date: "2026-11-26T07:00:00.000000Z".into(),
            currency: "EUR".into(),
            controls: vec![ControlLine {
                id: 7,
                name: "=MFA for administrators".into(),
                category: "Technical".into(),
                status: "Implemented".into(),
                owner: "mia@acme.test".into(),
                cost: 1200,
                effort: "M".into(),
                start_date: "2026-01-01".into(),
                due_date: "2026-03-01".into(),
                review_schedule: "Quarterly".into(),
                next_review: "2026-06-01".into(),
                requirements: vec![
                    ("iso27001-2022".into(), vec!["A.8.5".into()]),
                    ("nist-csf-2.0".into(), vec!["PR.AA-05".into()]),
                ],
                latest_review: "Not effective on 2026-03-01 by ann@acme.test".into(),
                evidence: 2,
                evidence_expired: 1,
                next_expiry: "2027-01-01".into(),
                description: String::new(),
            }],
        }
    }

    #[test]
    fn the_register_prints_in_every_format_the_same_bytes_each_time() {
        let d = register();
        let csv = String::from_utf8(controls_csv(&d).unwrap()).unwrap();
        assert!(csv.starts_with("id,name,category,status,owner,cost,currency,"));
        assert!(csv.contains("'=MFA for administrators"), "{csv}");
        assert!(csv.contains("iso27001-2022: A.8.5; nist-csf-2.0: PR.AA-05"));
        let pdf = controls_pdf(&d);
        assert_eq!(pdf, controls_pdf(&d));
        let text = crate::pdf_text(&pdf);
        assert!(text.contains("MFA for administrators"), "{text}");
        assert!(
            text.contains("PR.AA-05") && text.contains("expiry 2027-01-01"),
            "{text}"
        );
        let x = controls_xlsx(&d).unwrap();
        assert!(x.starts_with(b"PK"));
        assert_eq!(x, controls_xlsx(&d).unwrap());
    }

    #[test]
    fn the_coverage_marks_derived_mappings() {
        let d = CoverageDocument {
            organisation: "Acme Ltd".into(),
            date: "2026-11-26T07:00:00.000000Z".into(),
            framework: "nist-800-53r5".into(),
            framework_name: "SP 800-53".into(),
            lines: vec![CoverageLine {
                ref_id: "AC-2".into(),
                title: "Account management".into(),
                coverage: "planned".into(),
                coverage_label: "Only planned controls".into(),
                controls: vec![],
                mapped: vec![MappedControl {
                    name: "Joiner process".into(),
                    derived: true,
                }],
            }],
            implemented: 0,
            planned: 1,
            none: 0,
        };
        let csv = String::from_utf8(coverage_csv(&d).unwrap()).unwrap();
        assert!(
            csv.contains(
                "AC-2,Account management,planned,,Joiner process (derived mapping),Joiner process"
            ),
            "{csv}"
        );
        let pdf = coverage_pdf(&d);
        assert_eq!(pdf, coverage_pdf(&d));
        assert!(crate::pdf_text(&pdf).contains("Joiner process (derived)"));
        assert_eq!(coverage_xlsx(&d).unwrap(), coverage_xlsx(&d).unwrap());
    }
}
