//! isms-reports: documents made from ISMS data, with no I/O.
//!
//! - [`soa_pdf`], [`soa_xlsx`], [`soa_csv`]: the Statement of Applicability
//!   for auditors. The same [`SoaDocument`] always gives the same bytes: every
//!   date inside the files is the SoA's own date, never the time of export.
//! - [`gap_pdf`], [`gap_xlsx`]: the gap report: every requirement not yet
//!   implemented, grouped by clause and Annex A theme, sorted by priority.
//! - [`svg`]: small server-side charts (progress bars).
//!
//! Every PDF embeds DejaVu Sans (regular and bold, the Bitstream Vera
//! licence), subset to the glyphs it uses, so Latin with any European
//! diacritic, Greek and Cyrillic print as typed and extract as text; lines
//! wrap on the font's own metrics ([`font`], [`text`]).

pub mod cells;
pub mod controls;
pub mod document;
mod font;
mod gap;
pub mod internal_audit;
pub mod metrics;
mod pdf;
pub mod risk;
pub mod svg;
mod text;
pub mod training;

pub use gap::{GapDocument, GapGroup, GapItem, gap_pdf, gap_xlsx};
pub use pdf::soa_pdf;

/// One row of the SoA, ready to print (labels, not codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoaRow {
    pub control_id: String,
    pub title: String,
    /// Organizational, People, Physical or Technological.
    pub theme: String,
    pub applicable: bool,
    pub justification: String,
    /// Reasons for inclusion, as labels.
    pub reasons: Vec<String>,
    /// Implementation status, as a label.
    pub status: String,
    pub owner: String,
    pub notes: String,
}

/// A Statement of Applicability to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoaDocument {
    pub organisation: String,
    /// The approved version, or `None` for the unapproved draft.
    pub version: Option<i64>,
    pub approved_by: Option<String>,
    /// The SoA's own date as RFC 3339 UTC text (`2026-11-26T06:00:00.000000Z`): the
    /// approval time of a version, the last change of a draft. Every date in
    /// the exported files is this one.
    pub date: String,
    pub rows: Vec<SoaRow>,
}

impl SoaDocument {
    /// "Version 3" or "DRAFT (not approved)".
    pub fn version_label(&self) -> String {
        match self.version {
            Some(n) => format!("Version {n}"),
            None => "DRAFT (not approved)".to_owned(),
        }
    }
    /// The date part, `YYYY-MM-DD`.
    pub fn day(&self) -> &str {
        self.date.get(..10).unwrap_or("")
    }
    /// (year, month, day, hour, minute, second) of [`SoaDocument::date`], or
    /// 2000-01-01 00:00:00 when it cannot be read.
    fn date_parts(&self) -> (u16, u8, u8, u8, u8, u8) {
        date_parts(&self.date)
    }
    fn applicable_label(row: &SoaRow) -> &'static str {
        if row.applicable { "Yes" } else { "No" }
    }
}

/// A workbook whose properties name the report, its subject, the
/// organisation and the report's date (never the clock, so that the same
/// data gives the same bytes).
pub(crate) fn workbook(
    title: String,
    subject: Option<String>,
    organisation: &str,
    date: &str,
) -> Result<rust_xlsxwriter::Workbook, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};
    let (year, month, day, hour, minute, second) = date_parts(date);
    let when = ExcelDateTime::from_ymd(year, month, day)?.and_hms(
        u16::from(hour),
        minute,
        f64::from(second),
    )?;
    let mut props = DocProperties::new()
        .set_title(title)
        .set_author("isms")
        .set_company(organisation)
        .set_creation_datetime(&when);
    if let Some(subject) = subject {
        props = props.set_subject(subject);
    }
    let mut wb = Workbook::new();
    wb.set_properties(&props);
    Ok(wb)
}

