//! C = A·B + bias for an int8 weight B, multiplied in integers: each row of A is quantized at run
//! time to 16-bit integers with its own scale (max |a| ↦ 32767), and `i32x4.dot_i16x8_s` forms eight
//! products a cycle where the f32 kernel forms four in two instructions, from a quarter of the
//! weight bytes. Integer sums are turned into f32 and scaled once per group of the weight's scales
//! (and at least every [`CHUNK`] inputs, so no sum can overflow), then by the row's scale:
//!
//! c[i, j] = bias[j] + (sᵢ · fⱼ) · Σ_g scale[j, g] · Σ_{p ∈ g} qa[i, p] · qw[p, j]
//!
//! with fⱼ the factor folded into the query columns. Rows of A are quantized to 16 bits rather than
//! 8 because the instruction takes 16-bit lanes either way: the inputs' rounding (2⁻¹⁶ of the
//! row's largest value) then stays far below the weights' (2⁻⁸ of the column's), which is what the
//! int8 fidelity bounds measure. The sums follow a fixed order, so the browser and the native
//! tests agree bit for bit.
//!
//! Natively on x86-64 the same sums run on AVX2's eight lanes, with AVX-512 VNNI's fused
//! `vpdpwssd` where the CPU has it ([`super::avx2`]), two panels a tile: integer sums are exact, so
//! the bits are the same as the four-lane kernel's, and the tests hold every kernel to the formula.

use super::lanes::{F4, I4, Pairs};
use super::{Int8Panels, MR, NR, Panels, Values, gemm};

/// Inputs summed in i32 before the sum goes to f32: 512 · 32767 · 128 < 2³¹, so no weights or
/// inputs can overflow it.
pub const CHUNK: usize = 512;
/// The largest quantized input.
const LEVELS: f32 = 32767.0;

/// Whether [`gemm_int8`] multiplies `b` in integers: int8 panels whose scale groups hold an even
/// number of inputs (so no pair of inputs straddles two scales), or a single group.
pub fn in_integers(b: &Panels) -> bool {
    match &b.values {
        Values::Int8(p) => p.groups == 1 || (b.k / p.groups).is_multiple_of(2),
        Values::F32(_) => false,
    }
}

/// Rows of A as 16-bit integers, `width` (k rounded up to even, zero-padded) apart, each with the
/// scale that turns them back.
struct Quantized {
    values: Vec<i16>,
    scales: Vec<f32>,
    width: usize,
}

fn quantize_rows(a: &[f32], lda: usize, m: usize, k: usize) -> Quantized {
    let width = k.div_ceil(2) * 2;
    let mut values = vec![0i16; m * width];
    let mut scales = Vec::with_capacity(m);
    for (i, out) in values.chunks_exact_mut(width).enumerate() {
        let row = &a[i * lda..][..k];
        let (max, finite) = largest(row);
        // A NaN or an infinity makes the scale NaN, so the row's outputs are not finite either, as
        // in f32.
        let (scale, inverse) = match max {
            _ if !finite => (f32::NAN, 0.0),
            0.0 => (0.0, 0.0),
            max => (max / LEVELS, LEVELS / max),
        };
        // Eight at a time; the last few through the same rounding, one vector padded with zeros.
        let inverse = F4::splat(inverse);
        for (q, v) in out.chunks_mut(8).zip(row.chunks(8)) {
            let ints = if v.len() == 8 {
                Pairs::round(F4::load(&v[..4]).mul(inverse), F4::load(&v[4..]).mul(inverse))
            } else {
                let mut eight = [0f32; 8];
                eight[..v.len()].copy_from_slice(v);
                Pairs::round(F4::load(&eight[..4]).mul(inverse), F4::load(&eight[4..]).mul(inverse))
            };
            if q.len() == 8 {
                ints.store(q);
            } else {
                let mut all = [0i16; 8];
                ints.store(&mut all);
                q.copy_from_slice(&all[..q.len()]);
            }
        }
        scales.push(scale);
    }
    Quantized { values, scales, width }
}

