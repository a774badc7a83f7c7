//! The occupancy report as a workbook: households, a building grid coloured by status, and
//! daily flows per gate with a line chart (Excel's own, so it stays editable).

use rust_xlsxwriter::{
    Chart, ChartType, Color, Format, FormatBorder, Workbook, Worksheet, XlsxError,
};

use super::{chart, grid};
use crate::OccupancyError;
use crate::report::{Report, Status};

fn err(e: XlsxError) -> OccupancyError {
    OccupancyError::Render(e.to_string())
}

/// The fill of a status, from its HTML colour.
pub(crate) fn fill(status: Status) -> Format {
    let rgb = u32::from_str_radix(status.colour().trim_start_matches('#'), 16).unwrap_or(0xffffff);
    Format::new()
        .set_background_color(Color::RGB(rgb))
        .set_border(FormatBorder::Thin)
}

/// Writes a header row in bold.
pub(crate) fn header(ws: &mut Worksheet, row: u32, titles: &[&str]) -> Result<(), OccupancyError> {
    let bold = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xeeeeee));
    for (c, t) in titles.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, *t, &bold)
            .map_err(err)?;
    }
    Ok(())
}

pub fn workbook(report: &Report, gates: &[String]) -> Result<Vec<u8>, OccupancyError> {
    let mut wb = Workbook::new();
    {
        let ws = wb.add_worksheet().set_name("Households").map_err(err)?;
        header(
            ws,
            0,
            &[
                "户号 household",
                "楼 building",
                "登记 registered",
                "状态 status",
                "估计人数 estimated",
                "在住夜数 nights",
                "of nights",
                "confidence",
                "flags",
                "依据",
                "evidence",
            ],
        )?;
        for (i, h) in report.households.iter().enumerate() {
            let r = i as u32 + 1;
            let flags: Vec<&str> = h.flags.iter().map(|f| f.as_str()).collect();
            ws.write_string(r, 0, &h.household).map_err(err)?;
            ws.write_string(r, 1, super::building(h)).map_err(err)?;
            ws.write_number(r, 2, h.registered).map_err(err)?;
            ws.write_string_with_format(r, 3, h.status.as_str(), &fill(h.status))
                .map_err(err)?;
            ws.write_number(r, 4, h.estimated_residents).map_err(err)?;
            ws.write_number(r, 5, h.nights_present).map_err(err)?;
            ws.write_number(r, 6, h.nights).map_err(err)?;
            ws.write_number(r, 7, h.confidence).map_err(err)?;
            ws.write_string(r, 8, flags.join(" ")).map_err(err)?;
            ws.write_string(r, 9, &h.evidence_zh).map_err(err)?;
            ws.write_string(r, 10, &h.evidence).map_err(err)?;
        }
        ws.set_column_width(9, 50).map_err(err)?;
        ws.set_column_width(10, 70).map_err(err)?;
    }
    {
        let ws = wb.add_worksheet().set_name("Anomalies").map_err(err)?;
        header(
            ws,
            0,
            &[
                "类型 kind",
                "卡号 card",
                "pass",
                "户号 household",
                "时间 at",
                "可信度 confidence",
                "说明",
                "detail",
                "依据 evidence",
            ],
        )?;
        for (i, a) in report.anomalies.iter().enumerate() {
            let r = i as u32 + 1;
            ws.write_string(r, 0, a.kind.as_str()).map_err(err)?;
            ws.write_string(r, 1, a.card.as_deref().unwrap_or(""))
                .map_err(err)?;
            ws.write_string(r, 2, &a.pass).map_err(err)?;
            ws.write_string(r, 3, a.household.as_deref().unwrap_or(""))
                .map_err(err)?;
            ws.write_string(r, 4, super::local(&a.at)).map_err(err)?;
            ws.write_number(r, 5, a.confidence).map_err(err)?;
            ws.write_string(r, 6, &a.detail_zh).map_err(err)?;
            ws.write_string(r, 7, &a.detail).map_err(err)?;
            ws.write_string(r, 8, a.evidence.join("; ")).map_err(err)?;
        }
        ws.set_column_width(7, 50).map_err(err)?;
    }
    {
        let ws = wb.add_worksheet().set_name("Building grid").map_err(err)?;
        let mut r = 0u32;
        for g in grid::grids(report) {
            ws.write_string_with_format(r, 0, &g.building, &Format::new().set_bold())
                .map_err(err)?;
            for (c, (unit, room)) in g.columns.iter().enumerate() {
                ws.write_string(r, c as u16 + 1, format!("{unit}-{room:02}"))
                    .map_err(err)?;
            }
            r += 1;
            for (floor, row) in g.floors.iter().rev() {
                ws.write_string(r, 0, format!("{floor}F")).map_err(err)?;
                for (c, col) in g.columns.iter().enumerate() {
                    if let Some(h) = row.get(col) {
                        ws.write_string_with_format(r, c as u16 + 1, &h.household, &fill(h.status))
                            .map_err(err)?;
                    }
                }
                r += 1;
            }
            r += 1;
        }
    }
    {
        let (dates, lines) = chart::series(report, gates);
        let ws = wb.add_worksheet().set_name("Flows").map_err(err)?;
        ws.write_string(0, 0, "date").map_err(err)?;
        for (i, (gate, v)) in lines.iter().enumerate() {
            let c = 1 + 2 * i as u16;
            ws.write_string(0, c, format!("{gate} in")).map_err(err)?;
            ws.write_string(0, c + 1, format!("{gate} out"))
                .map_err(err)?;
            for (d, &(e, x)) in v.iter().enumerate() {
                ws.write_number(d as u32 + 1, c, e).map_err(err)?;
                ws.write_number(d as u32 + 1, c + 1, x).map_err(err)?;
            }
        }
        for (d, date) in dates.iter().enumerate() {
            ws.write_string(d as u32 + 1, 0, date).map_err(err)?;
        }
        if !dates.is_empty() && !lines.is_empty() {
            let last = dates.len() as u32;
            let mut ch = Chart::new(ChartType::Line);
            ch.title().set_name("Daily entries and exits per gate");
            for i in 0..lines.len() as u16 * 2 {
                ch.add_series()
                    .set_name(("Flows", 0, 1 + i))
                    .set_categories(("Flows", 1, 0, last, 0))
                    .set_values(("Flows", 1, 1 + i, last, 1 + i));
            }
            ws.insert_chart(1, 2 + 2 * lines.len() as u16, &ch)
                .map_err(err)?;
        }
    }
    wb.save_to_buffer().map_err(err)
}