/// (year, month, day, hour, minute, second) of RFC 3339 text, or
/// 2000-01-01 00:00:00 when it cannot be read.
pub(crate) fn date_parts(date: &str) -> (u16, u8, u8, u8, u8, u8) {
    {
        let d = date.as_bytes();
        let num = |a: usize, b: usize| -> Option<u16> {
            std::str::from_utf8(d.get(a..b)?).ok()?.parse().ok()
        };
        let parts = (|| {
            Some((
                num(0, 4)?,
                u8::try_from(num(5, 7)?).ok()?,
                u8::try_from(num(8, 10)?).ok()?,
                u8::try_from(num(11, 13).unwrap_or(0)).ok()?,
                u8::try_from(num(14, 16).unwrap_or(0)).ok()?,
                u8::try_from(num(17, 19).unwrap_or(0)).ok()?,
            ))
        })();
        match parts {
            Some(p)
                if (1..=12).contains(&p.1)
                    && (1..=31).contains(&p.2)
                    && p.3 < 24
                    && p.4 < 60
                    && p.5 < 60 =>
            {
                p
            }
            _ => (2000, 1, 1, 0, 0, 0),
        }
    }
}

/// Errors of the exports.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the spreadsheet: {0}")]
    Xlsx(String),
    #[error("cannot write the CSV: {0}")]
    Csv(String),
}

const HEADERS: [&str; 9] = [
    "Control",
    "Title",
    "Theme",
    "Applicable",
    "Justification",
    "Reasons for inclusion",
    "Implementation status",
    "Owner",
    "Notes",
];

fn row_cells(r: &SoaRow) -> [String; 9] {
    [
        r.control_id.clone(),
        r.title.clone(),
        r.theme.clone(),
        SoaDocument::applicable_label(r).to_owned(),
        r.justification.clone(),
        r.reasons.join("; "),
        r.status.clone(),
        r.owner.clone(),
        r.notes.clone(),
    ]
}

/// The SoA as CSV (UTF-8, a header row, then one row per control). A cell
/// that a spreadsheet would read as a formula starts with `'`
/// ([`cells::write_csv_record`]).
pub fn soa_csv(doc: &SoaDocument) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| ReportError::Csv(e.to_string());
    cells::write_csv_record(&mut w, HEADERS).map_err(err)?;
    for r in &doc.rows {
        cells::write_csv_record(&mut w, row_cells(r)).map_err(err)?;
    }
    w.into_inner().map_err(|e| ReportError::Csv(e.to_string()))
}

/// The SoA as an XLSX workbook: one sheet with a header row and one row per
/// control; whose SoA, which version, approved by whom and when are in the
/// document properties (title, subject, comments). Text is written as string
/// cells, and text over Excel's cell limit goes on in "(continued)" rows
/// below its control ([`cells::write_record`]).
pub fn soa_xlsx(doc: &SoaDocument) -> Result<Vec<u8>, ReportError> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| ReportError::Xlsx(e.to_string());
    let (y, mo, d, h, mi, s) = doc.date_parts();
    let when = ExcelDateTime::from_ymd(y, mo, d)
        .and_then(|t| t.and_hms(u16::from(h), mi, f64::from(s)))
        .map_err(err)?;
    let mut wb = Workbook::new();
    let props = DocProperties::new()
        .set_title(format!("Statement of Applicability: {}", doc.organisation))
        .set_subject(format!(
            "ISO/IEC 27001:2022 Annex A, {}",
            doc.version_label()
        ))
        .set_author("isms")
        .set_company(&doc.organisation)
        .set_comment(format!(
            "{}; approved by {}; date {}; {} controls",
            doc.version_label(),
            doc.approved_by.as_deref().unwrap_or("nobody (draft)"),
            doc.day(),
            doc.rows.len()
        ))
        .set_creation_datetime(&when);
    wb.set_properties(&props);
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let ws = wb.add_worksheet();
    ws.set_name("Statement of Applicability").map_err(err)?;
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(err)?;
    }
    let mut row = 1u32;
    for r in &doc.rows {
        let texts = row_cells(r);
        let record: Vec<cells::Cell<'_>> = texts.iter().map(|t| cells::Cell::Text(t)).collect();
        row += cells::write_record(ws, row, &record, 0, &wrap).map_err(err)?;
    }
    for (c, w) in [9.0, 36.0, 14.0, 11.0, 60.0, 26.0, 20.0, 24.0, 30.0]
        .into_iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, w).map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    ws.autofilter(0, 0, row - 1, (HEADERS.len() - 1) as u16)
        .map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// The text of a PDF as a reader extracts it (through the fonts' ToUnicode
/// maps), page after page, one line per text object.
#[cfg(test)]
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).expect("a readable PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("extractable text")
}

#[cfg(test)]
mod tests;
