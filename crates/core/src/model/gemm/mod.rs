//! C = A·B + bias for burn's CPU backend in the browser. There flex's matmul (the `gemm` crate's
//! WebAssembly kernel, a 12×4 tile) reaches about 40 GFLOP/s on this machine where a 4×8 tile reaches
//! about 58: eight accumulators, two vectors of B and one splat of A fit the 15 vector registers V8
//! allocates, so the inner loop never spills. B is packed once into 8-column panels (for a weight, at
//! load time), so each step reads 32 contiguous bytes of it.
//!
//! The code is written over four-lane types ([`lanes`]) that are WebAssembly SIMD in the browser
//! and plain arrays elsewhere, so the native tests run these very loops. Each sum is formed in the
//! same order as `bias + Σₚ a·b` evaluated left to right (no fused multiply-add), so results are
//! reproducible bit for bit across the two.
//!
//! An int8 weight also multiplies in integers ([`int8::gemm_int8`]), the activations quantized per
//! row at run time.

#[cfg(target_arch = "x86_64")]
mod avx2;
pub mod int8;
pub(crate) mod lanes;

use lanes::{F4, Pairs};

/// Columns per panel: two four-lane vectors.
const NR: usize = 8;
/// Rows per tile.
const MR: usize = 4;

/// B (`k × n`) in panels of [`NR`] columns, each panel row-major `k × NR`, the last one zero-padded.
/// A weight stored in int8 stays int8 here (a quarter of the memory: two ViT-B fit a phone's tab):
/// [`gemm`] dequantizes each panel into a scratch buffer when a product reaches it, once per product,
/// which is 1/m of the multiply–adds that follow, and [`int8::gemm_int8`] multiplies it as it is.
pub struct Panels {
    values: Values,
    k: usize,
    n: usize,
}

enum Values {
    F32(Vec<f32>),
    Int8(Int8Panels),
}

/// Int8 panels, laid out for `i32x4.dot_i16x8_s`: panel j holds ⌈k/2⌉ row pairs, and pair t holds,
/// column by column, rows 2t and 2t + 1 (zero past k and past n), 16 bytes a pair.
struct Int8Panels {
    q: Vec<i8>,
    /// `scales[(j · groups + g) · NR + c]` scales column j·NR + c over the inputs of group g (zero
    /// past n), so a panel's scales for one group are one contiguous row.
    scales: Vec<f32>,
    groups: usize,
    /// The columns before `.0` are then multiplied by `.1`.
    scaled: (usize, f32),
}

/// `at(p, j)` for p < k and j < n, laid out as panels (zero padding past n).
fn pack<T: Copy + Default>(k: usize, n: usize, at: impl Fn(usize, usize) -> T) -> Vec<T> {
    let mut data = vec![T::default(); n.div_ceil(NR) * k * NR];
    for (panel, block) in data.chunks_exact_mut(k * NR).enumerate() {
        for (p, row) in block.chunks_exact_mut(NR).enumerate() {
            for (c, v) in row.iter_mut().enumerate().take(n.saturating_sub(panel * NR)) {
                *v = at(p, panel * NR + c);
            }
        }
    }
    data
}

/// Where `(p, c)` of a panel lies in [`Int8Panels::q`]'s layout, from the panel's start.
fn paired(p: usize, c: usize) -> usize {
    (p / 2) * 2 * NR + c * 2 + p % 2
}

impl Panels {
    /// Packs the matrix whose element (p, j) is `at(p, j)`, for p < k and j < n.
    pub fn new(k: usize, n: usize, at: impl Fn(usize, usize) -> f32) -> Self {
        Self { values: Values::F32(pack(k, n, at)), k, n }
    }

