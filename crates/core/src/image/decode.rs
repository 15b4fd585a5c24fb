//! Decoding any image a user may drop: JPEG, PNG, WebP, GIF (first frame), BMP; EXIF orientation
//! applied; grayscale, 16-bit and CMYK converted to 8-bit RGB; transparency flattened onto white.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};

/// Largest side accepted; larger images are refused before decoding (decompression bombs).
pub const MAX_SIDE: u32 = 16_384;
/// Largest pixel count accepted (a 48 MP phone photo fits).
pub const MAX_PIXELS: u64 = 64_000_000;
/// Decoder allocation cap, a second line of defence for formats that lie about their size.
pub const MAX_ALLOC: u64 = 512 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the file is empty")]
    Empty,
    #[error("this is not an image vitscope can read (JPEG, PNG, WebP, GIF or BMP)")]
    UnknownFormat,
    #[error(
        "the image is {width}×{height} pixels; vitscope accepts at most {MAX_SIDE} px a side and {MAX_PIXELS} pixels"
    )]
    TooLarge { width: u32, height: u32 },
    #[error("the image has no pixels ({width}×{height})")]
    NoPixels { width: u32, height: u32 },
    #[error("the image could not be decoded (damaged or truncated?): {0}")]
    Corrupt(String),
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, ImageError> {
    let reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| ImageError::Corrupt(e.to_string()))?;
    if reader.format().is_none() {
        return Err(ImageError::UnknownFormat);
    }
    Ok(reader)
}

/// Decodes `bytes` into upright 8-bit RGB.
pub fn decode(bytes: &[u8]) -> Result<RgbImage, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    let (width, height) = reader(bytes)?.into_dimensions().map_err(|e| ImageError::Corrupt(e.to_string()))?;
    if width == 0 || height == 0 {
        return Err(ImageError::NoPixels { width, height });
    }
    if width > MAX_SIDE || height > MAX_SIDE || width as u64 * height as u64 > MAX_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
    let mut reader = reader(bytes)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    // zune-jpeg 0.5.15, the `image` crate's JPEG decoder, panics on some damaged JPEGs (found by
    // fuzzing; RELIABILITY.md, inputs in tests/fixtures/hostile/image): natively that is a refusal
    // like any other damage. In the browser a panic aborts the worker; the page restarts it and
    // drops the image (`Action::WorkerCrashed`).
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut decoder = reader.into_decoder().map_err(|e| ImageError::Corrupt(e.to_string()))?;
        let orientation = decoder.orientation().ok();
        let image = DynamicImage::from_decoder(decoder).map_err(|e| ImageError::Corrupt(e.to_string()))?;
        Ok::<_, ImageError>((image, orientation))
    }));
    let (mut image, orientation) =
        decoded.unwrap_or_else(|_| Err(ImageError::Corrupt("the decoder failed on its data".into())))?;
    if let Some(o) = orientation {
        image.apply_orientation(o);
    }
    Ok(flatten(image))
}

/// 8-bit RGB, compositing any alpha over white (what a browser shows on a white page).
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba32f();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let a = src[3].clamp(0.0, 1.0);
        for c in 0..3 {
            dst[c] = ((src[c].clamp(0.0, 1.0) * a + (1.0 - a)) * 255.0).round() as u8;
        }
    }
    out
}
