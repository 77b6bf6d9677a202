//! The risk register as PDF, XLSX and CSV, and the heat map of inherent and
//! residual risk as SVG. The CSV's first ten columns are the import's, so an
//! exported register imports again.

use std::fmt::Write as _;

use crate::ReportError;
use crate::cells::{self, Cell, write_record};
use crate::pdf::{Cover, Frame, TableWriter};

/// One risk of the register, ready to print (labels, not codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskLine {
    /// `RISK-<id>`.
    pub key: String,
    pub title: String,
    pub description: String,
    /// Asset names.
    pub assets: Vec<String>,
    pub likelihood: i64,
    pub impact: i64,
    pub level: String,
    /// modify, retain, avoid or share.
    pub treatment: String,
    pub annex_a_controls: Vec<String>,
    pub residual_likelihood: i64,
    pub residual_impact: i64,
    pub residual_level: String,
    pub status: String,
    pub owner: String,
    pub next_review: String,
}

/// A risk register to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskDocument {
    pub organisation: String,
    /// RFC 3339: the register's last change; every date in the files is this one.
    pub date: String,
    /// Highest inherent level first.
    pub risks: Vec<RiskLine>,
}

/// The header of the register's CSV; the first ten are the import's columns.
pub const RISK_CSV_HEADER: [&str; 15] = [
    "title",
    "description",
    "assets",
    "likelihood",
    "impact",
    "treatment",
    "annex_a_controls",
    "residual_likelihood",
    "residual_impact",
    "owner",
    "key",
    "level",
    "residual_level",
    "status",
    "next_review",
];

fn csv_row(r: &RiskLine) -> [String; 15] {
    [
        r.title.clone(),
        r.description.clone(),
        r.assets.join(";"),
        r.likelihood.to_string(),
        r.impact.to_string(),
        r.treatment.clone(),
        r.annex_a_controls.join(";"),
        r.residual_likelihood.to_string(),
        r.residual_impact.to_string(),
        r.owner.clone(),
        r.key.clone(),
        r.level.clone(),
        r.residual_level.clone(),
        r.status.clone(),
        r.next_review.clone(),
    ]
}

/// The register as CSV (formula-like cells neutralised).
pub fn risk_csv(doc: &RiskDocument) -> Result<Vec<u8>, ReportError> {
    whole(
        RiskExport::new(Kind::Csv, &doc.organisation, &doc.date)?,
        &doc.risks,
    )
}

/// The register as an XLSX workbook, one row per risk, text as string cells.
pub fn risk_xlsx(doc: &RiskDocument) -> Result<Vec<u8>, ReportError> {
    whole(
        RiskExport::new(Kind::Xlsx, &doc.organisation, &doc.date)?,
        &doc.risks,
    )
}

fn whole(mut out: RiskExport, lines: &[RiskLine]) -> Result<Vec<u8>, ReportError> {
    for r in lines {
        out.push(r)?;
    }
    out.finish()
}

/// The file formats of the streamed exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Xlsx,
    Csv,
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(xlsx_err)`
fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> ReportError {
    ReportError::Xlsx(e.to_string())
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(csv_err)`
fn csv_err(e: csv::Error) -> ReportError {
    ReportError::Csv(e.to_string())
}

/// A workbook of one sheet written row by row in rust_xlsxwriter's constant
/// memory mode: each finished row goes to a temporary file, so memory stays
/// flat however many rows are written. Text is written as inline strings
/// (never formulas).
pub(crate) struct XlsxStream {
    wb: rust_xlsxwriter::Workbook,
    plain: rust_xlsxwriter::Format,
    row: u32,
}

