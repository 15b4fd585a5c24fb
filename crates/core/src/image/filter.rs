//! Fourier low-pass and high-pass filters for the frequency view (the paper, §4: CL leans on low
//! frequencies and shapes, MIM on high frequencies and textures).
//!
//! Each channel of the model's cropped input is transformed with a 2-D FFT; frequencies whose radius
//! |f| / f_Nyquist is above the cut-off (low-pass) or below it (high-pass) are zeroed, and the inverse
//! transform is clamped to 0–255. The high-pass keeps the DC term (the mean colour), so the result
//! stays an image of normal brightness rather than a grey-zero field the model never saw.

use image::{GrayImage, Luma, RgbImage};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex32;
pub use vitscope_protocol::filter::{FilterKind, FrequencyFilter};

/// In-place 2-D FFT (rows, then columns) of a square `n × n` buffer.
fn fft2(data: &mut [Complex32], n: usize, inverse: bool) {
    let mut planner = FftPlanner::<f32>::new();
    let fft = if inverse { planner.plan_fft_inverse(n) } else { planner.plan_fft_forward(n) };
    for row in data.chunks_exact_mut(n) {
        fft.process(row);
    }
    let mut column = vec![Complex32::default(); n];
    for x in 0..n {
        for y in 0..n {
            column[y] = data[y * n + x];
        }
        fft.process(&mut column);
        for y in 0..n {
            data[y * n + x] = column[y];
        }
    }
}

/// |f| / f_Nyquist of FFT bin (y, x) in an `n`-point transform.
fn radius(y: usize, x: usize, n: usize) -> f32 {
    let signed = |i: usize| if i <= n / 2 { i as f32 } else { i as f32 - n as f32 };
    (signed(y).powi(2) + signed(x).powi(2)).sqrt() / (n as f32 / 2.0)
}

fn keeps(filter: &FrequencyFilter, y: usize, x: usize, n: usize) -> bool {
    let r = radius(y, x, n);
    match filter.kind {
        FilterKind::LowPass => r <= filter.cutoff,
        FilterKind::HighPass => r >= filter.cutoff || (y == 0 && x == 0),
    }
}

/// The filter's arithmetic. The filter itself is a `vitscope-protocol` value (the page asks for one).
pub trait ApplyFilter {
    /// The filtered image (square inputs, as every model input is).
    fn apply(&self, image: &RgbImage) -> RgbImage;
}

impl ApplyFilter for FrequencyFilter {
    fn apply(&self, image: &RgbImage) -> RgbImage {
        let (w, h) = image.dimensions();
        assert_eq!(w, h, "model inputs are square");
        let n = w as usize;
        let mut out = image.clone();
        for c in 0..3 {
            let mut data: Vec<Complex32> = image.pixels().map(|p| Complex32::new(p[c] as f32, 0.0)).collect();
            fft2(&mut data, n, false);
            for (i, v) in data.iter_mut().enumerate() {
                if !keeps(self, i / n, i % n, n) {
                    *v = Complex32::default();
                }
            }
            fft2(&mut data, n, true);
            let scale = 1.0 / (n * n) as f32;
            for (p, v) in out.pixels_mut().zip(&data) {
                p[c] = (v.re * scale).round().clamp(0.0, 255.0) as u8;
            }
        }
        out
    }
}

/// Centred log-amplitude spectrum of the image's luminance, scaled to 0–255 for display.
pub fn log_spectrum(image: &RgbImage) -> GrayImage {
    let (w, _) = image.dimensions();
    let n = w as usize;
    let mut data: Vec<Complex32> = image
        .pixels()
        .map(|p| Complex32::new(0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32, 0.0))
        .collect();
    fft2(&mut data, n, false);
    let log: Vec<f32> = data.iter().map(|v| (1.0 + v.norm()).ln()).collect();
    let (lo, hi) = log.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    GrayImage::from_fn(w, w, |x, y| {
        // Shift so the zero frequency sits in the middle.
        let (sx, sy) = ((x as usize + n / 2) % n, (y as usize + n / 2) % n);
        Luma([((log[sy * n + sx] - lo) / (hi - lo).max(1e-6) * 255.0) as u8])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripes(n: u32, period: u32) -> RgbImage {
        RgbImage::from_fn(n, n, |x, _| {
            let v = if (x / (period / 2)).is_multiple_of(2) { 200 } else { 50 };
            image::Rgb([v, v, v])
        })
    }

    #[test]
    fn full_low_pass_is_identity_and_zero_low_pass_is_the_mean() {
        let img = stripes(16, 4);
        let all = FrequencyFilter { kind: FilterKind::LowPass, cutoff: 2.0 }.apply(&img);
        assert_eq!(all, img);
        let mean = FrequencyFilter { kind: FilterKind::LowPass, cutoff: 0.0 }.apply(&img);
        assert!(mean.pixels().all(|p| p[0] == 125), "{:?}", mean.get_pixel(0, 0));
    }

    #[test]
    fn fine_stripes_pass_the_high_pass_and_not_the_low_pass() {
        // Period 4 px is half the Nyquist frequency: radius 0.5.
        let img = stripes(16, 4);
        let low = FrequencyFilter { kind: FilterKind::LowPass, cutoff: 0.3 }.apply(&img);
        let high = FrequencyFilter { kind: FilterKind::HighPass, cutoff: 0.3 }.apply(&img);
        let spread =
            |im: &RgbImage| im.pixels().map(|p| p[0]).max().unwrap() - im.pixels().map(|p| p[0]).min().unwrap();
        assert!(spread(&low) < 5, "low-pass left contrast {}", spread(&low));
        assert!(spread(&high) > 120, "high-pass lost contrast {}", spread(&high));
    }

    #[test]
    fn spectrum_peaks_at_the_centre_for_a_flat_image() {
        let flat = RgbImage::from_pixel(8, 8, image::Rgb([90, 90, 90]));
        let s = log_spectrum(&flat);
        assert_eq!(s.get_pixel(4, 4)[0], 255);
        assert_eq!(s.get_pixel(0, 0)[0], 0);
    }
}
