//! Which map each canvas shows for the current settings, and its text alternative: shared by the
//! views (which paint them) and the PNG export (which draws the same pictures offscreen).

use vitscope_protocol::Snapshot;

use super::cls::{KEPT_MASS, cls_head_maps, heads_text, mask_text, mass_mask};
use super::picture::{Picture, Pixels};
use super::sinks::sinks;
use crate::store::{Analysis, MapKind, ModelResult, Query, View, ViewState};

/// The token row of the query in a model with this grid (queries are kept in the first model's grid),
/// and the patch to outline.
pub fn query_row(query: Query, reference_grid: usize, snapshot: &Snapshot) -> (usize, Option<(usize, usize)>) {
    match query {
        Query::Cls if snapshot.cls => (0, None),
        // Nothing to ask for a model without a CLS token: its centre patch answers instead.
        Query::Cls => {
            let centre = snapshot.grid / 2;
            (snapshot.prefix + centre * snapshot.grid + centre, Some((centre, centre)))
        }
        Query::Patch { row, col } => {
            let g = snapshot.grid;
            let (r, c) = ((row * g / reference_grid.max(1)).min(g - 1), (col * g / reference_grid.max(1)).min(g - 1));
            (snapshot.prefix + r * g + c, Some((r, c)))
        }
    }
}

/// The attention map of one model for the settings (`head` None = the mean of the heads); the
/// rollout's is flat zero until it is in.
pub fn attention_map(view: &ViewState, reference_grid: usize, m: &ModelResult, head: Option<usize>) -> Vec<f32> {
    let snapshot = &m.snapshot;
    let (row, _) = query_row(view.query, reference_grid, snapshot);
    match view.map {
        MapKind::Rollout => {
            m.derived.as_ref().map_or_else(|| vec![0.0; snapshot.patches()], |d| snapshot.rollout_map(d, row))
        }
        _ => snapshot.attention_map(snapshot.shown_layer(view.layer), head, row),
    }
}

pub fn attention_picture(view: &ViewState, reference_grid: usize, m: &ModelResult, head: Option<usize>) -> Picture {
    let snap = &m.snapshot;
    let input = Pixels { bytes: m.input.clone(), size: m.size };
    let (layer, grid) = (snap.shown_layer(view.layer), snap.grid);
    match view.map {
        // A model without a CLS token shows its input alone; the text says why.
        MapKind::ClsHeads | MapKind::ClsMask if !snap.cls => Picture::Rgb(input),
        MapKind::ClsHeads => Picture::Heads { input, maps: cls_head_maps(snap, layer).unwrap_or_default(), grid },
        MapKind::ClsMask => {
            Picture::Mask { input, keep: mass_mask(&snap.attention_map(layer, head, 0), KEPT_MASS), grid }
        }
        MapKind::Norms => {
            let s = sinks(snap, layer);
            Picture::Flagged { input, heat: s.norms, grid, colormap: view.colormap, flagged: s.flagged }
        }
        MapKind::Query | MapKind::Heads | MapKind::Rollout => Picture::Overlay {
            input,
            heat: attention_map(view, reference_grid, m, head),
            grid,
            colormap: view.colormap,
            marker: query_row(view.query, reference_grid, snap).1,
        },
    }
}

/// What the attention maps show, as a caption.
pub fn attention_caption(view: &ViewState) -> String {
    let head = view.head.map_or("mean of heads".into(), |h| format!("head {}", h + 1));
    match view.map {
        MapKind::Rollout => "attention rollout through all layers".to_string(),
        MapKind::ClsHeads => format!("layer {} CLS attention, each head in its colour", view.layer + 1),
        MapKind::ClsMask => format!("layer {} CLS attention, {head}: the patches holding 60 % of it", view.layer + 1),
        MapKind::Norms => format!("token norms entering layer {}, high-norm outliers outlined", view.layer + 1),
        MapKind::Query | MapKind::Heads => format!("layer {} attention, {head}", view.layer + 1),
    }
}

