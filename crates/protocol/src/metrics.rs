//! The paper's per-layer numbers for one image, as plain host data: what the CLI reports, the
//! explorer's page draws and model cards store. The core's `analysis::measure` computes them on the
//! device.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::card::Curve;
use crate::metric::Metric;

/// The paper's per-layer numbers for one image (or their mean over a set).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerMetrics {
    /// `[layer][head]`, pixels.
    pub attention_distance: Vec<Vec<f32>>,
    /// `[layer][head]`.
    pub nmi: Vec<Vec<f32>>,
    /// `[depth 0..=L][k 0..=G/2]`: ΔlogA on the half diagonal.
    pub delta_log_amplitude: Vec<Vec<f32>>,
    /// `[depth 0..=L]`: mean pairwise cosine similarity of patch tokens.
    pub token_similarity: Vec<f32>,
    /// `[layer]`: mean cosine similarity between different heads' attention maps.
    pub head_similarity: Vec<f32>,
}

fn mean(values: &[f32]) -> f32 {
    values.iter().sum::<f32>() / values.len().max(1) as f32
}

impl LayerMetrics {
    /// Mean over images, element by element (per head, per bin). Takes the images' numbers owned
    /// or shared (`Rc`), as a set in the page keeps them.
    pub fn mean_of<M: Borrow<Self>>(items: &[M]) -> Self {
        let n = items.len().max(1) as f32;
        let avg2 = |f: fn(&Self) -> &Vec<Vec<f32>>| -> Vec<Vec<f32>> {
            let first = items.first().map(|m| f(m.borrow())).cloned().unwrap_or_default();
            first
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    (0..row.len()).map(|j| items.iter().map(|m| f(m.borrow())[i][j]).sum::<f32>() / n).collect()
                })
                .collect()
        };
        let avg1 = |f: fn(&Self) -> &Vec<f32>| -> Vec<f32> {
            let len = items.first().map(|m| f(m.borrow()).len()).unwrap_or(0);
            (0..len).map(|i| items.iter().map(|m| f(m.borrow())[i]).sum::<f32>() / n).collect()
        };
        Self {
            attention_distance: avg2(|m| &m.attention_distance),
            nmi: avg2(|m| &m.nmi),
            delta_log_amplitude: avg2(|m| &m.delta_log_amplitude),
            token_similarity: avg1(|m| &m.token_similarity),
            head_similarity: avg1(|m| &m.head_similarity),
        }
    }

    /// Layer value of a per-head metric: the mean over heads (as the official notebook plots).
    pub fn layer_means(per_head: &[Vec<f32>]) -> Vec<f32> {
        per_head.iter().map(|h| mean(h)).collect()
    }

    /// ΔlogA at the paper's headline bin, per depth.
    pub fn delta_log_amplitude_headline(&self, grid: usize) -> Vec<f32> {
        let k = headline_bin(grid);
        self.delta_log_amplitude.iter().map(|row| row.get(k).copied().unwrap_or(f32::NAN)).collect()
    }

    /// One metric's curve: layer means, and each head's value for per-head metrics.
    pub fn curve(&self, metric: Metric, grid: usize) -> Curve {
        let per_head = |v: &Vec<Vec<f32>>| Curve { mean: Self::layer_means(v), per_head: v.clone() };
        let plain = |v: Vec<f32>| Curve { mean: v, per_head: Vec::new() };
        match metric {
            Metric::AttentionDistance => per_head(&self.attention_distance),
            Metric::Nmi => per_head(&self.nmi),
            Metric::DeltaLogAmplitude => plain(self.delta_log_amplitude_headline(grid)),
            Metric::TokenSimilarity => plain(self.token_similarity.clone()),
            Metric::HeadSimilarity => plain(self.head_similarity.clone()),
        }
    }

    /// Every metric's curve by key, as stored in a model card's reference curves.
    pub fn curves(&self, grid: usize) -> BTreeMap<String, Curve> {
        Metric::ALL.into_iter().map(|m| (m.key().to_string(), self.curve(m, grid))).collect()
    }

    /// How a set of images spreads around its mean curve: for every metric and layer, the quartiles
    /// of the images' layer values (the mean over heads for per-head metrics).
    pub fn quartiles_of<M: Borrow<Self>>(items: &[M], grid: usize) -> BTreeMap<String, Quartiles> {
        Metric::ALL
            .into_iter()
            .map(|metric| {
                let curves: Vec<Vec<f32>> = items.iter().map(|m| m.borrow().curve(metric, grid).mean).collect();
                let layers = curves.first().map_or(0, Vec::len);
                let mut q = Quartiles::default();
                for layer in 0..layers {
                    let mut column: Vec<f32> = curves.iter().map(|c| c[layer]).collect();
                    column.sort_by(f32::total_cmp);
                    q.q1.push(percentile(&column, 0.25));
                    q.median.push(percentile(&column, 0.5));
                    q.q3.push(percentile(&column, 0.75));
                }
                (metric.key().to_string(), q)
            })
            .collect()
    }
}