/// max |v| over `row`, and whether every value is finite (x · 0 is 0 for those, NaN otherwise).
fn largest(row: &[f32]) -> (f32, bool) {
    let (mut top, mut poison) = (F4::splat(0.0), F4::splat(0.0));
    let zero = F4::splat(0.0);
    for v in row.chunks(4) {
        let v = if v.len() == 4 {
            F4::load(v)
        } else {
            let mut four = [0f32; 4];
            four[..v.len()].copy_from_slice(v);
            F4::load(&four)
        };
        top = v.max_abs(top);
        poison = poison.add_mul(v, zero);
    }
    let (mut tops, mut poisons) = ([0f32; 4], [0f32; 4]);
    top.store(&mut tops);
    poison.store(&mut poisons);
    (tops.into_iter().fold(0f32, f32::max), poisons.iter().all(|p| *p == 0.0))
}

/// As [`gemm`], in integers where [`in_integers`] holds for `b` (else it is [`gemm`]).
///
/// # Panics
/// When a slice is too short for its stride and shape, or `bias` does not have n entries.
pub fn gemm_int8(a: &[f32], lda: usize, m: usize, b: &Panels, bias: Option<&[f32]>, c: &mut [f32], ldc: usize) {
    gemm_int8_on(Lanes::best(), a, lda, m, b, bias, c, ldc)
}

#[allow(clippy::too_many_arguments)]
fn gemm_int8_on(
    lanes: Lanes,
    a: &[f32],
    lda: usize,
    m: usize,
    b: &Panels,
    bias: Option<&[f32]>,
    c: &mut [f32],
    ldc: usize,
) {
    let (k, n) = (b.k, b.n);
    let Values::Int8(weights) = &b.values else { return gemm(a, lda, m, b, bias, c, ldc) };
    if !in_integers(b) {
        return gemm(a, lda, m, b, bias, c, ldc);
    }
    if !super::has_work(a, lda, m, b, bias, c.len(), ldc) {
        return;
    }
    let rows = quantize_rows(a, lda, m, k);
    let panels = (0..n.div_ceil(NR)).map(|j| Panel::new(weights, &rows, bias, j, k, n)).collect::<Vec<_>>();
    // Row blocks on separate threads natively: each output is still the same sum in the same order.
    #[cfg(not(target_arch = "wasm32"))]
    {
        let block = rows_per_thread(m, rayon::current_num_threads());
        if block < m {
            use rayon::prelude::*;
            c.par_chunks_mut(block * ldc).enumerate().for_each(|(i, c)| {
                into_rows(&rows, &panels, i * block..((i + 1) * block).min(m), c, ldc, lanes);
            });
            return;
        }
    }
    into_rows(&rows, &panels, 0..m, c, ldc, lanes);
}

/// Rows per thread: whole tiles of [`MR`], one block per thread.
#[cfg(not(target_arch = "wasm32"))]
fn rows_per_thread(m: usize, threads: usize) -> usize {
    m.div_ceil(threads.max(1)).div_ceil(MR) * MR
}

/// Which vectors form the integer sums: the same bits either way.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lanes {
    /// [`lanes`](super::lanes): WebAssembly SIMD in the browser, SSE2 natively.
    Four,
    /// AVX2's eight, natively on CPUs that have it.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// AVX2's eight with AVX-512 VNNI's fused pair products.
    #[cfg(target_arch = "x86_64")]
    Vnni,
}

impl Lanes {
    fn best() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use super::avx2::{available, vnni_available};
            if vnni_available() {
                return Lanes::Vnni;
            }
            if available() {
                return Lanes::Avx2;
            }
        }
        Lanes::Four
    }
}

