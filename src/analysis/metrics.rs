//! The paper's per-layer numbers for one image, as plain host data: what the CLI reports, the
//! explorer's page draws and model cards store. `measure` computes them on the device.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::weights::Curve;

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
    /// Mean over images, element by element (per head, per bin).
    pub fn mean_of(items: &[Self]) -> Self {
        let n = items.len().max(1) as f32;
        let avg2 = |f: fn(&Self) -> &Vec<Vec<f32>>| -> Vec<Vec<f32>> {
            let first = items.first().map(f).cloned().unwrap_or_default();
            first
                .iter()
                .enumerate()
                .map(|(i, row)| (0..row.len()).map(|j| items.iter().map(|m| f(m)[i][j]).sum::<f32>() / n).collect())
                .collect()
        };
        let avg1 = |f: fn(&Self) -> &Vec<f32>| -> Vec<f32> {
            let len = items.first().map(|m| f(m).len()).unwrap_or(0);
            (0..len).map(|i| items.iter().map(|m| f(m)[i]).sum::<f32>() / n).collect()
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

    /// Named curves, as stored in a model card's reference curves and drawn in charts.
    pub fn curves(&self, grid: usize) -> BTreeMap<String, Curve> {
        let per_head = |v: &Vec<Vec<f32>>| Curve { mean: Self::layer_means(v), per_head: v.clone() };
        let plain = |v: Vec<f32>| Curve { mean: v, per_head: Vec::new() };
        BTreeMap::from([
            ("attention_distance".to_string(), per_head(&self.attention_distance)),
            ("nmi".to_string(), per_head(&self.nmi)),
            ("delta_log_amplitude".to_string(), plain(self.delta_log_amplitude_headline(grid))),
            ("token_similarity".to_string(), plain(self.token_similarity.clone())),
            ("head_similarity".to_string(), plain(self.head_similarity.clone())),
        ])
    }
}

/// The Fourier bin the paper plots: the highest below Nyquist (⌊G/2⌋ for odd G, G/2 − 1 for even G).
pub fn headline_bin(grid: usize) -> usize {
    if grid.is_multiple_of(2) { grid / 2 - 1 } else { grid / 2 }
}
