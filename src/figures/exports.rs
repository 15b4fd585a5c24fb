//! The metric exports' contents (CSV and JSON of every metric of every model) and their file names,
//! from the analysis alone.

use std::collections::BTreeMap;

use serde::Serialize;
use vitscope_protocol::metrics::Quartiles;
use vitscope_protocol::probe::{Probe, ProbeCurves, protocol_text};
use vitscope_protocol::report::metrics_csv;
use vitscope_protocol::{Curve, LayerMetrics};

use super::cls::{KEPT_MASS, cls_head_maps, head_wins, mass_mask};
use super::sinks::sinks;
use crate::store::{Analysis, Dataset, ModelResult, Probed, View};

#[derive(Serialize)]
struct ModelExport<'a> {
    id: &'a str,
    name: &'a str,
    family: &'a str,
    image_size: u32,
    grid: usize,
    metrics: &'a LayerMetrics,
    /// Per layer, the numbers of the attention view's CLS and norm maps and of the foreground PCA.
    maps: Vec<LayerMaps>,
}

#[derive(Serialize)]
struct Export<'a> {
    tool: String,
    image: &'a str,
    width: u32,
    height: u32,
    backend: &'a str,
    models: Vec<ModelExport<'a>>,
}

/// Why a metrics export waits: they come with the worker's second answer.
pub const STILL_COMPUTING: &str = "the metrics are still being computed; export again in a moment";

/// `vitscope-<view>-<image>` with the image's name made safe for a file name.
pub fn stem(view: View, image: &str) -> String {
    let clean: String = image.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("vitscope-{}-{}", view.key(), clean.trim_end_matches("_jpg").trim_end_matches("_png"))
}

pub fn json(analysis: &Analysis) -> Result<String, String> {
    let models = analysis.models.iter().map(|m| {
        Ok(ModelExport {
            id: &m.info.id,
            name: m.info.name(),
            family: m.info.family().label(),
            image_size: m.size,
            grid: m.snapshot.grid,
            metrics: m.metrics().ok_or(STILL_COMPUTING)?,
            maps: layer_maps(m),
        })
    });
    let models = models.collect::<Result<Vec<_>, String>>()?;
    let export = Export {
        tool: format!("vitscope {}", env!("CARGO_PKG_VERSION")),
        image: &analysis.image,
        width: analysis.width,
        height: analysis.height,
        backend: analysis.backend.label(),
        models,
    };
    serde_json::to_string_pretty(&export).map_err(|e| e.to_string())
}

/// One layer's map numbers (layer counts from 1; patches are row-major, from 0).
#[derive(Serialize)]
struct LayerMaps {
    layer: usize,
    /// Patches in DINO's 60 % mask of the head-mean CLS attention; `None` without a CLS token.
    cls_mask_patches: Option<usize>,
    /// Per head, the patches where it is the strongest CLS head.
    cls_head_patches: Option<Vec<usize>>,
    /// The tokens entering the layer: their median norm, the outlier threshold, the outliers, and
    /// the share of the layer's attention they draw.
    norm_median: f32,
    norm_threshold: f32,
    high_norm_patches: Vec<usize>,
    high_norm_attention_share: f32,
    /// Foreground patches after this block (DINOv2's first-component rule); `None` while the PCA
    /// is still being computed.
    foreground_patches: Option<usize>,
}

fn layer_maps(m: &ModelResult) -> Vec<LayerMaps> {
    let snap = &m.snapshot;
    (0..snap.depth)
        .map(|layer| {
            let heads = cls_head_maps(snap, layer);
            let sinks = sinks(snap, layer);
            LayerMaps {
                layer: layer + 1,
                cls_mask_patches: snap
                    .cls
                    .then(|| mass_mask(&snap.attention_map(layer, None, 0), KEPT_MASS).iter().filter(|&&k| k).count()),
                cls_head_patches: heads.as_deref().map(head_wins),
                norm_median: sinks.median,
                norm_threshold: sinks.threshold,
                high_norm_patches: (0..sinks.flagged.len()).filter(|&i| sinks.flagged[i]).collect(),
                high_norm_attention_share: sinks.attention_share,
                foreground_patches: m.foreground(layer + 1).map(|f| f.iter().filter(|&&k| k).count()),
            }
        })
        .collect()
}

/// The report's rows with the model's id in front, then the maps' numbers per layer.
pub fn csv(analysis: &Analysis) -> String {
    let mut out = String::from("model,metric,layer,index,value\n");
    for m in &analysis.models {
        let Some(metrics) = m.metrics() else { continue };
        let csv = metrics_csv(&metrics.curves(m.snapshot.grid), &metrics.delta_log_amplitude);
        for line in csv.lines().skip(1) {
            out += &format!("{},{line}\n", m.info.id);
        }
        for l in layer_maps(m) {
            let mut row = |metric: &str, index: String, value: String| {
                out += &format!("{},{metric},{},{index},{value}\n", m.info.id, l.layer);
            };
            if let Some(kept) = l.cls_mask_patches {
                row("cls_mask_patches", String::new(), kept.to_string());
            }
            for (h, wins) in l.cls_head_patches.iter().flatten().enumerate() {
                row("cls_head_patches", h.to_string(), wins.to_string());
            }
            row("high_norm_patches", String::new(), l.high_norm_patches.len().to_string());
            row("high_norm_attention_share", String::new(), l.high_norm_attention_share.to_string());
            row("foreground_patches", String::new(), l.foreground_patches.map_or_else(String::new, |n| n.to_string()));
        }
    }
    out
}