/// A map's text alternative: its numbers, in words.
pub fn attention_text(view: &ViewState, m: &ModelResult, picture: &Picture) -> String {
    let (snap, name) = (&m.snapshot, m.info.name());
    let layer = snap.shown_layer(view.layer);
    let what = attention_caption(view);
    match view.map {
        MapKind::ClsHeads | MapKind::ClsMask if !snap.cls => {
            format!("{name} has no CLS token, so there is no CLS attention to show.")
        }
        MapKind::ClsHeads => {
            format!("{name} {what}: {}", heads_text(&cls_head_maps(snap, layer).unwrap_or_default(), snap.grid))
        }
        MapKind::ClsMask => {
            let map = snap.attention_map(layer, view.head, 0);
            format!("{name} {what}: {}", mask_text(&map, &mass_mask(&map, KEPT_MASS), snap.grid))
        }
        MapKind::Norms => format!("{name}: {}", sinks(snap, layer).text(snap.grid, layer)),
        MapKind::Query | MapKind::Heads | MapKind::Rollout => {
            format!("{name} {what}: strongest patches {}", top_patches(picture.heat(), snap.grid, 5))
        }
    }
}

/// The `n` strongest patches of a map, 1-based, as text.
pub fn top_patches(map: &[f32], grid: usize, n: usize) -> String {
    let mut order: Vec<usize> = (0..map.len()).collect();
    order.sort_by(|&a, &b| map[b].total_cmp(&map[a]));
    order
        .iter()
        .take(n)
        .map(|&i| format!("row {} col {}: {:.3}", i / grid + 1, i % grid + 1, map[i]))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Depth of the tokens the representation view shows: after block `layer` (1-based on screen).
pub fn token_depth(view: &ViewState, depth_max: usize) -> usize {
    vitscope_protocol::shown_depth(view.layer, depth_max)
}

/// The selected patch's similarity map (for the CLS query, the centre patch: the CLS token itself is
/// not a patch; flat zero until the unit tokens are in), and that patch.
pub fn similarity(view: &ViewState, reference_grid: usize, m: &ModelResult) -> (Vec<f32>, usize) {
    let snap = &m.snapshot;
    let (row, _) = query_row(view.query, reference_grid, snap);
    let patch = if row < snap.prefix { snap.patches() / 2 + snap.grid / 2 } else { row - snap.prefix };
    let depth = token_depth(view, snap.depth);
    let map = m.derived.as_ref().map_or_else(|| vec![0.0; snap.patches()], |d| snap.query_similarity(d, depth, patch));
    (map, patch)
}

pub fn similarity_picture(view: &ViewState, reference_grid: usize, m: &ModelResult) -> Picture {
    let snap = &m.snapshot;
    let (heat, patch) = similarity(view, reference_grid, m);
    Picture::Overlay {
        input: Pixels { bytes: m.input.clone(), size: m.size },
        heat,
        grid: snap.grid,
        colormap: view.colormap,
        marker: Some((patch / snap.grid, patch % snap.grid)),
    }
}

/// The patch tokens' PCA colours at the chosen depth (`grid²` pixels).
pub fn pca_picture(view: &ViewState, m: &ModelResult) -> Picture {
    let depth = token_depth(view, m.snapshot.depth);
    let bytes = m.pca.get(depth).cloned().unwrap_or_default();
    Picture::Rgb(Pixels { bytes, size: m.snapshot.grid as u32 })
}

/// The foreground patches' colours from a PCA fitted on them alone (DINOv2's recipe), black elsewhere.
pub fn foreground_picture(view: &ViewState, m: &ModelResult) -> Picture {
    let depth = token_depth(view, m.snapshot.depth);
    let bytes = m.foreground_pca.get(depth).cloned().unwrap_or_default();
    Picture::Rgb(Pixels { bytes, size: m.snapshot.grid as u32 })
}

/// The foreground PCA in words: how many patches, and where.
pub fn foreground_text(view: &ViewState, m: &ModelResult) -> String {
    let depth = token_depth(view, m.snapshot.depth);
    let g = m.snapshot.grid;
    let Some(foreground) = m.foreground(depth) else {
        return format!("{}: computing the PCA of the tokens…", m.info.name());
    };
    let kept: Vec<usize> = foreground.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i).collect();
    let rows = kept.iter().map(|i| i / g + 1);
    let cols = kept.iter().map(|i| i % g + 1);
    format!(
        "{}: {} of {} patches after block {depth} are foreground (the first component's side away from the border), rows {}–{}, columns {}–{}; they are coloured by a PCA of their own",
        m.info.name(),
        kept.len(),
        g * g,
        rows.clone().min().unwrap_or(0),
        rows.max().unwrap_or(0),
        cols.clone().min().unwrap_or(0),
        cols.max().unwrap_or(0)
    )
}