    /// Packs an int8 matrix whose element (p, j) is `q(p, j) · scales[j · groups + p / (k / groups)]`
    /// (a weight `[n, k]` as a file stores it, with its `[n, groups]` scales), the columns before
    /// `scaled.0` then multiplied by `scaled.1` (the attention scale folded into the queries).
    ///
    /// # Panics
    /// When `groups` does not divide k or `scales` does not hold n · groups values.
    pub fn int8(
        k: usize,
        n: usize,
        q: impl Fn(usize, usize) -> i8,
        scales: Vec<f32>,
        groups: usize,
        scaled: Option<(usize, f32)>,
    ) -> Self {
        assert!(groups > 0 && k.is_multiple_of(groups), "{groups} groups do not divide {k} inputs");
        assert_eq!(scales.len(), n * groups, "one scale per column and group");
        let panels = n.div_ceil(NR);
        let size = k.div_ceil(2) * 2 * NR;
        let mut packed = vec![0i8; panels * size];
        let mut by_group = vec![0f32; panels * groups * NR];
        for j in 0..n {
            let (panel, c) = (j / NR, j % NR);
            for p in 0..k {
                packed[panel * size + paired(p, c)] = q(p, j);
            }
            for g in 0..groups {
                by_group[(panel * groups + g) * NR + c] = scales[j * groups + g];
            }
        }
        let scaled = scaled.unwrap_or((0, 1.0));
        Self { values: Values::Int8(Int8Panels { q: packed, scales: by_group, groups, scaled }), k, n }
    }

    /// The inner dimension.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The output columns.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Panel `j` in f32: the packed values, or int8 ones dequantized into `scratch` (`k × NR`) as
    /// `q as f32 * scale`, the product a file's dequantization forms, so both give the same weights.
    fn panel<'a>(&'a self, j: usize, scratch: &'a mut [f32]) -> &'a [f32] {
        let size = self.k * NR;
        match &self.values {
            Values::F32(data) => &data[j * size..][..size],
            Values::Int8(Int8Panels { q, scales, groups, scaled: (rows, factor) }) => {
                let group = self.k / groups;
                // × 1.0 leaves a value as it is, so every column takes the same steps (and vectorises).
                let factors: [f32; NR] = std::array::from_fn(|c| if j * NR + c < *rows { *factor } else { 1.0 });
                let factors = [F4::load(&factors[..4]), F4::load(&factors[4..])];
                let pairs = self.k.div_ceil(2);
                let q = &q[j * pairs * 2 * NR..][..pairs * 2 * NR];
                for (t, pair) in q.chunks_exact(2 * NR).enumerate() {
                    // SAFETY: a chunk holds sixteen i8: columns 0–3 of rows 2t and 2t + 1, then 4–7.
                    let (left, right) = unsafe { Pairs::widen_ptr(pair.as_ptr()) };
                    let (left, right) = (left.split(), right.split());
                    for (half, row) in [[left.0, right.0], [left.1, right.1]].into_iter().enumerate() {
                        let p = 2 * t + half;
                        if p == self.k {
                            break;
                        }
                        // Past n both the value and its scale are zero, as the padding must be.
                        let scales = &scales[(j * groups + p / group) * NR..][..NR];
                        let out = &mut scratch[p * NR..][..NR];
                        for (i, (q, factor)) in row.into_iter().zip(factors).enumerate() {
                            let w = q.to_f32().mul(F4::load(&scales[4 * i..])).mul(factor);
                            w.store(&mut out[4 * i..]);
                        }
                    }
                }
                scratch
            }
        }
    }
}

impl std::fmt::Debug for Panels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Panels {{ k: {}, n: {} }}", self.k, self.n)
    }
}

