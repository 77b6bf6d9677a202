//! The gap report: every requirement that is not implemented, grouped by
//! clause and Annex A theme and sorted by priority, with the progress of
//! each group.

use crate::ReportError;
use crate::cells::{Cell, write_record};
use crate::pdf::{TableDoc, render};

/// One requirement that is not implemented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapItem {
    pub ref_id: String,
    pub title: String,
    /// 1 (highest) to 3.
    pub priority: u8,
    /// As a label.
    pub status: String,
    pub maturity: i64,
    pub owner: String,
    pub target_date: String,
    pub notes: String,
    pub actions: String,
}

/// A clause or Annex A theme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapGroup {
    pub name: String,
    pub implemented: usize,
    pub applicable: usize,
    /// The gaps of this group, highest priority first.
    pub items: Vec<GapItem>,
}

/// A gap report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapDocument {
    pub organisation: String,
    pub assessment: String,
    pub framework: String,
    /// RFC 3339: the assessment's last change; every date in the files is this one.
    pub date: String,
    pub groups: Vec<GapGroup>,
}

impl GapDocument {
    fn totals(&self) -> (usize, usize, usize) {
        let implemented = self.groups.iter().map(|g| g.implemented).sum();
        let applicable = self.groups.iter().map(|g| g.applicable).sum();
        let gaps = self.groups.iter().map(|g| g.items.len()).sum();
        (implemented, applicable, gaps)
    }
}

fn priority_label(p: u8) -> &'static str {
    match p {
        1 => "High",
        2 => "Medium",
        _ => "Low",
    }
}

fn percent(done: usize, total: usize) -> usize {
    (done * 100).checked_div(total).unwrap_or(0)
}

/// The gap report as a PDF.
pub fn gap_pdf(doc: &GapDocument) -> Vec<u8> {
    let (implemented, applicable, gaps) = doc.totals();
    let mut facts = vec![
        ("Organisation".to_owned(), doc.organisation.clone()),
        ("Assessment".to_owned(), doc.assessment.clone()),
        ("Framework".to_owned(), doc.framework.clone()),
        (
            "Date".to_owned(),
            doc.date.get(..10).unwrap_or("").to_owned(),
        ),
        (
            "Progress".to_owned(),
            format!(
                "{implemented} of {applicable} applicable requirements implemented ({}%); {gaps} gap(s) listed",
                percent(implemented, applicable)
            ),
        ),
    ];
    let worst: Vec<String> = doc
        .groups
        .iter()
        .filter(|g| !g.items.is_empty())
        .map(|g| format!("{}: {}%", g.name, percent(g.implemented, g.applicable)))
        .collect();
    if !worst.is_empty() {
        facts.push(("By group".to_owned(), worst.join("; ")));
    }
    let sections = doc
        .groups
        .iter()
        .filter(|g| !g.items.is_empty())
        .map(|g| {
            let rows = g
                .items
                .iter()
                .map(|i| {
                    vec![
                        i.ref_id.clone(),
                        i.title.clone(),
                        priority_label(i.priority).to_owned(),
                        i.status.clone(),
                        i.maturity.to_string(),
                        i.owner.clone(),
                        i.target_date.clone(),
                        [i.notes.as_str(), i.actions.as_str()]
                            .iter()
                            .filter(|s| !s.is_empty())
                            .copied()
                            .collect::<Vec<_>>()
                            .join("\nActions: "),
                    ]
                })
                .collect();
            (
                format!(
                    "{}  ({} of {} implemented, {} gap(s))",
                    g.name,
                    g.implemented,
                    g.applicable,
                    g.items.len()
                ),
                rows,
            )
        })
        .collect();
    render(&TableDoc {
        title: "Gap analysis".into(),
        subtitle: format!(
            "{}: requirements not yet implemented, by priority",
            doc.framework
        ),
        facts,
        banner: None,
        footer: format!(
            "{} \u{2013} Gap analysis \u{2013} {} \u{2013} {}",
            doc.organisation,
            doc.assessment,
            doc.date.get(..10).unwrap_or("")
        ),
        columns: vec![
            ("Ref", 40.0),
            ("Requirement", 170.0),
            ("Priority", 46.0),
            ("Status", 60.0),
            ("Maturity", 42.0),
            ("Owner", 100.0),
            ("Target date", 56.0),
            ("Notes and actions", 256.0),
        ],
        sections,
        info_title: format!("Gap analysis: {} ({})", doc.organisation, doc.assessment),
        author: doc.organisation.clone(),
        date: crate::date_parts(&doc.date),
    })
}