/// Rows `range` of C (`c` starts at the range's first row) against every panel.
fn into_rows(
    rows: &Quantized,
    panels: &[Panel],
    range: std::ops::Range<usize>,
    c: &mut [f32],
    ldc: usize,
    lanes: Lanes,
) {
    let mut out = Out { rows, c, ldc, range, lanes };
    match lanes {
        Lanes::Four => {
            for (j, panel) in panels.iter().enumerate() {
                out.tiles::<1, MR>([panel], j);
            }
        }
        // Two panels a tile, so each input is loaded once for sixteen columns. The inner loop
        // holds 4 rows × 2 panels of integer sums, two weight vectors and an input: 11 of AVX2's
        // 16 registers; AVX-512's 32 hold 8 rows × 2 (the f32 sums wait outside that loop).
        #[cfg(target_arch = "x86_64")]
        Lanes::Avx2 => out.panel_pairs::<MR>(panels),
        #[cfg(target_arch = "x86_64")]
        Lanes::Vnni => out.panel_pairs::<{ 2 * MR }>(panels),
    }
}

/// Where [`into_rows`] writes, and with what.
struct Out<'a, 'c> {
    rows: &'a Quantized,
    c: &'c mut [f32],
    ldc: usize,
    range: std::ops::Range<usize>,
    lanes: Lanes,
}

impl Out<'_, '_> {
    #[cfg(target_arch = "x86_64")]
    fn panel_pairs<const R: usize>(&mut self, panels: &[Panel]) {
        let mut pairs = panels.chunks_exact(2);
        for (i, pair) in pairs.by_ref().enumerate() {
            self.tiles::<2, R>([&pair[0], &pair[1]], 2 * i);
        }
        if let [last] = pairs.remainder() {
            self.tiles::<1, R>([last], panels.len() - 1);
        }
    }

    /// Every row against panels `j..j + P`: tiles of R rows, then of [`MR`], then single rows.
    fn tiles<const P: usize, const R: usize>(&mut self, panels: [&Panel; P], j: usize) {
        let mut row = self.range.start;
        while row + R <= self.range.end {
            self.tile::<P, R>(panels, j, row);
            row += R;
        }
        while R > MR && row + MR <= self.range.end {
            self.tile::<P, MR>(panels, j, row);
            row += MR;
        }
        for row in row..self.range.end {
            self.tile::<P, 1>(panels, j, row);
        }
    }

    #[inline(always)]
    fn tile<const P: usize, const R: usize>(&mut self, panels: [&Panel; P], j: usize, row: usize) {
        let sums = Panel::tile::<P, R>(panels, self.rows, row, self.lanes);
        for (p, (panel, sums)) in panels.iter().zip(&sums).enumerate() {
            let at = (row - self.range.start) * self.ldc + (j + p) * NR;
            super::store(sums, &mut self.c[at..], self.ldc, panel.columns);
        }
    }
}

/// One panel of [`NR`] columns with what its outputs need besides the products.
struct Panel<'a> {
    q: &'a [i8],
    scales: &'a [f32],
    group: usize,
    k: usize,
    columns: usize,
    start: [F4; 2],
    factors: [F4; 2],
}

impl<'a> Panel<'a> {
    /// Panel `j`: columns `j·NR..` of the weights, with their biases and query factors.
    fn new(weights: &'a Int8Panels, rows: &Quantized, bias: Option<&[f32]>, j: usize, k: usize, n: usize) -> Self {
        let Int8Panels { q, scales, groups, scaled: (scaled, factor) } = weights;
        let panel_size = rows.width * NR;
        let columns = (n - j * NR).min(NR);
        let mut start = [0f32; NR];
        let mut factors = [1f32; NR];
        for c in 0..columns {
            start[c] = bias.map_or(0.0, |b| b[j * NR + c]);
            if j * NR + c < *scaled {
                factors[c] = *factor;
            }
        }
        Panel {
            q: &q[j * panel_size..][..panel_size],
            scales: &scales[j * groups * NR..][..groups * NR],
            group: k / groups,
            k,
            columns,
            start: [F4::load(&start[..4]), F4::load(&start[4..])],
            factors: [F4::load(&factors[..4]), F4::load(&factors[4..])],
        }
    }

