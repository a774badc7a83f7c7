//! Finding the header row of an office's sheet (below a title and blank rows), matching its
//! cells to columns, and turning the records below it into rows, with a household code put
//! together from split building / unit / room columns.

use super::columns::{self, COLUMNS, Column};
use super::table::{Row, TableError};
use super::text::fold;
use std::collections::HashMap;

/// How many non-blank rows at the top may come before the header (titles, dates, notes).
const HEADER_WITHIN_ROWS: usize = 20;

fn blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
}

/// How many cells of a record name a column.
fn named(cells: &[String]) -> usize {
    cells
        .iter()
        .filter(|c| columns::column(c).is_some())
        .count()
}

/// Matches the header to columns and turns the records below it into rows. The header is the
/// first row (within the first [`HEADER_WITHIN_ROWS`] non-blank ones) in which at least two
/// cells name a column; without one, the first non-blank row is taken, so its unknown headers
/// are reported.
pub fn rows(records: Vec<(usize, Vec<String>)>, file: &str) -> Result<Vec<Row>, TableError> {
    let records: Vec<(usize, Vec<String>)> = records
        .into_iter()
        .map(|(n, cells)| (n, cells.iter().map(|c| fold(c)).collect()))
        .filter(|(_, cells): &(usize, Vec<String>)| !blank(cells))
        .collect();
    if records.is_empty() {
        return Err(TableError::Empty { file: file.into() });
    }
    let at = records
        .iter()
        .take(HEADER_WITHIN_ROWS)
        .position(|(_, cells)| named(cells) >= 2)
        .unwrap_or(0);
    let header = &records[at].1;
    let index = columns_of(header, file)?;
    // A sheet printed on several pages repeats its header; those rows are not people.
    Ok(records[at + 1..]
        .iter()
        .filter(|(_, cells)| cells != header)
        .map(|(number, cells)| index.row(*number, cells))
        .collect())
}

/// Where each column is in the header.
struct Index(HashMap<Column, usize>);

fn columns_of(header: &[String], file: &str) -> Result<Index, TableError> {
    let mut index: HashMap<Column, usize> = HashMap::new();
    let mut unknown = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        match columns::column(h) {
            Some(c) if index.contains_key(&c) => {
                return Err(TableError::DuplicateColumn {
                    file: file.into(),
                    header: h.clone(),
                });
            }
            Some(c) => {
                index.insert(c, i);
            }
            None if columns::ignored(h) => {}
            None => unknown.push(h.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(TableError::UnknownHeaders {
            file: file.into(),
            headers: unknown,
        });
    }
    let split = index.contains_key(&Column::Building) || index.contains_key(&Column::Unit);
    let mut missing: Vec<String> = COLUMNS
        .iter()
        .filter(|(c, _, _, required)| *required && !index.contains_key(c))
        .filter(|(c, ..)| *c != Column::Household || !index.contains_key(&Column::Room))
        .map(|(c, en, zh, _)| {
            if *c == Column::Household {
                format!("{en}/{zh} (or 楼号, 单元, 房号)")
            } else {
                format!("{en}/{zh}")
            }
        })
        .collect();
    if split && !index.contains_key(&Column::Household) {
        for c in [Column::Building, Column::Unit, Column::Room] {
            if !index.contains_key(&c) {
                missing.push(columns::header(c, true).to_string());
            }
        }
    }
    if !missing.is_empty() {
        return Err(TableError::MissingColumns {
            file: file.into(),
            missing,
        });
    }
    Ok(Index(index))
}

impl Index {
    fn cell(&self, cells: &[String], c: Column) -> String {
        self.0
            .get(&c)
            .and_then(|&i| cells.get(i))
            .cloned()
            .unwrap_or_default()
    }

    fn row(&self, number: usize, cells: &[String]) -> Row {
        Row {
            number,
            household: self.household(cells),
            name: self.cell(cells, Column::Name),
            phone: self.cell(cells, Column::Phone),
            role: self.cell(cells, Column::Role),
            pass: self.cell(cells, Column::Pass),
            valid_until: self.cell(cells, Column::ValidUntil),
        }
    }

    /// The household code: its own column, else the building, unit and room joined with `-`
    /// (a room cell that already holds a whole code is taken as it is).
    fn household(&self, cells: &[String]) -> String {
        if self.0.contains_key(&Column::Household) {
            return self.cell(cells, Column::Household);
        }
        let room = self.cell(cells, Column::Room);
        let parts = room
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty());
        if !self.0.contains_key(&Column::Building) || parts.count() >= 3 {
            return room;
        }
        let (building, unit) = (
            self.cell(cells, Column::Building),
            self.cell(cells, Column::Unit),
        );
        if building.is_empty() && unit.is_empty() && room.is_empty() {
            return String::new();
        }
        format!("{building}-{unit}-{room}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(rows: &[&[&str]]) -> Vec<(usize, Vec<String>)> {
        rows.iter()
            .enumerate()
            .map(|(i, r)| (i + 1, r.iter().map(|c| c.to_string()).collect()))
            .collect()
    }

    #[test]
    fn the_header_is_found_below_a_title_and_blank_rows() {
        let rows = rows(
            records(&[
                &["新门口社区住户登记表", "", ""],
                &["", "", ""],
                &["填表日期：2026年11月", "", ""],
                &["序号", "姓名", "手机", "房号", "备注"],
                &["1", "王卫平", "１３９ ０００１ ２３４", "18-2-501", ""],
                &["序号", "姓名", "手机", "房号", "备注"],
            ]),
            "f.csv",
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (
                rows[0].number,
                rows[0].household.as_str(),
                rows[0].phone.as_str()
            ),
            (5, "18-2-501", "139 0001 234")
        );
    }

    #[test]
    fn split_building_unit_and_room_columns_make_the_household_code() {
        let rows = rows(
            records(&[
                &["楼号", "单元", "房号", "姓名", "联系电话"],
                &["18号楼", "2单元", "501室", "王卫平", "13900001234"],
                &["１８", "２", "５０２", "李娜", "13900001235"],
                &["", "", "18-2-503", "张强", "13900001236"],
            ]),
            "f.csv",
        )
        .unwrap();
        let codes: Vec<&str> = rows.iter().map(|r| r.household.as_str()).collect();
        assert_eq!(codes, ["18号楼-2单元-501室", "18-2-502", "18-2-503"]);
    }

    #[test]
    fn a_split_code_needs_all_three_parts_and_unknown_headers_are_still_refused() {
        let e = rows(records(&[&["楼号", "房号", "姓名", "手机"]]), "f.csv").unwrap_err();
        assert!(e.to_string().contains("'单元' is missing"), "{e}");
        let e = rows(records(&[&["户号", "姓名", "手机", "住址"]]), "f.csv").unwrap_err();
        assert!(
            matches!(&e, TableError::UnknownHeaders { headers, .. } if headers == &["住址"]),
            "{e}"
        );
        // A sheet whose header names nothing known: its first row is reported.
        let e = rows(records(&[&["登记表"], &["a", "b"]]), "f.csv").unwrap_err();
        assert!(e.to_string().contains("'登记表'"), "{e}");
    }
}
