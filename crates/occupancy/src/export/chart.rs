//! Daily entries and exits per gate as an SVG line chart (plotters), for the HTML report.
//! Labels need a system font; where none is installed the chart is drawn without them and
//! the HTML legend beside it still says what each line is.

use plotters::prelude::*;

use crate::report::Report;

/// Line colours, one per gate, also used by the HTML legend.
pub const COLOURS: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x8c, 0x56, 0x4b),
];

/// One gate's (entries, exits) per day.
pub type GateLine = (String, Vec<(u32, u32)>);

/// Per gate, per day: (entries, exits), with the dates.
pub fn series(report: &Report, gates: &[String]) -> (Vec<String>, Vec<GateLine>) {
    let mut dates: Vec<String> = report.flows.iter().map(|f| f.date.clone()).collect();
    dates.dedup();
    let lines = gates
        .iter()
        .map(|g| {
            let v = dates
                .iter()
                .map(|d| {
                    report
                        .flows
                        .iter()
                        .find(|f| &f.door == g && &f.date == d)
                        .map_or((0, 0), |f| (f.entries, f.exits))
                })
                .collect();
            (g.clone(), v)
        })
        .collect();
    (dates, lines)
}

/// The SVG text of the flow chart: solid lines for entries, thin lines for exits.
pub fn flows_svg(report: &Report, gates: &[String]) -> String {
    let (dates, lines) = series(report, gates);
    draw(&dates, &lines, true)
        .or_else(|_| draw(&dates, &lines, false))
        .unwrap_or_default()
}

fn draw(
    dates: &[String],
    lines: &[(String, Vec<(u32, u32)>)],
    labels: bool,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let days = dates.len().max(2) as u32;
        let top = lines
            .iter()
            .flat_map(|(_, v)| v.iter().map(|&(a, b)| a.max(b)))
            .max()
            .unwrap_or(1)
            .max(1);
        let mut builder = ChartBuilder::on(&root);
        builder.margin(10);
        if labels {
            builder.x_label_area_size(30).y_label_area_size(50);
        }
        let mut chart = builder
            .build_cartesian_2d(0u32..days - 1, 0u32..top + top / 10 + 1)
            .map_err(|e| e.to_string())?;
        let label = |x: &u32| {
            dates
                .get(*x as usize)
                .map(|d| d.get(5..).unwrap_or(d).to_string())
                .unwrap_or_default()
        };
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(WHITE.mix(0.0));
        if labels {
            mesh.x_labels(8)
                .x_label_formatter(&label)
                .y_desc("people per day");
        } else {
            mesh.x_labels(0).y_labels(0);
        }
        mesh.draw().map_err(|e| e.to_string())?;
        for (i, (_, v)) in lines.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(
                    v.iter().enumerate().map(|(d, &(e, _))| (d as u32, e)),
                    colour.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(LineSeries::new(
                    v.iter().enumerate().map(|(d, &(_, x))| (d as u32, x)),
                    colour.mix(0.6).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
