//! Canvas drawing: a model's input with a heat map over it, single heat maps, and the query marker.

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use super::state::Colormap;

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// Min-max scaling to [0, 1] (a flat map becomes all zero).
pub fn normalise(values: &[f32]) -> Vec<f32> {
    let (lo, hi) = values.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let range = (hi - lo).max(1e-12);
    values.iter().map(|v| (v - lo) / range).collect()
}

/// Puts RGBA pixels of `size × size` on the canvas at its own resolution.
fn put(canvas: &HtmlCanvasElement, rgba: &[u8], size: u32) {
    canvas.set_width(size);
    canvas.set_height(size);
    if let (Some(ctx), Ok(data)) = (context(canvas), ImageData::new_with_u8_clamped_array(Clamped(rgba), size)) {
        let _ = ctx.put_image_data(&data, 0.0, 0.0);
    }
}

/// A `grid²` map to blend over an image, and the patch to outline.
pub struct Heat<'a> {
    pub map: &'a [f32],
    pub grid: usize,
    pub colormap: Colormap,
    pub marker: Option<(usize, usize)>,
}

/// Strong enough to read the map, weak enough to see the picture under it.
const ALPHA: f32 = 0.65;

/// The input (`size²` RGB) with a heat map blended over it (nearest patch), and optionally a square
/// around the query patch.
pub fn overlay(canvas: &HtmlCanvasElement, rgb: &[u8], size: u32, heat: &Heat) {
    let Heat { map, grid, colormap, marker } = *heat;
    let alpha = ALPHA;
    let s = size as usize;
    let heat = normalise(map);
    let mut rgba = vec![0u8; s * s * 4];
    for y in 0..s {
        for x in 0..s {
            let i = y * s + x;
            let cell = (y * grid / s) * grid + x * grid / s;
            let c = colormap.rgb(heat.get(cell).copied().unwrap_or(0.0));
            for k in 0..3 {
                rgba[i * 4 + k] = ((1.0 - alpha) * rgb[i * 3 + k] as f32 + alpha * c[k] as f32) as u8;
            }
            rgba[i * 4 + 3] = 255;
        }
    }
    if let Some((row, col)) = marker {
        let cell = s as f32 / grid as f32;
        let (x0, y0) = ((col as f32 * cell) as usize, (row as f32 * cell) as usize);
        let (x1, y1) =
            ((((col + 1) as f32 * cell) as usize).min(s) - 1, (((row + 1) as f32 * cell) as usize).min(s) - 1);
        for y in y0..=y1 {
            for x in x0..=x1 {
                if x == x0 || x == x1 || y == y0 || y == y1 {
                    rgba[(y * s + x) * 4..][..3].copy_from_slice(&[255, 40, 40]);
                }
            }
        }
    }
    put(canvas, &rgba, size);
}

/// Plain RGB (`size²`), e.g. the model input or PCA colours (then `size` = grid).
pub fn rgb(canvas: &HtmlCanvasElement, rgb: &[u8], size: u32) {
    let rgba: Vec<u8> = rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    put(canvas, &rgba, size);
}

/// Gray bytes (`size²`).
pub fn gray(canvas: &HtmlCanvasElement, gray: &[u8], size: u32) {
    let rgba: Vec<u8> = gray.iter().flat_map(|&v| [v, v, v, 255]).collect();
    put(canvas, &rgba, size);
}