impl XlsxStream {
    pub(crate) fn new(
        title: String,
        organisation: &str,
        date: &str,
        sheet: &str,
        headers: &[&str],
        widths: &[f64],
    ) -> Result<Self, ReportError> {
        use rust_xlsxwriter::Format;
        let mut wb = crate::workbook(title, None, organisation, date).map_err(xlsx_err)?;
        let bold = Format::new().set_bold();
        let ws = wb.add_worksheet_with_constant_memory();
        ws.set_name(sheet).map_err(xlsx_err)?;
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, *w).map_err(xlsx_err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        for (c, t) in headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *t, &bold)
                .map_err(xlsx_err)?;
        }
        Ok(Self {
            wb,
            plain: Format::new(),
            row: 1,
        })
    }

    pub(crate) fn push(&mut self, record: &[Cell<'_>]) -> Result<(), ReportError> {
        let ws = self.wb.worksheet_from_index(0).map_err(xlsx_err)?;
        self.row += write_record(ws, self.row, record, 0, &self.plain).map_err(xlsx_err)?;
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<Vec<u8>, ReportError> {
        self.wb.save_to_buffer().map_err(xlsx_err)
    }
}

enum RiskSink {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Xlsx(Box<XlsxStream>),
    Pdf(Box<RiskPdf>),
}

/// The register written risk by risk (in register order), in every format
/// as the risks come, so an export of any size holds one row (one page of
/// rows for the PDF) at a time besides the file itself.
pub struct RiskExport {
    sink: RiskSink,
}

impl RiskExport {
    /// `date` (RFC 3339) is the register's last change: every date in the
    /// file is this one, so the bytes depend only on the data.
    pub fn new(kind: Kind, organisation: &str, date: &str) -> Result<Self, ReportError> {
        let sink = match kind {
            Kind::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                cells::write_csv_record(&mut w, RISK_CSV_HEADER).map_err(csv_err)?;
                RiskSink::Csv(Box::new(w))
            }
            Kind::Xlsx => RiskSink::Xlsx(Box::new(XlsxStream::new(
                format!("Risk register: {organisation}"),
                organisation,
                date,
                "Risks",
                &[
                    "Key",
                    "Title",
                    "Description",
                    "Assets",
                    "Likelihood",
                    "Impact",
                    "Level",
                    "Treatment",
                    "Annex A controls",
                    "Residual likelihood",
                    "Residual impact",
                    "Residual level",
                    "Status",
                    "Owner",
                    "Next review",
                ],
                &[
                    10.0, 40.0, 40.0, 24.0, 9.0, 9.0, 10.0, 10.0, 16.0, 9.0, 9.0, 10.0, 10.0, 24.0,
                    12.0,
                ],
            )?)),
            Kind::Pdf => RiskSink::Pdf(Box::new(RiskPdf::new(organisation, date))),
        };
        Ok(Self { sink })
    }

    /// Writes one risk.
    pub fn push(&mut self, r: &RiskLine) -> Result<(), ReportError> {
        match &mut self.sink {
            RiskSink::Csv(w) => cells::write_csv_record(&mut **w, csv_row(r)).map_err(csv_err),
            RiskSink::Pdf(p) => {
                p.push(r);
                Ok(())
            }
            RiskSink::Xlsx(x) => {
                let assets = r.assets.join("; ");
                let controls = r.annex_a_controls.join("; ");
                x.push(&[
                    Cell::Text(&r.key),
                    Cell::Text(&r.title),
                    Cell::Text(&r.description),
                    Cell::Text(&assets),
                    Cell::Number(r.likelihood as f64),
                    Cell::Number(r.impact as f64),
                    Cell::Text(&r.level),
                    Cell::Text(&r.treatment),
                    Cell::Text(&controls),
                    Cell::Number(r.residual_likelihood as f64),
                    Cell::Number(r.residual_impact as f64),
                    Cell::Text(&r.residual_level),
                    Cell::Text(&r.status),
                    Cell::Text(&r.owner),
                    Cell::Text(&r.next_review),
                ])
            }
        }
    }

    /// The file's bytes.
    pub fn finish(self) -> Result<Vec<u8>, ReportError> {
        match self.sink {
            RiskSink::Csv(w) => (*w)
                .into_inner()
                .map_err(|e| ReportError::Csv(e.to_string())),
            RiskSink::Xlsx(x) => x.finish(),
            RiskSink::Pdf(p) => Ok(p.finish()),
        }
    }
}

/// The register as a PDF, one band per inherent level.
pub fn risk_pdf(doc: &RiskDocument) -> Vec<u8> {
    let mut p = RiskPdf::new(&doc.organisation, &doc.date);
    for r in &doc.risks {
        p.push(r);
    }
    p.finish()
}

/// The register's PDF written risk by risk: a band per inherent level
/// (risks come highest level first), its heading counting its risks.
struct RiskPdf {
    organisation: String,
    date: String,
    table: TableWriter,
    level: Option<String>,
    risks: usize,
}

