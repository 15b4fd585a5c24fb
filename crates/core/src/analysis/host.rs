//! NMI and the mean head similarity in one pass over the attention maps each, on the host: the
//! browser's CPU path. There burn's CPU backend runs each element-wise op one element at a time, and
//! their burn formulas' passes (plus one libm `ln` per element) took 18 ms (NMI) and 11–14 ms (head
//! similarity) of a ViT-Ti/8's analyses, 72 and 44–55 ms of a ViT-B's. Rows are renormalised with
//! the burn formulas' f32 steps, sums run in f32 lanes then f64; the tests hold both to the burn
//! formulas. Compiled natively too, where those tests run.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use burn::Tensor;

use crate::model::flex::{contiguous_f32, tensor, values};
use crate::model::gemm::lanes::F4;

/// Elements per inner step: two four-lane vectors.
const LANES: usize = 8;

/// `metric(patch, row_sums, heads, n)` over a flex patch block `[B, H, N, N]` and its row sums
/// `[B, H, N, 1]`, giving a `[B, H]` or `[B]` tensor by how many values it returns; `None` on other
/// backends.
pub(super) fn per_block<const D: usize>(
    patch: &Tensor<4>,
    row_sums: &Tensor<4>,
    metric: impl Fn(&[f32], &[f32], usize, usize) -> Vec<f32>,
) -> Option<Tensor<D>> {
    let (p, r) = (contiguous_f32(patch)?, contiguous_f32(row_sums)?);
    let [b, h, n, _] = patch.dims();
    let shape = if D == 2 { vec![b, h] } else { vec![b] };
    Some(tensor(metric(values(&p), values(&r), h, n), shape.into()))
}

/// `row` renormalised into `out` as (a + ε)/(Σa + N·ε), in f32 as the burn formulas compute it.
fn renormalise(row: &[f32], sum: f32, eps: f64, out: &mut [f32]) {
    let (eps_n, eps) = ((eps * row.len() as f64) as f32, eps as f32);
    let denominator = sum + eps_n;
    let (lanes, (e, d)) = (row.len() / 4 * 4, (F4::splat(eps), F4::splat(denominator)));
    for (o, a) in out[..lanes].chunks_exact_mut(4).zip(row.chunks_exact(4)) {
        F4::load(a).add(e).div(d).store(o);
    }
    for (o, a) in out[lanes..row.len()].iter_mut().zip(&row[lanes..]) {
        *o = (a + eps) / denominator;
    }
}

/// [`super::nmi::nmi_from`]: the NMI of each head's `n × n` block (`heads` is only the blocks' count).
pub(super) fn nmi(patch: &[f32], row_sums: &[f32], _heads: usize, n: usize) -> Vec<f32> {
    if n == 0 {
        return Vec::new();
    }
    let width = n.next_multiple_of(LANES);
    // Past n, `a` stays 1, whose a·ln a is 0, and those columns are never read.
    let mut columns = vec![0f32; width];
    let mut a = vec![1f32; width];
    patch
        .chunks_exact(n * n)
        .zip(row_sums.chunks_exact(n))
        .map(|(block, sums)| {
            columns.fill(0.0);
            let mut a_log_a = 0f64;
            for (row, &sum) in block.chunks_exact(n).zip(sums) {
                renormalise(row, sum, super::nmi::EPS, &mut a);
                let mut lanes = [F4::splat(0.0); 2];
                for (chunk, column) in a.chunks_exact(LANES).zip(columns.chunks_exact_mut(LANES)) {
                    for (half, lane) in lanes.iter_mut().enumerate() {
                        let x = F4::load(&chunk[4 * half..]);
                        F4::load(&column[4 * half..]).add(x).store(&mut column[4 * half..]);
                        *lane = lane.add_mul(x, ln(x));
                    }
                }
                let mut sums = [0f32; LANES];
                lanes[0].store(&mut sums[..4]);
                lanes[1].store(&mut sums[4..]);
                a_log_a += sums.iter().map(|&v| v as f64).sum::<f64>();
            }
            let a_log_a = a_log_a / n as f64;
            let h_k = -columns[..n]
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

/// [`super::similarity::mean_head_similarity`]: per image, the mean cosine similarity between
/// different heads' renormalised maps, from each query's head-by-head dot products.
pub(super) fn mean_head_similarity(patch: &[f32], row_sums: &[f32], heads: usize, n: usize, eps: f64) -> Vec<f32> {
    if heads == 0 || n == 0 {
        return Vec::new();
    }
    let mut rows = vec![0f32; heads * n];
    patch
        .chunks_exact(heads * n * n)
        .zip(row_sums.chunks_exact(heads * n))
        .map(|(maps, sums)| {
            let mut gram = vec![0f64; heads * heads];
            for q in 0..n {
                for (h, row) in rows.chunks_exact_mut(n).enumerate() {
                    renormalise(&maps[(h * n + q) * n..][..n], sums[h * n + q], eps, row);
                }
                for h in 0..heads {
                    for g in h..heads {
                        gram[h * heads + g] += dot(&rows[h * n..][..n], &rows[g * n..][..n]) as f64;
                    }
                }
            }
            let norm = |h: usize| gram[h * heads + h].sqrt().max(super::similarity::EPS);
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

/// ln x for positive normal x: Cephes' `logf` (x = m·2ᵉ with m in [√½, √2), then a degree-9
/// polynomial in m − 1), within 2 ulp, on four lanes: LLVM left the scalar form unvectorised in
/// WebAssembly, one `ln` per element, half of the NMI pass's time.
#[inline(always)]
fn ln(x: F4) -> F4 {
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
    let (m, e) = x.frexp();
    let (one, zero) = (F4::splat(1.0), F4::splat(0.0));
    let below = F4::splat(std::f32::consts::FRAC_1_SQRT_2);
    // m in [√½, √2) after taking one from the exponent where m < √½.
    let e = e.sub(m.select_lt(below, one, zero));
    let m = m.select_lt(below, m.add(m), m).sub(one);
    let z = m.mul(m);
    let p = P.iter().fold(zero, |acc, &c| F4::splat(c).add_mul(acc, m));
    let y = p.mul(m).mul(z).sub(F4::splat(2.121_944_4e-4).mul(e)).sub(F4::splat(0.5).mul(z));
    m.add(y).add(F4::splat(0.693_359_4).mul(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn ln_is_within_two_ulp_from_the_smallest_renormalised_weight_to_one() {
        let mut x = 1e-9f32;
        while x <= 1.0 {
            let xs: [f32; 4] = std::array::from_fn(|i| x * (1.0 + i as f32 * 0.093));
            let mut lns = [0f32; 4];
            ln(F4::load(&xs)).store(&mut lns);
            for (v, ln) in xs.iter().zip(lns) {
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
        let want = crate::analysis::nmi::nmi_from(patch, row_sums).into_data().try_to_vec::<f32>().expect("f32");
        let got = nmi(&values, &sums, h, n);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 2e-6, "{got:?} against {want:?}");
        }
        assert!(want.iter().any(|&v| v > 0.3) && want.iter().any(|&v| v < 0.05), "{want:?} spans collapse and focus");
    }

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
            let want = crate::analysis::similarity::mean_head_similarity(patch, row_sums, eps)
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