#[derive(Serialize)]
struct SetModel<'a> {
    id: &'a str,
    name: &'a str,
    family: &'a str,
    image_size: u32,
    grid: usize,
    /// In the order of `images`.
    per_image: Vec<&'a LayerMetrics>,
    curves: BTreeMap<String, Curve>,
    quartiles: BTreeMap<String, Quartiles>,
}

#[derive(Serialize)]
struct SetExport<'a> {
    tool: String,
    images: &'a [String],
    skipped: Vec<Skipped<'a>>,
    models: Vec<SetModel<'a>>,
}

#[derive(Serialize)]
struct Skipped<'a> {
    file: &'a str,
    error: &'a str,
}

/// The set's numbers as `vitscope analyze` reports a folder (its mean `curves` and `quartiles`),
/// plus every image's own numbers.
pub fn set_json(set: &Dataset) -> Result<String, String> {
    let models = set.models.iter().map(|m| SetModel {
        id: &m.id,
        name: m.name(),
        family: m.family().label(),
        image_size: m.image_size,
        grid: m.grid(),
        per_image: set.metrics.get(&m.id).map_or_else(Vec::new, |v| v.iter().map(|r| &**r).collect()),
        curves: set.mean(m).curves(m.grid()),
        quartiles: set.quartiles(m),
    });
    let export = SetExport {
        tool: format!("vitscope {}", env!("CARGO_PKG_VERSION")),
        images: &set.measured,
        skipped: set.skipped.iter().map(|(file, error)| Skipped { file, error }).collect(),
        models: models.collect(),
    };
    serde_json::to_string_pretty(&export).map_err(|e| e.to_string())
}

/// One row per image, model and number: `image,model,metric,layer,index,value`.
pub fn set_csv(set: &Dataset) -> String {
    let mut out = String::from("image,model,metric,layer,index,value\n");
    for m in &set.models {
        let per_image = set.metrics.get(&m.id).map_or(&[][..], Vec::as_slice);
        for (image, metrics) in set.measured.iter().zip(per_image) {
            let csv = metrics_csv(&metrics.curves(m.grid()), &metrics.delta_log_amplitude);
            let image = image.replace([',', '"', '\n'], "_");
            for line in csv.lines().skip(1) {
                out += &format!("{image},{},{line}\n", m.id);
            }
        }
    }
    out
}

#[derive(Serialize)]
struct ProbeModel<'a> {
    id: &'a str,
    name: &'a str,
    family: &'a str,
    /// Accuracies in [0, 1] after each block (index i is block i + 1).
    #[serde(flatten)]
    curves: &'a ProbeCurves,
}

#[derive(Serialize)]
struct ProbeClass<'a> {
    name: &'a str,
    images: usize,
}

#[derive(Serialize)]
struct ProbeImage<'a> {
    file: &'a str,
    /// Index into `classes`.
    class: usize,
}

#[derive(Serialize)]
struct ProbeExport<'a> {
    tool: String,
    protocol: String,
    classes: Vec<ProbeClass<'a>>,
    majority: f64,
    images: Vec<ProbeImage<'a>>,
    skipped: Vec<Skipped<'a>>,
    models: Vec<ProbeModel<'a>>,
}

/// A labelled set's probes as `vitscope probe` reports a folder.
pub fn probe_json(set: &Dataset, probed: &Probed) -> Result<String, String> {
    let export = ProbeExport {
        tool: format!("vitscope {}", env!("CARGO_PKG_VERSION")),
        protocol: protocol_text(),
        classes: probed.classes.iter().map(|(name, images)| ProbeClass { name, images: *images }).collect(),
        majority: probed.majority(),
        images: set
            .measured
            .iter()
            .zip(&set.measured_labels)
            .map(|(file, &l)| ProbeImage {
                file,
                class: probed.classes.iter().position(|(name, _)| *name == set.classes[l]).unwrap_or(usize::MAX),
            })
            .collect(),
        skipped: set.skipped.iter().map(|(file, error)| Skipped { file, error }).collect(),
        models: probed
            .models
            .iter()
            .map(|(m, curves)| ProbeModel { id: &m.id, name: m.name(), family: m.family().label(), curves })
            .collect(),
    };
    serde_json::to_string_pretty(&export).map_err(|e| e.to_string())
}

/// One row per model, probe and layer: `model,probe,layer,accuracy`.
pub fn probe_csv(probed: &Probed) -> String {
    let mut out = String::from("model,probe,layer,accuracy\n");
    for (m, curves) in &probed.models {
        for probe in Probe::ALL {
            for (l, a) in probe.curve(curves).unwrap_or_default().iter().enumerate() {
                out += &format!("{},{},{},{a}\n", m.id.replace([',', '"', '\n'], "_"), probe.key(), l + 1);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(stem(View::Metrics, "my photo.jpg"), "vitscope-metrics-my_photo");
        assert_eq!(stem(View::Attention, "ümlaut.png"), "vitscope-attention-_mlaut");
    }
}