impl RiskPdf {
    fn new(organisation: &str, date: &str) -> Self {
        let day = date.get(..10).unwrap_or("");
        let table = TableWriter::new(Frame {
            footer: format!("{organisation} \u{2013} Risk register \u{2013} {day}"),
            columns: vec![
                ("Key", 48.0),
                ("Risk", 220.0),
                ("Assets", 100.0),
                ("L x I", 34.0),
                ("Treatment", 50.0),
                ("Controls", 70.0),
                ("Residual", 80.0),
                ("Status", 52.0),
                ("Owner", 116.0),
            ],
            info_title: format!("Risk register: {organisation}"),
            author: organisation.to_owned(),
            date: crate::date_parts(date),
        });
        Self {
            organisation: organisation.to_owned(),
            date: date.to_owned(),
            table,
            level: None,
            risks: 0,
        }
    }

    fn push(&mut self, r: &RiskLine) {
        if self.level.as_deref() != Some(r.level.as_str()) {
            self.level = Some(r.level.clone());
            self.table
                .counted_band(format!("Inherent level: {}", r.level), "risks");
        }
        self.risks += 1;
        self.table.row(&[
            r.key.clone(),
            if r.description.is_empty() {
                r.title.clone()
            } else {
                format!("{}\n{}", r.title, r.description)
            },
            r.assets.join(", "),
            format!("{} x {}", r.likelihood, r.impact),
            r.treatment.clone(),
            r.annex_a_controls.join(", "),
            format!(
                "{} x {} {}",
                r.residual_likelihood, r.residual_impact, r.residual_level
            ),
            r.status.clone(),
            r.owner.clone(),
        ]);
    }

    fn finish(self) -> Vec<u8> {
        self.table.finish(&Cover {
            title: "Risk register".into(),
            subtitle: "Risks, their treatment and the residual risk".into(),
            facts: vec![
                ("Organisation".into(), self.organisation),
                ("Date".into(), self.date.get(..10).unwrap_or("").to_owned()),
                ("Risks".into(), self.risks.to_string()),
            ],
            banner: None,
        })
    }
}

/// One line of the risk treatment plan: a risk and one of its actions (or
/// none yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreatmentLine {
    /// `RISK-<id>`.
    pub risk_key: String,
    pub risk_title: String,
    pub risk_owner: String,
    /// modify, retain, avoid or share.
    pub treatment: String,
    pub annex_a_controls: Vec<String>,
    pub level: String,
    pub residual_level: String,
    /// "accepted by X on DATE" or empty.
    pub acceptance: String,
    /// Empty when the risk has no action yet.
    pub action: String,
    pub action_owner: String,
    pub due_date: String,
    pub action_status: String,
    pub cost: i64,
    pub overdue: bool,
}

/// The risk treatment plan (clause 6.1.3 e): what is done about each open
/// risk, by whom, by when, at what cost, and who accepted what remains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreatmentDocument {
    pub organisation: String,
    /// RFC 3339: the plan's last change.
    pub date: String,
    /// ISO 4217 code of the costs.
    pub currency: String,
    pub lines: Vec<TreatmentLine>,
}

/// The header of the treatment plan's CSV.
pub const TREATMENT_CSV_HEADER: [&str; 15] = [
    "risk",
    "title",
    "risk_owner",
    "treatment",
    "annex_a_controls",
    "level",
    "residual_level",
    "acceptance",
    "action",
    "action_owner",
    "due_date",
    "action_status",
    "cost",
    "currency",
    "overdue",
];

fn treatment_row(l: &TreatmentLine, currency: &str) -> [String; 15] {
    [
        l.risk_key.clone(),
        l.risk_title.clone(),
        l.risk_owner.clone(),
        l.treatment.clone(),
        l.annex_a_controls.join(";"),
        l.level.clone(),
        l.residual_level.clone(),
        l.acceptance.clone(),
        l.action.clone(),
        l.action_owner.clone(),
        l.due_date.clone(),
        l.action_status.clone(),
        if l.action.is_empty() {
            String::new()
        } else {
            l.cost.to_string()
        },
        currency.to_owned(),
        if l.overdue { "yes" } else { "" }.to_owned(),
    ]
}

/// The treatment plan as CSV, one row per action (a risk without actions
/// has one row with the action columns empty).
pub fn treatment_csv(doc: &TreatmentDocument) -> Result<Vec<u8>, ReportError> {
    whole_plan(
        TreatmentExport::new(Kind::Csv, &doc.organisation, &doc.date, &doc.currency)?,
        &doc.lines,
    )
}

