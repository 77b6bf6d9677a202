//! The internal audit report (PDF, XLSX), the nonconformity register (CSV,
//! XLSX) and the management review minutes (PDF). Every date inside the
//! files is the document's own, so the same data gives the same bytes.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::ReportError;
use crate::cells::{self, Cell, write_record};
use crate::pdf::{TableDoc, render};

/// One finding of an audit, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingLine {
    pub result: String,
    pub notes: String,
    pub evidence: Vec<String>,
    /// `NC-<id>` when it raised one.
    pub nonconformity: String,
    pub recorded: String,
}

/// One checklist item with its findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistLine {
    pub requirement: String,
    pub title: String,
    /// Clause or Annex A theme, for grouping.
    pub group: String,
    pub findings: Vec<FindingLine>,
}

/// An audit report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDocument {
    pub organisation: String,
    pub title: String,
    pub framework: String,
    pub criteria: String,
    pub status: String,
    pub start_date: String,
    pub end_date: String,
    pub lead_auditor: String,
    pub auditors: Vec<String>,
    pub summary: String,
    /// RFC 3339: the audit's last change; every date in the files is this one.
    pub date: String,
    pub items: Vec<ChecklistLine>,
}

impl AuditDocument {
    /// (result label, count) over every finding, in a fixed order.
    pub fn result_counts(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for f in self.items.iter().flat_map(|i| &i.findings) {
            match out.iter_mut().find(|(r, _)| *r == f.result) {
                Some(e) => e.1 += 1,
                None => out.push((f.result.clone(), 1)),
            }
        }
        out.sort();
        out
    }

    /// Per clause or Annex A theme: "Annex A 8: 2 Conform, 1 Minor nonconformity".
    pub fn results_by_group(&self) -> Vec<String> {
        let mut groups: Vec<(&str, Vec<(&str, usize)>)> = Vec::new();
        for i in &self.items {
            if groups.last().is_none_or(|(g, _)| *g != i.group) {
                groups.push((&i.group, Vec::new()));
            }
            let Some((_, counts)) = groups.last_mut() else {
                continue;
            };
            for f in &i.findings {
                match counts.iter_mut().find(|(r, _)| *r == f.result) {
                    Some(c) => c.1 += 1,
                    None => counts.push((&f.result, 1)),
                }
            }
        }
        groups
            .into_iter()
            .map(|(g, mut counts)| {
                counts.sort_unstable();
                let list: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
                if list.is_empty() {
                    format!("{g}: not yet audited")
                } else {
                    format!("{g}: {}", list.join(", "))
                }
            })
            .collect()
    }
}

fn workbook(title: String, organisation: &str, date: &str) -> Result<Workbook, XlsxError> {
    crate::workbook(title, None, organisation, date)
}

