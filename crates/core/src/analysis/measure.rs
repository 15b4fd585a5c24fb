//! Measuring one forward pass on the device: the per-layer metrics and the explorer's snapshot, each
//! read back to the host in as few transfers as possible. Both take the pass's output
//! ([`VitOutput`]), so this module knows the model's outputs but not how a model is loaded or fed.

use burn::Tensor;
use burn::tensor::Device;
use web_time::Instant;

use super::attention_map::patch_block;
use super::rollout::rollout_host;
use super::similarity::patch_tokens;
use super::spectrum::{Spectrum, centred_tokens, foreground_pca_rgb};
use super::{Derived, LayerMetrics, Representation, Snapshot, Timing, distance, fourier, nmi, similarity};
use crate::model::VitOutput;
use crate::model::gemm::{Panels, gemm};

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
}

/// Computes every image's metrics of a batch.
///
/// All layers are stacked along the batch axis and measured in one pass (`[L·B, …]`): the metric
/// functions work per (image, head), so a layer is just more images, and a few large operations
/// cost far less than a dozen small ones per layer.
pub async fn layer_metrics(ctx: &MetricContext, output: &VitOutput) -> Result<Vec<LayerMetrics>, AnalysisError> {
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
    // The browser's host passes (NMI, head similarity) each read it whole: laid out once for both.
    #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
    let patch = crate::model::flex::contiguous(patch);
    let row_sums = patch.clone().sum_dim(3);
    let distance = distance::attention_distance_from(patch.clone(), row_sums.clone(), &ctx.distances);
    let nmi = nmi::nmi_from(patch.clone(), row_sums.clone());
    let head_sim = similarity::mean_head_similarity(patch, row_sums, distance::EPSILON);

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
        .map(|b| LayerMetrics {
            attention_distance: (0..depth).map(|l| distance[(l * batch + b) * heads..][..heads].to_vec()).collect(),
            nmi: (0..depth).map(|l| nmi[(l * batch + b) * heads..][..heads].to_vec()).collect(),
            head_similarity: (0..depth).map(|l| head_sim[l * batch + b]).collect(),
            delta_log_amplitude: (0..=depth).map(|d| dla[(d * batch + b) * k..][..k].to_vec()).collect(),
            token_similarity: (0..=depth).map(|d| token_sim[d * batch + b]).collect(),
        })
        .collect())
}

/// Everything the explorer shows for the first image of `out`, a pass with attention and streams
/// captured, of a model with a CLS token or not (`cls`). `clock` started before the pass (which runs
/// lazily), so `timing.forward_ms` ends when the pass's own outputs reach the host.
pub async fn snapshot(
    ctx: &MetricContext,
    out: &VitOutput,
    cls: bool,
    clock: Instant,
) -> Result<Snapshot, AnalysisError> {
    let mut snapshot = snapshot_maps(ctx, out, cls, clock).await?;
    let (derived, grams) = derive(ctx, out, &snapshot.attention).await?;
    let representation = grams.represent();
    snapshot.timing.total_ms = clock.elapsed().as_secs_f64() * 1e3;
    snapshot.derived = Some(derived);
    snapshot.representation = Some(representation);
    Ok(snapshot)
}

/// [`snapshot`]'s first part: the attention maps and token norms, which the attention view draws;
/// [`derive`] gives the rest from the same pass.
pub async fn snapshot_maps(
    ctx: &MetricContext,
    out: &VitOutput,
    cls: bool,
    clock: Instant,
) -> Result<Snapshot, AnalysisError> {
    let attention: Vec<Tensor<4>> = out.blocks.iter().filter_map(|b| b.attention.clone()).collect();
    let depth = attention.len();
    if depth == 0 || depth < out.blocks.len() {
        return Err(AnalysisError::NotCaptured("attention"));
    }
    let [_, heads, t, _] = attention[0].dims();
    let streams = (0..=depth).map(|d| out.stream(d).cloned().ok_or(AnalysisError::NotCaptured("streams")));
    let streams = streams.collect::<Result<Vec<_>, _>>()?;
    // Reading the forward pass's own outputs first marks its end on WebGPU too, where work queues
    // asynchronously; the browser benchmark compares this time with ONNX Runtime Web's. Layer by
    // layer into one buffer: concatenating on the device first would hold the maps twice more (at
    // 518 px they are 540 MB).
    let mut attention_flat: Vec<f32> = Vec::with_capacity(depth * heads * t * t);
    for layer in &attention {
        attention_flat.extend_from_slice(&read(layer.clone().flatten::<1>(0, 3)).await?);
    }
    read(streams[depth].clone().flatten::<1>(0, 2)).await?;
    let forward_ms = clock.elapsed().as_secs_f64() * 1e3;
    let channels = streams[0].dims()[2];
    let stacked = Tensor::cat(streams, 0); // [L+1, T, C]
    let token_norms = read((stacked.clone() * stacked).sum_dim(2).sqrt().flatten::<1>(0, 2)).await?;
    let first_ms = clock.elapsed().as_secs_f64() * 1e3;
    Ok(Snapshot {
        grid: ctx.grid,
        prefix: ctx.prefix,
        cls,
        depth,
        heads,
        channels,
        attention: attention_flat,
        attention_layer: None,
        token_norms,
        derived: None,
        representation: None,
        timing: Timing { forward_ms, first_ms, total_ms: first_ms },
    })
}

