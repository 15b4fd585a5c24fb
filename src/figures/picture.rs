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
    /// Several maps over the input, each in its own colour: where map h is the strongest (each
    /// scaled to its own range), its colour shows, as strong as its value there.
    Heads {
        input: Pixels,
        maps: Vec<Vec<f32>>,
        grid: usize,
    },
    /// The input with the patches outside `keep` darkened.
    Mask {
        input: Pixels,
        keep: Vec<bool>,
        grid: usize,
    },
    /// A map over the input like [`Picture::Overlay`], with the `flagged` patches outlined.
    Flagged {
        input: Pixels,
        heat: Vec<f32>,
        grid: usize,
        colormap: Colormap,
        flagged: Vec<bool>,
    },
    Rgb(Pixels),
    Gray(Pixels),
}

/// One colour per head: Okabe–Ito's eight (safe for colour-vision deficiencies), then Paul Tol's
/// muted nine, which a ViT-B's 12 and a ViT-L's 16 heads need; past 17, hues a golden angle apart.
const HEAD_PALETTE: [[u8; 3]; 17] = [
    [230, 159, 0],
    [86, 180, 233],
    [0, 158, 115],
    [240, 228, 66],
    [0, 114, 178],
    [213, 94, 0],
    [204, 121, 167],
    [255, 255, 255],
    [51, 34, 136],
    [136, 204, 238],
    [68, 170, 153],
    [17, 119, 51],
    [153, 153, 51],
    [221, 204, 119],
    [204, 102, 119],
    [136, 34, 85],
    [170, 68, 153],
];

pub fn head_colour(head: usize) -> [u8; 3] {
    if let Some(colour) = HEAD_PALETTE.get(head) {
        return *colour;
    }
    let hue = (head as f32 * 137.507_77).rem_euclid(360.0) / 60.0;
    let x = 1.0 - (hue.rem_euclid(2.0) - 1.0).abs();
    let [r, g, b] = match hue as u32 {
        0 => [1.0, x, 0.0],
        1 => [x, 1.0, 0.0],
        2 => [0.0, 1.0, x],
        3 => [0.0, x, 1.0],
        4 => [x, 0.0, 1.0],
        _ => [1.0, 0.0, x],
    };
    // Not fully saturated, so none is as loud as the markers' red.
    [r, g, b].map(|c| (60.0 + 170.0 * c) as u8)
}

/// How dark the patches outside a mask become (DINO's figures grey them out).
const MASKED: f32 = 0.2;

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
            Self::Overlay { heat, .. } | Self::Flagged { heat, .. } => heat,
            Self::Heads { .. } | Self::Mask { .. } | Self::Rgb(_) | Self::Gray(_) => &[],
        }
    }

    /// RGBA pixels and the side length, at the picture's own resolution.
    pub fn rgba(&self) -> (Vec<u8>, u32) {
        match self {
            Self::Overlay { input, heat, grid, colormap, marker } => {
                let cells: Vec<(usize, usize)> = marker.iter().copied().collect();
                (overlay(&input.bytes, input.size as usize, heat, *grid, *colormap, &cells), input.size)
            }
            Self::Flagged { input, heat, grid, colormap, flagged } => {
                let cells: Vec<(usize, usize)> =
                    flagged.iter().enumerate().filter(|(_, f)| **f).map(|(i, _)| (i / grid, i % grid)).collect();
                (overlay(&input.bytes, input.size as usize, heat, *grid, *colormap, &cells), input.size)
            }
            Self::Heads { input, maps, grid } => (heads(&input.bytes, input.size as usize, maps, *grid), input.size),
            Self::Mask { input, keep, grid } => {
                let s = input.size as usize;
                let rgba = per_pixel(&input.bytes, s, *grid, |under, cell| {
                    let k = if keep.get(cell).copied().unwrap_or(false) { 1.0 } else { MASKED };
                    under.map(|u| (u * k) as u8)
                });
                (rgba, input.size)
            }
            Self::Rgb(p) => (p.bytes.chunks_exact(3).flat_map(|c| [c[0], c[1], c[2], 255]).collect(), p.size),
            Self::Gray(p) => (p.bytes.iter().flat_map(|&v| [v, v, v, 255]).collect(), p.size),
        }
    }
}

