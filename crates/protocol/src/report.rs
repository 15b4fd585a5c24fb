//! Per-layer metrics written out as CSV: shared by the CLI's reports and the explorer's exports, so
//! both number layers the same way (through [`Metric`]'s axis).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::card::Curve;
use crate::metric::{Axis, Metric};

/// `metric,layer,index,value` rows (index = head or frequency bin; empty for layer means).
pub fn metrics_csv(curves: &BTreeMap<String, Curve>, delta_log_amplitude_full: &[Vec<f32>]) -> String {
    let mut out = String::from("metric,layer,index,value\n");
    for (metric, curve) in curves {
        // A key this version does not know (a newer card) is numbered like an attention metric.
        let axis = Metric::from_key(metric).map_or(Axis::Layer, Metric::axis);
        for (layer, v) in curve.mean.iter().enumerate() {
            let _ = writeln!(out, "{metric},{},,{v}", axis.number(layer));
        }
        for (layer, heads) in curve.per_head.iter().enumerate() {
            for (h, v) in heads.iter().enumerate() {
                let _ = writeln!(out, "{metric},{},{h},{v}", layer + 1);
            }
        }
    }
    for (depth, bins) in delta_log_amplitude_full.iter().enumerate() {
        for (k, v) in bins.iter().enumerate() {
            let _ = writeln!(out, "delta_log_amplitude_bin,{depth},{k},{v}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_number_layers_from_one_and_depths_from_zero() {
        let curves = BTreeMap::from([
            ("nmi".to_string(), Curve { mean: vec![0.5, 0.25], per_head: vec![vec![0.4, 0.6], vec![0.2, 0.3]] }),
            ("token_similarity".to_string(), Curve { mean: vec![0.9, 0.8, 0.7], per_head: Vec::new() }),
        ]);
        let csv = metrics_csv(&curves, &[vec![-1.5, -2.0], vec![-3.0, -0.5]]);
        let expected = "metric,layer,index,value\n\
            nmi,1,,0.5\nnmi,2,,0.25\nnmi,1,0,0.4\nnmi,1,1,0.6\nnmi,2,0,0.2\nnmi,2,1,0.3\n\
            token_similarity,0,,0.9\ntoken_similarity,1,,0.8\ntoken_similarity,2,,0.7\n\
            delta_log_amplitude_bin,0,0,-1.5\ndelta_log_amplitude_bin,0,1,-2\n\
            delta_log_amplitude_bin,1,0,-3\ndelta_log_amplitude_bin,1,1,-0.5\n";
        assert_eq!(csv, expected);
    }

    #[test]
    fn an_unknown_metric_is_numbered_from_one() {
        let curves = BTreeMap::from([("future".to_string(), Curve { mean: vec![1.0], per_head: Vec::new() })]);
        assert_eq!(metrics_csv(&curves, &[]), "metric,layer,index,value\nfuture,1,,1\n");
    }
}
