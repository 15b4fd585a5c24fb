//! Four-lane vectors for the products: WebAssembly SIMD in the browser, SSE2 on x86-64 (every such
//! CPU has it), plain arrays elsewhere. None fuses a multiply with an add, so all three give the
//! same bits, and the native tests check the very loops the browser runs.
//!
//! - [`F4`]: four f32 (also the lanes of the analyses' host passes, `analysis::host`).
//! - [`I4`]: four i32 sums, grown by [`I4::add_dot`] from eight i16 products (`i32x4.dot_i16x8_s`:
//!   lane i gets x₂ᵢ·y₂ᵢ + x₂ᵢ₊₁·y₂ᵢ₊₁).
//! - [`Pairs`]: eight i16, a row of inputs or a pair of weights per lane pair.

pub use imp::{F4, I4, Pairs};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct F4(v128);

    #[derive(Clone, Copy)]
    pub struct I4(v128);

    #[derive(Clone, Copy)]
    pub struct Pairs(v128);

    impl F4 {
        #[inline(always)]
        pub fn splat(v: f32) -> Self {
            Self(f32x4_splat(v))
        }

        #[inline(always)]
        pub fn load(s: &[f32]) -> Self {
            assert!(s.len() >= 4);
            // SAFETY: four values are there; v128_load has no alignment requirement.
            unsafe { Self::load_ptr(s.as_ptr()) }
        }

        /// # Safety
        /// `p` points at four readable f32.
        #[inline(always)]
        pub unsafe fn load_ptr(p: *const f32) -> Self {
            Self(unsafe { v128_load(p.cast()) })
        }

        #[inline(always)]
        pub fn store(self, s: &mut [f32]) {
            assert!(s.len() >= 4);
            // SAFETY: four values are there; v128_store has no alignment requirement.
            unsafe { v128_store(s.as_mut_ptr().cast(), self.0) }
        }

        /// self + x·y, rounded twice (WebAssembly SIMD has no fused multiply-add outside relaxed SIMD).
        #[inline(always)]
        pub fn add_mul(self, x: Self, y: Self) -> Self {
            Self(f32x4_add(self.0, f32x4_mul(x.0, y.0)))
        }

        #[inline(always)]
        pub fn mul(self, x: Self) -> Self {
            Self(f32x4_mul(self.0, x.0))
        }

        /// The larger of each lane's |self| and `x` (`x` where either is NaN).
        #[inline(always)]
        pub fn max_abs(self, x: Self) -> Self {
            Self(f32x4_pmax(x.0, f32x4_abs(self.0)))
        }
    }

    // The analyses' host passes' operations (`analysis::host`, built with the CPU backend).
    #[cfg_attr(not(feature = "cpu"), allow(dead_code))]
    impl F4 {
        #[inline(always)]
        pub fn add(self, x: Self) -> Self {
            Self(f32x4_add(self.0, x.0))
        }

        #[inline(always)]
        pub fn sub(self, x: Self) -> Self {
            Self(f32x4_sub(self.0, x.0))
        }

        #[inline(always)]
        pub fn div(self, x: Self) -> Self {
            Self(f32x4_div(self.0, x.0))
        }

        /// (m, e) with self = m·2ᵉ and m in [½, 1), for positive normal values.
        #[inline(always)]
        pub fn frexp(self) -> (Self, Self) {
            let m = v128_or(v128_and(self.0, i32x4_splat(0x007f_ffff)), i32x4_splat(0x3f00_0000));
            let e = f32x4_convert_i32x4(i32x4_sub(u32x4_shr(self.0, 23), i32x4_splat(126)));
            (Self(m), Self(e))
        }

        /// Per lane, `then` where self < `bound`, else `otherwise`.
        #[inline(always)]
        pub fn select_lt(self, bound: Self, then: Self, otherwise: Self) -> Self {
            Self(v128_bitselect(then.0, otherwise.0, f32x4_lt(self.0, bound.0)))
        }
    }

    impl I4 {
        #[inline(always)]
        pub fn zero() -> Self {
            Self(i32x4_splat(0))
        }

        #[inline(always)]
        pub fn add_dot(self, x: Pairs, y: Pairs) -> Self {
            Self(i32x4_add(self.0, i32x4_dot_i16x8(x.0, y.0)))
        }

        #[inline(always)]
        pub fn to_f32(self) -> F4 {
            F4(f32x4_convert_i32x4(self.0))
        }
    }

    impl Pairs {
        /// Eight values rounded to the nearest integer, ties to even, saturating at the i16 range.
        #[inline(always)]
        pub fn round(lo: F4, hi: F4) -> Self {
            let (lo, hi) = (i32x4_trunc_sat_f32x4(f32x4_nearest(lo.0)), i32x4_trunc_sat_f32x4(f32x4_nearest(hi.0)));
            Self(i16x8_narrow_i32x4(lo, hi))
        }

        #[inline(always)]
        pub fn store(self, s: &mut [i16]) {
            assert!(s.len() >= 8);
            // SAFETY: eight values are there; v128_store has no alignment requirement.
            unsafe { v128_store(s.as_mut_ptr().cast(), self.0) }
        }

        /// `p[0]`, `p[1]` in every lane pair.
        ///
        /// # Safety
        /// `p` points at two readable i16.
        #[inline(always)]
        pub unsafe fn splat_ptr(p: *const i16) -> Self {
            Self(unsafe { v128_load32_splat(p.cast()) })
        }

        /// Sixteen i8, sign-extended: the first eight and the last eight.
        ///
        /// # Safety
        /// `p` points at sixteen readable i8.
        #[inline(always)]
        pub unsafe fn widen_ptr(p: *const i8) -> (Self, Self) {
            let v = unsafe { v128_load(p.cast()) };
            (Self(i16x8_extend_low_i8x16(v)), Self(i16x8_extend_high_i8x16(v)))
        }

        /// Lanes 0, 2, 4, 6 and lanes 1, 3, 5, 7, each widened to i32: two weight rows pulled apart.
        #[inline(always)]
        pub fn split(self) -> (I4, I4) {
            (I4(i32x4_shr(i32x4_shl(self.0, 16), 16)), I4(i32x4_shr(self.0, 16)))
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use core::arch::x86_64::*;

    #[derive(Clone, Copy)]
    pub struct F4(__m128);

    #[derive(Clone, Copy)]
    pub struct I4(__m128i);

    #[derive(Clone, Copy)]
    pub struct Pairs(__m128i);

    // SAFETY (every block below): SSE2 is part of x86-64, so its instructions are always there.
    impl F4 {
        #[inline(always)]
        pub fn splat(v: f32) -> Self {
            Self(unsafe { _mm_set1_ps(v) })
        }

        #[inline(always)]
        pub fn load(s: &[f32]) -> Self {
            assert!(s.len() >= 4);
            // SAFETY: four values are there.
            unsafe { Self::load_ptr(s.as_ptr()) }
        }

        /// # Safety
        /// `p` points at four readable f32.
        #[inline(always)]
        pub unsafe fn load_ptr(p: *const f32) -> Self {
            Self(unsafe { _mm_loadu_ps(p) })
        }

        #[inline(always)]
        pub fn store(self, s: &mut [f32]) {
            assert!(s.len() >= 4);
            unsafe { _mm_storeu_ps(s.as_mut_ptr(), self.0) }
        }

        #[inline(always)]
        pub fn add_mul(self, x: Self, y: Self) -> Self {
            Self(unsafe { _mm_add_ps(self.0, _mm_mul_ps(x.0, y.0)) })
        }

        #[inline(always)]
        pub fn mul(self, x: Self) -> Self {
            Self(unsafe { _mm_mul_ps(self.0, x.0) })
        }

        /// The larger of each lane's |self| and `x` (`x` where either is NaN).
        #[inline(always)]
        pub fn max_abs(self, x: Self) -> Self {
            unsafe {
                let abs = _mm_andnot_ps(_mm_set1_ps(-0.0), self.0);
                // maxps(a, b) is a > b ? a : b, so b where either is NaN.
                Self(_mm_max_ps(abs, x.0))
            }
        }
    }

    // The analyses' host passes' operations (`analysis::host`, built with the CPU backend).
    #[cfg_attr(not(feature = "cpu"), allow(dead_code))]
    impl F4 {
        #[inline(always)]
        pub fn add(self, x: Self) -> Self {
            Self(unsafe { _mm_add_ps(self.0, x.0) })
        }

        #[inline(always)]
        pub fn sub(self, x: Self) -> Self {
            Self(unsafe { _mm_sub_ps(self.0, x.0) })
        }

        #[inline(always)]
        pub fn div(self, x: Self) -> Self {
            Self(unsafe { _mm_div_ps(self.0, x.0) })
        }

        /// (m, e) with self = m·2ᵉ and m in [½, 1), for positive normal values.
        #[inline(always)]
        pub fn frexp(self) -> (Self, Self) {
            unsafe {
                let bits = _mm_castps_si128(self.0);
                let m = _mm_or_si128(_mm_and_si128(bits, _mm_set1_epi32(0x007f_ffff)), _mm_set1_epi32(0x3f00_0000));
                let e = _mm_cvtepi32_ps(_mm_sub_epi32(_mm_srli_epi32(bits, 23), _mm_set1_epi32(126)));
                (Self(_mm_castsi128_ps(m)), Self(e))
            }
        }

        /// Per lane, `then` where self < `bound`, else `otherwise`.
        #[inline(always)]
        pub fn select_lt(self, bound: Self, then: Self, otherwise: Self) -> Self {
            unsafe {
                let less = _mm_cmplt_ps(self.0, bound.0);
                Self(_mm_or_ps(_mm_and_ps(less, then.0), _mm_andnot_ps(less, otherwise.0)))
            }
        }
    }

    impl I4 {
        #[inline(always)]
        pub fn zero() -> Self {
            Self(unsafe { _mm_setzero_si128() })
        }

        #[inline(always)]
        pub fn add_dot(self, x: Pairs, y: Pairs) -> Self {
            Self(unsafe { _mm_add_epi32(self.0, _mm_madd_epi16(x.0, y.0)) })
        }

        #[inline(always)]
        pub fn to_f32(self) -> F4 {
            F4(unsafe { _mm_cvtepi32_ps(self.0) })
        }
    }

    impl Pairs {
        /// Eight values rounded to the nearest integer, ties to even (the default rounding mode),
        /// saturating at the i16 range for values within i32's.
        #[inline(always)]
        pub fn round(lo: F4, hi: F4) -> Self {
            Self(unsafe { _mm_packs_epi32(_mm_cvtps_epi32(lo.0), _mm_cvtps_epi32(hi.0)) })
        }

        #[inline(always)]
        pub fn store(self, s: &mut [i16]) {
            assert!(s.len() >= 8);
            unsafe { _mm_storeu_si128(s.as_mut_ptr().cast(), self.0) }
        }

        /// # Safety
        /// `p` points at two readable i16.
        #[inline(always)]
        pub unsafe fn splat_ptr(p: *const i16) -> Self {
            Self(unsafe { _mm_set1_epi32(p.cast::<i32>().read_unaligned()) })
        }

        /// # Safety
        /// `p` points at sixteen readable i8.
        #[inline(always)]
        pub unsafe fn widen_ptr(p: *const i8) -> (Self, Self) {
            unsafe {
                let v = _mm_loadu_si128(p.cast());
                // Each byte into the high half of a 16-bit lane, then shifted down with its sign.
                (Self(_mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8)), Self(_mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8)))
            }
        }

        /// Lanes 0, 2, 4, 6 and lanes 1, 3, 5, 7, each widened to i32: two weight rows pulled apart.
        #[inline(always)]
        pub fn split(self) -> (I4, I4) {
            unsafe { (I4(_mm_srai_epi32(_mm_slli_epi32(self.0, 16), 16)), I4(_mm_srai_epi32(self.0, 16))) }
        }
    }
}

