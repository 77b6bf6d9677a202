//! Reading risk and asset CSV files for import (the CLI and upload forms):
//! columns by header name, every row numbered as a spreadsheet shows it
//! (the header is row 1; the line a row starts on), lists separated by `;`.

use isms_store::{ImportAssetRow, ImportRiskRow, RowError};

/// The columns a risk file must have.
pub const RISK_COLUMNS: [&str; 10] = [
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
];

/// The columns an asset file must have (`description`, `owner`, `location`
/// and `classification` may follow).
pub const ASSET_COLUMNS: [&str; 2] = ["name", "type"];

/// The most bytes an import file may have.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

fn file_error(why: impl Into<String>) -> Vec<RowError> {
    vec![RowError {
        row: 0,
        column: String::new(),
        why: why.into(),
    }]
}

struct Table {
    header: Vec<String>,
    rows: Vec<(usize, csv::StringRecord)>,
}

fn read(data: &[u8], required: &[&str]) -> Result<Table, Vec<RowError>> {
    if data.len() > MAX_IMPORT_BYTES {
        return Err(file_error(format!(
            "the file is larger than {} MB",
            MAX_IMPORT_BYTES / 1024 / 1024
        )));
    }
    let converted;
    let data = if data.starts_with(b"PK\x03\x04") {
        converted = xlsx_to_csv(data)?;
        converted.as_slice()
    } else if data.iter().take(4096).any(|b| *b == 0) {
        return Err(file_error(
            "the file is neither CSV (UTF-8 text) nor an XLSX workbook",
        ));
    } else {
        data
    };
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut records = rdr.records();
    let header: Vec<String> = match records.next() {
        // "Annex A controls" (an XLSX export's heading) reads as annex_a_controls.
        Some(Ok(h)) => h
            .iter()
            .map(|c| c.trim().to_ascii_lowercase().replace(' ', "_"))
            .collect(),
        Some(Err(e)) => return Err(file_error(format!("the header cannot be read: {e}"))),
        None => return Err(file_error("the file is empty: it needs a header row")),
    };
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(vec![RowError {
            row: 1,
            column: missing.join(", "),
            why: format!(
                "the header lacks these columns; it needs {}",
                required.join(",")
            ),
        }]);
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut last = 1;
    let mut lines = Lines {
        data,
        at: 0,
        line: 1,
    };
    for rec in records {
        // The line the record starts on, as an editor or spreadsheet numbers it
        // (blank lines count; a quoted cell may span lines).
        let pos = match &rec {
            Ok(r) => r.position(),
            Err(e) => e.position(),
        };
        let row = pos.map_or(last + 1, |p| lines.line_of(p.byte() as usize));
        last = row;
        match rec {
            Ok(r) if r.iter().all(|c| c.trim().is_empty()) => {}
            Ok(r) => rows.push((row, r)),
            Err(e) => errors.push(RowError {
                row,
                column: String::new(),
                why: format!("not readable as CSV: {e}"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(Table { header, rows })
    } else {
        Err(errors)
    }
}

impl Table {
    fn cell<'a>(&self, r: &'a csv::StringRecord, name: &str) -> &'a str {
        self.header
            .iter()
            .position(|h| h == name)
            .and_then(|i| r.get(i))
            .unwrap_or("")
    }
}

/// Line numbers of byte offsets, counted forward from the last one asked.
struct Lines<'a> {
    data: &'a [u8],
    at: usize,
    line: usize,
}

impl Lines<'_> {
    /// The 1-based line of the first character at or after `byte` that does
    /// not end a line (the reader reports a record's start before blank lines).
    fn line_of(&mut self, byte: usize) -> usize {
        let mut to = byte.min(self.data.len()).max(self.at);
        while to < self.data.len() && matches!(self.data[to], b'\r' | b'\n') {
            to += 1;
        }
        self.line += self.data[self.at..to]
            .iter()
            .fold(0, |n, &b| n + usize::from(b == b'\n'));
        self.at = to;
        self.line
    }
}

