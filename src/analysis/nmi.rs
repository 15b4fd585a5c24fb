//! Normalised mutual information between query and key positions (paper Fig. 4; official
//! `self_attention_analysis.ipynb`), per (image, head), in float32:
//! Ã = A[:, :, 1:, 1:] + 1e-8, rows renormalised; p(q) = 1/N; p(k) = Σ_q p(q)·Ã[q, k];
//! I = Σ_q Σ_k p(q)·Ã[q, k]·ln(Ã[q, k] / p(k)); H(q) = ln N; H(k) = −Σ_k p(k) ln p(k);
//! NMI = I / √(H(q)·H(k)). Low NMI means every query attends alike ("attention collapse").

use burn::Tensor;

use super::attention_map::patch_attention;

/// `[B, H]` NMI of each head's attention.
pub fn nmi(attention: &Tensor<4>, prefix: usize) -> Tensor<2> {
    let a = patch_attention(attention, prefix, 1e-8);
    let [b, h, n, _] = a.dims();
    let p_k = a.clone().mean_dim(2); // [B, H, 1, N]
    let mutual = (a.clone() * (a / p_k.clone()).log()).sum_dim(3).sum_dim(2) / n as f64; // [B, H, 1, 1]
    let h_k = (p_k.clone() * p_k.log()).sum_dim(3).neg(); // [B, H, 1, 1]
    let h_q = (n as f64).ln();
    (mutual / (h_k * h_q).sqrt()).reshape([b, h])
}
