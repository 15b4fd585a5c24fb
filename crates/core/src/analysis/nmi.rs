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

const EPS: f64 = 1e-8;

/// The same from the un-normalised patch block `[B, H, N, N]` and its row sums `[B, H, N, 1]`.
pub fn nmi_from(patch: Tensor<4>, row_sums: Tensor<4>) -> Tensor<2> {
    #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
    {
        use crate::model::flex::{contiguous_f32, tensor, values};
        if let (Some(p), Some(r)) = (contiguous_f32(&patch), contiguous_f32(&row_sums)) {
            let [b, h, n, _] = patch.dims();
            return tensor(host::nmi(values(&p), values(&r), n), [b, h].into());
        }
    }
    let [b, h, n, _] = patch.dims();
    let a = (patch + EPS) / (row_sums + EPS * n as f64);
    let p_k = a.clone().mean_dim(2); // [B, H, 1, N]
    let a_log_a = (a.clone() * a.log()).sum_dim(3).sum_dim(2) / n as f64; // [B, H, 1, 1]
    let h_k = (p_k.clone() * p_k.log()).sum_dim(3).neg(); // [B, H, 1, 1]
    let mutual = a_log_a + h_k.clone();
    (mutual / (h_k * (n as f64).ln()).sqrt()).reshape([b, h])
}

/// The same sums in one pass over each head's block, on the host: on burn's CPU backend in the
/// browser its six element-wise passes and one libm `ln` per element took 18 ms of a ViT-Ti/8's
/// analyses (72 ms of a ViT-B's). Rows are renormalised with the same f32 steps; `ln` is Cephes'
/// branch-free `logf`, which LLVM runs in WebAssembly SIMD lanes; the sums are f64 per row.
#[cfg(feature = "cpu")]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod host {
    use super::EPS;

    const LANES: usize = 8;

    /// NMI of each `n × n` block of `patch` (blocks back to back), with `row_sums` (n per block).
    pub(super) fn nmi(patch: &[f32], row_sums: &[f32], n: usize) -> Vec<f32> {
        if n == 0 {
            return Vec::new();
        }
        let (eps, eps_n) = (EPS as f32, (EPS * n as f64) as f32);
        let mut columns = vec![0f32; n];
        patch
            .chunks_exact(n * n)
            .zip(row_sums.chunks_exact(n))
            .map(|(block, sums)| {
                columns.fill(0.0);
                let mut a_log_a = 0f64;
                let mut a = vec![0f32; n.next_multiple_of(LANES)];
                for (row, sum) in block.chunks_exact(n).zip(sums) {
                    let denominator = sum + eps_n;
                    for (a, x) in a.iter_mut().zip(row) {
                        *a = (x + eps) / denominator;
                    }
                    for (c, a) in columns.iter_mut().zip(&a) {
                        *c += a;
                    }
                    // Padding past n is 1, whose a·ln a is 0.
                    a[n..].fill(1.0);
                    let mut lanes = [0f32; LANES];
                    for chunk in a.chunks_exact(LANES) {
                        let chunk: &[f32; LANES] = chunk.try_into().expect("a full chunk");
                        let ln = ln_lanes(*chunk);
                        lanes = std::array::from_fn(|i| lanes[i] + chunk[i] * ln[i]);
                    }
                    a_log_a += lanes.iter().map(|&v| v as f64).sum::<f64>();
                }
                let a_log_a = a_log_a / n as f64;
                let h_k = -columns
                    .iter()
                    .map(|&c| {
                        let p = (c / n as f32) as f64;
                        p * p.ln()
                    })
                    .sum::<f64>();
                ((a_log_a + h_k) / (h_k * (n as f64).ln()).sqrt()) as f32
            })
            .collect()
    }

    /// ln x for positive normal x: Cephes' `logf` (x = m·2ᵉ with m in [√½, √2), then a degree-9
    /// polynomial in m − 1), within 2 ulp, without branches so that it vectorises.
    #[inline(always)]
    pub(super) fn ln_lanes(x: [f32; LANES]) -> [f32; LANES] {
        const P: [f32; 9] = [
            7.037_683_6e-2,
            -1.151_461e-1,
            1.167_699_9e-1,
            -1.242_014_1e-1,
            1.424_932_3e-1,
            -1.666_805_8e-1,
            2.000_071_4e-1,
            -2.499_999_4e-1,
            3.333_333e-1,
        ];
        std::array::from_fn(|i| {
            let bits = x[i].to_bits();
            // x = m·2ᵉ with m in [½, 1).
            let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
            let small = m < std::f32::consts::FRAC_1_SQRT_2;
            let e = ((bits >> 23) as i32 - 126 - small as i32) as f32;
            let m = if small { m + m - 1.0 } else { m - 1.0 };
            let z = m * m;
            let y = P.iter().fold(0.0, |acc, c| acc * m + c) * m * z - 2.121_944_4e-4 * e - 0.5 * z;
            m + y + 0.693_359_4 * e
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use burn::Tensor;
        use burn::tensor::{Device, TensorData};

        #[test]
        fn ln_is_within_two_ulp_from_the_smallest_renormalised_weight_to_one() {
            let mut x = 1e-9f32;
            while x <= 1.0 {
                let xs: [f32; LANES] = std::array::from_fn(|i| x * (1.0 + i as f32 * 0.093));
                for (v, ln) in xs.iter().zip(ln_lanes(xs)) {
                    let exact = (*v as f64).ln();
                    let ulp = (exact as f32).abs() * f32::EPSILON;
                    assert!((ln as f64 - exact).abs() <= 2.0 * ulp as f64 + 1e-9, "ln {v}: {ln} against {exact}");
                }
                x *= 1.37;
            }
        }

        #[test]
        fn one_pass_gives_the_burn_formulas_nmi() {
            // Peaked, flat and zero rows, two images, three heads, an N that is not a multiple of 8.
            let (b, h, n) = (2, 3, 13);
            let values: Vec<f32> = (0..b * h * n * n)
                .map(|i| match (i / (n * n)) % 3 {
                    0 => ((i * 7919) % 101) as f32 / 101.0,
                    1 => {
                        if i % n == (i / n) % n {
                            0.9
                        } else {
                            0.1 / n as f32
                        }
                    }
                    _ => {
                        if (i / n) % 4 == 0 {
                            0.0
                        } else {
                            1.0 / n as f32
                        }
                    }
                })
                .collect();
            let device = Device::flex();
            let patch = Tensor::<4>::from_data(TensorData::new(values.clone(), [b, h, n, n]), &device);
            let row_sums = patch.clone().sum_dim(3);
            let sums = row_sums.clone().into_data().try_to_vec::<f32>().expect("f32");
            let want = super::super::nmi_from(patch, row_sums).into_data().try_to_vec::<f32>().expect("f32");
            let got = nmi(&values, &sums, n);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 2e-6, "{got:?} against {want:?}");
            }
            assert!(
                want.iter().any(|&v| v > 0.3) && want.iter().any(|&v| v < 0.05),
                "{want:?} spans collapse and focus"
            );
        }
    }
}
