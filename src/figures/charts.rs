//! The line charts of each view, as data ([`Chart`]) built from an analysis: the view renders them as
//! SVG, the metrics view's tables read the same numbers, and the PNG export draws the same SVGs.

use vitscope_charts::{Series, interquartile_band, line_chart, probe_series};
use vitscope_protocol::messages::ModelInfo;
use vitscope_protocol::probe::Probe;
use vitscope_protocol::{Curve, LayerMetrics, Metric, paper};

use super::maps::{feature_change, token_depth};
use crate::store::{Analysis, Dataset, ProbeState, Probed, SetKind, SetSummary, View, ViewState};

/// Which chart: each is a function of the analysis (and the filtered run) and these settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ChartKind {
    Metric(Metric),
    /// The token SVD spectrum after block `layer` (0-based).
    Spectrum {
        layer: usize,
    },
    /// How far the tokens moved under the filter.
    FeatureChange,
    /// Attention distance with and without the filter.
    FilteredDistance,
}

pub struct Chart {
    pub title: String,
    pub x_label: &'static str,
    pub y_label: &'static str,
    pub series: Vec<Series>,
    pub size: (u32, u32),
}

impl Chart {
    pub fn svg(&self) -> Result<String, String> {
        line_chart(&self.title, self.x_label, self.y_label, &self.series, self.size)
    }
}

/// The paper's models are ViT-B/16 MoCo v3 and SimMIM: only those get the published curves.
fn paper_model(info: &ModelInfo) -> Option<&'static str> {
    match (info.card.source.layout.as_str(), info.width, info.patch_size) {
        ("mocov3", 768, 16) => Some("MoCo v3 ViT-B/16 (paper)"),
        ("simmim", 768, 16) => Some("SimMIM ViT-B/16 (paper)"),
        _ => None,
    }
}

/// Whether a model of the pair has no published curve (the view then explains the line styles).
pub fn any_without_paper_curve(analysis: &Analysis) -> bool {
    analysis.models.iter().any(|m| paper_model(&m.info).is_none())
}

fn series(label: String, curve: &Curve, metric: Metric, dashed: bool, color: usize) -> Series {
    let x = |i: usize| metric.axis().number(i) as f64;
    Series {
        label,
        line: curve.mean.iter().enumerate().map(|(i, &v)| (x(i), v as f64)).collect(),
        dots: if dashed {
            Vec::new()
        } else {
            curve.per_head.iter().enumerate().flat_map(|(i, h)| h.iter().map(move |&v| (x(i), v as f64))).collect()
        },
        band: Vec::new(),
        dashed,
        color: Some(color),
    }
}

fn plain(label: String, line: Vec<(f64, f64)>, dashed: bool, color: Option<usize>) -> Series {
    Series { label, line, dots: Vec::new(), band: Vec::new(), dashed, color }
}

/// One row of a metric's table: a model and this image's layer means.
pub struct MetricRow {
    pub id: String,
    pub name: String,
    pub values: Vec<f32>,
}

pub fn metric_rows(metric: Metric, analysis: &Analysis) -> Vec<MetricRow> {
    let rows = analysis.models.iter().filter_map(|m| {
        Some(MetricRow {
            id: m.info.id.clone(),
            name: m.info.name().to_string(),
            values: m.metrics()?.curve(metric, m.snapshot.grid).mean,
        })
    });
    rows.collect()
}

/// A metric over a measured set of `images`: each model's mean over the images, with the middle half
/// of them (first to third quartile) shaded, as `vitscope analyze --svg` draws it.
pub fn set_chart(metric: Metric, images: usize, summaries: &[SetSummary]) -> Chart {
    let x = |l: usize| metric.axis().number(l) as f64;
    let series = summaries.iter().enumerate().map(|(k, s)| {
        let (mean, q) = s.of(metric);
        Series {
            label: format!("{} ({})", s.model.name(), s.model.family().label()),
            line: mean.iter().enumerate().map(|(l, &v)| (x(l), v as f64)).collect(),
            dots: Vec::new(),
            band: interquartile_band(&q, x),
            dashed: false,
            color: Some(k),
        }
    });
    Chart {
        title: format!("{} over {images} images", metric.title()),
        x_label: metric.axis().label(),
        y_label: metric.unit(),
        series: series.collect(),
        size: (640, 400),
    }
}

/// A probe's accuracy per layer for each model over a labelled set, as `vitscope probe --svg` draws it.
pub fn probe_chart(probe: Probe, probed: &Probed) -> Chart {
    let models: Vec<_> =
        probed.models.iter().map(|(m, curves)| (format!("{} ({})", m.name(), m.family().label()), curves)).collect();
    Chart {
        title: format!("{} over {} images", probe.title(), probed.images),
        x_label: "layer",
        y_label: "accuracy (%)",
        series: probe_series(probe, &models, probed.majority()),
        size: (640, 400),
    }
}