    /// Rows `first..first + R` of A against `panels` (of one weight): R × [`NR`] outputs each.
    #[inline(always)]
    fn tile<const P: usize, const R: usize>(
        panels: [&Self; P],
        a: &Quantized,
        first: usize,
        lanes: Lanes,
    ) -> [[[F4; 2]; R]; P] {
        let width = a.width;
        let rows = &a.values[first * width..][..R * width];
        let (k, group) = (panels[0].k, panels[0].group);
        // Bounds are checked here once; in the loop they would cost as much as the arithmetic.
        for panel in panels {
            assert!(panel.q.len() >= k.div_ceil(2) * 2 * NR && (panel.k, panel.group) == (k, group));
            assert_eq!(panel.scales.len(), panels[0].scales.len());
        }
        // The last pair of an odd k reads one padding zero.
        assert!(rows.len() >= R * width && k.div_ceil(2) * 2 <= width);
        #[cfg(target_arch = "x86_64")]
        let wide = |sums: [[[f32; NR]; R]; P]| sums.map(|s| s.map(|s| [F4::load(&s[..4]), F4::load(&s[4..])]));
        let sums: [[[F4; 2]; R]; P] = match lanes {
            Lanes::Four => std::array::from_fn(|p| panels[p].group_sums::<R>(rows, width)),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Lanes::Avx2` is only chosen where the CPU has it; lengths asserted above.
            Lanes::Avx2 => wide(unsafe {
                super::avx2::group_sums::<R, P>(panels.map(|p| p.q), panels.map(|p| p.scales), group, k, rows, width)
            }),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Lanes::Vnni` is only chosen where the CPU has it; lengths asserted above.
            Lanes::Vnni => wide(unsafe {
                super::avx2::group_sums_vnni::<R, P>(
                    panels.map(|p| p.q),
                    panels.map(|p| p.scales),
                    group,
                    k,
                    rows,
                    width,
                )
            }),
        };
        std::array::from_fn(|p| panels[p].finish(&sums[p], a, first))
    }

    /// bias + sums · (row scale · query factor), per output.
    #[inline(always)]
    fn finish<const R: usize>(&self, sums: &[[F4; 2]; R], a: &Quantized, first: usize) -> [[F4; 2]; R] {
        std::array::from_fn(|r| {
            let row = F4::splat(a.scales[first + r]);
            let s = &sums[r];
            [
                self.start[0].add_mul(s[0], row.mul(self.factors[0])),
                self.start[1].add_mul(s[1], row.mul(self.factors[1])),
            ]
        })
    }

    /// Σ_g scale[g] · Σ_{p ∈ g} rows[r, p] · q[p, ·], integer sums at most [`CHUNK`] long.
    #[inline(always)]
    fn group_sums<const R: usize>(&self, rows: &[i16], width: usize) -> [[F4; 2]; R] {
        let mut sums = [[F4::splat(0.0); 2]; R];
        for (g, scale) in self.scales.chunks_exact(NR).enumerate() {
            let scale = [F4::load(&scale[..4]), F4::load(&scale[4..])];
            let end = ((g + 1) * self.group).min(self.k);
            let mut p = g * self.group;
            while p < end {
                let stop = (p + CHUNK).min(end);
                let mut ints = [[I4::zero(); 2]; R];
                for pair in p / 2..stop.div_ceil(2) {
                    // SAFETY: pair < ⌈k/2⌉ and 2·pair + 1 < width, within the lengths `tile` asserts.
                    unsafe {
                        let (b0, b1) = Pairs::widen_ptr(self.q.as_ptr().add(pair * 2 * NR));
                        for (r, s) in ints.iter_mut().enumerate() {
                            let x = Pairs::splat_ptr(rows.as_ptr().add(r * width + 2 * pair));
                            *s = [s[0].add_dot(x, b0), s[1].add_dot(x, b1)];
                        }
                    }
                }
                for (s, i) in sums.iter_mut().zip(&ints) {
                    *s = [s[0].add_mul(i[0].to_f32(), scale[0]), s[1].add_mul(i[1].to_f32(), scale[1])];
                }
                p = stop;
            }
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The formula in the module's documentation, scalar and in its order, with i64 sums that
    /// must stay within i32.
    fn reference(
        a: &[f32],
        lda: usize,
        m: usize,
        (k, n): (usize, usize),
        weights: &Weights,
        bias: Option<&[f32]>,
    ) -> Vec<f32> {
        let rows = quantize_rows(a, lda, m, k);
        let group = k / weights.groups;
        let mut c = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut sum = 0f32;
                for g in 0..weights.groups {
                    for chunk in (g * group..(g + 1) * group).collect::<Vec<_>>().chunks(CHUNK) {
                        let ints: i64 = chunk
                            .iter()
                            .map(|&p| rows.values[i * rows.width + p] as i64 * weights.q[j * k + p] as i64)
                            .sum();
                        let ints = i32::try_from(ints).expect("a chunk's sum fits in i32");
                        sum += ints as f32 * weights.scales[j * weights.groups + g];
                    }
                }
                let factor = if j < weights.scaled.0 { weights.scaled.1 } else { 1.0 };
                c[i * n + j] = bias.map_or(0.0, |b| b[j]) + sum * (rows.scales[i] * factor);
            }
        }
        c
    }

