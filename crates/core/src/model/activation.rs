//! GELU and softmax: burn's, except on burn's CPU backend (flex) in the browser. There flex evaluates
//! erf and exp with one scalar libm call per element, 7–9 ns each, a quarter of a block's time for
//! these models. Here erf is a rational function and exp a polynomial with an exponent shift, both
//! branch-free, so LLVM runs them in WebAssembly SIMD lanes (18–25 ms off a ViT-Ti/8 forward pass).
//! GELU stays within 1.2e-6 of burn's (erf within 4e-7), softmax within 1e-6; the tests check both.
//!
//! Natively burn's own ops stay: x86-64's baseline SIMD has no vector floor, and flex spreads these
//! ops over its rayon threads, so there the same kernels measured 5–30 % slower (ViT-S/16, 1–2 threads).

use burn::Tensor;

/// GELU with the exact (erf) form, as timm's `nn.GELU()`.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
    if let Some(t) = super::flex::contiguous_f32(&x) {
        return lanes::gelu(&t);
    }
    burn::tensor::activation::gelu(x)
}

/// Softmax over the last dimension.
pub fn softmax_last<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
    if let Some(t) = super::flex::contiguous_f32(&x) {
        return lanes::softmax_last(&t);
    }
    burn::tensor::activation::softmax(x, D - 1)
}

// Compiled natively too, where the tests compare it with burn's ops.
#[cfg(feature = "cpu")]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod lanes {
    use burn::Tensor;
    use burn_flex::FlexTensor;

    use crate::model::flex::{tensor, values};

    /// Elements per inner step: eight independent lanes (two WebAssembly SIMD vectors, one AVX vector).
    const LANES: usize = 8;

    fn with_output<const D: usize>(t: &FlexTensor, fill: impl FnOnce(&[f32], &mut [f32])) -> Tensor<D> {
        let input = values(t);
        let mut output = vec![0f32; input.len()];
        fill(input, &mut output);
        tensor(output, t.layout().shape().clone())
    }

    pub(super) fn gelu<const D: usize>(t: &FlexTensor) -> Tensor<D> {
        map_f32(t, gelu_lanes)
    }

    pub(super) fn softmax_last<const D: usize>(t: &FlexTensor) -> Tensor<D> {
        let row = *t.layout().shape().last().unwrap_or(&1);
        rows_f32(t, row, softmax_row)
    }

    fn map_f32<const D: usize>(t: &FlexTensor, lanes: impl Fn([f32; LANES]) -> [f32; LANES]) -> Tensor<D> {
        with_output(t, |input, output| {
            let mut inputs = input.chunks_exact(LANES);
            let mut outputs = output.chunks_exact_mut(LANES);
            for (i, o) in (&mut inputs).zip(&mut outputs) {
                o.copy_from_slice(&lanes(i.try_into().expect("a full chunk")));
            }
            let (tail_in, tail_out) = (inputs.remainder(), outputs.into_remainder());
            let mut padded = [0f32; LANES];
            padded[..tail_in.len()].copy_from_slice(tail_in);
            tail_out.copy_from_slice(&lanes(padded)[..tail_out.len()]);
        })
    }

    fn rows_f32<const D: usize>(t: &FlexTensor, row: usize, kernel: fn(&[f32], &mut [f32])) -> Tensor<D> {
        with_output(t, |input, output| {
            if row == 0 {
                return;
            }
            for (i, o) in input.chunks_exact(row).zip(output.chunks_exact_mut(row)) {
                kernel(i, o);
            }
        })
    }

    #[inline(always)]
    fn gelu_lanes(x: [f32; LANES]) -> [f32; LANES] {
        let e = erf_lanes(x.map(|v| v * std::f32::consts::FRAC_1_SQRT_2));
        std::array::from_fn(|i| 0.5 * x[i] * (1.0 + e[i]))
    }

    /// erf as x·P(x²)/Q(x²) on [−4, 4] (erf(±4) rounds to ±1 in f32): the rational approximation Eigen
    /// and XLA use for f32, at most 4e-7 from the true value.
    #[inline(always)]
    fn erf_lanes(x: [f32; LANES]) -> [f32; LANES] {
        const P: [f32; 7] = [
            -2.726_142_3e-10,
            2.770_681_4e-8,
            -2.101_024e-6,
            -5.692_506_4e-5,
            -7.349_906_3e-4,
            -2.954_6e-3,
            -1.609_603_3e-2,
        ];
        const Q: [f32; 5] = [-1.456_607_2e-5, -2.133_740_6e-4, -1.682_827e-3, -7.373_329e-3, -1.426_473_9e-2];
        let x = x.map(|v| v.clamp(-4.0, 4.0));
        let x2 = x.map(|v| v * v);
        let p: [f32; LANES] = std::array::from_fn(|i| P.iter().fold(0.0, |acc, c| acc * x2[i] + c));
        let q: [f32; LANES] = std::array::from_fn(|i| Q.iter().fold(0.0, |acc, c| acc * x2[i] + c));
        std::array::from_fn(|i| x[i] * p[i] / q[i])
    }

    /// eᵛ for v ≤ 0 (softmax after subtracting the row maximum): Cody–Waite reduction v = n·ln 2 + r,
    /// Cephes' degree-6 polynomial for eʳ, and 2ⁿ built in the exponent bits. n is rounded by adding
    /// 1.5·2²³ (its integer then sits in the low mantissa bits) rather than by `floor` and `as i32`,
    /// whose Rust semantics keep LLVM from vectorising the loop.
    #[inline(always)]
    fn exp_lanes(v: [f32; LANES]) -> [f32; LANES] {
        const LN2_HI: f32 = 0.693_359_4;
        const LN2_LO: f32 = -2.121_944_4e-4;
        const C: [f32; 6] = [1.987_569_1e-4, 1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5];
        const ROUND: f32 = 12_582_912.0;
        std::array::from_fn(|i| {
            // Below −87.3 the result would leave f32's normal range; those terms are 0 next to the maximum's 1.
            let x = if v[i] < -87.3 { -87.3 } else { v[i] };
            let shifted = x * std::f32::consts::LOG2_E + (ROUND + 127.0);
            let n = shifted - (ROUND + 127.0);
            let r = x - n * LN2_HI - n * LN2_LO;
            let poly = C.iter().fold(0.0, |acc, c| acc * r + c);
            let er = poly * r * r + r + 1.0;
            let scale = f32::from_bits(shifted.to_bits() << 23);
            if v[i] < -87.3 { 0.0 } else { er * scale }
        })
    }

    fn softmax_row(input: &[f32], output: &mut [f32]) {
        let chunks = input.len() / LANES * LANES;
        let mut max = [f32::NEG_INFINITY; LANES];
        for c in input[..chunks].chunks_exact(LANES) {
            // A plain comparison, not f32::max: its NaN rule has no WebAssembly SIMD instruction, so LLVM
            // would keep this loop scalar.
            max = std::array::from_fn(|i| if c[i] > max[i] { c[i] } else { max[i] });
        }
        let max = input[chunks..].iter().fold(max.into_iter().fold(f32::NEG_INFINITY, f32::max), |m, &v| m.max(v));
        // Exponentials and their sum in separate passes: fused, LLVM leaves the exponential scalar.
        for (c, o) in input[..chunks].chunks_exact(LANES).zip(output[..chunks].chunks_exact_mut(LANES)) {
            o.copy_from_slice(&exp_lanes(std::array::from_fn(|i| c[i] - max)));
        }
        let mut tail = [f32::NEG_INFINITY; LANES];
        let rest = input.len() - chunks;
        tail[..rest].copy_from_slice(&input[chunks..]);
        output[chunks..].copy_from_slice(&exp_lanes(tail.map(|v| v - max))[..rest]);
        let mut sum = [0f32; LANES];
        for c in output[..chunks].chunks_exact(LANES) {
            sum = std::array::from_fn(|i| sum[i] + c[i]);
        }
        let inv = 1.0 / (sum.iter().sum::<f32>() + output[chunks..].iter().sum::<f32>());
        for o in output.iter_mut() {
            *o *= inv;
        }
    }
}

