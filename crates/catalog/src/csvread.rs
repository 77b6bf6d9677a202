//! Shared CSV reading for the importers: size cap, BOM, UTF-8, columns by header name, and
//! line numbers for every row.

use std::collections::HashMap;

use crate::error::{ImportError, Issue, MAX_ITEMS, Place, input_text};

pub(crate) struct CsvTable {
    /// Lower-cased header name -> column index.
    columns: HashMap<String, usize>,
    /// (1-based line, fields) for every non-empty data row.
    pub rows: Vec<(u64, Vec<String>)>,
}

impl CsvTable {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.get(name).copied()
    }
}

/// Read a whole CSV file. `required` columns must appear in the header; rows shorter than the
/// header are refused with their line number.
pub(crate) fn read_csv(
    file: &str,
    data: &[u8],
    required: &[&str],
) -> Result<CsvTable, ImportError> {
    let text = input_text(file, data)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = rdr.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(csv_error(file, &e)),
        None => {
            return Err(ImportError::one(
                file,
                Place::File,
                "the file has no header row",
            ));
        }
    };
    let mut columns = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let name = h.trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        if columns.insert(name.clone(), i).is_some() {
            return Err(ImportError::one(
                file,
                Place::Line(1),
                format!("column {name:?} appears twice in the header"),
            ));
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !columns.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::one(
            file,
            Place::Line(1),
            format!(
                "the header lacks column(s) {}; expected a header with {}",
                missing.join(", "),
                required.join(",")
            ),
        ));
    }
    // Only the columns we read must be present in each row; extra trailing columns are ignored.
    let needed = required
        .iter()
        .filter_map(|c| columns.get(*c))
        .max()
        .map_or(0, |m| m + 1);
    let mut rows = Vec::new();
    let mut issues = Vec::new();
    for rec in records {
        let rec = rec.map_err(|e| csv_error(file, &e))?;
        let line = rec.position().map_or(0, csv::Position::line);
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if rec.len() < needed {
            issues.push(Issue::new(
                Place::Line(line),
                format!(
                    "expected {} columns as in the header, found {}",
                    header.len().max(needed),
                    rec.len()
                ),
            ));
            if issues.len() >= crate::MAX_ISSUES {
                break;
            }
            continue;
        }
        if rows.len() >= MAX_ITEMS {
            return Err(ImportError::one(
                file,
                Place::Line(line),
                format!("more than {MAX_ITEMS} rows; split the file"),
            ));
        }
        rows.push((line, rec.iter().map(|f| f.trim().to_owned()).collect()));
    }
    if !issues.is_empty() {
        return Err(ImportError::many(file, issues));
    }
    Ok(CsvTable { columns, rows })
}

fn csv_error(file: &str, e: &csv::Error) -> ImportError {
    let place = e.position().map_or(Place::File, |p| Place::Line(p.line()));
    ImportError::one(file, place, format!("malformed CSV: {e}"))
}
