//! The occupancy report as one self-contained HTML page: summary, building grid coloured by
//! status, daily flows per gate (SVG), the household table and the anomalies. Prints on A4.

use super::{chart, esc, grid};
use crate::report::{Report, Status};

/// Print CSS shared with the per-building table: A4, no colours lost, no rows split.
pub const PRINT_CSS: &str = "@page { size: A4; margin: 12mm }\n\
@media print { body { font-size: 9pt } .noprint { display: none } tr, .grid { break-inside: avoid } \
* { -webkit-print-color-adjust: exact; print-color-adjust: exact } }\n\
body { font-family: 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif; margin: 1em; color: #222 }\n\
table { border-collapse: collapse; margin: .5em 0 } td, th { border: 1px solid #999; padding: 2px 5px; font-size: 10pt; vertical-align: top }\n\
th { background: #eee } h1 { font-size: 16pt } h2 { font-size: 13pt; margin-top: 1.2em }\n";

pub fn page(report: &Report, gates: &[String], site_name: &str) -> String {
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">");
    s.push_str(&format!(
        "<title>入住情况 Occupancy — {}</title><style>{}",
        esc(site_name),
        PRINT_CSS
    ));
    s.push_str(".grid td { width: 3.2em; height: 1.6em; text-align: center; font-size: 8pt } .legend span { display: inline-block; padding: 0 .6em; margin-right: .4em; border: 1px solid #999 }</style></head><body>\n");
    s.push_str(&format!(
        "<h1>{} 入住情况 / Occupancy {} – {}</h1>\n<p>Site <b>{}</b>; events read {}; as of {}; method {}.</p>\n",
        esc(site_name),
        esc(&report.window.from),
        esc(&report.window.to),
        esc(&report.site),
        report.events_read,
        esc(&report.as_of.as_deref().map(super::local).unwrap_or("—".into())),
        esc(&report.method)
    ));
    let c = &report.coverage;
    s.push_str(&format!(
        "<p>数据覆盖 Coverage: {} 晚 nights{}; 首条记录 first record {}; 末条记录 last record {}.</p>\n<table><tr><th>门 door</th><th>进 entries</th><th>出 exits</th><th>方向 directions</th><th>估计漏记出门 exits lost</th></tr>\n",
        c.nights,
        if c.enough { "" } else { " — 不足以判断 too few to judge: every household unknown" },
        esc(&c.first_record.as_deref().map(super::local).unwrap_or("—".into())),
        esc(&c.last_record.as_deref().map(super::local).unwrap_or("—".into())),
    ));
    for d in &c.doors {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&d.door),
            d.entries,
            d.exits,
            esc(&d.directions),
            d.missing_exits
                .map(|m| format!("{:.0} %", m * 100.0))
                .unwrap_or_default()
        ));
    }
    s.push_str("</table>\n");
    let count = |st: Status| report.households.iter().filter(|h| h.status == st).count();
    s.push_str("<p class=\"legend\">");
    for st in [
        Status::Occupied,
        Status::Occasional,
        Status::Vacant,
        Status::Unknown,
    ] {
        s.push_str(&format!(
            "<span style=\"background:{}\">{} {} {}</span>",
            st.colour(),
            st.words_zh(),
            st.as_str(),
            count(st)
        ));
    }
    s.push_str("</p>\n<h2>楼栋 / Buildings</h2>\n");
    for g in grid::grids(report) {
        s.push_str(&format!(
            "<table class=\"grid\"><caption>{}</caption>",
            esc(&g.building)
        ));
        for (floor, row) in g.floors.iter().rev() {
            s.push_str(&format!("<tr><th>{floor}F</th>"));
            for col in &g.columns {
                match row.get(col) {
                    Some(h) => s.push_str(&format!(
                        "<td style=\"background:{}\" title=\"{}: {}\">{}-{:02}</td>",
                        h.status.colour(),
                        esc(&h.household),
                        esc(&h.evidence),
                        col.0,
                        col.1
                    )),
                    None => s.push_str("<td></td>"),
                }
            }
            s.push_str("</tr>");
        }
        s.push_str("</table>\n");
        for h in g.unplaced {
            s.push_str(&format!(
                "<span style=\"background:{}\">{}</span> ",
                h.status.colour(),
                esc(&h.household)
            ));
        }
    }
    s.push_str("<h2>出入口每日流量 / Daily flows per gate</h2>\n<p class=\"legend\">");
    for (i, g) in gates.iter().enumerate() {
        let c = chart::COLOURS[i % chart::COLOURS.len()];
        s.push_str(&format!(
            "<span style=\"border-color:rgb({},{},{});border-width:3px\">{}</span>",
            c.0,
            c.1,
            c.2,
            esc(g)
        ));
    }
    s.push_str(" thick: entries, thin: exits</p>\n");
    s.push_str(&chart::flows_svg(report, gates));
    s.push_str("\n<h2>住户 / Households</h2>\n<table><tr><th>户号</th><th>楼</th><th>登记</th><th>状态</th><th>估计人数</th><th>在住夜数</th><th>可信度</th><th>标记</th><th>依据</th><th>evidence</th></tr>\n");
    for h in &report.households {
        let flags: Vec<&str> = h.flags.iter().map(|f| f.as_str()).collect();
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td style=\"background:{}\">{} {}</td><td>{}</td><td>{}/{}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&h.household),
            esc(&super::building(h)),
            h.registered,
            h.status.colour(),
            h.status.words_zh(),
            h.status.as_str(),
            h.estimated_residents,
            h.nights_present,
            h.nights,
            h.confidence,
            flags.join(" "),
            esc(&h.evidence_zh),
            esc(&h.evidence)
        ));
    }
    s.push_str("</table>\n<h2>异常 / Anomalies</h2>\n<table><tr><th>类型 kind</th><th>卡号 card</th><th>pass</th><th>户号 household</th><th>时间 at</th><th>可信度 confidence</th><th>说明</th><th>detail</th><th>依据 evidence</th></tr>\n");
    for a in &report.anomalies {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            a.kind.as_str(),
            esc(a.card.as_deref().unwrap_or("")),
            esc(&a.pass),
            esc(a.household.as_deref().unwrap_or("")),
            esc(&super::local(&a.at)),
            a.confidence,
            esc(&a.detail_zh),
            esc(&a.detail),
            esc(&a.evidence.join("; "))
        ));
    }
    s.push_str("</table>\n<h2>当前在内 / Inside now</h2>\n<table><tr><th>zone</th><th>inside now</th></tr>");
    for z in report.zones.iter().filter(|z| z.inside_now > 0) {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&z.zone),
            z.inside_now
        ));
    }
    s.push_str("</table>\n</body></html>\n");
    s
}
