//! Position tables at other resolutions, and the BEiT/SimMIM relative position index.
//!
//! Resampling follows timm's `resample_abs_pos_embed`: `F.interpolate(mode="bicubic", antialias=True,
//! align_corners=False)`, i.e. PyTorch's anti-aliased (PIL-style, a = −0.5) bicubic filter, which is also
//! correct when shrinking. Relative tables are resampled with the same filter over their (2G−1)×(2G−1)
//! offset grid; the three CLS entries are copied unchanged.

/// PyTorch's anti-aliased cubic kernel (Keys, a = −0.5).
fn cubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// For each output index, the first input index and normalised weights (PyTorch `_upsample_bicubic2d_aa`).
fn aa_weights(input: usize, output: usize) -> Vec<(usize, Vec<f64>)> {
    let scale = input as f64 / output as f64;
    let support = if scale >= 1.0 { 2.0 * scale } else { 2.0 };
    let inv_scale = if scale >= 1.0 { 1.0 / scale } else { 1.0 };
    (0..output)
        .map(|i| {
            let center = scale * (i as f64 + 0.5);
            // `as i64` truncates toward zero, as the C++ cast does.
            let start = ((center - support + 0.5) as i64).max(0) as usize;
            let end = ((center + support + 0.5) as i64).min(input as i64) as usize;
            let mut weights: Vec<f64> = (start..end).map(|j| cubic((j as f64 - center + 0.5) * inv_scale)).collect();
            let total: f64 = weights.iter().sum();
            if total != 0.0 {
                weights.iter_mut().for_each(|w| *w /= total);
            }
            (start, weights)
        })
        .collect()
}

/// Resamples `channels` planes of `in_h`×`in_w` (channel-major) to `out_h`×`out_w`.
pub fn resample_bicubic_aa(
    planes: &[f32],
    channels: usize,
    (in_h, in_w): (usize, usize),
    (out_h, out_w): (usize, usize),
) -> Vec<f32> {
    let rows = aa_weights(in_h, out_h);
    let cols = aa_weights(in_w, out_w);
    let mut out = vec![0f32; channels * out_h * out_w];
    let mut horizontal = vec![0f64; in_h * out_w];
    for c in 0..channels {
        let plane = &planes[c * in_h * in_w..(c + 1) * in_h * in_w];
        for y in 0..in_h {
            for (x, (start, w)) in cols.iter().enumerate() {
                horizontal[y * out_w + x] =
                    w.iter().enumerate().map(|(j, w)| w * plane[y * in_w + start + j] as f64).sum();
            }
        }
        for (y, (start, w)) in rows.iter().enumerate() {
            for x in 0..out_w {
                let v: f64 = w.iter().enumerate().map(|(j, w)| w * horizontal[(start + j) * out_w + x]).sum();
                out[c * out_h * out_w + y * out_w + x] = v as f32;
            }
        }
    }
    out
}

/// Resizes an absolute table `[prefix + old², width]` (token-major) to `[prefix + new², width]`.
pub fn resize_absolute(table: &[f32], width: usize, prefix: usize, old_grid: usize, new_grid: usize) -> Vec<f32> {
    if old_grid == new_grid {
        return table.to_vec();
    }
    let patches = &table[prefix * width..];
    let planes = transpose(patches, old_grid * old_grid, width);
    let resized = resample_bicubic_aa(&planes, width, (old_grid, old_grid), (new_grid, new_grid));
    let mut out = table[..prefix * width].to_vec();
    out.extend(transpose(&resized, width, new_grid * new_grid));
    out
}

/// Resizes a relative bias table `[(2G−1)² + 3, heads]` to a new grid.
pub fn resize_relative(table: &[f32], heads: usize, old_grid: usize, new_grid: usize) -> Vec<f32> {
    if old_grid == new_grid {
        return table.to_vec();
    }
    let (old_side, new_side) = (2 * old_grid - 1, 2 * new_grid - 1);
    let offsets = old_side * old_side;
    let planes = transpose(&table[..offsets * heads], offsets, heads);
    let resized = resample_bicubic_aa(&planes, heads, (old_side, old_side), (new_side, new_side));
    let mut out = transpose(&resized, heads, new_side * new_side);
    out.extend_from_slice(&table[offsets * heads..]);
    out
}

fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; data.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = data[r * cols + c];
        }
    }
    out
}

/// Row of the relative table used for query `i` and key `j` (token indices, CLS = 0), flattened `[T, T]`.
pub fn relative_position_index(grid: usize) -> Vec<usize> {
    let side = 2 * grid - 1;
    let offsets = side * side;
    let tokens = grid * grid + 1;
    let mut index = vec![0usize; tokens * tokens];
    for q in 0..tokens {
        for k in 0..tokens {
            index[q * tokens + k] = match (q, k) {
                (0, 0) => offsets + 2,
                (0, _) => offsets,
                (_, 0) => offsets + 1,
                _ => {
                    let (rq, cq) = ((q - 1) / grid, (q - 1) % grid);
                    let (rk, ck) = ((k - 1) / grid, (k - 1) % grid);
                    (rq + grid - 1 - rk) * side + (cq + grid - 1 - ck)
                }
            };
        }
    }
    index
}

/// Expands a `[rows, heads]` table into the `[heads, T, T]` bias added to the logits.
pub fn expand_relative_bias(table: &[f32], heads: usize, grid: usize) -> Vec<f32> {
    let index = relative_position_index(grid);
    let tt = index.len();
    let mut bias = vec![0f32; heads * tt];
    for h in 0..heads {
        for (i, &row) in index.iter().enumerate() {
            bias[h * tt + i] = table[row * heads + h];
        }
    }
    bias
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_beit_formula() {
        let g = 3;
        let idx = relative_position_index(g);
        let t = g * g + 1;
        assert_eq!(idx[0], 25 + 2);
        assert_eq!(idx[1], 25);
        assert_eq!(idx[t], 26);
        // Same patch: offset (0,0) lands in the middle of the 5×5 table.
        assert_eq!(idx[t + 1], 12);
        // Query patch (0,0), key patch (2,2): offset (−2,−2) is the table's first row.
        assert_eq!(idx[t + 9], 0);
    }

    #[test]
    fn identity_resample_is_exact_and_constants_stay_constant() {
        let plane: Vec<f32> = (0..16).map(|v| v as f32).collect();
        assert_eq!(resample_bicubic_aa(&plane, 1, (4, 4), (4, 4)), plane);
        let ones = vec![2.5f32; 9];
        for v in resample_bicubic_aa(&ones, 1, (3, 3), (7, 7)) {
            assert!((v - 2.5).abs() < 1e-6);
        }
        for v in resample_bicubic_aa(&vec![1.0; 64], 1, (8, 8), (3, 3)) {
            assert!((v - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn relative_resize_keeps_cls_rows_and_centre() {
        let heads = 2;
        let rows = 5 * 5 + 3;
        let table: Vec<f32> = (0..rows * heads).map(|v| v as f32).collect();
        let out = resize_relative(&table, heads, 3, 5);
        assert_eq!(out.len(), (9 * 9 + 3) * heads);
        assert_eq!(&out[81 * heads..], &table[25 * heads..]);
    }
}