/// The treatment plan as an XLSX workbook.
pub fn treatment_xlsx(doc: &TreatmentDocument) -> Result<Vec<u8>, ReportError> {
    whole_plan(
        TreatmentExport::new(Kind::Xlsx, &doc.organisation, &doc.date, &doc.currency)?,
        &doc.lines,
    )
}

fn whole_plan(mut out: TreatmentExport, lines: &[TreatmentLine]) -> Result<Vec<u8>, ReportError> {
    for l in lines {
        out.push(l)?;
    }
    out.finish()
}

enum PlanSink {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Xlsx(Box<XlsxStream>),
    Pdf(Box<TreatmentPdf>),
}

/// The treatment plan written line by line (in plan order), like
/// [`RiskExport`].
pub struct TreatmentExport {
    currency: String,
    sink: PlanSink,
}

impl TreatmentExport {
    pub fn new(
        kind: Kind,
        organisation: &str,
        date: &str,
        currency: &str,
    ) -> Result<Self, ReportError> {
        let sink = match kind {
            Kind::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                cells::write_csv_record(&mut w, TREATMENT_CSV_HEADER).map_err(csv_err)?;
                PlanSink::Csv(Box::new(w))
            }
            Kind::Xlsx => PlanSink::Xlsx(Box::new(XlsxStream::new(
                format!("Risk treatment plan: {organisation}"),
                organisation,
                date,
                "Treatment plan",
                &[
                    "Risk",
                    "Title",
                    "Risk owner",
                    "Treatment",
                    "Annex A controls",
                    "Level",
                    "Residual level",
                    "Acceptance",
                    "Action",
                    "Action owner",
                    "Due date",
                    "Action status",
                    "Cost",
                    "Currency",
                    "Overdue",
                ],
                &[
                    10.0, 36.0, 22.0, 10.0, 16.0, 10.0, 10.0, 30.0, 36.0, 22.0, 11.0, 12.0, 10.0,
                    8.0, 8.0,
                ],
            )?)),
            Kind::Pdf => PlanSink::Pdf(Box::new(TreatmentPdf::new(organisation, date, currency))),
        };
        Ok(Self {
            currency: currency.to_owned(),
            sink,
        })
    }

    /// Writes one line.
    pub fn push(&mut self, l: &TreatmentLine) -> Result<(), ReportError> {
        match &mut self.sink {
            PlanSink::Csv(w) => {
                cells::write_csv_record(&mut **w, treatment_row(l, &self.currency)).map_err(csv_err)
            }
            PlanSink::Pdf(p) => {
                p.push(l);
                Ok(())
            }
            PlanSink::Xlsx(x) => {
                let controls = l.annex_a_controls.join("; ");
                x.push(&[
                    Cell::Text(&l.risk_key),
                    Cell::Text(&l.risk_title),
                    Cell::Text(&l.risk_owner),
                    Cell::Text(&l.treatment),
                    Cell::Text(&controls),
                    Cell::Text(&l.level),
                    Cell::Text(&l.residual_level),
                    Cell::Text(&l.acceptance),
                    Cell::Text(&l.action),
                    Cell::Text(&l.action_owner),
                    Cell::Text(&l.due_date),
                    Cell::Text(&l.action_status),
                    if l.action.is_empty() {
                        Cell::Text("")
                    } else {
                        Cell::Number(l.cost as f64)
                    },
                    Cell::Text(&self.currency),
                    Cell::Text(if l.overdue { "yes" } else { "" }),
                ])
            }
        }
    }

    /// The file's bytes.
    pub fn finish(self) -> Result<Vec<u8>, ReportError> {
        match self.sink {
            PlanSink::Csv(w) => (*w)
                .into_inner()
                .map_err(|e| ReportError::Csv(e.to_string())),
            PlanSink::Xlsx(x) => x.finish(),
            PlanSink::Pdf(p) => Ok(p.finish()),
        }
    }
}

/// The treatment plan as a PDF, one band per risk.
pub fn treatment_pdf(doc: &TreatmentDocument) -> Vec<u8> {
    let mut p = TreatmentPdf::new(&doc.organisation, &doc.date, &doc.currency);
    for l in &doc.lines {
        p.push(l);
    }
    p.finish()
}