/// The charts a measured set adds under the metrics view (and to its PNG): each metric's means and
/// bands, or a labelled set's probes once they are in.
pub fn set_charts(set: &Dataset) -> Vec<Chart> {
    match (&set.kind, &set.probe) {
        (SetKind::Metrics, _) if !set.measured.is_empty() => {
            let summaries = set.summaries();
            Metric::CHARTED.into_iter().map(|m| set_chart(m, set.measured.len(), &summaries)).collect()
        }
        (SetKind::Probe, ProbeState::Done(probed)) => Probe::ALL
            .into_iter()
            .filter(|&p| probed.models.iter().any(|(_, c)| p.curve(c).is_some()))
            .map(|p| probe_chart(p, probed))
            .collect(),
        _ => Vec::new(),
    }
}

fn metric_chart(metric: Metric, analysis: &Analysis) -> Chart {
    let mut all = Vec::new();
    let n = analysis.models.len();
    for (k, m) in analysis.models.iter().enumerate() {
        let (info, family) = (&m.info, m.info.family().label());
        let Some(metrics) = m.metrics() else { continue };
        let curve = metrics.curve(metric, m.snapshot.grid);
        all.push(series(format!("{} ({family}): this image", info.name()), &curve, metric, false, k));
        if let Some(reference) = &info.card.reference_curves
            && let Some(curve) = reference.curves.get(metric.key())
        {
            all.push(series(format!("{}: {} mean", info.name(), reference.dataset), curve, metric, true, k));
        }
        if let Some(name) = paper_model(info) {
            let published = paper::curves_for(metric).filter(|p| p.model == name);
            all.extend(published.map(|p| Series::paper(p, Some(n + 2))));
        }
    }
    Chart {
        title: metric.title().into(),
        x_label: metric.axis().label(),
        y_label: metric.unit(),
        series: all,
        size: (640, 400),
    }
}

/// The chart, or None where it needs a filtered run that has not come.
pub fn chart(kind: ChartKind, analysis: &Analysis, filtered: Option<&Analysis>) -> Option<Chart> {
    let label = |m: &crate::store::ModelResult| format!("{} ({})", m.info.name(), m.info.family().label());
    let pairs = || {
        let filtered = filtered?;
        let found =
            analysis.models.iter().filter_map(|m| Some((m, filtered.models.iter().find(|x| x.info.id == m.info.id)?)));
        Some(found.collect::<Vec<_>>())
    };
    Some(match kind {
        ChartKind::Metric(metric) => metric_chart(metric, analysis),
        ChartKind::Spectrum { layer } => {
            let view = ViewState { layer, ..ViewState::default() };
            let series = analysis.models.iter().map(|m| {
                let s = m.singular_values(token_depth(&view, m.snapshot.depth)).unwrap_or_default();
                plain(label(m), s.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, v as f64)).collect(), false, None)
            });
            let series = series.collect();
            Chart {
                title: "Token SVD spectrum".into(),
                x_label: "component",
                y_label: "ln singular value",
                series,
                size: (640, 360),
            }
        }
        ChartKind::FeatureChange => {
            let series = pairs()?.into_iter().map(|(m, after)| {
                let moved = feature_change(m, after);
                plain(label(m), moved.iter().enumerate().map(|(d, &v)| (d as f64, v as f64)).collect(), false, None)
            });
            let series: Vec<Series> = series.collect();
            (!series.is_empty()).then_some(())?;
            let title = "Mean cosine, filtered vs original tokens".into();
            Chart { title, x_label: "depth (0 = embedding)", y_label: "cosine", series, size: (640, 360) }
        }
        ChartKind::FilteredDistance => {
            let mut series = Vec::new();
            for (i, (m, after)) in pairs()?.into_iter().enumerate() {
                for (run, dashed, r) in [("original", false, m), ("filtered", true, after)] {
                    let Some(metrics) = r.metrics() else { continue };
                    let means = LayerMetrics::layer_means(&metrics.attention_distance);
                    let line = means.iter().enumerate().map(|(l, &v)| ((l + 1) as f64, v as f64)).collect();
                    series.push(plain(format!("{} ({run})", m.info.name()), line, dashed, Some(i)));
                }
            }
            (!series.is_empty()).then_some(())?;
            Chart {
                title: "Mean attention distance".into(),
                x_label: "layer",
                y_label: "pixels",
                series,
                size: (640, 360),
            }
        }
    })
}

/// The charts a view shows, in page order.
pub fn view_charts(view: &ViewState) -> Vec<ChartKind> {
    match view.view {
        View::Attention => Vec::new(),
        View::Metrics => Metric::CHARTED.into_iter().map(ChartKind::Metric).collect(),
        View::Representation => vec![ChartKind::Spectrum { layer: view.layer }],
        View::Frequency => vec![ChartKind::FeatureChange, ChartKind::FilteredDistance],
    }
}
