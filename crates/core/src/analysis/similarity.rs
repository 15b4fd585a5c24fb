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

const EPS: f64 = 1e-12;

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
    #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
    {
        use crate::model::flex::{contiguous_f32, tensor, values};
        if let (Some(p), Some(r)) = (contiguous_f32(&patch), contiguous_f32(&row_sums)) {
            let [b, h, n, _] = patch.dims();
            return tensor(host::mean_head_similarity(values(&p), values(&r), h, n, eps), [b].into());
        }
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

/// [`mean_head_similarity`] in one pass on the host: on burn's CPU backend in the browser its
/// element-wise passes over the maps took 11–14 ms of a ViT-Ti/8's analyses (44–55 ms of a ViT-B's).
/// Rows are renormalised with the same f32 steps; each query's head-by-head dot products are summed
/// in f32 lanes, then over queries in f64.
#[cfg(feature = "cpu")]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod host {
    const LANES: usize = 8;

    pub(super) fn mean_head_similarity(patch: &[f32], row_sums: &[f32], heads: usize, n: usize, eps: f64) -> Vec<f32> {
        if heads == 0 || n == 0 {
            return Vec::new();
        }
        let (eps, eps_n) = (eps as f32, (eps * n as f64) as f32);
        let mut rows = vec![0f32; heads * n];
        patch
            .chunks_exact(heads * n * n)
            .zip(row_sums.chunks_exact(heads * n))
            .map(|(maps, sums)| {
                let mut gram = vec![0f64; heads * heads];
                for q in 0..n {
                    for (h, row) in rows.chunks_exact_mut(n).enumerate() {
                        let denominator = sums[h * n + q] + eps_n;
                        for (r, a) in row.iter_mut().zip(&maps[(h * n + q) * n..][..n]) {
                            *r = (a + eps) / denominator;
                        }
                    }
                    for h in 0..heads {
                        for g in h..heads {
                            gram[h * heads + g] += dot(&rows[h * n..][..n], &rows[g * n..][..n]) as f64;
                        }
                    }
                }
                let norm = |h: usize| gram[h * heads + h].sqrt().max(super::EPS);
                let mut off = 0.0;
                for h in 0..heads {
                    for g in h + 1..heads {
                        off += 2.0 * gram[h * heads + g] / (norm(h) * norm(g));
                    }
                }
                (off / (heads * (heads - 1)).max(1) as f64) as f32
            })
            .collect()
    }

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        let mut lanes = [0f32; LANES];
        for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
            lanes = std::array::from_fn(|i| lanes[i] + x[i] * y[i]);
        }
        let tail = a.len() / LANES * LANES;
        lanes.iter().sum::<f32>() + a[tail..].iter().zip(&b[tail..]).map(|(x, y)| x * y).sum::<f32>()
    }

    #[cfg(test)]
    mod tests {
        use burn::Tensor;
        use burn::tensor::{Device, TensorData};

        #[test]
        fn one_pass_gives_the_burn_formulas_head_similarity() {
            // Three heads (two alike, one not) and one head alone, two images, N not a multiple of 8.
            let n = 13;
            for heads in [3, 1] {
                let b = 2;
                let values: Vec<f32> = (0..b * heads * n * n)
                    .map(|i| match (i / (n * n)) % 3 {
                        0 => ((i * 7919) % 101) as f32 / 101.0,
                        1 => ((i * 7919) % 101) as f32 / 101.0 + 0.05,
                        _ => {
                            if i % n == (i / n) % n {
                                0.9
                            } else {
                                0.0
                            }
                        }
                    })
                    .collect();
                let device = Device::flex();
                let patch = Tensor::<4>::from_data(TensorData::new(values.clone(), [b, heads, n, n]), &device);
                let row_sums = patch.clone().sum_dim(3);
                let sums = row_sums.clone().into_data().try_to_vec::<f32>().expect("f32");
                let eps = crate::analysis::distance::EPSILON;
                let want = super::super::mean_head_similarity(patch, row_sums, eps)
                    .into_data()
                    .try_to_vec::<f32>()
                    .expect("f32");
                let got = super::mean_head_similarity(&values, &sums, heads, n, eps);
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() < 2e-6, "{heads} heads: {got:?} against {want:?}");
                }
                if heads == 3 {
                    assert!(want.iter().all(|&v| v > 0.2 && v < 0.9), "{want:?}");
                } else {
                    assert_eq!(want, vec![0.0; b]);
                }
            }
        }
    }
}