fn list(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The rows of a risk CSV, or what is wrong with the file.
pub fn parse_risks(data: &[u8]) -> Result<Vec<ImportRiskRow>, Vec<RowError>> {
    let t = read(data, &RISK_COLUMNS)?;
    Ok(t.rows
        .iter()
        .map(|(row, r)| ImportRiskRow {
            row: *row,
            title: t.cell(r, "title").to_owned(),
            description: t.cell(r, "description").to_owned(),
            assets: list(t.cell(r, "assets")),
            likelihood: t.cell(r, "likelihood").to_owned(),
            impact: t.cell(r, "impact").to_owned(),
            treatment: t.cell(r, "treatment").to_owned(),
            annex_a_controls: list(t.cell(r, "annex_a_controls")),
            residual_likelihood: t.cell(r, "residual_likelihood").to_owned(),
            residual_impact: t.cell(r, "residual_impact").to_owned(),
            owner: t.cell(r, "owner").to_owned(),
        })
        .collect())
}

/// The rows of an asset CSV, or what is wrong with the file.
pub fn parse_assets(data: &[u8]) -> Result<Vec<ImportAssetRow>, Vec<RowError>> {
    let t = read(data, &ASSET_COLUMNS)?;
    Ok(t.rows
        .iter()
        .map(|(row, r)| ImportAssetRow {
            row: *row,
            name: t.cell(r, "name").to_owned(),
            asset_type: t.cell(r, "type").to_owned(),
            description: t.cell(r, "description").to_owned(),
            owner: t.cell(r, "owner").to_owned(),
            location: t.cell(r, "location").to_owned(),
            classification: t.cell(r, "classification").to_owned(),
        })
        .collect())
}

/// The first worksheet of an XLSX workbook as CSV text, so that both
/// formats go through one reader (row numbers are the sheet's: the header
/// is row 1). Numbers print as Excel shows them (4, not 4.0).
fn xlsx_to_csv(data: &[u8]) -> Result<Vec<u8>, Vec<RowError>> {
    use calamine::{Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(data))
        .map_err(|e| file_error(format!("the XLSX workbook cannot be read: {e}")))?;
    let range = match wb.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            return Err(file_error(format!(
                "the first worksheet cannot be read: {e}"
            )));
        }
        None => return Err(file_error("the workbook has no worksheet")),
    };
    // Rows start at the sheet's first used row; keep the sheet's numbering.
    let first = range.start().map_or(0, |(r, _)| r as usize);
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| file_error(format!("the workbook cannot be converted: {e}"));
    for _ in 0..first {
        w.write_record([""]).map_err(err)?;
    }
    for row in range.rows() {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Data::Empty => String::new(),
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                other => other.to_string(),
            })
            .collect();
        w.write_record(&cells).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| file_error(format!("the workbook cannot be converted: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_from_the_header_and_lists_split() {
        let f = "\u{feff}title,description,assets,likelihood,impact,treatment,annex_a_controls,residual_likelihood,residual_impact,owner\n\
                 Phishing,,Mail; CRM ,3,4,modify,8.7;A.5.1,2,2,\n\n\
                 \"Two\nlines\",x,,1,1,retain,,,,\n";
        let rows = parse_risks(f.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].assets, ["Mail", "CRM"]);
        assert_eq!(rows[0].annex_a_controls, ["8.7", "A.5.1"]);
        assert_eq!(rows[1].row, 4);
        assert_eq!(rows[1].title, "Two\nlines");
    }

    #[test]
    fn a_header_without_the_columns_is_refused_naming_them() {
        let e = parse_risks(b"title,likelihood\nx,1\n").unwrap_err();
        assert_eq!(e[0].row, 1);
        assert!(e[0].column.contains("impact"), "{e:?}");
        assert!(parse_assets(b"").is_err());
    }
}
