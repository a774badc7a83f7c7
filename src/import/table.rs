//! Reading a residents file (CSV or XLSX) into rows of text cells, matched to columns by the
//! header row in English or Chinese. Whether the cells make sense is the plan's job.

use super::columns::{self, COLUMNS, Column};
use calamine::{Data, Reader};
use std::collections::HashMap;
use std::path::Path;

/// One data row of the file, its cells as text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    /// The row's number as a spreadsheet shows it: the header is row 1.
    pub number: usize,
    pub household: String,
    pub name: String,
    pub phone: String,
    pub role: String,
    pub pass: String,
    pub valid_until: String,
}

/// A file that cannot be read as a residents file at all.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read it: {reason}; check the path and that you may read the file")]
    Unreadable { file: String, reason: String },
    /// The name does not end in `.csv` or `.xlsx`.
    #[error("{file}: unknown file type; save the residents as .csv (UTF-8) or .xlsx")]
    UnknownType { file: String },
    /// The content is not valid CSV or XLSX (or CSV not in UTF-8).
    #[error(
        "{file}: not a readable {kind} file ({reason}); save it again from the spreadsheet as .xlsx, or as CSV in UTF-8"
    )]
    Broken {
        file: String,
        kind: &'static str,
        reason: String,
    },
    /// No header row.
    #[error(
        "{file}: the file is empty; its first row must be the header: household, name, phone, role, pass, valid_until (or 户号, 姓名, 手机号, 身份, 卡号, 有效期至)"
    )]
    Empty { file: String },
    /// The header has names that are not columns of a residents file.
    #[error("{file}: unknown column header{} {}; the columns are household, name, phone, role, pass, valid_until (or 户号, 姓名, 手机号, 身份, 卡号, 有效期至); rename or remove {}", plural(.headers), quoted(.headers), if .headers.len() == 1 { "it" } else { "them" })]
    UnknownHeaders { file: String, headers: Vec<String> },
    /// A required column is not in the header.
    #[error("{file}: required column{} {} {} missing; add {} to the header row", plural(.missing), quoted(.missing), if .missing.len() == 1 { "is" } else { "are" }, if .missing.len() == 1 { "it" } else { "them" })]
    MissingColumns { file: String, missing: Vec<String> },
    /// A column is named twice.
    #[error("{file}: column '{header}' appears twice in the header; keep one")]
    DuplicateColumn { file: String, header: String },
}

fn plural(v: &[String]) -> &'static str {
    if v.len() == 1 { "" } else { "s" }
}