/// The gap report as an XLSX workbook: one row per gap, with a header row,
/// and a second sheet with the progress of each group. Text is written as
/// string cells; text over Excel's cell limit goes on in "(continued)" rows
/// ([`crate::cells::write_record`]).
pub fn gap_xlsx(doc: &GapDocument) -> Result<Vec<u8>, ReportError> {
    use rust_xlsxwriter::Format;
    let err = |e: rust_xlsxwriter::XlsxError| ReportError::Xlsx(e.to_string());
    let mut wb = crate::workbook(
        format!("Gap analysis: {}", doc.organisation),
        Some(doc.assessment.clone()),
        &doc.organisation,
        &doc.date,
    )
    .map_err(err)?;
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let ws = wb.add_worksheet();
    ws.set_name("Gaps").map_err(err)?;
    let headers = [
        "Group",
        "Ref",
        "Requirement",
        "Priority",
        "Status",
        "Maturity",
        "Owner",
        "Target date",
        "Notes",
        "Actions",
    ];
    for (c, t) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *t, &bold)
            .map_err(err)?;
    }
    let mut row = 1u32;
    for g in &doc.groups {
        for i in &g.items {
            let record = [
                Cell::Text(&g.name),
                Cell::Text(&i.ref_id),
                Cell::Text(&i.title),
                Cell::Text(priority_label(i.priority)),
                Cell::Text(&i.status),
                Cell::Number(i.maturity as f64),
                Cell::Text(&i.owner),
                Cell::Text(&i.target_date),
                Cell::Text(&i.notes),
                Cell::Text(&i.actions),
            ];
            row += write_record(ws, row, &record, 1, &wrap).map_err(err)?;
        }
    }
    for (c, w) in [28.0, 8.0, 40.0, 9.0, 14.0, 9.0, 24.0, 12.0, 40.0, 40.0]
        .into_iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, w).map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    let progress = wb.add_worksheet();
    progress.set_name("Progress").map_err(err)?;
    for (c, t) in ["Group", "Implemented", "Applicable", "Percent", "Gaps"]
        .iter()
        .enumerate()
    {
        progress
            .write_string_with_format(0, c as u16, *t, &bold)
            .map_err(err)?;
    }
    for (r, g) in doc.groups.iter().enumerate() {
        let r = r as u32 + 1;
        progress.write_string(r, 0, &g.name).map_err(err)?;
        progress
            .write_number(r, 1, g.implemented as f64)
            .map_err(err)?;
        progress
            .write_number(r, 2, g.applicable as f64)
            .map_err(err)?;
        progress
            .write_number(r, 3, percent(g.implemented, g.applicable) as f64)
            .map_err(err)?;
        progress
            .write_number(r, 4, g.items.len() as f64)
            .map_err(err)?;
    }
    progress.set_column_width(0, 40).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> GapDocument {
        GapDocument {
            organisation: "Acme Ltd".into(),
            assessment: "Baseline 2026".into(),
            framework: "ISO/IEC 27001:2022".into(),
            date: "2026-11-26T07:00:00.000000Z".into(),
            groups: vec![
                GapGroup {
                    name: "Clause 6 Planning".into(),
                    implemented: 1,
                    applicable: 3,
                    items: vec![GapItem {
                        ref_id: "6.1.2".into(),
                        title: "Information security risk assessment".into(),
                        priority: 1,
                        status: "Not started".into(),
                        maturity: 0,
                        owner: "ann@acme.test".into(),
                        target_date: "2027-01-31".into(),
                        notes: "No method yet".into(),
                        actions: "Adopt a method".into(),
                    }],
                },
                GapGroup {
                    name: "A.7 Physical controls".into(),
                    implemented: 14,
                    applicable: 14,
                    items: vec![],
                },
            ],
        }
    }

    #[test]
    fn the_gap_pdf_lists_the_gaps_with_progress_and_is_deterministic() {
        let a = gap_pdf(&doc());
        assert_eq!(a, gap_pdf(&doc()));
        let t = crate::pdf_text(&a);
        assert!(t.contains("6.1.2\n") && t.contains("High\n") && t.contains("Baseline 2026\n"));
        assert!(
            t.contains("15 of 17 applicable requirements implemented") && t.contains("88%)"),
            "progress"
        );
        assert!(
            !t.contains("A.7 Physical controls  ("),
            "groups without gaps get no band"
        );
    }

    #[test]
    fn the_gap_xlsx_is_deterministic() {
        let a = gap_xlsx(&doc()).unwrap();
        assert!(a.starts_with(b"PK"));
        assert_eq!(a, gap_xlsx(&doc()).unwrap());
    }
}
