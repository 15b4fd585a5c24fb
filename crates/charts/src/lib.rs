//! Per-layer line charts as SVG text (plotters): one chart per metric, every model on the same axes.
//! The CLI writes them to files; the explorer puts them in the page.

use plotters::prelude::*;

use vitscope_protocol::metrics::Quartiles;
use vitscope_protocol::paper::PaperCurve;
use vitscope_protocol::probe::{Probe, ProbeCurves};

pub struct Series {
    pub label: String,
    /// (x, y) of the mean line.
    pub line: Vec<(f64, f64)>,
    /// Per-head values, drawn as dots in the line's colour.
    pub dots: Vec<(f64, f64)>,
    /// (x, low, high): a shaded band in the line's colour, such as the interquartile range of a set
    /// of images around their mean.
    pub band: Vec<(f64, f64, f64)>,
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
            band: Vec::new(),
            dashed: true,
            color,
        }
    }
}

/// A [`Series::band`] from quartiles: first to third, at `x(layer)`.
pub fn interquartile_band(q: &Quartiles, x: impl Fn(usize) -> f64) -> Vec<(f64, f64, f64)> {
    q.q1.iter().zip(&q.q3).enumerate().map(|(i, (&low, &high))| (x(i), low as f64, high as f64)).collect()
}

/// A probe's chart: each model's accuracy (%) at layers 1..L in its own colour, and the share of the
/// largest class dashed in black, the rate a probe that learned nothing reaches by always naming it.
pub fn probe_series(probe: Probe, models: &[(String, &ProbeCurves)], majority: f64) -> Vec<Series> {
    let mut series: Vec<Series> = models
        .iter()
        .enumerate()
        .filter_map(|(i, (label, curves))| {
            let curve = probe.curve(curves)?;
            Some(Series {
                label: label.clone(),
                line: curve.iter().enumerate().map(|(l, &a)| ((l + 1) as f64, 100.0 * a as f64)).collect(),
                dots: Vec::new(),
                band: Vec::new(),
                dashed: false,
                // Black is the chance line's.
                color: Some(if i >= BLACK_INDEX { i + 1 } else { i }),
            })
        })
        .collect();
    let layers = series.iter().map(|s| s.line.len()).max().unwrap_or(0);
    if layers > 0 {
        series.push(Series {
            label: "largest class (always naming it)".into(),
            line: vec![(1.0, 100.0 * majority), (layers as f64, 100.0 * majority)],
            dots: Vec::new(),
            band: Vec::new(),
            dashed: true,
            color: Some(BLACK_INDEX),
        });
    }
    series
}

/// Black's place in [`COLORS`].
const BLACK_INDEX: usize = 6;

const COLORS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// Height of one legend row under the plot.
const LEGEND_ROW: u32 = 18;

/// The series' colour.
fn color_of(s: &Series, i: usize) -> RGBColor {
    COLORS[s.color.unwrap_or(i) % COLORS.len()]
}