/// A sheet of headings and text records.
fn sheet(
    wb: &mut Workbook,
    name: &str,
    headers: &[(&str, f64)],
    rows: &[Vec<String>],
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let plain = Format::new();
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    for (c, (t, w)) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *t, &bold)?;
        ws.set_column_width(c as u16, *w)?;
    }
    let mut row = 1u32;
    for r in rows {
        let record: Vec<Cell<'_>> = r.iter().map(|t| Cell::Text(t)).collect();
        row += write_record(ws, row, &record, 0, &plain)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

#[allow(clippy::needless_pass_by_value)] // the shape map_err takes
fn xlsx_err(e: XlsxError) -> ReportError {
    ReportError::Xlsx(e.to_string())
}

fn day(date: &str) -> String {
    date.get(..10).unwrap_or("").to_owned()
}

/// The audit report as PDF: scope, criteria, team, dates and results on the
/// title page; every checklist item with its findings by clause and theme;
/// the signature block last.
pub fn audit_pdf(doc: &AuditDocument) -> Vec<u8> {
    let mut sections: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for i in &doc.items {
        if sections.last().is_none_or(|(g, _)| *g != i.group) {
            sections.push((i.group.clone(), Vec::new()));
        }
        let Some((_, rows)) = sections.last_mut() else {
            continue;
        };
        if i.findings.is_empty() {
            rows.push(vec![
                i.requirement.clone(),
                i.title.clone(),
                "not yet audited".into(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        for f in &i.findings {
            rows.push(vec![
                i.requirement.clone(),
                i.title.clone(),
                f.result.clone(),
                f.notes.clone(),
                f.evidence.join("\n"),
                f.nonconformity.clone(),
            ]);
        }
    }
    let lead = if doc.lead_auditor.is_empty() {
        "Lead auditor".to_owned()
    } else {
        format!("Lead auditor ({})", doc.lead_auditor)
    };
    sections.push((
        "Signatures".into(),
        vec![
            vec![
                String::new(),
                lead,
                "Signature:".into(),
                "Date:".into(),
                String::new(),
                String::new(),
            ],
            vec![
                String::new(),
                "Auditee (management representative)".into(),
                "Signature:".into(),
                "Date:".into(),
                String::new(),
                String::new(),
            ],
        ],
    ));
    let results = doc
        .result_counts()
        .into_iter()
        .map(|(r, n)| format!("{r}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let scope = doc
        .items
        .iter()
        .map(|i| i.requirement.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut facts = vec![
        ("Organisation".into(), doc.organisation.clone()),
        ("Audit".into(), doc.title.clone()),
        ("Status".into(), doc.status.clone()),
        ("Framework".into(), doc.framework.clone()),
        ("Scope".into(), scope),
        ("Lead auditor".into(), doc.lead_auditor.clone()),
        ("Audit team".into(), doc.auditors.join(", ")),
        (
            "Dates".into(),
            format!("{} to {}", doc.start_date, doc.end_date),
        ),
        (
            "Results".into(),
            if results.is_empty() {
                "no findings yet".into()
            } else {
                results
            },
        ),
    ];
    facts.push((
        "By clause and theme".into(),
        doc.results_by_group().join("; "),
    ));
    if !doc.criteria.is_empty() {
        facts.insert(4, ("Criteria".into(), doc.criteria.clone()));
    }
    if !doc.summary.is_empty() {
        facts.push(("Conclusion".into(), doc.summary.clone()));
    }
    render(&TableDoc {
        title: "Internal audit report".into(),
        subtitle: doc.title.clone(),
        facts,
        banner: None,
        footer: format!(
            "{} \u{2013} Internal audit report \u{2013} {}",
            doc.organisation,
            day(&doc.date)
        ),
        columns: vec![
            ("Requirement", 60.0),
            ("Title", 150.0),
            ("Result", 90.0),
            ("Notes", 250.0),
            ("Evidence", 160.0),
            ("NC", 60.0),
        ],
        sections,
        info_title: format!("Internal audit report: {}", doc.title),
        author: doc.organisation.clone(),
        date: crate::date_parts(&doc.date),
    })
}

/// The audit report as XLSX: the audit's facts, then one row per finding.
pub fn audit_xlsx(doc: &AuditDocument) -> Result<Vec<u8>, ReportError> {
    let mut wb = workbook(
        format!("Internal audit report: {}", doc.title),
        &doc.organisation,
        &doc.date,
    )
    .map_err(xlsx_err)?;
    let facts = vec![
        vec!["Organisation".into(), doc.organisation.clone()],
        vec!["Audit".into(), doc.title.clone()],
        vec!["Status".into(), doc.status.clone()],
        vec!["Framework".into(), doc.framework.clone()],
        vec!["Criteria".into(), doc.criteria.clone()],
        vec!["Lead auditor".into(), doc.lead_auditor.clone()],
        vec!["Audit team".into(), doc.auditors.join(", ")],
        vec!["Start".into(), doc.start_date.clone()],
        vec!["End".into(), doc.end_date.clone()],
        vec!["Conclusion".into(), doc.summary.clone()],
    ];
    sheet(
        &mut wb,
        "Audit",
        &[("Field", 16.0), ("Value", 80.0)],
        &facts,
    )
    .map_err(xlsx_err)?;
    let mut rows = Vec::new();
    for i in &doc.items {
        if i.findings.is_empty() {
            rows.push(vec![
                i.group.clone(),
                i.requirement.clone(),
                i.title.clone(),
                "not yet audited".into(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        for f in &i.findings {
            rows.push(vec![
                i.group.clone(),
                i.requirement.clone(),
                i.title.clone(),
                f.result.clone(),
                f.notes.clone(),
                f.evidence.join("\n"),
                f.nonconformity.clone(),
                f.recorded.clone(),
            ]);
        }
    }
    sheet(
        &mut wb,
        "Findings",
        &[
            ("Clause or theme", 24.0),
            ("Requirement", 12.0),
            ("Title", 36.0),
            ("Result", 20.0),
            ("Notes", 60.0),
            ("Evidence", 40.0),
            ("Nonconformity", 14.0),
            ("Recorded", 22.0),
        ],
        &rows,
    )
    .map_err(xlsx_err)?;
    wb.save_to_buffer().map_err(xlsx_err)
}

/// One nonconformity of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NcLine {
    pub key: String,
    pub title: String,
    pub severity: String,
    pub source: String,
    pub status: String,
    pub requirement: String,
    pub owner: String,
    pub raised: String,
    pub closed: String,
    pub actions: String,
    pub overdue_actions: String,
    pub next_due: String,
}

/// The nonconformity register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NcRegister {
    pub organisation: String,
    pub date: String,
    pub rows: Vec<NcLine>,
}

const NC_HEADER: [&str; 12] = [
    "key",
    "title",
    "severity",
    "source",
    "status",
    "requirement",
    "owner",
    "raised",
    "closed",
    "actions",
    "overdue_actions",
    "next_due",
];

fn nc_row(n: &NcLine) -> Vec<String> {
    vec![
        n.key.clone(),
        n.title.clone(),
        n.severity.clone(),
        n.source.clone(),
        n.status.clone(),
        n.requirement.clone(),
        n.owner.clone(),
        n.raised.clone(),
        n.closed.clone(),
        n.actions.clone(),
        n.overdue_actions.clone(),
        n.next_due.clone(),
    ]
}

/// The register as CSV (formula-like cells neutralised).
pub fn nc_csv(doc: &NcRegister) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| ReportError::Csv(e.to_string());
    cells::write_csv_record(&mut w, NC_HEADER).map_err(err)?;
    for n in &doc.rows {
        cells::write_csv_record(&mut w, nc_row(n)).map_err(err)?;
    }
    w.into_inner().map_err(|e| ReportError::Csv(e.to_string()))
}

/// The register as XLSX.
pub fn nc_xlsx(doc: &NcRegister) -> Result<Vec<u8>, ReportError> {
    let mut wb = workbook(
        format!("Nonconformity register: {}", doc.organisation),
        &doc.organisation,
        &doc.date,
    )
    .map_err(xlsx_err)?;
    let widths = [
        10.0, 40.0, 10.0, 16.0, 16.0, 12.0, 24.0, 22.0, 22.0, 8.0, 8.0, 12.0,
    ];
    let headers: Vec<(&str, f64)> = NC_HEADER.iter().copied().zip(widths).collect();
    let rows: Vec<Vec<String>> = doc.rows.iter().map(nc_row).collect();
    sheet(&mut wb, "Nonconformities", &headers, &rows).map_err(xlsx_err)?;
    wb.save_to_buffer().map_err(xlsx_err)
}

/// A section of the review's inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewSection {
    pub clause: String,
    pub title: String,
    pub summary: String,
    pub lines: Vec<String>,
}

/// The minutes of a management review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewDocument {
    pub organisation: String,
    pub title: String,
    /// YYYY-MM-DD of the meeting.
    pub review_date: String,
    pub attendees: Vec<String>,
    pub minutes: String,
    pub inputs: Vec<ReviewSection>,
    /// (kind, text).
    pub decisions: Vec<(String, String)>,
    /// (title, owner, due, status).
    pub actions: Vec<(String, String, String, String)>,
    /// RFC 3339: the record's last change.
    pub date: String,
}

/// The minutes as PDF: inputs, decisions and actions.
pub fn review_pdf(doc: &ReviewDocument) -> Vec<u8> {
    let mut sections = Vec::new();
    for s in &doc.inputs {
        let mut rows = vec![vec![s.clause.clone(), s.summary.clone(), String::new()]];
        for l in &s.lines {
            rows.push(vec![String::new(), l.clone(), String::new()]);
        }
        sections.push((format!("Input: {}", s.title), rows));
    }
    sections.push((
        "Decisions".into(),
        if doc.decisions.is_empty() {
            vec![vec![
                String::new(),
                "No decision recorded.".into(),
                String::new(),
            ]]
        } else {
            doc.decisions
                .iter()
                .map(|(k, t)| vec![k.clone(), t.clone(), String::new()])
                .collect()
        },
    ));
    sections.push((
        "Actions".into(),
        if doc.actions.is_empty() {
            vec![vec![
                String::new(),
                "No action recorded.".into(),
                String::new(),
            ]]
        } else {
            doc.actions
                .iter()
                .map(|(t, o, d, s)| {
                    vec![
                        s.clone(),
                        t.clone(),
                        format!("{o}{}{d}", if d.is_empty() { "" } else { ", due " }),
                    ]
                })
                .collect()
        },
    ));
    let mut facts = vec![
        ("Organisation".into(), doc.organisation.clone()),
        ("Meeting".into(), doc.title.clone()),
        ("Date".into(), doc.review_date.clone()),
        ("Attendees".into(), doc.attendees.join(", ")),
    ];
    if !doc.minutes.is_empty() {
        facts.push(("Minutes".into(), doc.minutes.clone()));
    }
    render(&TableDoc {
        title: "Management review".into(),
        subtitle: doc.title.clone(),
        facts,
        banner: None,
        footer: format!(
            "{} \u{2013} Management review \u{2013} {}",
            doc.organisation, doc.review_date
        ),
        columns: vec![("Item", 90.0), ("Content", 500.0), ("Owner, due", 180.0)],
        sections,
        info_title: format!("Management review: {}", doc.title),
        author: doc.organisation.clone(),
        date: crate::date_parts(&doc.date),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> AuditDocument {
        let finding = |result: &str, notes: &str| FindingLine {
            result: result.into(),
            notes: notes.into(),
            evidence: vec!["https://wiki.test/x".into()],
            nonconformity: String::new(),
            recorded: "2026-03-01T10:00:00Z ann@x.test".into(),
        };
        AuditDocument {
            organisation: "Acme Ltd".into(),
            title: "Access audit".into(),
            framework: "iso27001-2022".into(),
            criteria: String::new(),
            status: "Completed".into(),
            start_date: "2026-03-01".into(),
            end_date: "2026-03-02".into(),
            lead_auditor: "aud@x.test".into(),
            auditors: vec!["aud@x.test".into()],
            summary: String::new(),
            date: "2026-03-02T10:00:00Z".into(),
            items: vec![
                ChecklistLine {
                    requirement: "8.5".into(),
                    title: "Secure authentication".into(),
                    group: "Annex A 8".into(),
                    findings: vec![
                        finding("Minor nonconformity", "No MFA on the VPN"),
                        finding("Conform", "Passwords hashed"),
                    ],
                },
                ChecklistLine {
                    requirement: "9.2".into(),
                    title: "Internal audit".into(),
                    group: "Clause 9".into(),
                    findings: vec![],
                },
            ],
        }
    }

    #[test]
    fn the_report_is_deterministic_and_sums_up_by_clause_and_theme() {
        let d = doc();
        assert_eq!(
            d.results_by_group(),
            [
                "Annex A 8: 1 Conform, 1 Minor nonconformity",
                "Clause 9: not yet audited"
            ]
        );
        let pdf = audit_pdf(&d);
        assert_eq!(pdf, audit_pdf(&d));
        assert!(crate::pdf_text(&pdf).contains("No MFA on the VPN"));
        assert_eq!(audit_xlsx(&d).unwrap(), audit_xlsx(&d).unwrap());
    }
}
