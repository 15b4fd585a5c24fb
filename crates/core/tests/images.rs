//! Image decoding: every format, orientation, bit depth and colour model; bad files refused clearly.

mod common;

use common::fixtures;
use vitscope_core::image::{ImageError, decode};

fn load(name: &str) -> Result<image::RgbImage, ImageError> {
    decode(&std::fs::read(fixtures().join("images").join(name)).unwrap())
}

#[test]
fn every_format_decodes_to_the_same_picture() {
    let reference = load("plain.bmp").unwrap();
    assert_eq!(reference.dimensions(), (40, 24));
    assert_eq!(reference.get_pixel(10, 5).0, [60, 50, 128]);
    for name in ["plain.webp", "plain.jpg"] {
        let img = load(name).unwrap();
        assert_eq!(img.dimensions(), (40, 24), "{name}");
        let p = img.get_pixel(10, 5).0;
        // JPEG is lossy; WebP here is lossless.
        let tol = if name.ends_with("jpg") { 12 } else { 0 };
        for c in 0..3 {
            assert!((p[c] as i32 - [60, 50, 128][c]).abs() <= tol, "{name}: {p:?}");
        }
    }
}

#[test]
fn grayscale_alpha_16bit_and_cmyk_become_rgb() {
    let gray = load("gray.png").unwrap();
    let p = gray.get_pixel(10, 5).0;
    assert!(p[0] == p[1] && p[1] == p[2]);
    assert!(load("transparent.png").unwrap().pixels().all(|p| p.0 == [255, 255, 255]), "transparent → white");
    assert!(load("white16.png").unwrap().pixels().all(|p| p.0 == [255, 255, 255]), "16-bit white");
    let red = load("red_cmyk.jpg").unwrap();
    let p = red.get_pixel(8, 8).0;
    assert!(p[0] > 200 && p[1] < 60 && p[2] < 60, "CMYK (0,255,255,0) is red, got {p:?}");
}

#[test]
fn exif_orientation_is_applied() {
    assert_eq!(load("rotated_exif6.jpg").unwrap().dimensions(), (24, 40));
}

#[test]
fn gif_gives_its_first_frame() {
    let p = load("blue_then_red.gif").unwrap().get_pixel(3, 3).0;
    assert!(p[2] > 200 && p[0] < 50, "first frame is blue, got {p:?}");
}

#[test]
fn bad_files_get_clear_errors() {
    let msg = |name: &str| load(name).unwrap_err().to_string();
    assert!(msg("bomb.png").contains("100000×100000"), "{}", msg("bomb.png"));
    assert!(msg("truncated.jpg").contains("damaged or truncated"), "{}", msg("truncated.jpg"));
    assert!(msg("not_an_image.png").contains("not an image"), "{}", msg("not_an_image.png"));
    assert_eq!(msg("empty.jpg"), "the file is empty");
    // A valid JPEG start, then 250 MB + 1 of anything: refused by its length, before any decoding.
    let mut huge = vec![0u8; 250_000_001];
    huge[..3].copy_from_slice(&[0xff, 0xd8, 0xff]);
    assert_eq!(
        decode(&huge).unwrap_err().to_string(),
        "the file has 250.0 MB; vitscope reads images of at most 250 MB"
    );
}

/// Damaged JPEGs that fuzzing found (`bash tools/fuzz/run.sh`, RELIABILITY.md): the JPEG decoder
/// panicked on the `crashes-*` files and took over a second under instrumentation on the `hangs-*`.
/// Each is now refused as damaged, or decoded, never a panic.
#[test]
fn images_found_by_fuzzing_are_refused_not_a_panic() {
    let dir = fixtures().join("hostile/image");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names.len(), 6, "{names:?}");
    for name in names {
        let name = name.to_string_lossy().into_owned();
        let result = decode(&std::fs::read(dir.join(&name)).unwrap());
        if name.starts_with("crashes-") {
            assert!(matches!(result, Err(ImageError::Corrupt(_))), "{name}: {result:?}");
        }
    }
}

#[test]
fn a_camera_frame_is_the_picture_its_rgba_says() {
    use vitscope_core::image::from_rgba;
    let reference = load("plain.bmp").unwrap();
    let (w, h) = reference.dimensions();
    let rgba: Vec<u8> = reference.pixels().flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    assert_eq!(from_rgba(w, h, rgba.clone()).unwrap(), reference);
    // Half-transparent black over white is mid-grey, as for a decoded PNG.
    let mut faded = rgba.clone();
    faded[..4].copy_from_slice(&[0, 0, 0, 128]);
    assert_eq!(from_rgba(w, h, faded).unwrap().get_pixel(0, 0).0, [127, 127, 127]);
    let err = |w, h, bytes: Vec<u8>| from_rgba(w, h, bytes).unwrap_err().to_string();
    assert_eq!(err(w, h, rgba[4..].to_vec()), "a 40×24 frame has 3840 RGBA bytes, not 3836");
    assert_eq!(err(0, 24, vec![]), "the image has no pixels (0×24)");
    assert!(err(20_000, 1, vec![]).contains("20000×1"));
}