/// `c[i·ldc + j] = bias[j] + Σₚ a[i·lda + p]·B[p, j]` for i < m, j < B's n.
///
/// # Panics
/// When a slice is too short for its stride and shape, or `bias` does not have n entries.
pub fn gemm(a: &[f32], lda: usize, m: usize, b: &Panels, bias: Option<&[f32]>, c: &mut [f32], ldc: usize) {
    let (k, n) = (b.k, b.n);
    if !has_work(a, lda, m, b, bias, c.len(), ldc) {
        return;
    }
    // Only int8 panels use it; the padding columns stay zero.
    let mut scratch = match b.values {
        Values::Int8(_) => vec![0f32; k * NR],
        Values::F32(_) => Vec::new(),
    };
    for j in 0..n.div_ceil(NR) {
        let columns = (n - j * NR).min(NR);
        let mut start = [0f32; NR];
        if let Some(bias) = bias {
            start[..columns].copy_from_slice(&bias[j * NR..][..columns]);
        }
        let start = [F4::load(&start[..4]), F4::load(&start[4..])];
        let panel = b.panel(j, &mut scratch);
        let mut row = 0;
        while row + MR <= m {
            let sums = tile::<MR>(&a[row * lda..], lda, k, panel, start);
            store(&sums, &mut c[row * ldc + j * NR..], ldc, columns);
            row += MR;
        }
        for row in row..m {
            let sums = tile::<1>(&a[row * lda..], lda, k, panel, start);
            store(&sums, &mut c[row * ldc + j * NR..], ldc, columns);
        }
    }
}

/// Whether `c = a·b + bias` has any output, after checking every slice against its stride and shape.
///
/// # Panics
/// When a slice is too short for its stride and shape, or `bias` does not have n entries.
fn has_work(a: &[f32], lda: usize, m: usize, b: &Panels, bias: Option<&[f32]>, c: usize, ldc: usize) -> bool {
    let (k, n) = (b.k, b.n);
    if m == 0 || n == 0 {
        return false;
    }
    assert!(lda >= k && ldc >= n, "strides {lda}, {ldc} are narrower than the rows ({k}, {n})");
    assert!(a.len() >= (m - 1) * lda + k, "A holds {} values, {m} rows of stride {lda} need more", a.len());
    assert!(c >= (m - 1) * ldc + n, "C holds {c} values, {m} rows of stride {ldc} need more");
    if let Some(bias) = bias {
        assert_eq!(bias.len(), n, "one bias per output column");
    }
    true
}

/// R rows of A against one panel: R × [`NR`] sums.
#[inline(always)]
fn tile<const R: usize>(a: &[f32], lda: usize, k: usize, panel: &[f32], start: [F4; 2]) -> [[F4; 2]; R] {
    // Bounds were checked once in `gemm`; here they would cost as much as the arithmetic.
    assert!(a.len() >= (R - 1) * lda + k && panel.len() >= k * NR);
    let mut sums = [start; R];
    for p in 0..k {
        // SAFETY: p < k and r < R, within the lengths asserted above.
        unsafe {
            let b = panel.as_ptr().add(p * NR);
            let (b0, b1) = (F4::load_ptr(b), F4::load_ptr(b.add(4)));
            for (r, s) in sums.iter_mut().enumerate() {
                let x = F4::splat(*a.get_unchecked(r * lda + p));
                *s = [s[0].add_mul(x, b0), s[1].add_mul(x, b1)];
            }
        }
    }
    sums
}

