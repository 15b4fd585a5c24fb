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
    prefix: usize,
    distances: Tensor<2>,
    basis: (Tensor<2>, Tensor<2>),
}

impl MetricContext {
    pub fn new(grid: usize, patch_size: usize, prefix: usize, device: &Device) -> Self {
        Self {
            prefix,
            distances: distance::distance_matrix(grid, patch_size, device),
            basis: fourier::diagonal_basis(grid, device),
        }
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
    ///
    /// All layers are stacked along the batch axis and measured in one pass (`[L·B, …]`): the metric
    /// functions work per (image, head), so a layer is just more images, and a few large operations
    /// cost far less than a dozen small ones per layer.
    pub async fn compute(ctx: &MetricContext, output: &VitOutput) -> Result<Vec<Self>, AnalysisError> {
        let depth = output.blocks.len();
        let attention = output
            .blocks
            .iter()
            .map(|b| b.attention.clone().ok_or(AnalysisError::NotCaptured("attention")))
            .collect::<Result<Vec<_>, _>>()?;
        let streams = (0..=depth)
            .map(|d| output.stream(d).cloned().ok_or(AnalysisError::NotCaptured("streams")))
            .collect::<Result<Vec<_>, _>>()?;
        let [batch, heads, _, _] = attention[0].dims();

        // One patch block and one set of row sums serve all three attention metrics.
        let patch = patch_block(&Tensor::cat(attention, 0), ctx.prefix); // [L·B, H, N, N]
        let row_sums = patch.clone().sum_dim(3);
        let distance = distance::attention_distance_from(patch.clone(), row_sums.clone(), &ctx.distances);
        let nmi = nmi::nmi_from(patch.clone(), row_sums.clone());
        let [_, _, _, n] = patch.dims();
        let eps = distance::EPSILON;
        let rows = (patch + eps) / (row_sums + eps * n as f64);
        let head_sim = similarity::mean_off_diagonal(similarity::head_similarity(&rows));

        let z = Tensor::cat(streams, 0); // [(L+1)·B, T, C]
        let dla = fourier::delta_log_amplitude(fourier::diagonal_log_amplitude(&z, &ctx.basis, ctx.prefix));
        let k = dla.dims()[1];
        let token_sim = similarity::token_similarity(&z, ctx.prefix);

        let flat = read(Tensor::cat(
            vec![distance.flatten::<1>(0, 1), nmi.flatten::<1>(0, 1), head_sim, dla.flatten::<1>(0, 1), token_sim],
            0,
        ))
        .await?;
        // Unpack: each block is layer-major, then image, then head/bin.
        let (distance, rest) = flat.split_at(depth * batch * heads);
        let (nmi, rest) = rest.split_at(depth * batch * heads);
        let (head_sim, rest) = rest.split_at(depth * batch);
        let (dla, token_sim) = rest.split_at((depth + 1) * batch * k);
        Ok((0..batch)
            .map(|b| Self {
                attention_distance: (0..depth).map(|l| distance[(l * batch + b) * heads..][..heads].to_vec()).collect(),
                nmi: (0..depth).map(|l| nmi[(l * batch + b) * heads..][..heads].to_vec()).collect(),
                head_similarity: (0..depth).map(|l| head_sim[l * batch + b]).collect(),
                delta_log_amplitude: (0..=depth).map(|d| dla[(d * batch + b) * k..][..k].to_vec()).collect(),
                token_similarity: (0..=depth).map(|d| token_sim[d * batch + b]).collect(),
            })
            .collect())
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