#[cfg(all(test, feature = "cpu"))]
mod tests {
    use burn::tensor::{Distribution, Tensor, TensorData};

    use super::*;
    use burn::tensor::Device;

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    // The kernels themselves: natively `gelu` and `softmax_last` dispatch to burn's ops.
    fn kernel_gelu(x: Tensor<2>) -> Tensor<2> {
        lanes::gelu(&crate::model::flex::contiguous_f32(&x).unwrap())
    }

    fn kernel_softmax(x: Tensor<2>) -> Tensor<2> {
        lanes::softmax_last(&crate::model::flex::contiguous_f32(&x).unwrap())
    }

    #[test]
    fn gelu_matches_burns_libm_gelu() {
        let device = Device::flex();
        // Every 1/1000 from −10 to 10, an odd count so the tail path runs too.
        let xs: Vec<f32> = (-10_000..=10_000).map(|i| i as f32 / 1000.0).collect();
        let n = xs.len();
        let x = Tensor::<2>::from_data(TensorData::new(xs.clone(), [1, n]), &device);
        let ours = values(kernel_gelu(x.clone()));
        let theirs = values(burn::tensor::activation::gelu(x));
        let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0f32, f32::max);
        assert!(worst < 1.2e-6, "worst relative error {worst}");
    }

    #[test]
    fn softmax_matches_burns_on_attention_like_rows() {
        let device = Device::flex();
        // 197 keys per row (not a multiple of the lane count), logits spread like attention's.
        let x = Tensor::<2>::random([50, 197], Distribution::Normal(0.0, 8.0), &device);
        let ours = values(kernel_softmax(x.clone()));
        let theirs = values(burn::tensor::activation::softmax(x, 1));
        let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-6, "worst absolute error {worst}");
        for row in ours.chunks(197) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn strided_input_and_extreme_logits_are_handled() {
        let device = Device::flex();
        let x = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, -200.0, 50.0, 1e30, -1e30, 3.0], [3, 2]), &device);
        // Transposed: not contiguous, so the kernel must copy it first.
        let ours = values(kernel_softmax(x.clone().transpose()));
        let theirs = values(burn::tensor::activation::softmax(x.transpose(), 1));
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() < 1e-6, "{ours:?} vs {theirs:?}");
        }
    }
}
