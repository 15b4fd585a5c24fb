//! Normalised mutual information between query and key positions (paper Fig. 4; official
//! `self_attention_analysis.ipynb`), per (image, head), in float32:
//! Ã = A[:, :, 1:, 1:] + 1e-8, rows renormalised; p(q) = 1/N; p(k) = Σ_q p(q)·Ã[q, k];
//! I = Σ_q Σ_k p(q)·Ã[q, k]·ln(Ã[q, k] / p(k)); H(q) = ln N; H(k) = −Σ_k p(k) ln p(k);
//! NMI = I / √(H(q)·H(k)). Low NMI means every query attends alike ("attention collapse").
//!
//! Computed as I = (1/N)·Σ_q Σ_k Ã ln Ã + H(k), which is the same sum regrouped (Σ_q Ã[q, k] = N·p(k)),
//! and needs no division by p(k) over the full N×N block.

use burn::Tensor;

use super::attention_map::patch_block;

/// `[B, H]` NMI of each head's attention.
pub fn nmi(attention: &Tensor<4>, prefix: usize) -> Tensor<2> {
    let patch = patch_block(attention, prefix);
    let row_sums = patch.clone().sum_dim(3);
    nmi_from(patch, row_sums)
}

pub(super) const EPS: f64 = 1e-8;

/// The same from the un-normalised patch block `[B, H, N, N]` and its row sums `[B, H, N, 1]`.
pub fn nmi_from(patch: Tensor<4>, row_sums: Tensor<4>) -> Tensor<2> {
    // The browser's CPU path: one host pass (see `super::host`).
    #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
    if let Some(nmi) = super::host::per_block(&patch, &row_sums, super::host::nmi) {
        return nmi;
    }
    let [b, h, n, _] = patch.dims();
    let a = (patch + EPS) / (row_sums + EPS * n as f64);
    let p_k = a.clone().mean_dim(2); // [B, H, 1, N]
    let a_log_a = (a.clone() * a.log()).sum_dim(3).sum_dim(2) / n as f64; // [B, H, 1, 1]
    let h_k = (p_k.clone() * p_k.log()).sum_dim(3).neg(); // [B, H, 1, 1]
    let mutual = a_log_a + h_k.clone();
    (mutual / (h_k * (n as f64).ln()).sqrt()).reshape([b, h])
}
