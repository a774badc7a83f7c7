//! The district head-count report: one row per estate (people inside now, registered
//! residents, households by status, how old the figures are) and the district's sums, as a
//! printable HTML page and as an XLSX workbook. No person or household appears in it.

use crate::views::{HeadCount, HeadCounts};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use std::fmt::Write;

const COLUMNS: [&str; 10] = [
    "小区 Estate",
    "名称 Name",
    "在内人数 Inside",
    "登记住户人数 Registered",
    "常住户 Occupied",
    "偶住户 Occasional",
    "空置户 Vacant",
    "不确定 Unknown",
    "截至 As of",
    "状态 State",
];

fn state(row: &HeadCount) -> &'static str {
    if row.stale {
        "过时 stale"
    } else {
        "最新 current"
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn count(n: Option<i64>) -> String {
    n.map_or_else(|| "—".to_string(), |n| n.to_string())
}

/// A page that prints on A4 and reads without the console.
pub fn html(counts: &HeadCounts, now: jiff::Timestamp) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>街道人数统计 · District head counts</title>\
         <style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}td,th{{border:1px solid #888;padding:.25em .5em}}td.n{{text-align:right}}tr.stale td{{color:#a00}}tfoot td{{font-weight:bold}}</style></head><body>\
         <h1>街道人数统计 · District head counts</h1><p>生成于 Made {} · {} 个小区 estates{}</p><table><thead><tr>",
        esc(&now.to_string()),
        counts.estates.len(),
        if counts.stale > 0 {
            format!(" · <strong>{} 个小区数据过时 stale</strong>", counts.stale)
        } else {
            String::new()
        }
    );
    for c in COLUMNS {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("</tr></thead><tbody>");
    for r in &counts.estates {
        let _ = write!(
            s,
            "<tr{}><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td>{}</td><td>{}</td></tr>",
            if r.stale { " class=stale" } else { "" },
            esc(&r.site),
            esc(r.name.as_deref().unwrap_or("")),
            count(r.inside),
            count(r.registered),
            r.households.occupied,
            r.households.occasional,
            r.households.vacant,
            r.households.unknown,
            esc(r.at.as_deref().unwrap_or("—")),
            state(r),
        );
    }
    let h = &counts.households;
    let _ = write!(
        s,
        "</tbody><tfoot><tr><td>合计 Total</td><td></td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td></td><td></td></tr></tfoot></table></body></html>",
        counts.inside, counts.registered, h.occupied, h.occasional, h.vacant, h.unknown
    );
    s
}

/// The same table as a workbook of one sheet, numbers as numbers.
pub fn xlsx(counts: &HeadCounts, now: jiff::Timestamp) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("人数统计")?;
    let bold = Format::new().set_bold();
    sheet.write_string_with_format(
        0,
        0,
        format!("街道人数统计 District head counts · {now}"),
        &bold,
    )?;
    for (c, title) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, *title, &bold)?;
        sheet.set_column_width(c as u16, if c >= 8 { 28 } else { 16 })?;
    }
    let mut row = 3u32;
    for r in &counts.estates {
        sheet.write_string(row, 0, &r.site)?;
        sheet.write_string(row, 1, r.name.as_deref().unwrap_or(""))?;
        for (c, n) in [(2u16, r.inside), (3, r.registered)] {
            if let Some(n) = n {
                sheet.write_number(row, c, n as f64)?;
            }
        }
        let h = &r.households;
        for (c, n) in [
            (4u16, h.occupied),
            (5, h.occasional),
            (6, h.vacant),
            (7, h.unknown),
        ] {
            sheet.write_number(row, c, n as f64)?;
        }
        sheet.write_string(row, 8, r.at.as_deref().unwrap_or(""))?;
        sheet.write_string(row, 9, state(r))?;
        row += 1;
    }
    sheet.write_string_with_format(row, 0, "合计 Total", &bold)?;
    let h = &counts.households;
    for (c, n) in [
        (2u16, counts.inside),
        (3, counts.registered),
        (4, h.occupied),
        (5, h.occasional),
        (6, h.vacant),
        (7, h.unknown),
    ] {
        sheet.write_number_with_format(row, c, n as f64, &bold)?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::Households;

    fn counts() -> HeadCounts {
        HeadCounts {
            estates: vec![
                HeadCount {
                    site: "east-1".into(),
                    name: Some("东风一区".into()),
                    inside: Some(412),
                    registered: Some(1630),
                    households: Households {
                        occupied: 500,
                        occasional: 20,
                        vacant: 30,
                        unknown: 5,
                    },
                    at: Some("2026-12-04T08:00:00+08:00".into()),
                    age_s: Some(60.0),
                    stale: false,
                },
                HeadCount {
                    site: "<west>".into(),
                    name: None,
                    inside: None,
                    registered: None,
                    households: Households::default(),
                    at: None,
                    age_s: None,
                    stale: true,
                },
            ],
            inside: 412,
            registered: 1630,
            households: Households {
                occupied: 500,
                occasional: 20,
                vacant: 30,
                unknown: 5,
            },
            stale: 1,
        }
    }

    #[test]
    fn the_html_report_has_each_estate_the_sums_and_escapes_text() {
        let page = html(&counts(), "2026-12-04T00:00:00Z".parse().unwrap());
        assert!(page.contains("东风一区"));
        assert!(page.contains("<td class=n>412</td><td class=n>1630</td>"));
        assert!(page.contains("&lt;west&gt;"));
        assert!(!page.contains("<west>"));
        assert!(page.contains("1 个小区数据过时"));
    }

    #[test]
    fn the_workbook_is_a_zip_with_the_sheet() {
        let bytes = xlsx(&counts(), "2026-12-04T00:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(&bytes[..2], b"PK");
        assert!(bytes.len() > 1000);
    }
}
