//! Documented information for the auditor: one document as PDF (title page
//! with version and approval block, the text, the revision history), the
//! document register and the acknowledgement records (CSV, XLSX).

use rust_xlsxwriter::Format;

use crate::ReportError;
use crate::cells::{self, Cell, write_record};
use crate::pdf::{TableDoc, render};

/// One document as printed.
#[derive(Debug, Clone, Default)]
pub struct DocumentPrint {
    pub organisation: String,
    pub key: String,
    pub title: String,
    pub doc_type: String,
    pub classification: String,
    pub owner: String,
    /// "1.2".
    pub version: String,
    pub state: String,
    pub approved_by: String,
    pub approved_at: String,
    pub published_at: String,
    pub review_due: String,
    pub requirements: Vec<String>,
    /// The text as (heading, paragraphs) blocks, from the Markdown.
    pub sections: Vec<(String, Vec<String>)>,
    /// Rows of (version, state, author, approval, publication, note).
    pub history: Vec<[String; 6]>,
    /// RFC 3339: the version's own date, so the same version gives the same bytes.
    pub date: String,
}

/// The document as PDF: a title page with the approval block, the text
/// section by section, then the revision history.
pub fn document_pdf(d: &DocumentPrint) -> Vec<u8> {
    let mut sections: Vec<(String, Vec<Vec<String>>)> = d
        .sections
        .iter()
        .map(|(h, paras)| {
            (
                h.clone(),
                paras
                    .iter()
                    .enumerate()
                    .map(|(i, p)| vec![(i + 1).to_string(), p.clone()])
                    .collect(),
            )
        })
        .collect();
    sections.push((
        "Approval".into(),
        vec![
            vec!["Version".into(), d.version.clone()],
            vec!["State".into(), d.state.clone()],
            vec![
                "Approved by".into(),
                if d.approved_by.is_empty() {
                    "not approved yet".into()
                } else {
                    format!("{} on {}", d.approved_by, day(&d.approved_at))
                },
            ],
            vec!["Published".into(), day(&d.published_at).to_owned()],
        ],
    ));
    sections.push((
        "Revision history".into(),
        d.history
            .iter()
            .map(|h| {
                vec![
                    h[0].clone(),
                    format!(
                        "{}; written by {}; {}; {}{}",
                        h[1],
                        h[2],
                        h[3],
                        h[4],
                        if h[5].is_empty() {
                            String::new()
                        } else {
                            format!("; {}", h[5])
                        }
                    ),
                ]
            })
            .collect(),
    ));
    let approved = if d.approved_by.is_empty() {
        "not approved yet".to_owned()
    } else {
        format!("{} on {}", d.approved_by, day(&d.approved_at))
    };
    render(&TableDoc {
        title: d.title.clone(),
        subtitle: format!("{} of {}", d.doc_type, d.organisation),
        facts: vec![
            ("Document".into(), d.key.clone()),
            ("Version".into(), format!("{} ({})", d.version, d.state)),
            ("Approved by".into(), approved),
            ("Published".into(), day(&d.published_at).to_owned()),
            ("Owner".into(), d.owner.clone()),
            ("Classification".into(), d.classification.clone()),
            ("Next review".into(), d.review_due.clone()),
            ("Addresses".into(), d.requirements.join(", ")),
        ],
        banner: (d.state != "Published").then(|| {
            (
                d.state.to_uppercase(),
                "This version is not in force: only the published version applies.".into(),
            )
        }),
        footer: format!(
            "{} \u{2013} {} \u{2013} version {} \u{2013} {}",
            d.organisation, d.title, d.version, d.classification
        ),
        columns: vec![("#", 40.0), ("Text", 730.0)],
        sections,
        info_title: format!("{} (version {})", d.title, d.version),
        author: d.organisation.clone(),
        date: crate::date_parts(&d.date),
    })
}

fn day(s: &str) -> &str {
    s.get(..10).unwrap_or(s)
}

/// One row of the document register.
#[derive(Debug, Clone, Default)]
pub struct RegisterLine {
    pub key: String,
    pub title: String,
    pub doc_type: String,
    pub status: String,
    pub owner: String,
    pub classification: String,
    pub published_version: String,
    pub approved_by: String,
    pub published_at: String,
    pub current_version: String,
    pub current_state: String,
    pub review_due: String,
    pub requirements: String,
    pub acknowledged: i64,
    pub required: i64,
}

const REGISTER_HEADER: [&str; 15] = [
    "key",
    "title",
    "type",
    "status",
    "owner",
    "classification",
    "published_version",
    "approved_by",
    "published_at",
    "current_version",
    "current_state",
    "review_due",
    "requirements",
    "acknowledged",
    "required",
];

fn register_row(l: &RegisterLine) -> [String; 15] {
    [
        l.key.clone(),
        l.title.clone(),
        l.doc_type.clone(),
        l.status.clone(),
        l.owner.clone(),
        l.classification.clone(),
        l.published_version.clone(),
        l.approved_by.clone(),
        l.published_at.clone(),
        l.current_version.clone(),
        l.current_state.clone(),
        l.review_due.clone(),
        l.requirements.clone(),
        l.acknowledged.to_string(),
        l.required.to_string(),
    ]
}

