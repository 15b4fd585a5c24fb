//! Symmetric int8 with one scale per group of consecutive inputs of an output channel:
//! w ≈ q · s, s = max|w_group| / 127, q ∈ [−127, 127]. One group per row is the classic
//! per-output-channel scheme and suits small or random models; trained ViTs (a real DINOv2) have a
//! few input channels far larger than the rest, which a row's one scale spreads over every other
//! input, so their files use groups of 8 to 32 inputs. Which one a model needs is measured on
//! photos when it is converted (`vitscope_convert::int8`).

use half::f16;

/// How many inputs share a scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// One scale per output channel.
    Row,
    /// Up to this many consecutive inputs per scale (the largest divisor of the row length that
    /// fits, so a 14-px patch filter's 588 inputs go in groups of 7, 28, 49 or 98).
    Inputs(usize),
}

impl Grouping {
    /// Scales per row for rows of `cols` inputs.
    pub fn groups(self, cols: usize) -> usize {
        match self {
            Self::Row => 1,
            Self::Inputs(n) => {
                let size = (1..=n.min(cols).max(1)).rev().find(|g| cols.is_multiple_of(*g)).unwrap_or(1);
                cols / size
            }
        }
    }
}

impl std::fmt::Display for Grouping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Row => f.write_str("one scale per output channel"),
            Self::Inputs(n) => write!(f, "one scale per {n} inputs"),
        }
    }
}

/// Quantizes `rows` output channels of `data` (row-major), `groups` scales per row.
/// Scales are rounded to f16 *before* quantizing, so dequantization uses exactly the stored scale.
pub fn quantize(data: &[f32], rows: usize, groups: usize) -> (Vec<i8>, Vec<f16>) {
    let group = data.len() / (rows * groups).max(1);
    let mut q = Vec::with_capacity(data.len());
    let mut scales = Vec::with_capacity(rows * groups);
    for chunk in data.chunks(group.max(1)).take(rows * groups) {
        let max = chunk.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = f16::from_f32(max / 127.0);
        let s = scale.to_f32();
        scales.push(scale);
        q.extend(chunk.iter().map(|v| if s > 0.0 { (v / s).round().clamp(-127.0, 127.0) as i8 } else { 0 }));
    }
    (q, scales)
}

/// The inverse of [`quantize`]: `scales` holds rows × groups scales, in row-major order.
pub fn dequantize(q: &[i8], scales: &[f16]) -> Vec<f32> {
    let group = q.len() / scales.len().max(1);
    q.chunks(group.max(1))
        .zip(scales)
        .flat_map(|(chunk, s)| chunk.iter().map(move |&v| v as f32 * s.to_f32()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_error_is_within_half_a_step_of_each_groups_scale() {
        let data: Vec<f32> = (0..64).map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.013).collect();
        for groups in [1, 2, 4] {
            let (q, s) = quantize(&data, 4, groups);
            assert_eq!(s.len(), 4 * groups);
            let back = dequantize(&q, &s);
            let group = 16 / groups;
            for (i, (v, b)) in data.iter().zip(&back).enumerate() {
                assert!((v - b).abs() <= s[i / group].to_f32() * 0.5 + 1e-7);
            }
            assert!(q.iter().all(|&v| v != i8::MIN));
        }
    }

    #[test]
    fn zero_rows_get_zero_scale() {
        let (q, s) = quantize(&[0.0; 8], 2, 1);
        assert!(q.iter().all(|&v| v == 0));
        assert!(s.iter().all(|s| s.to_f32() == 0.0));
    }

    #[test]
    fn an_outlier_input_costs_only_its_own_group() {
        // 2 rows × 256 inputs of small weights with one huge input (a trained ViT's outlier channel).
        let mut data: Vec<f32> = (0..512).map(|i| ((i * 7919 % 211) as f32 / 211.0 - 0.5) * 0.02).collect();
        data[3] = 8.0;
        data[256 + 3] = -8.0;
        let error = |groups| {
            let (q, s) = quantize(&data, 2, groups);
            let back = dequantize(&q, &s);
            let others = data.iter().zip(&back).enumerate().filter(|(i, _)| i % 256 >= 32);
            others.map(|(_, (w, b))| (w - b).abs()).fold(0f32, f32::max)
        };
        // One scale per row (8/127) rounds the small weights (|w| ≤ 0.01) to zero; in groups of 32
        // the others keep half a step of their own scale (≤ 0.01/127).
        assert!(error(1) >= 0.009, "{}", error(1));
        assert!(error(8) <= 0.01 / 254.0 + 1e-7, "{}", error(8));
    }

    #[test]
    fn groups_divide_the_row() {
        assert_eq!(Grouping::Row.groups(384), 1);
        assert_eq!(Grouping::Inputs(32).groups(384), 12);
        // A 14-px patch filter over 3 channels: 588 = 2² · 3 · 7², so groups of 28 and 7.
        assert_eq!(Grouping::Inputs(32).groups(588), 21);
        assert_eq!(Grouping::Inputs(8).groups(588), 84);
        assert_eq!(Grouping::Inputs(64).groups(48), 1);
    }

    proptest::proptest! {
        /// Any weights f16 can scale (|w| < 127 · 65504), any grouping: each weight comes back
        /// within half a step of its group's stored scale. Where that scale is an f16 subnormal
        /// (the whole group under 127 · 2⁻¹⁴ ≈ 0.0078), rounding it may cut the scale below
        /// max/127 and clamp the largest weights at ±127 steps: they then lose at most
        /// 127 · 2⁻²⁵ ≈ 3.8e-6, half an f16 subnormal step per quantization step.
        #[test]
        fn every_weight_comes_back_within_half_a_step(
            rows in 1usize..5,
            groups in 1usize..5,
            group in 1usize..9,
            exponent in -40i32..22,
            unit in proptest::collection::vec(-1.0f32..=1.0, 4 * 4 * 8),
        ) {
            let data: Vec<f32> = unit[..rows * groups * group].iter().map(|u| u * 2f32.powi(exponent)).collect();
            let (q, scales) = quantize(&data, rows, groups);
            proptest::prop_assert_eq!(scales.len(), rows * groups);
            proptest::prop_assert!(q.iter().all(|&v| v != i8::MIN));
            let back = dequantize(&q, &scales);
            for (i, (w, b)) in data.iter().zip(&back).enumerate() {
                let s = scales[i / group].to_f32();
                proptest::prop_assert!(s.is_finite());
                let bound = (0.5 * s).max(127.0 * 2f32.powi(-25)) + 2.0 * w.abs() * f32::EPSILON;
                proptest::prop_assert!((w - b).abs() <= bound, "w {w} → {b}, scale {s}");
            }
        }
    }
}
