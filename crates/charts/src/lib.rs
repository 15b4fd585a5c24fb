//! Per-layer line charts as SVG text (plotters): one chart per metric, every model on the same axes.
//! The CLI writes them to files; the explorer puts them in the page.

use plotters::prelude::*;

use vitscope_protocol::paper::PaperCurve;

pub struct Series {
    pub label: String,
    /// (x, y) of the mean line.
    pub line: Vec<(f64, f64)>,
    /// Per-head values, drawn as dots in the line's colour.
    pub dots: Vec<(f64, f64)>,
    pub dashed: bool,
    /// Index into the palette; `None` takes the series' position. Lets a model's own curve and its
    /// reference share a colour.
    pub color: Option<usize>,
}

impl Series {
    /// A curve published in the paper, dashed, at its own layer (or depth) positions.
    pub fn paper(p: &PaperCurve, color: Option<usize>) -> Self {
        let axis = p.metric.axis();
        Self {
            label: p.model.to_string(),
            line: p.values.iter().enumerate().map(|(i, &v)| (axis.number(i) as f64, v as f64)).collect(),
            dots: Vec::new(),
            dashed: true,
            color,
        }
    }
}

const COLORS: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
];

/// One line chart (Okabe–Ito colours, safe for colour-vision deficiencies), as an SVG document.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    size: (u32, u32),
) -> Result<String, String> {
    let points = series.iter().flat_map(|s| s.line.iter().chain(&s.dots));
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points.filter(|(_, y)| y.is_finite()) {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return Err(format!("{title}: nothing to plot"));
    }
    let pad = ((y1 - y0) * 0.08).max(1e-3);
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
    let draw = |e: &dyn std::fmt::Display| format!("{title}: {e}");
    root.fill(&WHITE).map_err(|e| draw(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0 - 0.3..x1 + 0.3, y0 - pad..y1 + pad)
        .map_err(|e| draw(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels((x1 - x0) as usize + 1)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .light_line_style(WHITE)
        .draw()
        .map_err(|e| draw(&e))?;
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[s.color.unwrap_or(i) % COLORS.len()];
        let style = ShapeStyle { color: color.to_rgba(), filled: false, stroke_width: 2 };
        let line: Vec<(f64, f64)> = s.line.iter().copied().filter(|(_, y)| y.is_finite()).collect();
        let series = if s.dashed {
            chart.draw_series(DashedLineSeries::new(line, 6, 4, style)).map_err(|e| draw(&e))?
        } else {
            chart.draw_series(LineSeries::new(line, style)).map_err(|e| draw(&e))?
        };
        series.label(s.label.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        chart.draw_series(s.dots.iter().map(|&p| Circle::new(p, 2, color.mix(0.5).filled()))).map_err(|e| draw(&e))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| draw(&e))?;
    root.present().map_err(|e| draw(&e))?;
    drop(chart);
    drop(root);
    Ok(svg)
}