#[cfg(not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64")))]
mod imp {
    #[derive(Clone, Copy)]
    pub struct F4([f32; 4]);

    #[derive(Clone, Copy)]
    pub struct I4([i32; 4]);

    #[derive(Clone, Copy)]
    pub struct Pairs([i16; 8]);

    impl F4 {
        pub fn splat(v: f32) -> Self {
            Self([v; 4])
        }

        pub fn load(s: &[f32]) -> Self {
            Self([s[0], s[1], s[2], s[3]])
        }

        /// # Safety
        /// `p` points at four readable f32.
        pub unsafe fn load_ptr(p: *const f32) -> Self {
            Self(unsafe { std::ptr::read_unaligned(p.cast()) })
        }

        pub fn store(self, s: &mut [f32]) {
            s[..4].copy_from_slice(&self.0);
        }

        pub fn add_mul(self, x: Self, y: Self) -> Self {
            Self(std::array::from_fn(|i| self.0[i] + x.0[i] * y.0[i]))
        }

        pub fn mul(self, x: Self) -> Self {
            Self(std::array::from_fn(|i| self.0[i] * x.0[i]))
        }

        /// The larger of each lane's |self| and `x` (`x` where either is NaN).
        pub fn max_abs(self, x: Self) -> Self {
            Self(std::array::from_fn(|i| if self.0[i].abs() > x.0[i] { self.0[i].abs() } else { x.0[i] }))
        }
    }