fn quoted(v: &[String]) -> String {
    v.iter()
        .map(|h| format!("'{h}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `path` (by its extension) into rows; blank rows are skipped but counted.
pub fn read(path: &Path) -> Result<Vec<Row>, TableError> {
    let file = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let records = match ext.as_deref() {
        Some("csv") => read_csv(path, &file)?,
        Some("xlsx" | "xlsm" | "xls" | "ods") => read_sheet(path, &file)?,
        _ => return Err(TableError::UnknownType { file }),
    };
    rows(records, &file)
}

/// Records of a CSV file with their spreadsheet row numbers (the file's line numbers, which
/// count blank lines too).
fn read_csv(path: &Path, file: &str) -> Result<Vec<(usize, Vec<String>)>, TableError> {
    let bytes = std::fs::read(path).map_err(|e| TableError::Unreadable {
        file: file.into(),
        reason: e.to_string(),
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[..]);
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    let (mut line, mut counted_to) = (1, 0);
    loop {
        let start = reader.position().byte() as usize;
        let more = reader
            .read_record(&mut record)
            .map_err(|e| TableError::Broken {
                file: file.into(),
                kind: "CSV",
                reason: e.to_string(),
            })?;
        if !more {
            break;
        }
        // The record starts after the blank lines the reader skipped.
        let skipped = bytes[start..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let at = start + skipped;
        line += bytes[counted_to..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted_to = at;
        out.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok(out)
}

/// Records of the first sheet of a workbook with their row numbers.
fn read_sheet(path: &Path, file: &str) -> Result<Vec<(usize, Vec<String>)>, TableError> {
    let broken = |reason: String| TableError::Broken {
        file: file.into(),
        kind: "spreadsheet",
        reason,
    };
    if !path.exists() {
        return Err(TableError::Unreadable {
            file: file.into(),
            reason: "no such file".into(),
        });
    }
    let mut book = calamine::open_workbook_auto(path).map_err(|e| broken(e.to_string()))?;
    let Some(range) = book.worksheet_range_at(0) else {
        return Err(TableError::Empty { file: file.into() });
    };
    let range = range.map_err(|e| broken(e.to_string()))?;
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            // Cells left of the used range are blank; keep columns where the sheet has them.
            let mut texts = vec![String::new(); first_col];
            texts.extend(cells.iter().map(cell_text));
            (first_row + i + 1, texts)
        })
        .collect())
}

/// A cell as text. Numbers that are whole (phones, card numbers typed as numbers) lose the
/// `.0`; dates become `YYYY-MM-DD`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Matches the header to columns and turns the records below it into rows.
fn rows(records: Vec<(usize, Vec<String>)>, file: &str) -> Result<Vec<Row>, TableError> {
    let blank = |cells: &[String]| cells.iter().all(|c| c.trim().is_empty());
    let mut records = records.into_iter().skip_while(|(_, cells)| blank(cells));
    let Some((_, header)) = records.next() else {
        return Err(TableError::Empty { file: file.into() });
    };
    let mut index: HashMap<Column, usize> = HashMap::new();
    let mut unknown = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if h.trim().is_empty() {
            continue;
        }
        match columns::column(h) {
            Some(c) if index.contains_key(&c) => {
                return Err(TableError::DuplicateColumn {
                    file: file.into(),
                    header: h.trim().into(),
                });
            }
            Some(c) => {
                index.insert(c, i);
            }
            None => unknown.push(h.trim().to_string()),
        }
    }
    if !unknown.is_empty() {
        return Err(TableError::UnknownHeaders {
            file: file.into(),
            headers: unknown,
        });
    }
    let missing: Vec<String> = COLUMNS
        .iter()
        .filter(|(c, _, _, required)| *required && !index.contains_key(c))
        .map(|(_, en, zh, _)| format!("{en}/{zh}"))
        .collect();
    if !missing.is_empty() {
        return Err(TableError::MissingColumns {
            file: file.into(),
            missing,
        });
    }
    let cell = |cells: &[String], c: Column| {
        index
            .get(&c)
            .and_then(|&i| cells.get(i))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    Ok(records
        .filter(|(_, cells)| !blank(cells))
        .map(|(number, cells)| Row {
            number,
            household: cell(&cells, Column::Household),
            name: cell(&cells, Column::Name),
            phone: cell(&cells, Column::Phone),
            role: cell(&cells, Column::Role),
            pass: cell(&cells, Column::Pass),
            valid_until: cell(&cells, Column::ValidUntil),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn csv_file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_chinese_headers_in_any_order_and_counts_rows_like_a_spreadsheet() {
        let f = csv_file(
            "姓名,户号,手机号\n王卫平,18-2-501,13900001234\n\n李娜,18-2-502,13900001235\n",
        );
        let rows = read(f.path()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (
                rows[0].number,
                rows[0].name.as_str(),
                rows[0].household.as_str()
            ),
            (2, "王卫平", "18-2-501")
        );
        assert_eq!(rows[1].number, 4, "the blank line still counts as a row");
        assert_eq!(rows[1].pass, "");
    }

    #[test]
    fn refuses_unknown_missing_and_doubled_headers() {
        let e = read(csv_file("household,name,phone,address\n").path()).unwrap_err();
        assert!(
            matches!(&e, TableError::UnknownHeaders { headers, .. } if headers == &["address"]),
            "{e}"
        );
        let e = read(csv_file("household,name\n1-1-101,王\n").path()).unwrap_err();
        assert!(e.to_string().contains("'phone/手机号' is missing"), "{e}");
        let e = read(csv_file("household,户号,name,phone\n").path()).unwrap_err();
        assert!(matches!(e, TableError::DuplicateColumn { .. }), "{e}");
        let e = read(csv_file("\n\n").path()).unwrap_err();
        assert!(matches!(e, TableError::Empty { .. }), "{e}");
    }

    #[test]
    fn whole_numbers_lose_their_fraction() {
        assert_eq!(cell_text(&Data::Float(13900001234.0)), "13900001234");
        assert_eq!(cell_text(&Data::Int(12345678)), "12345678");
        assert_eq!(cell_text(&Data::String(" a ".into())), " a ");
    }
}
