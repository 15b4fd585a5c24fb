//! Decoding any image a user may drop: JPEG, PNG, WebP, GIF (first frame), BMP; EXIF orientation
//! applied; grayscale, 16-bit and CMYK converted to 8-bit RGB; transparency flattened onto white.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};
use vitscope_protocol::download::{MAX_IMAGE_FILE_BYTES, size_label};

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
    #[error("the file has {}; vitscope reads images of at most {}", size_label(*.0), size_label(MAX_IMAGE_FILE_BYTES))]
    FileTooLarge(u64),
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
    #[error("a {width}×{height} frame has {} RGBA bytes, not {got}", *.width as usize * *.height as usize * 4)]
    FrameLength { width: u32, height: u32, got: usize },
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
    if bytes.len() as u64 > MAX_IMAGE_FILE_BYTES {
        return Err(ImageError::FileTooLarge(bytes.len() as u64));
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

/// A video frame as a canvas gives it (`getImageData`: RGBA, row by row) as upright 8-bit RGB, with
/// the same limits as a file. A camera's frames are opaque, so alpha is composited over white only
/// to treat any RGBA alike.
pub fn from_rgba(width: u32, height: u32, rgba: Vec<u8>) -> Result<RgbImage, ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::NoPixels { width, height });
    }
    if width > MAX_SIDE || height > MAX_SIDE || width as u64 * height as u64 > MAX_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
    if rgba.len() != width as usize * height as usize * 4 {
        return Err(ImageError::FrameLength { width, height, got: rgba.len() });
    }
    let image = image::RgbaImage::from_raw(width, height, rgba).expect("the length was checked");
    if image.pixels().all(|p| p[3] == u8::MAX) {
        return Ok(DynamicImage::ImageRgba8(image).to_rgb8());
    }
    Ok(flatten(DynamicImage::ImageRgba8(image)))
}

/// 8-bit RGB, compositing any alpha over white (what a browser shows on a white page).
fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    // Pixel by pixel from the decoded samples: a whole f32 copy would take 16 bytes a pixel (1 GB at
    // the 64 MP limit) on top of the decoded image. Same arithmetic as `to_rgba32f`, so same result.
    let (width, height) = (image.width(), image.height());
    let unit8 = |c: u8| c as f32 / u8::MAX as f32;
    let unit16 = |c: u16| c as f32 / u16::MAX as f32;
    match &image {
        DynamicImage::ImageRgba8(i) => over_white(width, height, i.pixels().map(|p| p.0.map(unit8))),
        DynamicImage::ImageLumaA8(i) => {
            over_white(width, height, i.pixels().map(|p| [p[0], p[0], p[0], p[1]].map(unit8)))
        }
        DynamicImage::ImageRgba16(i) => over_white(width, height, i.pixels().map(|p| p.0.map(unit16))),
        DynamicImage::ImageLumaA16(i) => {
            over_white(width, height, i.pixels().map(|p| [p[0], p[0], p[0], p[1]].map(unit16)))
        }
        DynamicImage::ImageRgba32F(i) => over_white(width, height, i.pixels().map(|p| p.0)),
        other => over_white(width, height, other.to_rgba32f().pixels().map(|p| p.0)),
    }
}

fn over_white(width: u32, height: u32, rgba: impl Iterator<Item = [f32; 4]>) -> RgbImage {
    let mut out = RgbImage::new(width, height);
    for (dst, src) in out.pixels_mut().zip(rgba) {
        let a = src[3].clamp(0.0, 1.0);
        for c in 0..3 {
            dst[c] = ((src[c].clamp(0.0, 1.0) * a + (1.0 - a)) * 255.0).round() as u8;
        }
    }
    out
}