/// The plan's PDF written line by line: a band per risk, a row per action;
/// the title page's totals are counted on the way.
struct TreatmentPdf {
    organisation: String,
    date: String,
    currency: String,
    table: TableWriter,
    last: String,
    risks: usize,
    actions: usize,
    overdue: usize,
    cost: i64,
}

impl TreatmentPdf {
    fn new(organisation: &str, date: &str, currency: &str) -> Self {
        let day = date.get(..10).unwrap_or("");
        let table = TableWriter::new(Frame {
            footer: format!("{organisation} \u{2013} Risk treatment plan \u{2013} {day}"),
            columns: vec![
                ("Action", 230.0),
                ("Owner", 110.0),
                ("Due", 80.0),
                ("Status", 60.0),
                ("Cost", 70.0),
                ("Risk owner", 110.0),
                ("Acceptance", 110.0),
            ],
            info_title: format!("Risk treatment plan: {organisation}"),
            author: organisation.to_owned(),
            date: crate::date_parts(date),
        });
        Self {
            organisation: organisation.to_owned(),
            date: date.to_owned(),
            currency: currency.to_owned(),
            table,
            last: String::new(),
            risks: 0,
            actions: 0,
            overdue: 0,
            cost: 0,
        }
    }

    fn push(&mut self, l: &TreatmentLine) {
        if l.risk_key != self.last {
            self.last.clone_from(&l.risk_key);
            self.risks += 1;
            let mut head = format!(
                "{} {} - {} - {} to {}",
                l.risk_key, l.risk_title, l.treatment, l.level, l.residual_level
            );
            if !l.annex_a_controls.is_empty() {
                let _ = write!(head, " - controls {}", l.annex_a_controls.join(", "));
            }
            self.table.band(head);
        }
        if !l.action.is_empty() {
            self.actions += 1;
        }
        if l.overdue {
            self.overdue += 1;
        }
        self.cost += l.cost;
        self.table.row(&[
            if l.action.is_empty() {
                "(no action planned)".to_owned()
            } else {
                l.action.clone()
            },
            l.action_owner.clone(),
            format!(
                "{}{}",
                l.due_date,
                if l.overdue { " (overdue)" } else { "" }
            ),
            l.action_status.clone(),
            if l.action.is_empty() {
                String::new()
            } else {
                format!("{} {}", l.cost, self.currency)
            },
            l.risk_owner.clone(),
            l.acceptance.clone(),
        ]);
    }

    fn finish(self) -> Vec<u8> {
        let overdue = self.overdue;
        self.table.finish(&Cover {
            title: "Risk treatment plan".into(),
            subtitle: "What is done about each risk, by whom and by when".into(),
            facts: vec![
                ("Organisation".into(), self.organisation),
                ("Date".into(), self.date.get(..10).unwrap_or("").to_owned()),
                ("Risks".into(), self.risks.to_string()),
                ("Actions".into(), self.actions.to_string()),
                ("Overdue actions".into(), overdue.to_string()),
                (
                    "Planned cost".into(),
                    format!("{} {}", self.cost, self.currency),
                ),
            ],
            banner: (overdue > 0).then(|| {
                (
                    format!("{overdue} overdue action(s)"),
                    "Actions past their due date that are not done are marked overdue.".to_owned(),
                )
            }),
        })
    }
}