/// Opaque RGBA from `colour(input RGB, patch index)` at every pixel of an `s`-pixel square.
fn per_pixel(rgb: &[u8], s: usize, grid: usize, colour: impl Fn([f32; 3], usize) -> [u8; 3]) -> Vec<u8> {
    let mut rgba = vec![0u8; s * s * 4];
    for y in 0..s {
        for x in 0..s {
            let i = y * s + x;
            let cell = (y * grid / s) * grid + x * grid / s;
            let under = [0, 1, 2].map(|k| rgb.get(i * 3 + k).copied().unwrap_or(0) as f32);
            rgba[i * 4..i * 4 + 3].copy_from_slice(&colour(under, cell));
            rgba[i * 4 + 3] = 255;
        }
    }
    rgba
}

fn heads(rgb: &[u8], s: usize, maps: &[Vec<f32>], grid: usize) -> Vec<u8> {
    let scaled: Vec<Vec<f32>> = maps.iter().map(|m| normalise(m)).collect();
    per_pixel(rgb, s, grid, |under, cell| {
        let strongest = scaled
            .iter()
            .enumerate()
            .map(|(h, m)| (h, m.get(cell).copied().unwrap_or(0.0)))
            .fold((0, f32::MIN), |best, (h, v)| if v > best.1 { (h, v) } else { best });
        let (colour, alpha) = (head_colour(strongest.0), ALPHA * strongest.1.max(0.0));
        [0, 1, 2].map(|k| ((1.0 - alpha) * under[k] + alpha * colour[k] as f32) as u8)
    })
}

fn overlay(rgb: &[u8], s: usize, map: &[f32], grid: usize, colormap: Colormap, outlined: &[(usize, usize)]) -> Vec<u8> {
    let heat = normalise(map);
    let mut rgba = per_pixel(rgb, s, grid, |under, cell| {
        let c = colormap.rgb(heat.get(cell).copied().unwrap_or(0.0));
        [0, 1, 2].map(|k| ((1.0 - ALPHA) * under[k] + ALPHA * c[k] as f32) as u8)
    });
    for &(row, col) in outlined {
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

    #[test]
    fn heads_take_the_colour_of_the_strongest_masks_darken_and_flags_are_outlined() {
        let input = || Pixels { bytes: Rc::new(vec![100; 2 * 2 * 3]), size: 2 };
        // Head 0 is strongest at patch 0, head 1 at patch 3; at patch 1 neither (both 0 after scaling).
        let maps = vec![vec![4.0, 0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0, 2.0]];
        let (rgba, _) = Picture::Heads { input: input(), maps, grid: 2 }.rgba();
        let pixel = |rgba: &[u8], i: usize| rgba[i * 4..i * 4 + 3].to_vec();
        let tint = |c: [u8; 3], a: f32| c.map(|v| ((1.0 - a) * 100.0 + a * v as f32) as u8).to_vec();
        assert_eq!(pixel(&rgba, 0), tint(head_colour(0), ALPHA));
        assert_eq!(pixel(&rgba, 3), tint(head_colour(1), ALPHA));
        assert_eq!(pixel(&rgba, 1), [100, 100, 100], "no head there");
        assert_eq!(pixel(&rgba, 2), tint(head_colour(1), ALPHA * 0.5), "head 1's half beats head 0's quarter");

        let (rgba, _) = Picture::Mask { input: input(), keep: vec![true, false, false, true], grid: 2 }.rgba();
        assert_eq!((pixel(&rgba, 0), pixel(&rgba, 1)), (vec![100; 3], vec![20; 3]));

        let flagged = Picture::Flagged {
            input: Pixels { bytes: Rc::new(vec![0; 4 * 4 * 3]), size: 4 },
            heat: vec![0.0; 4],
            grid: 2,
            colormap: Colormap::Viridis,
            flagged: vec![false, true, false, true],
        };
        let (rgba, _) = flagged.rgba();
        let red = |x: usize, y: usize| rgba[(y * 4 + x) * 4..][..3] == [255, 40, 40];
        assert!(red(2, 0) && red(3, 3) && !red(0, 0) && !red(1, 3), "patches 1 and 3 outlined, 0 and 2 not");
    }

    #[test]
    fn every_head_of_a_vit_l_has_its_own_colour_and_later_heads_still_differ() {
        let colours: Vec<[u8; 3]> = (0..40).map(head_colour).collect();
        for (i, a) in colours.iter().enumerate() {
            for b in &colours[..i] {
                let gap = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y) as u32).sum::<u32>();
                assert!(gap >= if i < 17 { 60 } else { 2 }, "head {i} looks like an earlier one: {a:?} {b:?}");
            }
        }
        // 17 × 137.51° = 177.6° (mod 360): nearly cyan, 60 + 170 × 0.96 in blue.
        assert_eq!(head_colour(17), [60, 230, 223]);
    }
}
