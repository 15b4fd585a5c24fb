//! Symmetric per-output-channel int8: w ≈ q · s, s = max|w_row| / 127, q ∈ [−127, 127].

use half::f16;

/// Quantizes `rows` output channels of `data` (row-major, one output channel per row).
/// Scales are rounded to f16 *before* quantizing, so dequantization uses exactly the stored scale.
pub fn quantize_rows(data: &[f32], rows: usize) -> (Vec<i8>, Vec<f16>) {
    let cols = data.len() / rows.max(1);
    let mut q = Vec::with_capacity(data.len());
    let mut scales = Vec::with_capacity(rows);
    for row in data.chunks(cols.max(1)).take(rows) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = f16::from_f32(max / 127.0);
        let s = scale.to_f32();
        scales.push(scale);
        q.extend(row.iter().map(|v| if s > 0.0 { (v / s).round().clamp(-127.0, 127.0) as i8 } else { 0 }));
    }
    (q, scales)
}

pub fn dequantize_rows(q: &[i8], scales: &[f16]) -> Vec<f32> {
    let cols = q.len() / scales.len().max(1);
    q.chunks(cols.max(1)).zip(scales).flat_map(|(row, s)| row.iter().map(move |&v| v as f32 * s.to_f32())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_error_is_within_half_a_step() {
        let data: Vec<f32> = (0..64).map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.013).collect();
        let (q, s) = quantize_rows(&data, 4);
        let back = dequantize_rows(&q, &s);
        for (row, chunk) in data.chunks(16).enumerate() {
            let step = s[row].to_f32();
            for (j, v) in chunk.iter().enumerate() {
                assert!((v - back[row * 16 + j]).abs() <= step * 0.5 + 1e-7);
            }
        }
        assert!(q.iter().all(|&v| v != i8::MIN));
    }

    #[test]
    fn zero_rows_get_zero_scale() {
        let (q, s) = quantize_rows(&[0.0; 8], 2);
        assert!(q.iter().all(|&v| v == 0));
        assert!(s.iter().all(|s| s.to_f32() == 0.0));
    }
}
