//! The per-building household table (楼组表): every household of one building with its
//! members (names, masked phones), registered and observed occupancy. Made to be printed on
//! A4 at a moment's notice when a building is closed for the night.

use gatehouse_core::phone::mask;
use rust_xlsxwriter::{Format, FormatBorder, Workbook, XlsxError};

use super::{esc, html::PRINT_CSS, xlsx};
use crate::OccupancyError;
use crate::report::{HouseholdVerdict, Report};
use crate::site::Site;

/// One row of the table.
pub struct Row<'a> {
    pub household: &'a str,
    /// (name, role, masked phone) of each registered member.
    pub members: Vec<(String, String, String)>,
    pub verdict: Option<&'a HouseholdVerdict>,
}

/// The rows of `building` (a zone id, or the building's number), in household order.
pub fn rows<'a>(
    site: &'a Site,
    report: &'a Report,
    building: &str,
) -> Result<(String, Vec<Row<'a>>), OccupancyError> {
    let (zone, list) = site.building_households(building).ok_or_else(|| {
        OccupancyError::Input(format!("no building '{building}' in the configuration; give a zone id of kind building (e.g. bldg-18) or its number"))
    })?;
    let mut rows: Vec<Row> = list
        .into_iter()
        .map(|h| {
            let info = &site.households[h as usize];
            Row {
                household: &info.id,
                members: info
                    .members
                    .iter()
                    .map(|&m| {
                        let p = &site.people[m as usize];
                        (
                            p.name.clone(),
                            format!("{:?}", p.role).to_lowercase(),
                            mask(&p.phone),
                        )
                    })
                    .collect(),
                verdict: report.households.iter().find(|v| v.household == info.id),
            }
        })
        .collect();
    rows.sort_by_key(|r| (super::grid::place(r.household), r.household.to_string()));
    let z = &site.zones[zone as usize];
    Ok((format!("{} ({})", z.name, z.id), rows))
}

pub fn html(site: &Site, report: &Report, building: &str) -> Result<String, OccupancyError> {
    let (title, rows) = rows(site, report, building)?;
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>楼组表 {}</title><style>{PRINT_CSS}</style></head><body>\n\
         <h1>楼组表 / Household table — {} {}</h1>\n<p>{} – {}; {} households. 电话已脱敏 / phones masked.</p>\n\
         <table><tr><th>户号</th><th>成员 members</th><th>电话 phone</th><th>登记人数</th><th>状态 status</th><th>估计人数</th><th>在住夜数</th><th>标记 / 依据</th></tr>\n",
        esc(&title),
        esc(&site.site_name),
        esc(&title),
        esc(&report.window.from),
        esc(&report.window.to),
        rows.len()
    );
    for r in &rows {
        let names: Vec<String> = r
            .members
            .iter()
            .map(|(n, role, _)| format!("{} ({role})", esc(n)))
            .collect();
        let phones: Vec<String> = r.members.iter().map(|(_, _, p)| esc(p)).collect();
        let (status, est, nights, notes) = match r.verdict {
            Some(v) => {
                let flags: Vec<&str> = v.flags.iter().map(|f| f.as_str()).collect();
                (
                    format!(
                        "<td style=\"background:{}\">{} {}</td>",
                        v.status.colour(),
                        v.status.words_zh(),
                        v.status.as_str()
                    ),
                    v.estimated_residents.to_string(),
                    format!("{}/{}", v.nights_present, v.nights),
                    format!("{} {}", flags.join(" "), esc(&v.evidence)),
                )
            }
            None => ("<td>—</td>".into(), "—".into(), "—".into(), String::new()),
        };
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{status}<td>{est}</td><td>{nights}</td><td>{notes}</td></tr>\n",
            esc(r.household),
            names.join("<br>"),
            phones.join("<br>"),
            r.members.len()
        ));
    }
    s.push_str("</table>\n<p>签字 / checked by: ____________ &nbsp; 日期 / date: ____________</p>\n</body></html>\n");
    Ok(s)
}

pub fn workbook(site: &Site, report: &Report, building: &str) -> Result<Vec<u8>, OccupancyError> {
    let (title, rows) = rows(site, report, building)?;
    let e = |e: XlsxError| OccupancyError::Render(e.to_string());
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("楼组表").map_err(e)?;
    ws.set_paper_size(9); // A4
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.write_string_with_format(
        0,
        0,
        format!(
            "楼组表 {title} {} – {}",
            report.window.from, report.window.to
        ),
        &Format::new().set_bold(),
    )
    .map_err(e)?;
    xlsx::header(
        ws,
        1,
        &[
            "户号",
            "姓名 name",
            "身份 role",
            "电话 phone",
            "登记人数",
            "状态 status",
            "估计人数",
            "在住夜数",
            "依据 evidence",
        ],
    )?;
    let cell = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
    let mut r = 2u32;
    for row in &rows {
        let n = row.members.len().max(1) as u32;
        ws.write_string_with_format(r, 0, row.household, &cell)
            .map_err(e)?;
        for (i, (name, role, phone)) in row.members.iter().enumerate() {
            ws.write_string_with_format(r + i as u32, 1, name, &cell)
                .map_err(e)?;
            ws.write_string_with_format(r + i as u32, 2, role, &cell)
                .map_err(e)?;
            ws.write_string_with_format(r + i as u32, 3, phone, &cell)
                .map_err(e)?;
        }
        ws.write_number_with_format(r, 4, row.members.len() as u32, &cell)
            .map_err(e)?;
        if let Some(v) = row.verdict {
            ws.write_string_with_format(
                r,
                5,
                format!("{} {}", v.status.words_zh(), v.status.as_str()),
                &xlsx::fill(v.status),
            )
            .map_err(e)?;
            ws.write_number_with_format(r, 6, v.estimated_residents, &cell)
                .map_err(e)?;
            ws.write_string_with_format(r, 7, format!("{}/{}", v.nights_present, v.nights), &cell)
                .map_err(e)?;
            ws.write_string_with_format(r, 8, &v.evidence, &cell)
                .map_err(e)?;
        }
        r += n;
    }
    ws.set_column_width(8, 60).map_err(e)?;
    wb.save_to_buffer().map_err(e)
}
