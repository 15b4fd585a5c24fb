//! The integer tile's inner sums on AVX2, chosen at run time on x86-64 CPUs that have it: one
//! `_mm256_madd_epi16` forms sixteen products into a panel's eight columns, where the four-lane
//! kernel needs two instructions and two widenings for the same. Integer sums are exact and each
//! group's f32 step is the four-lane kernel's (convert, multiply, add; no fused multiply-add), so
//! both give the same bits.

use core::arch::x86_64::*;

use super::NR;
use super::int8::CHUNK;

/// Whether this CPU runs [`group_sums`].
pub fn available() -> bool {
    std::is_x86_feature_detected!("avx2")
}

/// Whether this CPU also runs [`group_sums_vnni`] (AVX-512 VNNI on 256-bit registers).
pub fn vnni_available() -> bool {
    available() && std::is_x86_feature_detected!("avx512vnni") && std::is_x86_feature_detected!("avx512vl")
}

/// One kernel body, two instruction sets: `$dot(acc, x, b)` adds the eight pair products to `acc`.
/// (Loops, not `array::from_fn`: its closure would be called from inside `from_fn`, which is
/// compiled without these target features, so the intrinsics could not be inlined there.)
macro_rules! group_sums {
    ($(#[$attr:meta])* $name:ident, $dot:expr) => {
        $(#[$attr])*
        pub unsafe fn $name<const R: usize, const P: usize>(
            q: [&[i8]; P],
            scales: [&[f32]; P],
            group: usize,
            k: usize,
            rows: &[i16],
            width: usize,
        ) -> [[[f32; NR]; R]; P] {
            debug_assert!(rows.len() >= R * width && k.div_ceil(2) * 2 <= width);
            debug_assert!((0..P).all(|p| q[p].len() >= k.div_ceil(2) * 2 * NR && scales[p].len() == scales[0].len()));
            let mut sums = [[_mm256_setzero_ps(); R]; P];
            for g in 0..scales[0].len() / NR {
                let mut scale = [_mm256_setzero_ps(); P];
                for p in 0..P {
                    // SAFETY: NR = 8 values of group g.
                    scale[p] = unsafe { _mm256_loadu_ps(scales[p].as_ptr().add(g * NR)) };
                }
                let end = ((g + 1) * group).min(k);
                let mut start = g * group;
                while start < end {
                    let stop = (start + CHUNK).min(end);
                    let mut ints = [[_mm256_setzero_si256(); R]; P];
                    for pair in start / 2..stop.div_ceil(2) {
                        // SAFETY: pair < ⌈k/2⌉ and 2·pair + 1 < width, within the lengths above.
                        unsafe {
                            let mut b = [_mm256_setzero_si256(); P];
                            for p in 0..P {
                                b[p] = _mm256_cvtepi8_epi16(_mm_loadu_si128(q[p].as_ptr().add(pair * 2 * NR).cast()));
                            }
                            for r in 0..R {
                                let x = _mm256_set1_epi32(
                                    rows.as_ptr().add(r * width + 2 * pair).cast::<i32>().read_unaligned(),
                                );
                                for p in 0..P {
                                    ints[p][r] = $dot(ints[p][r], x, b[p]);
                                }
                            }
                        }
                    }
                    for p in 0..P {
                        for r in 0..R {
                            sums[p][r] = _mm256_add_ps(sums[p][r], _mm256_mul_ps(_mm256_cvtepi32_ps(ints[p][r]), scale[p]));
                        }
                    }
                    start = stop;
                }
            }
            let mut out = [[[0f32; NR]; R]; P];
            for p in 0..P {
                for r in 0..R {
                    // SAFETY: NR = 8 values.
                    unsafe { _mm256_storeu_ps(out[p][r].as_mut_ptr(), sums[p][r]) };
                }
            }
            out
        }
    };
}

group_sums!(
    /// Σ_g scale[g] · Σ_{p ∈ g} rows[r, p] · q[p, ·] for R rows (`width` apart) and P panels of one
    /// weight, in the order of the four-lane kernel's `Panel::group_sums`.
    ///
    /// # Safety
    /// The CPU has AVX2 ([`available`]); each `q` holds ⌈k/2⌉ pairs of [`NR`] columns, each `scales`
    /// the same number of whole rows of [`NR`], `rows` R rows of `width ≥ k` (k rounded up to even).
    #[target_feature(enable = "avx2")]
    group_sums,
    |acc, x, b| _mm256_add_epi32(acc, _mm256_madd_epi16(x, b))
);

group_sums!(
    /// [`group_sums`] with VNNI's `vpdpwssd`, the products and their sum in one instruction.
    ///
    /// # Safety
    /// As [`group_sums`], and the CPU has AVX-512 VNNI and VL ([`vnni_available`]).
    #[target_feature(enable = "avx2,avx512vnni,avx512vl")]
    group_sums_vnni,
    |acc, x, b| _mm256_dpwssd_epi32(acc, x, b)
);
