//! How per-layer metrics are named, numbered and written out: shared by the CLI's reports and the
//! explorer's exports and charts, so both say the same thing.

use std::collections::BTreeMap;

use crate::weights::Curve;

/// (key, chart title, unit) of every per-layer metric, in display order.
pub const METRICS: [(&str, &str, &str); 5] = [
    ("attention_distance", "Mean attention distance", "pixels"),
    ("nmi", "NMI of attention (low = collapse)", "NMI"),
    ("delta_log_amplitude", "Fourier ΔlogA at the highest bin", "ΔlogA"),
    ("token_similarity", "Cosine similarity between tokens", "cosine"),
    ("head_similarity", "Cosine similarity between heads", "cosine"),
];

/// Depth-indexed metrics (streams) start at 0 = the embedding; attention metrics at layer 1.
pub fn starts_at_embedding(metric: &str) -> bool {
    matches!(metric, "delta_log_amplitude" | "token_similarity")
}

pub fn layer_number(metric: &str, index: usize) -> usize {
    if starts_at_embedding(metric) { index } else { index + 1 }
}

pub fn x_label(metric: &str) -> &'static str {
    if starts_at_embedding(metric) { "depth (0 = embedding)" } else { "layer" }
}

/// `metric,layer,index,value` rows (index = head or frequency bin; empty for layer means).
pub fn metrics_csv(curves: &BTreeMap<String, Curve>, delta_log_amplitude_full: &[Vec<f32>]) -> String {
    let mut out = String::from("metric,layer,index,value\n");
    for (metric, curve) in curves {
        for (layer, v) in curve.mean.iter().enumerate() {
            out += &format!("{metric},{},,{v}\n", layer_number(metric, layer));
        }
        for (layer, heads) in curve.per_head.iter().enumerate() {
            for (h, v) in heads.iter().enumerate() {
                out += &format!("{metric},{},{h},{v}\n", layer + 1);
            }
        }
    }
    for (depth, bins) in delta_log_amplitude_full.iter().enumerate() {
        for (k, v) in bins.iter().enumerate() {
            out += &format!("delta_log_amplitude_bin,{depth},{k},{v}\n");
        }
    }
    out
}
