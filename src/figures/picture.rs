//! A canvas's content as data: the model's input with a heat map over it, or plain RGB or gray
//! pixels. The page's canvases and the PNG export both paint from a [`Picture`], so an export shows
//! exactly what the view shows without reading the page back.

use std::rc::Rc;

use crate::store::Colormap;

/// A colour map's colours (the link only names the map).
pub trait ColormapRgb {
    /// RGB of t ∈ [0, 1].
    fn rgb(self, t: f32) -> [u8; 3];
}

impl ColormapRgb for Colormap {
    fn rgb(self, t: f32) -> [u8; 3] {
        let gradient = match self {
            Self::Viridis => colorous::VIRIDIS,
            Self::Plasma => colorous::PLASMA,
            Self::Magma => colorous::MAGMA,
        };
        let c = gradient.eval_continuous(t.clamp(0.0, 1.0) as f64);
        [c.r, c.g, c.b]
    }
}

/// Shared pixel bytes (`size²` RGB or gray); equal when they are the same bytes.
#[derive(Clone, Debug)]
pub struct Pixels {
    pub bytes: Rc<Vec<u8>>,
    pub size: u32,
}

impl PartialEq for Pixels {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.bytes, &other.bytes) && self.size == other.size
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Picture {
    /// A `grid²` map blended over the input, with the query patch outlined.
    Overlay {
        input: Pixels,
        heat: Vec<f32>,
        grid: usize,
        colormap: Colormap,
        marker: Option<(usize, usize)>,
    },
    Rgb(Pixels),
    Gray(Pixels),
}

/// Strong enough to read the map, weak enough to see the picture under it.
const ALPHA: f32 = 0.65;

/// Min-max scaling to [0, 1] (a flat map becomes all zero).
pub fn normalise(values: &[f32]) -> Vec<f32> {
    let (lo, hi) = values.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let range = (hi - lo).max(1e-12);
    values.iter().map(|v| (v - lo) / range).collect()
}

impl Picture {
    /// The map an overlay shows (its text alternative lists the strongest patches).
    pub fn heat(&self) -> &[f32] {
        match self {
            Self::Overlay { heat, .. } => heat,
            Self::Rgb(_) | Self::Gray(_) => &[],
        }
    }

    /// RGBA pixels and the side length, at the picture's own resolution.
    pub fn rgba(&self) -> (Vec<u8>, u32) {
        match self {
            Self::Overlay { input, heat, grid, colormap, marker } => {
                (overlay(&input.bytes, input.size as usize, heat, *grid, *colormap, *marker), input.size)
            }
            Self::Rgb(p) => (p.bytes.chunks_exact(3).flat_map(|c| [c[0], c[1], c[2], 255]).collect(), p.size),
            Self::Gray(p) => (p.bytes.iter().flat_map(|&v| [v, v, v, 255]).collect(), p.size),
        }
    }
}

fn overlay(
    rgb: &[u8],
    s: usize,
    map: &[f32],
    grid: usize,
    colormap: Colormap,
    marker: Option<(usize, usize)>,
) -> Vec<u8> {
    let heat = normalise(map);
    let mut rgba = vec![0u8; s * s * 4];
    for y in 0..s {
        for x in 0..s {
            let i = y * s + x;
            let cell = (y * grid / s) * grid + x * grid / s;
            let c = colormap.rgb(heat.get(cell).copied().unwrap_or(0.0));
            for k in 0..3 {
                let under = rgb.get(i * 3 + k).copied().unwrap_or(0) as f32;
                rgba[i * 4 + k] = ((1.0 - ALPHA) * under + ALPHA * c[k] as f32) as u8;
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
    rgba
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlay_blends_the_map_and_outlines_the_query_patch() {
        let input = Pixels { bytes: Rc::new(vec![0; 4 * 4 * 3]), size: 4 };
        let heat = vec![0.0, 1.0, 0.0, 0.0];
        let picture = Picture::Overlay { input, heat, grid: 2, colormap: Colormap::Viridis, marker: Some((1, 1)) };
        let (rgba, size) = picture.rgba();
        assert_eq!((rgba.len(), size), (64, 4));
        let pixel = |x: usize, y: usize| rgba[(y * 4 + x) * 4..][..4].to_vec();
        let [r, g, b] = Colormap::Viridis.rgb(1.0);
        let blend = |c: u8| (ALPHA * c as f32) as u8;
        assert_eq!(pixel(2, 0), [blend(r), blend(g), blend(b), 255], "the hottest patch");
        assert_eq!(pixel(3, 3), [255, 40, 40, 255], "the marker's border");
        assert_eq!(normalise(&[2.0, 2.0]), [0.0, 0.0]);
    }

    #[test]
    fn plain_pictures_become_opaque_rgba() {
        let gray = Picture::Gray(Pixels { bytes: Rc::new(vec![7, 9]), size: 1 });
        assert_eq!(gray.rgba().0, [7, 7, 7, 255, 9, 9, 9, 255]);
        let rgb = Picture::Rgb(Pixels { bytes: Rc::new(vec![1, 2, 3]), size: 1 });
        assert_eq!(rgb.rgba(), (vec![1, 2, 3, 255], 1));
    }
}