/// A heat map: the matrix's cells coloured by level, with the count of
/// risks in each cell before (inherent) and after treatment (residual).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatMap {
    /// Likelihood step names, lowest first.
    pub likelihood: Vec<String>,
    /// Impact step names, lowest first.
    pub impact: Vec<String>,
    /// `colours[l][i]`, `#rrggbb`.
    pub colours: Vec<Vec<String>>,
    /// `inherent[l][i]`: risks in the cell before treatment.
    pub inherent: Vec<Vec<i64>>,
    pub residual: Vec<Vec<i64>>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn grid(out: &mut String, m: &HeatMap, counts: &[Vec<i64>], x0: usize, title: &str) {
    const CELL: usize = 44;
    const LEFT: usize = 90;
    let rows = m.likelihood.len();
    let _ = write!(
        out,
        r#"<text x="{}" y="16" font-weight="bold">{}</text>"#,
        x0 + LEFT,
        esc(title)
    );
    for l in 0..rows {
        // Highest likelihood on top.
        let y = 26 + (rows - 1 - l) * CELL;
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            x0 + LEFT - 4,
            y + CELL / 2 + 4,
            esc(&m.likelihood[l])
        );
        for i in 0..m.impact.len() {
            let x = x0 + LEFT + i * CELL;
            let colour = m
                .colours
                .get(l)
                .and_then(|r| r.get(i))
                .map_or("#cccccc", String::as_str);
            let n = counts.get(l).and_then(|r| r.get(i)).copied().unwrap_or(0);
            let _ = write!(
                out,
                r##"<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" fill="{}" stroke="#fff"><title>{}: likelihood {}, impact {}: {n} risk(s)</title></rect>"##,
                esc(colour),
                esc(title),
                l + 1,
                i + 1
            );
            if n > 0 {
                let _ = write!(
                    out,
                    r##"<text x="{}" y="{}" text-anchor="middle" font-weight="bold" fill="#fff">{n}</text>"##,
                    x + CELL / 2,
                    y + CELL / 2 + 5
                );
            }
        }
    }
    for (i, name) in m.impact.iter().enumerate() {
        let x = x0 + LEFT + i * CELL + CELL / 2;
        let y = 26 + rows * CELL + 12;
        let short: String = name.chars().take(9).collect();
        let _ = write!(
            out,
            r#"<text x="{x}" y="{y}" text-anchor="middle" font-size="9">{}</text>"#,
            esc(&short)
        );
    }
}

/// The heat map as an SVG: inherent on the left, residual on the right.
pub fn heat_map_svg(m: &HeatMap) -> String {
    let cell = 44;
    let one = 90 + m.impact.len() * cell + 20;
    let width = one * 2;
    let height = 26 + m.likelihood.len() * cell + 40;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif" font-size="11" role="img" aria-label="Heat map of inherent and residual risk">"#
    );
    grid(&mut out, m, &m.inherent, 0, "Inherent");
    grid(&mut out, m, &m.residual, one, "Residual");
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="10">impact →   (likelihood ↑)</text>"#,
        width / 2,
        height - 4
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> RiskDocument {
        RiskDocument {
            organisation: "Acme Ltd".into(),
            date: "2026-11-26T07:00:00.000000Z".into(),
            risks: vec![RiskLine {
                key: "RISK-1".into(),
                title: "=Ransomware on the CRM".into(),
                description: "Encrypted customer data".into(),
                assets: vec!["CRM".into(), "Backups".into()],
                likelihood: 4,
                impact: 5,
                level: "Critical".into(),
                treatment: "modify".into(),
                annex_a_controls: vec!["8.7".into(), "8.13".into()],
                residual_likelihood: 2,
                residual_impact: 2,
                residual_level: "Low".into(),
                status: "accepted".into(),
                owner: "rob@acme.test".into(),
                next_review: "2027-06-30".into(),
            }],
        }
    }

    #[test]
    fn every_format_holds_the_titles_and_is_deterministic() {
        let d = doc();
        let csv = String::from_utf8(risk_csv(&d).unwrap()).unwrap();
        assert!(csv.starts_with("title,description,assets,likelihood,impact,treatment,annex_a_controls,residual_likelihood,residual_impact,owner,"));
        assert!(
            csv.contains("'=Ransomware on the CRM"),
            "formula neutralised: {csv}"
        );
        assert!(csv.contains("CRM;Backups") && csv.contains("8.7;8.13"));
        let pdf = risk_pdf(&d);
        assert_eq!(pdf, risk_pdf(&d));
        assert!(crate::pdf_text(&pdf).contains("Ransomware on the CRM"));
        let x = risk_xlsx(&d).unwrap();
        assert!(x.starts_with(b"PK"));
        assert_eq!(x, risk_xlsx(&d).unwrap());
    }

    #[test]
    fn the_heat_map_counts_each_cell() {
        let m = HeatMap {
            likelihood: vec!["Rare".into(), "Often".into(), "Always".into()],
            impact: vec!["Low".into(), "Mid".into(), "High".into()],
            colours: vec![vec!["#00ff00".into(); 3]; 3],
            inherent: vec![vec![0, 0, 0], vec![0, 0, 0], vec![0, 0, 7]],
            residual: vec![vec![7, 0, 0], vec![0, 0, 0], vec![0, 0, 0]],
        };
        let svg = heat_map_svg(&m);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches(">7</text>").count(), 2);
        assert!(svg.contains("likelihood 3, impact 3: 7 risk(s)"));
        assert!(svg.contains("likelihood 1, impact 1: 7 risk(s)"));
    }
}
