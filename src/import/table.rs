//! Reading a residents file (CSV in UTF-8 or GBK, or XLSX) into rows of text cells, matched to
//! columns by the header row ([`super::header`]). Whether the cells make sense is the plan's
//! job.

use super::header;
use super::text;
use calamine::{Data, Reader};
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
    /// The content is not valid CSV or XLSX (or CSV in none of UTF-8, UTF-16, GBK/GB18030).
    #[error(
        "{file}: not a readable {kind} file ({reason}); save it again from the spreadsheet as .xlsx, or as CSV"
    )]
    Broken {
        file: String,
        kind: &'static str,
        reason: String,
    },
    /// No header row.
    #[error(
        "{file}: the file is empty; it needs a header row: household, name, phone, role, pass, valid_until (or 户号, 姓名, 手机号, 身份, 卡号, 有效期至)"
    )]
    Empty { file: String },
    /// The header has names that are not columns of a residents file.
    #[error("{file}: unknown column header{} {}; the columns are household, name, phone, role, pass, valid_until (or 户号, 姓名, 手机号, 身份, 卡号, 有效期至, and the other names docs/configuration.md lists); rename or remove {}", plural(.headers), quoted(.headers), if .headers.len() == 1 { "it" } else { "them" })]
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
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !matches!(ext.as_str(), "csv" | "xlsx" | "xlsm" | "xls" | "ods") {
        return Err(TableError::UnknownType { file });
    }
    let bytes = std::fs::read(path).map_err(|e| TableError::Unreadable {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    read_bytes(&bytes, &ext, &file)
}

/// Reads a residents file's content, its format named by `ext` (`csv`, `xlsx`, `xlsm`, `xls`,
/// `ods`); `file` names it in messages. What `read` does after reading the file, and what the
/// fuzz harness drives.
pub fn read_bytes(bytes: &[u8], ext: &str, file: &str) -> Result<Vec<Row>, TableError> {
    let records = match ext {
        "csv" => read_csv(bytes, file)?,
        "xlsx" | "xlsm" => sheet_records(bytes, true, file)?,
        "xls" | "ods" => sheet_records(bytes, false, file)?,
        _ => return Err(TableError::UnknownType { file: file.into() }),
    };
    header::rows(records, file)
}

/// Records of a CSV file with their spreadsheet row numbers (the file's line numbers, which
/// count blank lines too). The encoding is found by [`text::decode`].
fn read_csv(raw: &[u8], file: &str) -> Result<Vec<(usize, Vec<String>)>, TableError> {
    let (decoded, _) = text::decode(raw).map_err(|_| TableError::Broken {
        file: file.into(),
        kind: "CSV",
        reason: "its text is in none of UTF-8, UTF-16 or GBK/GB18030".into(),
    })?;
    let bytes = decoded.as_bytes();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
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

/// Rows a residents workbook may have: an estate of 220,000 people is four such files.
pub const MAX_SHEET_ROWS: u32 = 100_000;
/// Columns read: a residents file has six; cells further right are ignored.
pub const MAX_SHEET_COLUMNS: u32 = 64;

thread_local! {
    /// Set while a workbook is parsed on this thread: see [`in_sheet_reader`].
    static IN_SHEET_READER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside the spreadsheet library. It panics on some damaged files
/// (a shared-string index past the table, for one); the reader turns that into
/// [`TableError::Broken`], and the binary's panic hook stays quiet about it.
pub fn in_sheet_reader() -> bool {
    IN_SHEET_READER.with(|f| f.get())
}

/// Records of the first sheet of a workbook in memory (XLSX/XLSM when `xlsx`, else any
/// format the spreadsheet library knows), never panicking and never holding more than
/// [`MAX_SHEET_ROWS`] × [`MAX_SHEET_COLUMNS`] cells.
pub fn sheet_records(
    bytes: &[u8],
    xlsx: bool,
    file: &str,
) -> Result<Vec<(usize, Vec<String>)>, TableError> {
    let broken = |reason: String| TableError::Broken {
        file: file.into(),
        kind: "spreadsheet",
        reason,
    };
    IN_SHEET_READER.with(|f| f.set(true));
    let read = std::panic::catch_unwind(|| {
        if xlsx {
            xlsx_records(bytes)
        } else {
            other_records(bytes)
        }
    });
    IN_SHEET_READER.with(|f| f.set(false));
    match read {
        Ok(Ok(Some(records))) => Ok(records),
        Ok(Ok(None)) => Err(TableError::Empty { file: file.into() }),
        Ok(Err(reason)) => Err(broken(reason)),
        Err(_) => Err(broken(
            "its content is damaged where the spreadsheet reader cannot follow".into(),
        )),
    }
}

type Records = Option<Vec<(usize, Vec<String>)>>;

/// XLSX cell by cell, so that a damaged size or cell reference cannot make one huge grid.
fn xlsx_records(bytes: &[u8]) -> Result<Records, String> {
    let mut book: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let Some(first) = book.sheet_names().first().cloned() else {
        return Ok(None);
    };
    let mut cells = book
        .worksheet_cells_reader(&first)
        .map_err(|e| e.to_string())?;
    let mut rows: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
        let (r, c) = cell.get_position();
        if r >= MAX_SHEET_ROWS {
            return Err(format!(
                "it has a cell in row {}, past the {MAX_SHEET_ROWS} rows a residents file may have; split it",
                u64::from(r) + 1
            ));
        }
        if c >= MAX_SHEET_COLUMNS {
            continue;
        }
        let text = cell_text(&Data::from(cell.get_value().clone()));
        let row = rows.entry(r).or_default();
        let c = c as usize;
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = text;
    }
    Ok(Some(
        rows.into_iter()
            .map(|(r, cells)| (r as usize + 1, cells))
            .collect(),
    ))
}

/// Other workbook formats (XLS, ODS) through the library's whole-sheet reader.
fn other_records(bytes: &[u8]) -> Result<Records, String> {
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| e.to_string())?;
    let Some(range) = book.worksheet_range_at(0) else {
        return Ok(None);
    };
    let range = range.map_err(|e| e.to_string())?;
    if range.height() > MAX_SHEET_ROWS as usize {
        return Err(format!(
            "it has {} rows, more than the {MAX_SHEET_ROWS} a residents file may have; split it",
            range.height()
        ));
    }
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    Ok(Some(
        range
            .rows()
            .enumerate()
            .map(|(i, cells)| {
                // Cells left of the used range are blank; keep columns where the sheet has them.
                let mut texts = vec![String::new(); first_col.min(MAX_SHEET_COLUMNS as usize)];
                texts.extend(cells.iter().take(MAX_SHEET_COLUMNS as usize).map(cell_text));
                (first_row + i + 1, texts)
            })
            .collect(),
    ))
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

    fn xlsx(fill: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> tempfile::NamedTempFile {
        let f = tempfile::Builder::new().suffix(".xlsx").tempfile().unwrap();
        let mut book = rust_xlsxwriter::Workbook::new();
        fill(book.add_worksheet());
        book.save(f.path()).unwrap();
        f
    }

    #[test]
    fn sheets_with_gaps_offsets_stray_cells_or_nothing_are_read_without_panicking() {
        let e = read(xlsx(|_| {}).path()).unwrap_err();
        assert!(matches!(e, TableError::Empty { .. }), "{e}");
        // The used range starts at C3, has a gap column and row, and a cell far right of the
        // header; a row shorter than the header.
        let f = xlsx(|s| {
            s.write_string(2, 2, "住户登记").unwrap();
            for (c, h) in ["户号", "姓名", "", "手机"].iter().enumerate() {
                s.write_string(4, 2 + c as u16, *h).unwrap();
            }
            s.write_string(5, 2, "18-2-501").unwrap();
            s.write_string(5, 3, "王卫平").unwrap();
            s.write_number(5, 5, 13900001234.0).unwrap();
            s.write_string(7, 2, "18-2-502").unwrap();
            s.write_string(9, 40, "stray").unwrap();
        });
        let rows = read(f.path()).unwrap();
        let got: Vec<(usize, &str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.number,
                    r.household.as_str(),
                    r.name.as_str(),
                    r.phone.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (6, "18-2-501", "王卫平", "13900001234"),
                (8, "18-2-502", "", ""),
                (10, "", "", "")
            ]
        );
    }

    #[test]
    fn a_gbk_csv_is_read() {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        let (gbk, _, _) =
            encoding_rs::GBK.encode("户号,姓名,手机号\r\n18-2-501,王卫平,13900001234\r\n");
        f.write_all(&gbk).unwrap();
        let rows = read(f.path()).unwrap();
        assert_eq!((rows[0].number, rows[0].name.as_str()), (2, "王卫平"));
    }

    #[test]
    fn whole_numbers_lose_their_fraction() {
        assert_eq!(cell_text(&Data::Float(13900001234.0)), "13900001234");
        assert_eq!(cell_text(&Data::Int(12345678)), "12345678");
        assert_eq!(cell_text(&Data::String(" a ".into())), " a ");
    }
}
