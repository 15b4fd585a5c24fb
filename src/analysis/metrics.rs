//! Per-layer metrics of one forward pass, computed on the device and read back in one transfer.

use std::collections::BTreeMap;

use burn::Tensor;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::attention_map::patch_block;
use super::{distance, fourier, nmi, similarity};
use crate::model::VitOutput;
use crate::weights::Curve;

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("the forward pass did not capture {0}; run it with Capture::all()")]
    NotCaptured(&'static str),
    #[error("reading results back from the device failed: {0}")]
    Readback(String),
}

/// Reads a tensor back to the host as f32 (async so it also works on WebGPU in the browser).
pub async fn read<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, AnalysisError> {
    let data = tensor.into_data_async().await.map_err(|e| AnalysisError::Readback(format!("{e:?}")))?;
    data.convert::<f32>().try_to_vec::<f32>().map_err(|e| AnalysisError::Readback(format!("{e:?}")))
}

/// Constant tensors the metrics need for one grid, built once per model instance.
pub struct MetricContext {
    grid: usize,
    prefix: usize,
    distances: Tensor<2>,
    basis: (Tensor<2>, Tensor<2>),
}

impl MetricContext {
    pub fn new(grid: usize, patch_size: usize, prefix: usize, device: &Device) -> Self {
        Self {
            grid,
            prefix,
            distances: distance::distance_matrix(grid, patch_size, device),
            basis: fourier::diagonal_basis(grid, device),
        }
    }

    pub fn grid(&self) -> usize {
        self.grid
    }
}

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
    /// Computes every image's metrics of a batch.
    pub async fn compute(ctx: &MetricContext, output: &VitOutput) -> Result<Vec<Self>, AnalysisError> {
        let depth = output.blocks.len();
        let mut parts: Vec<Tensor<2>> = Vec::new();
        let mut widths = Vec::new();
        let mut push = |t: Tensor<2>| {
            widths.push(t.dims()[1]);
            parts.push(t);
        };
        for block in &output.blocks {
            let a = block.attention.as_ref().ok_or(AnalysisError::NotCaptured("attention"))?;
            // One patch block and one set of row sums serve all three attention metrics.
            let patch = patch_block(a, ctx.prefix);
            let row_sums = patch.clone().sum_dim(3);
            push(distance::attention_distance_from(patch.clone(), row_sums.clone(), &ctx.distances));
            push(nmi::nmi_from(patch.clone(), row_sums.clone()));
            let heads = similarity::head_similarity(&(patch / row_sums));
            push(similarity::mean_off_diagonal(heads).unsqueeze_dim(1));
        }
        for d in 0..=depth {
            let z = output.stream(d).ok_or(AnalysisError::NotCaptured("streams"))?;
            let log_amplitude = fourier::diagonal_log_amplitude(z, &ctx.basis, ctx.prefix);
            push(fourier::delta_log_amplitude(log_amplitude));
            push(similarity::token_similarity(z, ctx.prefix).unsqueeze_dim(1));
        }
        let batch = parts[0].dims()[0];
        let total: usize = widths.iter().sum();
        let flat = read(Tensor::cat(parts, 1)).await?;
        let mut out = Vec::with_capacity(batch);
        for image in flat.chunks(total) {
            let mut cursor = 0;
            let mut take = |w: usize| {
                let s = image[cursor..cursor + w].to_vec();
                cursor += w;
                s
            };
            let mut m = Self::default();
            for _ in 0..depth {
                m.attention_distance.push(take(widths[0]));
                m.nmi.push(take(widths[1]));
                m.head_similarity.push(take(1)[0]);
            }
            let k = widths[3 * depth];
            for _ in 0..=depth {
                m.delta_log_amplitude.push(take(k));
                m.token_similarity.push(take(1)[0]);
            }
            out.push(m);
        }
        Ok(out)
    }

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
        let k = fourier::headline_bin(grid);
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
