//! Cell text for the spreadsheet and CSV exports: the one place for the two
//! rules every CSV and XLSX writer follows.
//!
//! - **No formulas from data.** A CSV cell that a spreadsheet would read as a
//!   formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return,
//!   or a full-width `＝ ＋ － ＠`) is prefixed with a single quote `'`, as
//!   OWASP recommends for CSV injection. XLSX cells are always written as
//!   string cells (never formulas), which no spreadsheet evaluates, so their
//!   text is kept exactly as entered.
//! - **No cell over Excel's limit.** Excel holds at most 32,767 characters
//!   in a cell; longer text is split into pieces written into the same column
//!   of the following rows, each labelled "(continued)" in the record's key
//!   column, so the full text stays in the workbook in reading order.

use std::borrow::Cow;

use rust_xlsxwriter::{Format, Worksheet, XlsxError};

/// Excel's limit on the characters of one cell.
pub const XLSX_CELL_MAX: usize = 32_767;

/// The characters a piece of split text holds at most (below
/// [`XLSX_CELL_MAX`], also when counted in UTF-16 units as Excel does).
pub const XLSX_PIECE: usize = 16_000;

/// Whether a spreadsheet would read text starting like `s` as a formula (or
/// a DDE command).
pub fn starts_formula(s: &str) -> bool {
    matches!(
        s.chars().next(),
        Some(
            '=' | '+' | '-' | '@' | '\t' | '\r' | '\u{ff1d}' | '\u{ff0b}' | '\u{ff0d}' | '\u{ff20}'
        )
    )
}

/// The text of a CSV cell: `s`, prefixed with `'` when a spreadsheet would
/// otherwise read it as a formula.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    if starts_formula(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Writes one CSV record, every cell through [`csv_cell`].
pub fn write_csv_record<W: std::io::Write, S: AsRef<str>>(
    w: &mut csv::Writer<W>,
    record: impl IntoIterator<Item = S>,
) -> csv::Result<()> {
    w.write_record(
        record
            .into_iter()
            .map(|c| csv_cell(c.as_ref()).into_owned()),
    )
}

/// `s` cut into pieces of at most [`XLSX_PIECE`] characters (one piece,
/// possibly empty, when it fits); the pieces joined give `s` back exactly.
pub fn xlsx_pieces(s: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = s;
    while let Some((at, _)) = rest.char_indices().nth(XLSX_PIECE) {
        pieces.push(&rest[..at]);
        rest = &rest[at..];
    }
    pieces.push(rest);
    pieces
}

/// One cell of a spreadsheet record.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// Text, written as a string cell (split when too long).
    Text(&'a str),
    /// A number.
    Number(f64),
}

/// Writes one record from `row` on: text cells as strings (never formulas),
/// long text split over the following rows of the same column, each of which
/// says "`<key>` (continued)" in column `key_col` (the text of that column in
/// the record). Returns the number of rows used (1 when everything fits).
pub fn write_record(
    ws: &mut Worksheet,
    row: u32,
    cells: &[Cell<'_>],
    key_col: u16,
    format: &Format,
) -> Result<u32, XlsxError> {
    let split: Vec<Option<Vec<&str>>> = cells
        .iter()
        .map(|c| match c {
            Cell::Text(t) => Some(xlsx_pieces(t)),
            Cell::Number(_) => None,
        })
        .collect();
    let rows = split
        .iter()
        .map(|p| p.as_ref().map_or(1, Vec::len))
        .max()
        .unwrap_or(1);
    // Row by row, left to right: a constant-memory worksheet flushes a row
    // once a later one is written, so nothing may go back up.
    let key = match cells.get(usize::from(key_col)) {
        Some(Cell::Text(t)) => xlsx_pieces(t)[0],
        _ => "",
    };
    for k in 0..rows {
        let at = row + k as u32;
        for (c, (cell, pieces)) in cells.iter().zip(&split).enumerate() {
            let c = c as u16;
            if k > 0 && c == key_col {
                let label = format!("{key} (continued {}/{rows})", k + 1);
                match pieces {
                    // The key column's own text goes on; keep its label short
                    // and put the continuation text after it.
                    Some(p) if p.len() > k => {
                        ws.write_string_with_format(
                            at,
                            key_col,
                            format!("{label}\n{}", p[k]),
                            format,
                        )?;
                    }
                    _ => {
                        ws.write_string_with_format(at, key_col, label, format)?;
                    }
                }
                continue;
            }
            match (cell, pieces) {
                (Cell::Number(n), _) => {
                    if k == 0 {
                        ws.write_number(at, c, *n)?;
                    }
                }
                (Cell::Text(_), Some(pieces)) => {
                    if let Some(piece) = pieces.get(k)
                        && (k == 0 || !piece.is_empty())
                    {
                        ws.write_string_with_format(at, c, *piece, format)?;
                    }
                }
                (Cell::Text(_), None) => {}
            }
        }
    }
    Ok(rows as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised_and_nothing_else_changes() {
        for s in [
            "=HYPERLINK(\"http://evil.example\",\"x\")",
            "+1",
            "-1",
            "@SUM(A1:A2)",
            "\tx",
            "\rx",
            "\u{ff1d}1+1",
        ] {
            let c = csv_cell(s);
            assert_eq!(c, format!("'{s}"), "{s:?}");
            assert!(!starts_formula(&c));
        }
        for s in ["", "plain", " =1", "a=1", "'=1", "5.1", "\u{e9}t\u{e9}"] {
            assert!(matches!(csv_cell(s), Cow::Borrowed(_)), "{s:?}");
            assert_eq!(csv_cell(s), s);
        }
    }

    #[test]
    fn long_text_splits_into_pieces_that_join_back_exactly() {
        assert_eq!(xlsx_pieces(""), vec![""]);
        assert_eq!(xlsx_pieces("short"), vec!["short"]);
        // Multi-byte characters, an exact multiple and a remainder.
        let s: String = "\u{e9}a\u{1f600}".repeat(XLSX_PIECE);
        let p = xlsx_pieces(&s);
        assert_eq!(p.len(), 3);
        assert!(
            p.iter()
                .all(|x| x.chars().count() <= XLSX_PIECE
                    && x.encode_utf16().count() <= XLSX_CELL_MAX)
        );
        assert_eq!(p.concat(), s);
        let exact = "x".repeat(XLSX_PIECE * 2);
        assert_eq!(xlsx_pieces(&exact).len(), 2);
        let one_more = "x".repeat(XLSX_PIECE + 1);
        assert_eq!(xlsx_pieces(&one_more), vec![&one_more[..XLSX_PIECE], "x"]);
    }
}