    // The analyses' host passes' operations (`analysis::host`, built with the CPU backend).
    #[cfg_attr(not(feature = "cpu"), allow(dead_code))]
    impl F4 {
        pub fn add(self, x: Self) -> Self {
            Self(std::array::from_fn(|i| self.0[i] + x.0[i]))
        }

        pub fn sub(self, x: Self) -> Self {
            Self(std::array::from_fn(|i| self.0[i] - x.0[i]))
        }

        pub fn div(self, x: Self) -> Self {
            Self(std::array::from_fn(|i| self.0[i] / x.0[i]))
        }

        /// (m, e) with self = m·2ᵉ and m in [½, 1), for positive normal values.
        pub fn frexp(self) -> (Self, Self) {
            let bits = self.0.map(f32::to_bits);
            (
                Self(bits.map(|b| f32::from_bits((b & 0x007f_ffff) | 0x3f00_0000))),
                Self(bits.map(|b| ((b >> 23) as i32 - 126) as f32)),
            )
        }

        /// Per lane, `then` where self < `bound`, else `otherwise`.
        pub fn select_lt(self, bound: Self, then: Self, otherwise: Self) -> Self {
            Self(std::array::from_fn(|i| if self.0[i] < bound.0[i] { then.0[i] } else { otherwise.0[i] }))
        }
    }

