//! The heap an image may take while it is decoded, for the formats whose decoded pixels are larger
//! than the 3 bytes of the RGB the model sees: 16-bit colour with alpha, a palette with
//! transparency, CMYK, and an animation (only its first frame is decoded). Each is bounded by the
//! file, plus [`BYTES_PER_PIXEL`] a pixel, plus a fixed slack; stated in RELIABILITY.md. At the
//! 64 MP limit that is at most 768 MB, under the decoder's own 512 MiB allocation cap plus the RGB.

mod common;
mod heap;

use std::io::Cursor;

use common::fixtures;
use heap::peak_during;
use image::codecs::gif::GifEncoder;
use image::{DynamicImage, Frame, ImageBuffer, ImageFormat, LumaA, Rgba, RgbaImage};
use vitscope_core::image::decode;

/// The widest decoded pixel (16-bit RGBA, 8 bytes), the 3 bytes of RGB made from it, and a byte of
/// row buffers and conversion.
const BYTES_PER_PIXEL: usize = 12;
const SLACK: usize = 4 << 20;

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A smooth gradient with a varying alpha: nothing is fully opaque, so every pixel is composited.
fn rgba16(w: u32, h: u32) -> Vec<u8> {
    let image = ImageBuffer::<Rgba<u16>, Vec<u16>>::from_fn(w, h, |x, y| {
        Rgba([(x * 40) as u16, (y * 50) as u16, ((x + y) * 17) as u16, 20_000 + ((x * y) % 40_000) as u16])
    });
    encode(DynamicImage::ImageRgba16(image), ImageFormat::Png)
}

fn luma_alpha16(w: u32, h: u32) -> Vec<u8> {
    let image =
        ImageBuffer::<LumaA<u16>, Vec<u16>>::from_fn(w, h, |x, y| LumaA([(x * 40) as u16, 65_535 - (y * 50) as u16]));
    encode(DynamicImage::ImageLumaA16(image), ImageFormat::Png)
}

/// `frames` frames of `w`×`h`, each a flat colour with a moving square.
fn animated(w: u32, h: u32, frames: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, 30);
        let frames = (0..frames).map(|i| {
            Frame::new(RgbaImage::from_fn(w, h, |x, y| {
                let inside = (x / 40 + y / 40) % frames == i;
                if inside { Rgba([255, 255, 255, 255]) } else { Rgba([(i * 6) as u8, 40, 200, 255]) }
            }))
        });
        encoder.encode_frames(frames).unwrap();
    }
    out
}

/// What a browser shows: each channel composited over white, in f32 from the decoded samples.
fn over_white(reference: &DynamicImage, x: u32, y: u32) -> [u8; 3] {
    let p = reference.to_rgba32f().get_pixel(x, y).0;
    [0, 1, 2].map(|c| ((p[c] * p[3] + (1.0 - p[3])) * 255.0).round() as u8)
}

/// Decodes `bytes`, checks the heap it held and a few pixels against the `image` crate's own
/// decoding composited over white.
fn check(name: &str, bytes: &[u8]) -> usize {
    let (decoded, peak) = peak_during(|| decode(bytes));
    let decoded = decoded.unwrap_or_else(|e| panic!("{name}: {e}"));
    let (w, h) = decoded.dimensions();
    let pixels = w as usize * h as usize;
    let bound = bytes.len() + BYTES_PER_PIXEL * pixels + SLACK;
    assert!(peak <= bound, "{name}: {peak} bytes held decoding {w}×{h} from {} bytes (bound {bound})", bytes.len());
    let reference = image::load_from_memory(bytes).unwrap();
    for (x, y) in [(0, 0), (w / 3, h / 2), (w - 1, h - 1), (w / 2, 7)] {
        let expected = if reference.color().has_alpha() {
            over_white(&reference, x, y)
        } else {
            reference.to_rgb8().get_pixel(x, y).0
        };
        assert_eq!(decoded.get_pixel(x, y).0, expected, "{name} at ({x}, {y})");
    }
    eprintln!(
        "{name}: {w}×{h}, {} bytes, peak {peak} bytes = {:.2} bytes a pixel",
        bytes.len(),
        peak as f64 / pixels as f64
    );
    peak
}

#[test]
fn sixteen_bit_colour_with_alpha_stays_within_its_bound() {
    check("rgba16.png", &rgba16(1600, 1200));
    check("luma_alpha16.png", &luma_alpha16(1600, 1200));
}

#[test]
fn palette_with_transparency_and_cmyk_stay_within_their_bound() {
    for name in ["large_palette_alpha.png", "large_cmyk.jpg"] {
        check(name, &std::fs::read(fixtures().join("images").join(name)).unwrap());
    }
}

#[test]
fn an_animation_decodes_its_first_frame_only() {
    let one = check("one frame.gif", &animated(800, 600, 1));
    let forty = check("forty frames.gif", &animated(800, 600, 40));
    // Forty frames held would be 40 × 800 × 600 × 4 bytes (77 MB); the first alone is 1.9 MB.
    assert!(forty < one + (2 << 20), "forty frames held {forty} bytes, one frame {one}");
}