/// One acknowledgement (or a pending one: `acknowledged_at` empty).
#[derive(Debug, Clone, Default)]
pub struct AckLine {
    pub key: String,
    pub title: String,
    pub version: String,
    pub email: String,
    pub name: String,
    pub acknowledged_at: String,
}

const ACK_HEADER: [&str; 6] = [
    "document",
    "title",
    "version",
    "email",
    "name",
    "acknowledged_at",
];

fn ack_row(l: &AckLine) -> [String; 6] {
    [
        l.key.clone(),
        l.title.clone(),
        l.version.clone(),
        l.email.clone(),
        l.name.clone(),
        l.acknowledged_at.clone(),
    ]
}

fn csv_of<const N: usize, T>(
    header: [&str; N],
    rows: &[T],
    f: fn(&T) -> [String; N],
) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| ReportError::Csv(e.to_string());
    cells::write_csv_record(&mut w, header).map_err(err)?;
    for r in rows {
        cells::write_csv_record(&mut w, f(r)).map_err(err)?;
    }
    w.into_inner().map_err(|e| ReportError::Csv(e.to_string()))
}

fn xlsx_of<const N: usize, T>(
    title: &str,
    organisation: &str,
    date: &str,
    header: [&str; N],
    rows: &[T],
    f: fn(&T) -> [String; N],
) -> Result<Vec<u8>, ReportError> {
    let err = |e: rust_xlsxwriter::XlsxError| ReportError::Xlsx(e.to_string());
    let mut wb = crate::workbook(format!("{title}: {organisation}"), None, organisation, date)
        .map_err(err)?;
    let bold = Format::new().set_bold();
    let plain = Format::new();
    let ws = wb.add_worksheet();
    ws.set_name(title).map_err(err)?;
    for (c, t) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *t, &bold)
            .map_err(err)?;
        ws.set_column_width(c as u16, if c == 1 { 40.0 } else { 16.0 })
            .map_err(err)?;
    }
    let mut row = 1u32;
    for r in rows {
        let texts = f(r);
        let record: Vec<Cell<'_>> = texts.iter().map(|t| Cell::Text(t)).collect();
        row += write_record(ws, row, &record, 0, &plain).map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// The register as CSV (formula-like cells neutralised).
pub fn register_csv(rows: &[RegisterLine]) -> Result<Vec<u8>, ReportError> {
    csv_of(REGISTER_HEADER, rows, register_row)
}

/// The register as XLSX, text as string cells.
pub fn register_xlsx(
    organisation: &str,
    date: &str,
    rows: &[RegisterLine],
) -> Result<Vec<u8>, ReportError> {
    xlsx_of(
        "Documents",
        organisation,
        date,
        REGISTER_HEADER,
        rows,
        register_row,
    )
}

/// The acknowledgement records as CSV.
pub fn acks_csv(rows: &[AckLine]) -> Result<Vec<u8>, ReportError> {
    csv_of(ACK_HEADER, rows, ack_row)
}

/// The acknowledgement records as XLSX.
pub fn acks_xlsx(organisation: &str, date: &str, rows: &[AckLine]) -> Result<Vec<u8>, ReportError> {
    xlsx_of(
        "Acknowledgements",
        organisation,
        date,
        ACK_HEADER,
        rows,
        ack_row,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pdf_is_stable() {
        let d = DocumentPrint {
            organisation: "Acme".into(),
            key: "DOC-1".into(),
            title: "Access control policy".into(),
            doc_type: "Policy".into(),
            version: "2.1".into(),
            state: "Published".into(),
            approved_by: "bob@acme.test".into(),
            approved_at: "2026-01-02T00:00:00Z".into(),
            sections: vec![("Purpose".into(), vec!["Keep access tight.".into()])],
            history: vec![[
                "2.1".into(),
                "Published".into(),
                "ann".into(),
                "approved".into(),
                "published".into(),
                String::new(),
            ]],
            date: "2026-01-02T00:00:00Z".into(),
            ..Default::default()
        };
        // The text itself is checked by the command-line test (pdftotext).
        let a = document_pdf(&d);
        assert!(a.starts_with(b"%PDF"));
        assert_eq!(a, document_pdf(&d));
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_neutralised() {
        let rows = [RegisterLine {
            title: "=HYPERLINK(\"x\")".into(),
            ..Default::default()
        }];
        let csv = String::from_utf8(register_csv(&rows).unwrap()).unwrap();
        assert!(csv.contains("'=HYPERLINK"), "{csv}");
        assert!(register_xlsx("Acme", "2026-01-01T00:00:00Z", &rows).is_ok());
        assert!(acks_xlsx("Acme", "2026-01-01T00:00:00Z", &[]).is_ok());
    }
}