fn store<const R: usize>(sums: &[[F4; 2]; R], c: &mut [f32], ldc: usize, columns: usize) {
    for (r, s) in sums.iter().enumerate() {
        let mut row = [0f32; NR];
        s[0].store(&mut row[..4]);
        s[1].store(&mut row[4..]);
        c[r * ldc..][..columns].copy_from_slice(&row[..columns]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic spread of values with no pattern a transposition bug could hide in.
    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| ((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.0 - 1.0).collect()
    }

    fn reference(a: &[f32], lda: usize, m: usize, b: &[f32], k: usize, n: usize, bias: Option<&[f32]>) -> Vec<f32> {
        let mut c = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = bias.map_or(0.0, |b| b[j]);
                for p in 0..k {
                    s += a[i * lda + p] * b[p * n + j];
                }
                c[i * n + j] = s;
            }
        }
        c
    }

    #[test]
    fn every_edge_matches_the_textbook_product_bit_for_bit() {
        // Rows around the 4-row tile, columns around the 8-column panel, short and long sums.
        for m in [1, 3, 4, 5, 9, 197] {
            for n in [1, 7, 8, 9, 20, 64] {
                for k in [1, 5, 64, 300] {
                    let lda = k + 3;
                    let a = values(m * lda, 1);
                    let b = values(k * n, 2);
                    let bias = values(n, 3);
                    let panels = Panels::new(k, n, |p, j| b[p * n + j]);
                    for with_bias in [false, true] {
                        let bias = with_bias.then_some(bias.as_slice());
                        let mut c = vec![f32::NAN; m * n];
                        gemm(&a, lda, m, &panels, bias, &mut c, n);
                        assert_eq!(c, reference(&a, lda, m, &b, k, n, bias), "m {m} n {n} k {k} bias {with_bias}");
                    }
                }
            }
        }
    }

    #[test]
    fn output_stride_leaves_the_gaps_alone() {
        let (m, k, n, ldc) = (6, 3, 5, 9);
        let (a, b) = (values(m * k, 4), values(k * n, 5));
        let panels = Panels::new(k, n, |p, j| b[p * n + j]);
        let mut c = vec![42.0; (m - 1) * ldc + n];
        gemm(&a, k, m, &panels, None, &mut c, ldc);
        let want = reference(&a, k, m, &b, k, n, None);
        for i in 0..m {
            assert_eq!(c[i * ldc..][..n], want[i * n..][..n]);
            if i + 1 < m {
                assert!(c[i * ldc + n..(i + 1) * ldc].iter().all(|&v| v == 42.0), "row {i} spilled");
            }
        }
    }

    #[test]
    fn a_transposed_source_packs_as_its_transpose() {
        // Kᵀ for attention logits: B(p, j) read from a row-major K (`n × k`).
        let (k, n) = (4, 11);
        let keys = values(n * k, 6);
        let panels = Panels::new(k, n, |p, j| keys[j * k + p]);
        let q = values(2 * k, 7);
        let mut c = vec![0f32; 2 * n];
        gemm(&q, k, 2, &panels, None, &mut c, n);
        for i in 0..2 {
            for j in 0..n {
                let dot = (0..k).fold(0f32, |s, p| s + q[i * k + p] * keys[j * k + p]);
                assert_eq!(c[i * n + j], dot);
            }
        }
    }

    #[test]
    fn int8_panels_give_the_product_of_their_dequantized_values_bit_for_bit() {
        for (k, n, groups, scaled) in
            [(16, 9, 1, None), (16, 9, 4, Some((3, 0.17677669))), (64, 20, 8, None), (5, 3, 1, None)]
        {
            let q: Vec<i8> = (0..n * k).map(|i| ((i * 37 % 255) as i32 - 127) as i8).collect();
            let scales: Vec<f32> = (0..n * groups).map(|i| 0.001 + i as f32 * 0.0007).collect();
            // The weight `[n, k]` as a file's dequantization gives it, q · scale in f32, then the
            // first rows scaled as the model folds the attention scale into the queries.
            let group = k / groups;
            let (rows, factor) = scaled.unwrap_or((0, 1.0));
            let weight = |p: usize, j: usize| {
                let w = q[j * k + p] as f32 * scales[j * groups + p / group];
                if j < rows { w * factor } else { w }
            };
            let (m, lda) = (7, k + 1);
            let a = values(m * lda, 8);
            let bias = values(n, 9);
            let mut want = vec![0f32; m * n];
            gemm(&a, lda, m, &Panels::new(k, n, weight), Some(&bias), &mut want, n);
            let packed = Panels::int8(k, n, |p, j| q[j * k + p], scales.clone(), groups, scaled);
            let mut got = vec![f32::NAN; m * n];
            gemm(&a, lda, m, &packed, Some(&bias), &mut got, n);
            assert_eq!(got, want, "k {k} n {n} groups {groups}");
        }
    }

    #[test]
    #[should_panic(expected = "3 groups do not divide 16 inputs")]
    fn int8_groups_must_divide_the_inputs() {
        Panels::int8(16, 2, |_, _| 1, vec![1.0; 6], 3, None);
    }

    #[test]
    #[should_panic(expected = "rows of stride")]
    fn a_short_input_is_refused() {
        let panels = Panels::new(4, 8, |_, _| 1.0);
        let mut c = vec![0f32; 16];
        gemm(&[1.0; 7], 4, 2, &panels, None, &mut c, 8);
    }
}