    impl I4 {
        pub fn zero() -> Self {
            Self([0; 4])
        }

        // Wrapping, as the SIMD instructions are; the callers bound their sums below 2³¹.
        pub fn add_dot(self, x: Pairs, y: Pairs) -> Self {
            Self(std::array::from_fn(|i| {
                let dot =
                    (x.0[2 * i] as i32 * y.0[2 * i] as i32).wrapping_add(x.0[2 * i + 1] as i32 * y.0[2 * i + 1] as i32);
                self.0[i].wrapping_add(dot)
            }))
        }

        pub fn to_f32(self) -> F4 {
            F4(self.0.map(|v| v as f32))
        }
    }

    impl Pairs {
        pub fn round(lo: F4, hi: F4) -> Self {
            let round = |v: f32| v.round_ties_even().clamp(i16::MIN as f32, i16::MAX as f32) as i16;
            Self(std::array::from_fn(|i| round(if i < 4 { lo.0[i] } else { hi.0[i - 4] })))
        }

        pub fn store(self, s: &mut [i16]) {
            s[..8].copy_from_slice(&self.0);
        }

        /// # Safety
        /// `p` points at two readable i16.
        pub unsafe fn splat_ptr(p: *const i16) -> Self {
            let (a, b) = unsafe { (p.read_unaligned(), p.add(1).read_unaligned()) };
            Self([a, b, a, b, a, b, a, b])
        }

        /// # Safety
        /// `p` points at sixteen readable i8.
        pub unsafe fn widen_ptr(p: *const i8) -> (Self, Self) {
            let v: [i8; 16] = unsafe { std::ptr::read_unaligned(p.cast()) };
            (Self(std::array::from_fn(|i| v[i] as i16)), Self(std::array::from_fn(|i| v[8 + i] as i16)))
        }

        /// Lanes 0, 2, 4, 6 and lanes 1, 3, 5, 7, each widened to i32: two weight rows pulled apart.
        pub fn split(self) -> (I4, I4) {
            (I4(std::array::from_fn(|i| self.0[2 * i] as i32)), I4(std::array::from_fn(|i| self.0[2 * i + 1] as i32)))
        }
    }
}
