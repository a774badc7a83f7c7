//! The sample residents: about 2.5 people to a flat, owners and tenants with their families and
//! a few live-in helpers, written as the residents file in CSV (English headers) and XLSX
//! (Chinese headers, as an estate office would keep it).

use super::estate::Layout;
use super::names::{self, Cards, Phones};
use crate::import::columns::{COLUMNS, header, role_word};
use gatehouse_core::estate::Role;
use rand::Rng;
use rand::distr::{Distribution, weighted::WeightedIndex};
use std::collections::HashSet;
use std::path::Path;

/// One row of the residents file.
#[derive(Clone, Debug, PartialEq)]
pub struct Resident {
    pub household: String,
    pub name: String,
    pub phone: String,
    pub role: Role,
    pub card: Option<String>,
    pub valid_until: Option<jiff::civil::Date>,
}

/// Draws the residents of every flat of `layout`.
pub fn residents(rng: &mut impl Rng, layout: &Layout) -> Vec<Resident> {
    // Flats with 0..=5 registered people; a few are empty.
    let sizes = WeightedIndex::new([4, 18, 32, 27, 13, 6]).expect("valid weights");
    let mut phones = Phones::default();
    let mut cards = Cards::default();
    let mut out = Vec::new();
    for b in &layout.buildings {
        for unit in 1..=b.units {
            for household in b.households(unit) {
                let size = sizes.sample(rng);
                let tenants = rng.random_bool(0.2);
                let family_name = names::surname(rng);
                let mut taken = HashSet::new();
                for member in 0..size {
                    let role = match member {
                        0 if tenants => Role::Tenant,
                        0 => Role::Owner,
                        m if m + 1 == size && size >= 3 && rng.random_bool(0.06) => Role::Staff,
                        _ if tenants && rng.random_bool(0.4) => Role::Tenant,
                        _ => Role::Family,
                    };
                    // Spouses, co-tenants and helpers often have another surname.
                    let surname = if member == 0 || (role == Role::Family && rng.random_bool(0.6)) {
                        family_name
                    } else {
                        names::surname(rng)
                    };
                    let name = loop {
                        let n = names::name_with(rng, surname);
                        if taken.insert(n.clone()) {
                            break n;
                        }
                    };
                    let valid_until = match role {
                        Role::Tenant => Some(lease_end(rng)),
                        Role::Staff => Some(jiff::civil::date(2027, 6, 30)),
                        _ => None,
                    };
                    out.push(Resident {
                        household: household.clone(),
                        name,
                        phone: phones.next(rng),
                        role,
                        card: rng.random_bool(0.92).then(|| cards.next(rng)),
                        valid_until,
                    });
                }
            }
        }
    }
    out
}

/// The last day of a month between January 2027 and June 2028.
fn lease_end(rng: &mut impl Rng) -> jiff::civil::Date {
    let month = rng.random_range(0..18);
    let first = jiff::civil::date(2027 + (month / 12) as i16, (month % 12 + 1) as i8, 1);
    first.last_of_month()
}

/// The cells of one row in column order; the CSV writes some phones the way people type them
/// (`139-0000-1234`) so that the import's normalisation is exercised.
fn cells(r: &Resident, chinese: bool, index: usize) -> [String; 6] {
    let phone = if !chinese && index % 17 == 5 {
        format!("{}-{}-{}", &r.phone[..3], &r.phone[3..7], &r.phone[7..])
    } else {
        r.phone.clone()
    };
    [
        r.household.clone(),
        r.name.clone(),
        phone,
        role_word(r.role, chinese).to_string(),
        r.card.clone().unwrap_or_default(),
        r.valid_until.map(|d| d.to_string()).unwrap_or_default(),
    ]
}

/// Writes the residents as CSV with English headers.
pub fn write_csv(path: &Path, residents: &[Resident]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(COLUMNS.iter().map(|c| header(c.0, false)))?;
    for (i, r) in residents.iter().enumerate() {
        w.write_record(cells(r, false, i))?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the residents as XLSX with Chinese headers; every cell is text, so card numbers and
/// phones are never turned into numbers by a spreadsheet.
pub fn write_xlsx(path: &Path, residents: &[Resident]) -> anyhow::Result<()> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    // A fixed creation time keeps the generated file the same from run to run.
    let created = ExcelDateTime::from_ymd(2026, 11, 1)?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let sheet = book.add_worksheet();
    sheet.set_name("住户")?;
    let bold = Format::new().set_bold();
    for (col, c) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, header(c.0, true), &bold)?;
        sheet.set_column_width(col as u16, 14)?;
    }
    for (i, r) in residents.iter().enumerate() {
        for (col, cell) in cells(r, true, i).iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(i as u32 + 1, col as u16, cell)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save(path)?;
    Ok(())
}