/// Per-layer quartiles of a metric over a set of images (the interquartile band around a mean curve).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quartiles {
    pub q1: Vec<f32>,
    pub median: Vec<f32>,
    pub q3: Vec<f32>,
}

/// The `p`-quantile of sorted values, interpolated linearly between neighbours: numpy's default
/// (`np.percentile(v, 100 p)`), so the numbers can be checked in a notebook.
fn percentile(sorted: &[f32], p: f64) -> f32 {
    let Some(last) = sorted.len().checked_sub(1) else { return f32::NAN };
    let position = p * last as f64;
    let (below, above) = (position.floor() as usize, position.ceil() as usize);
    let low = sorted[below] as f64;
    (low + (sorted[above] as f64 - low) * (position - below as f64)) as f32
}

/// The Fourier bin the paper plots: the highest below Nyquist (⌊G/2⌋ for odd G, G/2 − 1 for even G).
pub fn headline_bin(grid: usize) -> usize {
    if grid.is_multiple_of(2) { grid / 2 - 1 } else { grid / 2 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_layers() -> LayerMetrics {
        LayerMetrics {
            attention_distance: vec![vec![10.0, 30.0], vec![40.0, 60.0]],
            nmi: vec![vec![0.1, 0.3], vec![0.0, 0.2]],
            delta_log_amplitude: vec![vec![0.0, -1.0, -2.0], vec![0.0, -1.5, -2.5], vec![0.0, -0.5, -3.0]],
            token_similarity: vec![0.2, 0.4, 0.6],
            head_similarity: vec![0.5, 0.7],
        }
    }

    #[test]
    fn curves_hold_layer_means_per_head_values_and_the_headline_bin() {
        let m = two_layers();
        // A 4×4 grid plots bin 4/2 − 1 = 1; a 5×5 grid bin 2.
        assert_eq!((headline_bin(4), headline_bin(5), headline_bin(14)), (1, 2, 6));
        let distance = m.curve(Metric::AttentionDistance, 4);
        assert_eq!(distance.mean, [20.0, 50.0]);
        assert_eq!(distance.per_head, m.attention_distance);
        assert_eq!(m.curve(Metric::DeltaLogAmplitude, 4).mean, [-1.0, -1.5, -0.5]);
        assert_eq!(m.curve(Metric::DeltaLogAmplitude, 5).mean, [-2.0, -2.5, -3.0]);
        assert!(m.curve(Metric::TokenSimilarity, 4).per_head.is_empty());
        let keys: Vec<String> = m.curves(4).into_keys().collect();
        assert_eq!(keys, ["attention_distance", "delta_log_amplitude", "head_similarity", "nmi", "token_similarity"]);
    }

    #[test]
    fn quartiles_are_numpys_linear_percentiles_of_each_images_layer_value() {
        // Four images whose token similarity at depth 0 is 4, 1, 3, 2 and whose attention distance
        // at layer 1 averages (over heads) to 10, 20, 30, 40.
        let images: Vec<LayerMetrics> = [4.0, 1.0, 3.0, 2.0]
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let mut m = two_layers();
                m.token_similarity[0] = t;
                m.attention_distance[0] = vec![10.0 * (i + 1) as f32 - 5.0, 10.0 * (i + 1) as f32 + 5.0];
                m
            })
            .collect();
        let q = LayerMetrics::quartiles_of(&images, 4);
        // np.percentile([1, 2, 3, 4], [25, 50, 75]) = [1.75, 2.5, 3.25]
        let similarity = &q["token_similarity"];
        assert_eq!((similarity.q1[0], similarity.median[0], similarity.q3[0]), (1.75, 2.5, 3.25));
        assert_eq!((similarity.q1[1], similarity.q3[1]), (0.4, 0.4), "equal values have no spread");
        let distance = &q["attention_distance"];
        assert_eq!((distance.q1[0], distance.median[0], distance.q3[0]), (17.5, 25.0, 32.5));
        assert_eq!(q["delta_log_amplitude"].median, [-1.0, -1.5, -0.5]);
        assert_eq!(q.len(), Metric::ALL.len());
        // One image: every quartile is its value; none: no layers.
        assert_eq!(LayerMetrics::quartiles_of(&images[..1], 4)["token_similarity"].q1[0], 4.0);
        assert!(LayerMetrics::quartiles_of::<LayerMetrics>(&[], 4)["nmi"].median.is_empty());
    }

    #[test]
    fn the_mean_of_a_set_is_taken_element_by_element() {
        let a = two_layers();
        let mut b = two_layers();
        b.attention_distance[1][0] = 80.0;
        b.token_similarity[2] = 1.0;
        let mean = LayerMetrics::mean_of(&[a, b]);
        assert_eq!(mean.attention_distance, [vec![10.0, 30.0], vec![60.0, 60.0]]);
        assert_eq!(mean.token_similarity, [0.2, 0.4, 0.8]);
        assert_eq!(LayerMetrics::mean_of::<LayerMetrics>(&[]), LayerMetrics::default());
    }
}
