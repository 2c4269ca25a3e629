//! A roster file as a table of text cells: .xlsx/.xls through calamine (the first visible sheet
//! that has the needed columns; hidden sheets are ignored, formulas read as their cached values)
//! and CSV in UTF-8 (with or without BOM) or GBK/GB18030, told apart by whether the bytes are valid
//! UTF-8, so a GBK file never shows as mojibake.

use std::io::Cursor;

use calamine::{Data, Reader, SheetVisible};

use crate::domain::roster::{clean_cell, excel_serial_date, match_headers, Column, SheetKind};

/// The rows of one sheet, cells as text; `first_row` is the spreadsheet's number of `rows[0]`.
#[derive(Debug, Clone)]
pub struct Table {
    pub first_row: usize,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    /// Not a spreadsheet or CSV (by content), or a CSV in no encoding we can tell.
    #[error("unsupported file type")]
    UnsupportedType,
    /// No visible sheet has the needed headers; the missing ones of the best sheet.
    #[error("missing columns")]
    MissingColumns(Vec<Column>),
    #[error("empty file")]
    Empty,
}

const ZIP: &[u8] = b"PK\x03\x04";
const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0];

/// Read `bytes` as a spreadsheet (by its magic bytes) or, failing that, as CSV text: the first
/// sheet with the columns a `kind` roster needs.
pub fn read(bytes: &[u8], kind: SheetKind) -> Result<Table, SheetError> {
    if bytes.is_empty() {
        return Err(SheetError::Empty);
    }
    if bytes.starts_with(ZIP) || bytes.starts_with(OLE) {
        return read_workbook(bytes, kind);
    }
    let text = decode_text(bytes)?;
    pick(
        vec![Table {
            first_row: 1,
            rows: parse_csv(&text),
        }],
        kind,
    )
}

/// UTF-8 (a BOM is dropped) when the bytes are valid UTF-8, else GB18030 (a superset of GBK),
/// which must decode without errors. Binary files (NUL bytes) are not text at all.
pub fn decode_text(bytes: &[u8]) -> Result<String, SheetError> {
    if bytes.contains(&0) {
        return Err(SheetError::UnsupportedType);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(SheetError::UnsupportedType);
    }
    Ok(text.into_owned())
}

/// RFC 4180 CSV: commas, double-quoted fields with doubled quotes, CRLF or LF line ends.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

fn read_workbook(bytes: &[u8], kind: SheetKind) -> Result<Table, SheetError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|_| SheetError::UnsupportedType)?;
    let visible: Vec<String> = book
        .sheets_metadata()
        .iter()
        .filter(|s| s.visible == SheetVisible::Visible)
        .map(|s| s.name.clone())
        .collect();
    let mut tables = Vec::new();
    for name in visible {
        let Ok(range) = book.worksheet_range(&name) else {
            continue;
        };
        let (first_row, first_col) = range.start().unwrap_or((0, 0));
        let rows = range
            .rows()
            .map(|cells| {
                // Cells left of the range's start are empty: keep column positions honest.
                let mut row = vec![String::new(); first_col as usize];
                row.extend(cells.iter().map(cell_text));
                row
            })
            .collect();
        tables.push(Table {
            first_row: first_row as usize + 1,
            rows,
        });
    }
    pick(tables, kind)
}

/// The first table whose header row (its first non-empty row) has the required columns, with
/// the rows before the header dropped; else the missing headers of the first table.
fn pick(tables: Vec<Table>, kind: SheetKind) -> Result<Table, SheetError> {
    let mut first_missing = None;
    for table in tables {
        let Some(header_at) = table
            .rows
            .iter()
            .position(|r| r.iter().any(|c| !c.trim().is_empty()))
        else {
            continue;
        };
        match match_headers(kind, &table.rows[header_at]) {
            Ok(_) => {
                return Ok(Table {
                    first_row: table.first_row + header_at,
                    rows: table.rows.into_iter().skip(header_at).collect(),
                })
            }
            Err(missing) => {
                first_missing.get_or_insert(missing);
            }
        }
    }
    Err(first_missing.map_or(SheetError::Empty, SheetError::MissingColumns))
}

/// A cell as the text a person sees: whole numbers without `.0` (phone and ID numbers Excel
/// stored as numbers), dates as `2019-08-28`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => clean_cell(s),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(d) => excel_date(d.as_f64()).unwrap_or_else(|| d.as_f64().to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.chars().take(10).collect(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// An Excel serial day (1900 date system) as `YYYY-MM-DD`.
pub fn excel_date(serial: f64) -> Option<String> {
    excel_serial_date(serial).map(|d| d.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_in_gbk_utf8_and_utf8_with_bom_reads_the_same() {
        let text = "姓名,小区\n张丽,音乐广场\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        for bytes in [text.as_bytes().to_vec(), bom, gbk.into_owned()] {
            let table = read(&bytes, SheetKind::Residents).unwrap();
            assert_eq!(table.rows[1], ["张丽", "音乐广场"]);
        }
    }

    #[test]
    fn quoted_fields_keep_commas_quotes_and_line_breaks() {
        let rows = parse_csv("a,\"b,\"\"c\"\"\nd\"\r\ne,f");
        assert_eq!(rows, [vec!["a", "b,\"c\"\nd"], vec!["e", "f"]]);
    }

    #[test]
    fn excel_serial_days_are_dates() {
        assert_eq!(excel_date(43705.0).unwrap(), "2019-08-28");
        assert_eq!(excel_date(1.0).unwrap(), "1900-01-01");
    }

    #[test]
    fn binary_files_are_not_csv() {
        assert!(matches!(
            read(b"\x89PNG\r\n\x1a\n\0\0", SheetKind::Residents),
            Err(SheetError::UnsupportedType)
        ));
    }
}