    /// A weight `[n, k]` as a file stores it.
    pub struct Weights {
        pub q: Vec<i8>,
        pub scales: Vec<f32>,
        pub groups: usize,
        pub scaled: (usize, f32),
    }

    impl Weights {
        fn new(k: usize, n: usize, groups: usize, scaled: (usize, f32)) -> Self {
            let q = (0..n * k).map(|i| ((i * 37 + i / 7) % 255) as i32 - 127).map(|v| v as i8).collect();
            let scales = (0..n * groups).map(|i| 0.001 + (i % 13) as f32 * 0.0007).collect();
            Self { q, scales, groups, scaled }
        }

        fn panels(&self, k: usize, n: usize) -> Panels {
            Panels::int8(k, n, |p, j| self.q[j * k + p], self.scales.clone(), self.groups, Some(self.scaled))
        }

        fn dequantized(&self, k: usize, n: usize) -> Panels {
            let group = k / self.groups;
            Panels::new(k, n, |p, j| {
                let w = self.q[j * k + p] as f32 * self.scales[j * self.groups + p / group];
                if j < self.scaled.0 { w * self.scaled.1 } else { w }
            })
        }
    }

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| ((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.0 - 1.0).collect()
    }

    /// The lanes this CPU runs: every kernel is held to the same formula.
    fn every_lanes() -> Vec<Lanes> {
        let mut all = vec![Lanes::Four];
        #[cfg(target_arch = "x86_64")]
        {
            use crate::model::gemm::avx2::{available, vnni_available};
            if available() {
                all.push(Lanes::Avx2);
            }
            if vnni_available() {
                all.push(Lanes::Vnni);
            }
        }
        all
    }

    #[test]
    fn the_fastest_lanes_are_chosen_where_the_cpu_has_them() {
        assert_eq!(Lanes::best(), *every_lanes().last().unwrap());
    }

