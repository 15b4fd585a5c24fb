//! Attention map of one query (paper Fig. 1; official notebook `self_attention_analysis.ipynb`):
//! row q of A[h] with the CLS row and column removed, renormalised to sum 1, shown G×G.
//! For the CLS query the row is A[h][0, 1:], renormalised the same way.

use burn::Tensor;

/// Which query row to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    Cls,
    /// Patch index in row-major order (0 … N−1).
    Patch(usize),
}

/// The patch-to-patch block of the attention, prefix rows/columns removed, not renormalised.
pub fn patch_block(attention: &Tensor<4>, prefix: usize) -> Tensor<4> {
    let [_, _, t, _] = attention.dims();
    attention.clone().narrow(2, prefix, t - prefix).narrow(3, prefix, t - prefix)
}

/// Patch-to-patch attention with prefix rows/columns removed and rows renormalised, `[B, H, N, N]`.
pub fn patch_attention(attention: &Tensor<4>, prefix: usize, epsilon: f32) -> Tensor<4> {
    let [_, _, t, _] = attention.dims();
    let a = attention.clone().narrow(2, prefix, t - prefix).narrow(3, prefix, t - prefix) + epsilon;
    let sum = a.clone().sum_dim(3);
    a / sum
}

/// `[B, H, N]`: the chosen query's attention over patches, each row summing to 1.
pub fn attention_map(attention: &Tensor<4>, query: Query, prefix: usize) -> Tensor<3> {
    let [b, h, t, _] = attention.dims();
    let row = match query {
        Query::Cls => 0,
        Query::Patch(i) => prefix + i,
    };
    let r = attention.clone().narrow(2, row, 1).narrow(3, prefix, t - prefix);
    let sum = r.clone().sum_dim(3);
    (r / sum).reshape([b, h, t - prefix])
}
