//! The control register as CSV and XLSX.

use crate::ReportError;
use crate::cells::{self, Cell, write_record};

/// One applied control, ready to print.
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
    /// `framework ref` of every linked requirement.
    pub requirements: Vec<String>,
    pub description: String,
}

pub const CONTROL_CSV_HEADER: [&str; 13] = [
    "id",
    "name",
    "category",
    "status",
    "owner",
    "cost",
    "effort",
    "start_date",
    "due_date",
    "review_schedule",
    "next_review",
    "requirements",
    "description",
];

fn row(c: &ControlLine) -> [String; 13] {
    [
        c.id.to_string(),
        c.name.clone(),
        c.category.clone(),
        c.status.clone(),
        c.owner.clone(),
        c.cost.to_string(),
        c.effort.clone(),
        c.start_date.clone(),
        c.due_date.clone(),
        c.review_schedule.clone(),
        c.next_review.clone(),
        c.requirements.join("; "),
        c.description.clone(),
    ]
}

/// The register as CSV (cells guarded against formula injection).
pub fn controls_csv(controls: &[ControlLine]) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    cells::write_csv_record(&mut w, CONTROL_CSV_HEADER)
        .map_err(|e| ReportError::Csv(e.to_string()))?;
    for c in controls {
        cells::write_csv_record(&mut w, row(c)).map_err(|e| ReportError::Csv(e.to_string()))?;
    }
    w.into_inner().map_err(|e| ReportError::Csv(e.to_string()))
}

/// The register as XLSX (text cells never formulas).
pub fn controls_xlsx(controls: &[ControlLine]) -> Result<Vec<u8>, ReportError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Controls")
        .map_err(|e| ReportError::Xlsx(e.to_string()))?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let plain = rust_xlsxwriter::Format::new();
    for (i, h) in CONTROL_CSV_HEADER.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &bold)
            .map_err(|e| ReportError::Xlsx(e.to_string()))?;
    }
    let mut r = 1;
    for c in controls {
        let cells_text = row(c);
        let cells: Vec<Cell<'_>> = cells_text
            .iter()
            .enumerate()
            .map(|(i, t)| match i {
                0 => Cell::Number(c.id as f64),
                5 => Cell::Number(c.cost as f64),
                _ => Cell::Text(t),
            })
            .collect();
        r +=
            write_record(ws, r, &cells, 1, &plain).map_err(|e| ReportError::Xlsx(e.to_string()))?;
    }
    wb.save_to_buffer()
        .map_err(|e| ReportError::Xlsx(e.to_string()))
}