    #[test]
    fn every_edge_matches_the_formula_bit_for_bit() {
        // Rows around the 4- and 8-row tiles, columns around one and two panels, odd k (a padded pair), groups of 2,
        // 8 and 16, one group longer than a chunk.
        let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        for (k, groups) in [(1, 1), (5, 1), (64, 1), (64, 8), (64, 4), (64, 32), (1100, 1), (1100, 2)] {
            for m in [1, 4, 5, 11, 8, 13, 17] {
                for n in [1, 8, 9, 21] {
                    let lda = k + 3;
                    let a = values(m * lda, 1);
                    let weights = Weights::new(k, n, groups, (n / 3, 0.125));
                    let bias = values(n, 2);
                    for bias in [None, Some(bias.as_slice())] {
                        let want = reference(&a, lda, m, (k, n), &weights, bias);
                        for lanes in every_lanes() {
                            let mut c = vec![f32::NAN; m * n];
                            // One thread: all m rows in one block, so every tile height is reached
                            // however many cores run the tests.
                            one_thread
                                .install(|| gemm_int8_on(lanes, &a, lda, m, &weights.panels(k, n), bias, &mut c, n));
                            assert_eq!(c, want, "{lanes:?} m {m} n {n} k {k} groups {groups} bias {}", bias.is_some());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn row_blocks_on_several_threads_give_the_same_bits_and_leave_the_stride_gaps_alone() {
        assert_eq!([1, 4, 5, 13, 50].map(|m| rows_per_thread(m, 3)), [4, 4, 4, 8, 20]);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let (k, n, ldc) = (64, 21, 24);
        let weights = Weights::new(k, n, 8, (7, 0.125));
        for m in [5, 13, 50] {
            let a = values(m * k, 3);
            let mut c = vec![-7.0; (m - 1) * ldc + n];
            pool.install(|| gemm_int8(&a, k, m, &weights.panels(k, n), None, &mut c, ldc));
            let want = reference(&a, k, m, (k, n), &weights, None);
            for row in 0..m {
                assert_eq!(c[row * ldc..][..n], want[row * n..][..n], "m {m} row {row}");
                if row + 1 < m {
                    assert!(c[row * ldc + n..(row + 1) * ldc].iter().all(|&v| v == -7.0), "m {m} gap {row}");
                }
            }
        }
    }

    #[test]
    fn integers_agree_with_the_dequantized_weights_in_f32() {
        // The inputs' rounding is 2⁻¹⁶ of each row's largest value: far below what the weights'
        // int8 already cost, which the file's fidelity bounds cover.
        let (m, k, n) = (9, 192, 40);
        let a = values(m * k, 3);
        for groups in [1, 24] {
            let weights = Weights::new(k, n, groups, (10, 0.125));
            let (mut ints, mut floats) = (vec![0f32; m * n], vec![0f32; m * n]);
            gemm_int8(&a, k, m, &weights.panels(k, n), None, &mut ints, n);
            gemm(&a, k, m, &weights.dequantized(k, n), None, &mut floats, n);
            let largest = floats.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (x, y) in ints.iter().zip(&floats) {
                assert!((x - y).abs() <= 1e-4 * largest, "{x} vs {y} (largest {largest})");
            }
        }
    }

    #[test]
    fn the_largest_inputs_and_weights_do_not_overflow() {
        // Every product at 32767 · (−128), one whole chunk in one sum.
        let (m, k, n) = (2, 2 * CHUNK + 2, 3);
        let a = vec![-3.5f32; m * k];
        let panels = Panels::int8(k, n, |_, _| -128, vec![0.5; n], 1, None);
        let mut c = vec![0f32; m * n];
        gemm_int8(&a, k, m, &panels, None, &mut c, n);
        let want = 3.5 * 128.0 * 0.5 * k as f32;
        assert!(c.iter().all(|&v| (v - want).abs() <= 1e-5 * want), "{c:?} vs {want}");
    }

    #[test]
    fn a_zero_row_stays_zero_and_a_nan_or_infinite_row_is_not_finite() {
        let (k, n) = (6, 2);
        let mut a = vec![0f32; 3 * k];
        a[k + 1] = f32::NAN;
        a[2 * k + 5] = f32::NEG_INFINITY;
        let panels = Panels::int8(k, n, |p, j| (p + j) as i8, vec![0.25; n], 1, None);
        let mut c = vec![1f32; 3 * n];
        gemm_int8(&a, k, 3, &panels, Some(&[0.5, -0.5]), &mut c, n);
        assert_eq!(&c[..n], &[0.5, -0.5]);
        assert!(c[n..].iter().all(|v| v.is_nan()), "{c:?}");
    }

    #[test]
    fn odd_groups_and_f32_panels_take_the_f32_product() {
        let (m, k, n) = (3, 15, 5);
        let a = values(m * k, 4);
        let weights = Weights::new(k, n, 5, (0, 1.0));
        assert!(!in_integers(&weights.panels(k, n)));
        let (mut got, mut want) = (vec![0f32; m * n], vec![0f32; m * n]);
        gemm_int8(&a, k, m, &weights.panels(k, n), None, &mut got, n);
        gemm(&a, k, m, &weights.panels(k, n), None, &mut want, n);
        assert_eq!(got, want);
        let floats = weights.dequantized(k, n);
        assert!(!in_integers(&floats));
        gemm_int8(&a, k, m, &floats, None, &mut got, n);
        gemm(&a, k, m, &floats, None, &mut want, n);
        assert_eq!(got, want);
    }
}