/// The rollout, metrics and unit tokens of pass `out`, whose maps [`snapshot_maps`] read to the
/// host (`attention`, every layer's), and the host data that gives its representation
/// ([`Grams::represent`]): no device work is left after this, so the caller can hand both on first.
/// The derived part's `attention` stays empty: the caller's snapshot holds the maps.
pub async fn derive(
    ctx: &MetricContext,
    out: &VitOutput,
    attention: &[f32],
) -> Result<(Derived, Grams), AnalysisError> {
    let clock = Instant::now();
    let metrics = layer_metrics(ctx, out).await?.remove(0);
    let (depth, prefix) = (out.blocks.len(), ctx.prefix);
    let streams = (0..=depth).map(|d| out.stream(d).cloned().ok_or(AnalysisError::NotCaptured("streams")));
    let stacked = Tensor::cat(streams.collect::<Result<Vec<_>, _>>()?, 0); // [L+1, T, C]
    let z = patch_tokens(&stacked, prefix); // [L+1, N, C]
    let [_, n, channels] = z.dims();
    let norm = (z.clone() * z.clone()).sum_dim(2).sqrt().clamp_min(1e-12);
    let unit = z.clone() / norm;
    // The Gram matrices only serve the representation, which the page takes after the rest: their
    // products wait for it ([`Grams::gram`]).
    let parts = [unit, centred_tokens(&z)].map(|p| p.flatten::<1>(0, 2));
    let mut tokens = read(Tensor::cat(parts.to_vec(), 0)).await?;
    let centred = tokens.split_off((depth + 1) * n * channels);
    let heads = out.blocks.first().and_then(|b| b.attention.as_ref()).map_or(1, |a| a.dims()[1]);
    let rollout = rollout_host(attention, heads, prefix + n);
    let derived =
        Derived { attention: Vec::new(), rollout, metrics, tokens, millis: clock.elapsed().as_secs_f64() * 1e3 };
    Ok((derived, Grams { centred, patches: n, channels, grid: ctx.grid }))
}

/// Each depth's centred patch tokens on the host, whose Gram matrices are all a [`Representation`]
/// needs.
pub struct Grams {
    /// `[L + 1, N, C]`.
    centred: Vec<f32>,
    patches: usize,
    channels: usize,
    grid: usize,
}

impl Grams {
    /// Each depth's spectrum and PCA colours (about two thirds of a ViT-Ti snapshot's host time).
    pub fn represent(&self) -> Representation {
        self.represent_depths(|_| true)
    }

    /// Depths `0..=L`: the embedding's tokens, then each block's.
    pub fn depths(&self) -> usize {
        self.centred.len() / (self.patches * self.channels).max(1)
    }

    /// Depth `depth`'s centred Gram matrix X̄X̄ᵀ/(N−1), `[N, N]` (the formula of
    /// [`super::spectrum::centred_gram`]), on the project's GEMM.
    pub fn gram(&self, depth: usize) -> Vec<f32> {
        let (n, c) = (self.patches, self.channels);
        let x = &self.centred[depth * n * c..][..n * c];
        let mut gram = vec![0f32; n * n];
        gemm(x, c, n, &Panels::new(c, n, |p, j| x[j * c + p]), None, &mut gram, n);
        let scale = (n.max(2) - 1) as f32;
        gram.iter_mut().for_each(|g| *g /= scale);
        gram
    }

    /// The spectrum and PCA colours of the depths `wanted` picks; the others stay empty
    /// ([`Representation::has`]), for [`Representation::fill`] to take in later.
    pub fn represent_depths(&self, wanted: impl Fn(usize) -> bool) -> Representation {
        let clock = Instant::now();
        let (n, channels) = (self.patches, self.channels);
        let bytes =
            |rgb: Vec<[f32; 3]>| -> Vec<u8> { rgb.iter().flat_map(|p| p.map(|v| (v * 255.0).round() as u8)).collect() };
        let mut out = Representation::default();
        for depth in 0..self.depths() {
            if !wanted(depth) {
                out.pca_rgb.push(Vec::new());
                out.spectrum.push(Vec::new());
                out.foreground.push(Vec::new());
                out.foreground_rgb.push(Vec::new());
                continue;
            }
            let g = self.gram(depth);
            let s = Spectrum::new(&g, n, channels);
            let (kept, rgb) = foreground_pca_rgb(&s, &g, self.grid);
            out.pca_rgb.push(bytes(s.pca_rgb()));
            out.spectrum.push(s.log_singular_values());
            out.foreground.push(kept);
            out.foreground_rgb.push(bytes(rgb));
        }
        out.millis = clock.elapsed().as_secs_f64() * 1e3;
        out
    }
}