/// One line chart (Okabe–Ito colours, safe for colour-vision deficiencies), as an SVG document:
/// the plot is `size`, and the legend sits under it, a row per series, so four models and their
/// references never cover the curves.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    size: (u32, u32),
) -> Result<String, String> {
    let bands = series.iter().flat_map(|s| s.band.iter().flat_map(|&(x, low, high)| [(x, low), (x, high)]));
    let points = series.iter().flat_map(|s| s.line.iter().chain(&s.dots).copied()).chain(bands);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in points.filter(|(_, y)| y.is_finite()) {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return Err(format!("{title}: nothing to plot"));
    }
    let pad = ((y1 - y0) * 0.08).max(1e-3);
    let mut svg = String::new();
    // A last legend row says what the shading is, when any series has a band.
    let banded = series.iter().any(|s| s.band.len() > 1);
    let legend_height = LEGEND_ROW * (series.len() + banded as usize) as u32 + 8;
    let root = SVGBackend::with_string(&mut svg, (size.0, size.1 + legend_height)).into_drawing_area();
    let draw = |e: &dyn std::fmt::Display| format!("{title}: {e}");
    root.fill(&WHITE).map_err(|e| draw(&e))?;
    let (plot, legend) = root.split_vertically(size.1);
    let mut chart = ChartBuilder::on(&plot)
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
    // Bands first, so every line and dot stays on top of every band.
    for (i, s) in series.iter().enumerate() {
        let band: Vec<_> = s.band.iter().filter(|(_, low, high)| low.is_finite() && high.is_finite()).collect();
        if band.len() > 1 {
            let outline =
                band.iter().map(|&&(x, low, _)| (x, low)).chain(band.iter().rev().map(|&&(x, _, high)| (x, high)));
            let fill = color_of(s, i).mix(0.18).filled();
            chart
                .draw_series(std::iter::once(Polygon::new(outline.collect::<Vec<_>>(), fill)))
                .map_err(|e| draw(&e))?;
        }
    }
    for (i, s) in series.iter().enumerate() {
        let color = color_of(s, i);
        let style = ShapeStyle { color: color.to_rgba(), filled: false, stroke_width: 2 };
        let line: Vec<(f64, f64)> = s.line.iter().copied().filter(|(_, y)| y.is_finite()).collect();
        if s.dashed {
            chart.draw_series(DashedLineSeries::new(line, 6, 4, style)).map_err(|e| draw(&e))?;
        } else {
            chart.draw_series(LineSeries::new(line, style)).map_err(|e| draw(&e))?;
        }
        chart.draw_series(s.dots.iter().map(|&p| Circle::new(p, 2, color.mix(0.5).filled()))).map_err(|e| draw(&e))?;
    }
    for (i, s) in series.iter().enumerate() {
        let style = ShapeStyle { color: color_of(s, i).to_rgba(), filled: false, stroke_width: 2 };
        let y = (LEGEND_ROW * i as u32 + LEGEND_ROW / 2 + 4) as i32;
        let sample: &[(i32, i32)] = if s.dashed { &[(72, 78), (84, 90)] } else { &[(72, 90)] };
        for &(a, b) in sample {
            legend.draw(&PathElement::new(vec![(a, y), (b, y)], style)).map_err(|e| draw(&e))?;
        }
        let text = Text::new(s.label.clone(), (98, y - 6), ("sans-serif", 13).into_font().color(&BLACK));
        legend.draw(&text).map_err(|e| draw(&e))?;
    }
    if banded {
        let y = (LEGEND_ROW * series.len() as u32 + 4) as i32;
        let note = "shaded: the middle half of the images (first to third quartile)";
        legend.draw(&Text::new(note, (72, y), ("sans-serif", 13).into_font().color(&BLACK))).map_err(|e| draw(&e))?;
    }
    root.present().map_err(|e| draw(&e))?;
    drop(chart);
    drop((plot, legend, root));
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(label: &str, dashed: bool, color: usize) -> Series {
        Series {
            label: label.into(),
            line: vec![(1.0, 0.5), (2.0, 0.7)],
            dots: vec![(1.0, 0.4)],
            band: Vec::new(),
            dashed,
            color: Some(color),
        }
    }

    #[test]
    fn the_legend_sits_under_the_plot_a_row_per_series() {
        let all: Vec<Series> = (0..7).map(|i| series(&format!("model {i} & co"), i % 2 == 1, i / 2)).collect();
        let svg = line_chart("NMI", "layer", "NMI", &all, (640, 400)).unwrap();
        let height = 400 + LEGEND_ROW * 7 + 8;
        assert!(svg.contains(&format!(r#"width="640" height="{height}""#)), "{}", &svg[..200]);
        for i in 0..7 {
            assert!(svg.contains(&format!("model {i} &amp; co")), "label {i} is escaped and shown");
        }
        // Every label's baseline is below the plot area.
        let ys: Vec<f64> = svg
            .split("<text")
            .filter(|t| t.contains("model "))
            .map(|t| t.split(r#"y=""#).nth(1).unwrap().split('"').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ys.len(), 7);
        assert!(ys.iter().all(|&y| y > 400.0), "{ys:?}");
        assert!(ys.windows(2).all(|w| w[1] - w[0] == LEGEND_ROW as f64), "{ys:?}");
    }

    #[test]
    fn a_band_is_shaded_under_its_line_and_widens_the_axis_to_fit() {
        let plain = line_chart("T", "x", "y", &[series("a", false, 0)], (300, 200)).unwrap();
        assert!(!plain.contains("<polygon") && !plain.contains("shaded:"));
        let banded = Series { band: vec![(1.0, 0.1, 0.6), (2.0, 0.6, 1.9)], ..series("a", false, 0) };
        let svg = line_chart("T", "x", "y", &[banded], (300, 200)).unwrap();
        assert!(svg.contains("shaded: the middle half of the images (first to third quartile)"));
        assert!(svg.contains(&format!(r#"height="{}""#, 200 + LEGEND_ROW * 2 + 8)), "a legend row for the note");
        let polygon = svg.split("<polygon").nth(1).expect("a shaded band").split("/>").next().unwrap();
        assert_eq!(polygon.matches(',').count(), 4, "four corners: {polygon}");
        assert!(polygon.contains(r#"fill-opacity="0.18""#) || polygon.contains("opacity"), "{polygon}");
        // The band's 1.9 is inside the axis, which the line alone (≤ 0.7) would not reach.
        let ticks: Vec<&str> =
            svg.split("<text").filter_map(|t| Some(t.split('>').nth(1)?.split('<').next()?.trim())).collect();
        assert!(ticks.contains(&"1.8"), "the y axis reaches the band: {ticks:?}");
        // Drawn before the line (the first polyline in the series' colour, #0072B2) and its dots.
        let band_at = svg.find("<polygon").unwrap();
        let line_at = svg
            .match_indices("<polyline")
            .map(|(i, _)| i)
            .find(|&i| svg[i..].split("/>").next().unwrap().contains("#0072B2"));
        assert!(band_at < line_at.expect("the line") && band_at < svg.find("<circle").unwrap());
    }

    #[test]
    fn a_chart_without_finite_points_says_so() {
        let empty = Series { line: vec![(1.0, f64::NAN)], dots: Vec::new(), ..series("x", false, 0) };
        assert_eq!(line_chart("T", "x", "y", &[empty], (100, 100)).unwrap_err(), "T: nothing to plot");
    }

    #[test]
    fn a_probe_chart_has_a_line_per_model_that_has_the_probe_and_the_largest_class_dashed() {
        let cl = ProbeCurves { knn_cls: Some(vec![0.25, 0.5]), knn_avg: vec![0.5, 0.75], linear_avg: None };
        let no_cls = ProbeCurves { knn_cls: None, knn_avg: vec![0.5, 1.0], linear_avg: Some(vec![0.5, 1.0]) };
        let models = [("CL".to_string(), &cl), ("MIM".to_string(), &no_cls)];
        let knn = probe_series(Probe::KnnCls, &models, 0.4);
        assert_eq!(knn.len(), 2, "the model without a CLS token has no line");
        assert_eq!(knn[0].line, vec![(1.0, 25.0), (2.0, 50.0)]);
        assert_eq!((knn[1].line.clone(), knn[1].dashed), (vec![(1.0, 40.0), (2.0, 40.0)], true));
        let linear = probe_series(Probe::LinearAvg, &models, 0.4);
        assert_eq!(linear[0].color, Some(1), "a model keeps its colour across charts");
        assert!(probe_series(Probe::LinearAvg, &models[..1], 0.4).is_empty(), "no chance line without a curve");
    }
}
