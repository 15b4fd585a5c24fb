//! Mean attention distance in pixels (paper Fig. 3; official `self_attention_analysis.ipynb`):
//! Ã = A[:, :, 1:, 1:] + 1e-32, rows renormalised; dist(q, k) = P·‖(r_q, c_q) − (r_k, c_k)‖₂;
//! per (image, head) the mean over queries of Σ_k Ã[q, k]·dist(q, k).

use burn::Tensor;
use burn::tensor::{Device, TensorData};

use super::attention_map::patch_block;

/// Pixel distance between every pair of patches of a G×G grid, `[N, N]`.
pub fn distance_matrix(grid: usize, patch_size: usize, device: &Device) -> Tensor<2> {
    let n = grid * grid;
    let mut d = vec![0f32; n * n];
    for q in 0..n {
        for k in 0..n {
            let dr = (q / grid) as f64 - (k / grid) as f64;
            let dc = (q % grid) as f64 - (k % grid) as f64;
            d[q * n + k] = (patch_size as f64 * (dr * dr + dc * dc).sqrt()) as f32;
        }
    }
    Tensor::from_data(TensorData::new(d, [n, n]), device)
}

/// `[B, H]` mean attention distance in pixels.
pub fn attention_distance(attention: &Tensor<4>, distances: &Tensor<2>, prefix: usize) -> Tensor<2> {
    let patch = patch_block(attention, prefix);
    let row_sums = patch.clone().sum_dim(3);
    attention_distance_from(patch, row_sums, distances)
}

/// The official ε: invisible next to row sums near 1, but it turns a row whose patch attention
/// underflowed to zero (everything on CLS) into a uniform row instead of 0/0.
pub const EPSILON: f64 = 1e-32;

/// The same from the un-normalised patch block and its row sums, dividing per row instead of per
/// element: Σ_k (A + ε)·d / Σ_k (A + ε) = (Σ_k A·d + ε·Σ_k d) / (row sum + N·ε).
pub fn attention_distance_from(patch: Tensor<4>, row_sums: Tensor<4>, distances: &Tensor<2>) -> Tensor<2> {
    let [b, h, _, n] = patch.dims();
    let spread = distances.clone().sum_dim(1).unsqueeze::<4>() * EPSILON; // [1, 1, N, 1]
    let weighted = (patch * distances.clone().unsqueeze::<4>()).sum_dim(3) + spread;
    (weighted / (row_sums + EPSILON * n as f64)).mean_dim(2).reshape([b, h])
}
