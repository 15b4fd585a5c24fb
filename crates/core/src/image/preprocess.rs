//! The evaluation transform every model card names: resize the shorter side (torchvision `Resize(int)`
//! semantics), centre-crop (torchvision `CenterCrop` rounding), scale to [0, 1] and normalise.
//! Resampling uses the `image` crate's filters, which widen on downscaling like PIL's (antialiased):
//! bilinear = triangle, bicubic = Catmull-Rom (PIL's a = −0.5).

use image::RgbImage;
use image::imageops::{self, FilterType};

use vitscope_protocol::card::{Interpolation, Preprocessing};

/// A preprocessed image: the normalised tensor data and the cropped picture it came from.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// `[3, size, size]`, channel-major.
    pub pixels: Vec<f32>,
    pub size: u32,
    /// The cropped RGB image before normalisation (for overlays and exports).
    pub cropped: RgbImage,
}

/// Resize shorter side to `resize`, centre-crop `crop`. `image_size` overrides both, keeping the ratio,
/// for running a model above its trained resolution.
pub fn prepare(image: &RgbImage, pre: &Preprocessing, image_size: Option<u32>) -> Prepared {
    let (resize, crop) = match image_size {
        Some(s) if s != pre.crop => ((pre.resize as u64 * s as u64 / pre.crop as u64) as u32, s),
        _ => (pre.resize, pre.crop),
    };
    let (w, h) = image.dimensions();
    if pre.keep_images_at_crop_size && (w, h) == (crop, crop) {
        return Prepared { pixels: normalise(image, pre), size: crop, cropped: image.clone() };
    }
    let (nw, nh) = if w <= h {
        (resize, ((resize as u64 * h as u64) / w as u64) as u32)
    } else {
        (((resize as u64 * w as u64) / h as u64) as u32, resize)
    };
    let filter = match pre.interpolation {
        Interpolation::Bilinear => FilterType::Triangle,
        Interpolation::Bicubic => FilterType::CatmullRom,
    };
    let resized =
        if (nw, nh) == (w, h) { image.clone() } else { imageops::resize(image, nw.max(1), nh.max(1), filter) };
    let crop_w = crop.min(resized.width());
    let crop_h = crop.min(resized.height());
    let left = ((resized.width() - crop_w) as f64 / 2.0).round() as u32;
    let top = ((resized.height() - crop_h) as f64 / 2.0).round() as u32;
    let mut cropped = imageops::crop_imm(&resized, left, top, crop_w, crop_h).to_image();
    if cropped.dimensions() != (crop, crop) {
        // Only for images smaller than the crop on one side: pad by stretching, as torchvision would fail.
        cropped = imageops::resize(&cropped, crop, crop, filter);
    }
    Prepared { pixels: normalise(&cropped, pre), size: crop, cropped }
}

/// `[3, H, W]` of (v/255 − mean)/std.
pub fn normalise(image: &RgbImage, pre: &Preprocessing) -> Vec<f32> {
    let (w, h) = image.dimensions();
    let plane = (w * h) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, p) in image.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = (p[c] as f32 / 255.0 - pre.mean[c]) / pre.std[c];
        }
    }
    out
}

impl Prepared {
    /// A model input from an already cropped picture (a filtered one, say), normalised per the card.
    pub fn from_cropped(cropped: RgbImage, pre: &Preprocessing) -> Self {
        Self { pixels: normalise(&cropped, pre), size: cropped.width(), cropped }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorter_side_and_centre_crop() {
        let pre = Preprocessing::imagenet(224);
        let img = RgbImage::from_pixel(512, 256, image::Rgb([255, 0, 0]));
        let p = prepare(&img, &pre, None);
        assert_eq!(p.size, 224);
        assert_eq!(p.pixels.len(), 3 * 224 * 224);
        let red = (1.0 - 0.485) / 0.229;
        assert!((p.pixels[0] - red).abs() < 1e-5);
        assert!((p.pixels[224 * 224] - (0.0 - 0.456) / 0.224).abs() < 1e-5);
    }

    #[test]
    fn an_image_at_the_crop_size_passes_unchanged_only_when_the_card_says_so() {
        let mut pre = Preprocessing::imagenet(14);
        // A checkerboard: the 8/7 enlargement (to 16) and re-crop would blur and shift it.
        let img = RgbImage::from_fn(14, 14, |x, y| image::Rgb([if (x + y) % 2 == 0 { 255 } else { 0 }; 3]));
        assert_ne!(prepare(&img, &pre, None).cropped, img);
        pre.keep_images_at_crop_size = true;
        let kept = prepare(&img, &pre, None);
        assert_eq!(kept.cropped, img);
        assert!((kept.pixels[0] - (1.0 - 0.485) / 0.229).abs() < 1e-6);
        // Any other size still takes the transform.
        assert_eq!(prepare(&RgbImage::new(20, 20), &pre, None).size, 14);
    }

    #[test]
    fn override_keeps_resize_ratio() {
        let pre = Preprocessing::imagenet(224);
        let img = RgbImage::from_pixel(300, 300, image::Rgb([10, 20, 30]));
        assert_eq!(prepare(&img, &pre, Some(448)).size, 448);
    }
}
