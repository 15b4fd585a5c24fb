//! Cosine similarities (paper Fig. 4 discusses them; there is no official code, so vitscope defines):
//!
//! - **tokens of a layer**: mean over ordered pairs i ≠ j of patch tokens of cos(z_d[i], z_d[j]);
//!   computed as (‖Σ_i ẑ_i‖² − N) / (N(N − 1)) with ẑ the unit-normalised tokens. 1 = all tokens alike.
//! - **between heads** of a layer: cos between two heads' patch-to-patch maps Ã_h (flattened N·N),
//!   as an H×H matrix; its summary is the mean over pairs h ≠ h'.
//! - **between layers**: cos between the head-mean maps of two layers, an L×L matrix.
//! - **same token across depths**: for depths d, d′, mean over patch tokens of cos(z_d[i], z_d′[i]),
//!   a (L+1)×(L+1) matrix.
//! - **selected token to all**: cos(z_d[q], z_d[i]) for every patch i (the app's similarity view).

use burn::Tensor;

use super::attention_map::patch_attention;

pub(super) const EPS: f64 = 1e-12;

fn unit<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let norm = (x.clone() * x.clone()).sum_dim(D - 1).sqrt().clamp_min(EPS);
    x / norm
}

/// Patch tokens `[B, N, C]` of a stream `[B, T, C]`.
pub fn patch_tokens(stream: &Tensor<3>, prefix: usize) -> Tensor<3> {
    let [_, t, _] = stream.dims();
    stream.clone().narrow(1, prefix, t - prefix)
}

/// `[B]` mean pairwise cosine similarity of the patch tokens.
pub fn token_similarity(stream: &Tensor<3>, prefix: usize) -> Tensor<1> {
    let tokens = unit(patch_tokens(stream, prefix));
    let [b, n, _] = tokens.dims();
    let total = tokens.sum_dim(1); // [B, 1, C]
    let squared = (total.clone() * total).sum_dim(2).reshape([b]);
    (squared - n as f64) / (n * (n - 1)) as f64
}

/// Mean of the off-diagonal entries of a batch of square matrices `[B, M, M]` → `[B]`.
pub fn mean_off_diagonal(matrices: Tensor<3>) -> Tensor<1> {
    let [b, m, _] = matrices.dims();
    let trace = matrices.clone() * Tensor::<2>::eye(m, &matrices.device()).unsqueeze::<3>();
    let off = matrices.sum_dim(2).sum_dim(1) - trace.sum_dim(2).sum_dim(1);
    off.reshape([b]) / (m * (m - 1)).max(1) as f64
}

/// `[B, H, H]` cosine similarity between heads' patch-to-patch maps `[B, H, N, N]`.
/// The Gram matrix is normalised by its diagonal, so the N²-sized maps are touched only once.
pub fn head_similarity(patch_attention: &Tensor<4>) -> Tensor<3> {
    let [b, h, n, _] = patch_attention.dims();
    let flat = patch_attention.clone().reshape([b, h, n * n]);
    let gram = flat.clone().matmul(flat.swap_dims(1, 2));
    let eye = Tensor::<2>::eye(h, &gram.device()).unsqueeze::<3>();
    let norms = (gram.clone() * eye).sum_dim(2).sqrt().clamp_min(EPS); // [B, H, 1]
    gram / norms.clone() / norms.swap_dims(1, 2)
}

/// `[B]` mean cosine similarity between different heads' maps, from the un-normalised patch block
/// `[B, H, N, N]` and its row sums `[B, H, N, 1]`, each row renormalised as (a + ε)/(Σa + N·ε).
pub fn mean_head_similarity(patch: Tensor<4>, row_sums: Tensor<4>, eps: f64) -> Tensor<1> {
    // The browser's CPU path: one host pass (see `super::host`).
    #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
    if let Some(similarity) = super::host::per_block(&patch, &row_sums, |p, r, heads, n| {
        super::host::mean_head_similarity(p, r, heads, n, eps)
    }) {
        return similarity;
    }
    let n = patch.dims()[3];
    let rows = (patch + eps) / (row_sums + eps * n as f64);
    mean_off_diagonal(head_similarity(&rows))
}

/// `[B, L, L]` cosine similarity between layers' head-mean patch-to-patch maps (attention `[B, H, T, T]`
/// per layer).
pub fn layer_similarity(attentions: &[Tensor<4>], prefix: usize) -> Tensor<3> {
    let maps: Vec<Tensor<3>> = attentions
        .iter()
        .map(|a| {
            let p = patch_attention(a, prefix, 0.0);
            let [b, _, n, _] = p.dims();
            p.mean_dim(1).reshape([b, 1, n * n])
        })
        .collect();
    let u = unit(Tensor::cat(maps, 1));
    u.clone().matmul(u.swap_dims(1, 2))
}

/// `[B, D, D]` mean over patch tokens of cos(z_d[i], z_d′[i]) from streams `[B, N, C]`, one per depth.
pub fn same_token_similarity(streams: &[Tensor<3>]) -> Tensor<3> {
    let units: Vec<Tensor<3>> = streams.iter().map(|s| unit(s.clone())).collect();
    let [b, n, c] = units[0].dims();
    let d = units.len();
    // [B, N, D, C] so each token's depths form a small matrix.
    let stacked = Tensor::stack::<4>(units, 2).reshape([b * n, d, c]);
    stacked.clone().matmul(stacked.swap_dims(1, 2)).reshape([b, n, d, d]).mean_dim(1).reshape([b, d, d])
}

/// `[B, N]` cosine similarity of patch `query` to every patch token.
pub fn query_similarity(tokens: &Tensor<3>, query: usize) -> Tensor<2> {
    let u = unit(tokens.clone());
    let [b, n, _] = u.dims();
    let q = u.clone().narrow(1, query, 1);
    u.matmul(q.swap_dims(1, 2)).reshape([b, n])
}