/// Per depth: mean over patches of cos(z[i], z′[i]) between two runs' tokens (1 = unchanged); empty
/// until both runs' unit tokens are in.
pub fn feature_change(a: &ModelResult, b: &ModelResult) -> Vec<f32> {
    let (Some(x), Some(y)) = (&a.derived, &b.derived) else { return Vec::new() };
    let (n, c) = (a.snapshot.patches(), a.snapshot.channels);
    (0..=a.snapshot.depth)
        .map(|d| {
            let (x, y) = (&x.tokens[d * n * c..(d + 1) * n * c], &y.tokens[d * n * c..(d + 1) * n * c]);
            x.chunks_exact(c)
                .zip(y.chunks_exact(c))
                .map(|(p, q)| p.iter().zip(q).map(|(u, v)| u * v).sum::<f32>())
                .sum::<f32>()
                / n as f32
        })
        .collect()
}

/// Every picture of a view, labelled as on the page ("model family caption"), for the PNG export.
pub fn view_pictures(view: &ViewState, analysis: &Analysis, filtered: Option<&Analysis>) -> Vec<(String, Picture)> {
    let grid = analysis.reference_grid();
    let mut out = Vec::new();
    for m in &analysis.models {
        let title = format!("{} {}", m.info.name(), m.info.family().label());
        match view.view {
            View::Attention if view.map == MapKind::Heads => {
                for h in 0..m.snapshot.heads {
                    out.push((format!("{title} head {}", h + 1), attention_picture(view, grid, m, Some(h))));
                }
            }
            View::Attention => out.push((title, attention_picture(view, grid, m, view.head))),
            View::Representation => {
                out.push((format!("{title} similarity to the selected token"), similarity_picture(view, grid, m)));
                out.push((format!("{title} PCA of the tokens as RGB"), pca_picture(view, m)));
                out.push((format!("{title} PCA of the foreground tokens"), foreground_picture(view, m)));
            }
            View::Frequency => {
                let Some(after) = filtered.and_then(|f| f.models.iter().find(|x| x.info.id == m.info.id)) else {
                    continue;
                };
                let pixels = |bytes: &std::rc::Rc<Vec<u8>>| Pixels { bytes: bytes.clone(), size: after.size };
                out.push((format!("{title} filtered input"), Picture::Rgb(pixels(&after.input))));
                out.push((format!("{title} its spectrum"), Picture::Gray(pixels(&after.spectrum))));
            }
            View::Metrics => {}
        }
    }
    out
}

/// The colour legend's ends, for views whose canvases carry a colour map.
pub fn legend(view: &ViewState) -> Option<(&'static str, &'static str)> {
    match view.view {
        View::Attention => match view.map {
            MapKind::Norms => Some(("low token norm", "high token norm")),
            MapKind::ClsHeads | MapKind::ClsMask => None,
            MapKind::Query | MapKind::Heads | MapKind::Rollout => Some(("low attention", "high attention")),
        },
        View::Representation => Some(("least similar", "most similar")),
        View::Metrics | View::Frequency => None,
    }
}
