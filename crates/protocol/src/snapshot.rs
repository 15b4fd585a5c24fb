//! Everything the explorer shows for one model and one image, from one forward pass: the attention
//! of every layer and head (so any query's map is a host-side slice, with no second pass) and every
//! token's norm per depth; then ([`Derived`]) the rollout, the per-layer metrics and unit patch
//! tokens per depth (for selected-token similarity); then each depth's PCA colours and SVD spectrum
//! ([`Representation`]). The worker sends the three parts in that order, so the attention maps are
//! drawn before the metrics behind the other views, and those before the eigendecompositions. Its
//! first part holds the maps of the layer on screen alone (a twelfth of the bytes to copy before the
//! open view is drawn); every layer's come with the second.

use serde::{Deserialize, Serialize};

use super::metrics::LayerMetrics;
use super::raw_f32;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub grid: usize,
    /// Tokens before the patches: the CLS token (when `cls`) first, then the registers.
    pub prefix: usize,
    /// Token 0 is a CLS token. A model may have registers and no CLS token (timm's `*_reg*_gap`
    /// ViTs pool their patches), and then nothing is a CLS query.
    pub cls: bool,
    pub depth: usize,
    pub heads: usize,
    pub channels: usize,
    /// `[L, H, T, T]`, T = prefix + grid²; `[H, T, T]` when it holds one layer alone
    /// ([`Self::attention_layer`]).
    #[serde(with = "raw_f32")]
    pub attention: Vec<f32>,
    /// `Some(l)`: `attention` holds layer `l`'s maps alone, as the worker's first answer does (every
    /// layer's follow in [`Derived::attention`]); `None`: every layer's.
    pub attention_layer: Option<usize>,
    /// `[L + 1, T]` ‖z_d[t]‖ of every token (CLS and registers too), before any normalisation: the
    /// high-norm tokens of Darcet et al. (ICLR 2024) stand out here.
    #[serde(with = "raw_f32")]
    pub token_norms: Vec<f32>,
    /// The rollout, the metrics and the unit tokens; `None` until they are computed (see the
    /// module's note).
    pub derived: Option<Derived>,
    /// PCA colours and spectra per depth; `None` until they are computed.
    pub representation: Option<Representation>,
    pub timing: Timing,
}

/// What is computed from a pass's attention and tokens after the maps themselves: the worker sends
/// it second, so a view that needs only the maps is drawn first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// `[L, H, T, T]` every layer's maps, when the snapshot before held one layer's alone
    /// ([`Snapshot::attention_layer`]); empty when it held them all.
    #[serde(with = "raw_f32")]
    pub attention: Vec<f32>,
    /// `[T, T]` rollout through all layers.
    #[serde(with = "raw_f32")]
    pub rollout: Vec<f32>,
    pub metrics: LayerMetrics,
    /// `[L + 1, N, C]` unit-length patch tokens after the embedding (depth 0) and each block.
    #[serde(with = "raw_f32")]
    pub tokens: Vec<f32>,
    /// The time it took, after the maps.
    pub millis: f64,
}

/// Each depth's eigendecomposition of the patch tokens' covariance, as colours and a spectrum.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Representation {
    /// `[L + 1][N · 3]` PCA → RGB colours of the patch tokens.
    pub pca_rgb: Vec<Vec<u8>>,
    /// `[L + 1][N]` the patches on the foreground side of the first component (DINOv2's recipe).
    pub foreground: Vec<Vec<bool>>,
    /// `[L + 1][N · 3]` PCA → RGB fitted on the foreground patches alone; black elsewhere.
    pub foreground_rgb: Vec<Vec<u8>>,
    /// `[L + 1][rank]` ln σ of the token covariance, descending.
    pub spectrum: Vec<Vec<f32>>,
    /// The time it took, after the rest of the snapshot.
    pub millis: f64,
}

/// The depth of the tokens the page shows for `layer` (the 0-based block on screen): after block
/// `layer + 1`, or after the last of `blocks` (depth 0 is the embedding).
pub fn shown_depth(layer: usize, blocks: usize) -> usize {
    (layer + 1).min(blocks)
}

impl Representation {
    /// Whether depth `depth` is in: a first answer carries only the depth on screen, the others empty.
    /// (Read off the spectrum, which the page keeps here when it moves the colours out.)
    pub fn has(&self, depth: usize) -> bool {
        self.spectrum.get(depth).is_some_and(|s| !s.is_empty())
    }

    /// Whether every depth is in.
    pub fn is_complete(&self) -> bool {
        !self.spectrum.is_empty() && (0..self.spectrum.len()).all(|d| self.has(d))
    }

    /// `first` with the depths it lacks taken from `self` (the rest, computed after it).
    pub fn fill(mut self, mut first: Representation) -> Representation {
        for d in 0..self.spectrum.len().min(first.spectrum.len()) {
            if !first.has(d) {
                continue;
            }
            self.pca_rgb[d] = std::mem::take(&mut first.pca_rgb[d]);
            self.foreground[d] = std::mem::take(&mut first.foreground[d]);
            self.foreground_rgb[d] = std::mem::take(&mut first.foreground_rgb[d]);
            self.spectrum[d] = std::mem::take(&mut first.spectrum[d]);
        }
        self.millis += first.millis;
        self
    }
}

/// Where the time went, in milliseconds: the forward pass (ending when the tokens and attention maps
/// are on the host, as with any inference library), the maps with the token norms (the first
/// answer), and the whole snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub forward_ms: f64,
    pub first_ms: f64,
    pub total_ms: f64,
}

impl Snapshot {
    pub fn patches(&self) -> usize {
        self.grid * self.grid
    }

    fn tokens_total(&self) -> usize {
        self.prefix + self.patches()
    }

    /// The layer this model shows for the page's `layer` (0-based): a shallower model its last.
    pub fn shown_layer(&self, layer: usize) -> usize {
        layer.min(self.depth.saturating_sub(1))
    }

    /// Layer `layer`'s maps, `[H, T, T]`, if this snapshot holds them (see [`Self::attention_layer`]).
    pub fn layer_attention(&self, layer: usize) -> Option<&[f32]> {
        let size = self.heads * self.tokens_total() * self.tokens_total();
        match self.attention_layer {
            Some(held) => (held == layer).then_some(&self.attention[..]),
            None => self.attention.get(layer * size..(layer + 1) * size),
        }
    }

    /// Keeps layer `layer`'s maps alone (clamped to the last layer), as the worker's first answer
    /// does, and gives back every layer's.
    pub fn keep_one_layer(&mut self, layer: usize) -> Vec<f32> {
        let layer = self.shown_layer(layer);
        let size = self.heads * self.tokens_total() * self.tokens_total();
        let one = self.attention[layer * size..(layer + 1) * size].to_vec();
        self.attention_layer = Some(layer);
        std::mem::replace(&mut self.attention, one)
    }

    /// Every layer's maps, `[L, H, T, T]`, in place of the one layer's.
    pub fn take_every_layer(&mut self, attention: Vec<f32>) {
        self.attention = attention;
        self.attention_layer = None;
    }

    /// One attention row over the patches, renormalised to sum 1 (as `attention_map`): `row` is a token
    /// index (0 = CLS), `head` None averages the heads. Flat zero for a layer not held yet.
    pub fn attention_map(&self, layer: usize, head: Option<usize>, row: usize) -> Vec<f32> {
        let t = self.tokens_total();
        let heads: Vec<usize> = head.map_or_else(|| (0..self.heads).collect(), |h| vec![h]);
        let mut map = vec![0f32; self.patches()];
        let Some(maps) = self.layer_attention(layer) else { return map };
        for &h in &heads {
            let start = (h * t + row) * t + self.prefix;
            let r = &maps[start..start + self.patches()];
            let sum: f32 = r.iter().sum::<f32>().max(1e-30);
            for (m, v) in map.iter_mut().zip(r) {
                *m += v / sum / heads.len() as f32;
            }
        }
        map
    }

    /// Row `row` of `derived`'s rollout (this snapshot's) over the patches, renormalised (as
    /// `rollout_map`).
    pub fn rollout_map(&self, derived: &Derived, row: usize) -> Vec<f32> {
        let t = self.tokens_total();
        let r = &derived.rollout[row * t + self.prefix..(row + 1) * t];
        let sum: f32 = r.iter().sum::<f32>().max(1e-30);
        r.iter().map(|v| v / sum).collect()
    }

    /// cos(z_d[q], z_d[i]) for every patch i, from `derived`'s unit tokens (this snapshot's).
    pub fn query_similarity(&self, derived: &Derived, depth: usize, query: usize) -> Vec<f32> {
        let (n, c) = (self.patches(), self.channels);
        let layer = &derived.tokens[depth * n * c..(depth + 1) * n * c];
        let q = &layer[query * c..(query + 1) * c];
        layer.chunks_exact(c).map(|z| z.iter().zip(q).map(|(a, b)| a * b).sum()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{Representation, Snapshot, Timing};

    /// Three layers of two heads over a CLS token and 2×2 patches, every value its own index.
    fn three_layers() -> Snapshot {
        let t = 5;
        Snapshot {
            grid: 2,
            prefix: 1,
            cls: true,
            depth: 3,
            heads: 2,
            channels: 4,
            attention: (0..3 * 2 * t * t).map(|i| i as f32).collect(),
            attention_layer: None,
            token_norms: vec![1.0; 4 * t],
            derived: None,
            representation: None,
            timing: Timing::default(),
        }
    }

    #[test]
    fn a_first_answer_holds_one_layers_maps_and_draws_them_as_the_whole_does() {
        let whole = three_layers();
        let mut first = whole.clone();
        let every = first.keep_one_layer(1);
        assert_eq!(every, whole.attention);
        assert_eq!((first.attention.len(), first.attention_layer), (2 * 5 * 5, Some(1)));
        assert_eq!(first.layer_attention(1), whole.layer_attention(1));
        assert_eq!(first.layer_attention(1).unwrap()[0], 50.0, "layer 1 starts after layer 0's 2·5·5 values");
        assert!(first.layer_attention(0).is_none() && first.layer_attention(2).is_none());
        for (head, row) in [(Some(0), 0), (Some(1), 3), (None, 4)] {
            assert_eq!(first.attention_map(1, head, row), whole.attention_map(1, head, row));
        }
        // Layer 1 starts at 50, its head 1 at 75, that head's row 3 at 90: the patches are 91–94.
        let row: Vec<f32> = (91..95).map(|v| v as f32 / 370.0).collect();
        assert_eq!(whole.attention_map(1, Some(1), 3), row);
        assert_eq!(first.attention_map(2, None, 0), vec![0.0; 4], "a layer not held yet is flat zero");
        first.take_every_layer(every);
        assert_eq!(first, whole);
        // Past the last layer, the last one is kept.
        assert_eq!(whole.clone().keep_one_layer(9).len(), 150);
        let mut last = whole.clone();
        last.keep_one_layer(9);
        assert_eq!(last.attention_layer, Some(2));
    }

    /// Depths `in_` computed (colours of `d` everywhere), the others empty, as the worker sends them.
    fn with(depths: usize, in_: &[usize], millis: f64) -> Representation {
        let at = |d: usize, v: Vec<u8>| if in_.contains(&d) { v } else { Vec::new() };
        Representation {
            pca_rgb: (0..depths).map(|d| at(d, vec![d as u8; 6])).collect(),
            foreground: (0..depths).map(|d| if in_.contains(&d) { vec![d % 2 == 0, true] } else { vec![] }).collect(),
            foreground_rgb: (0..depths).map(|d| at(d, vec![d as u8 + 100; 6])).collect(),
            spectrum: (0..depths).map(|d| if in_.contains(&d) { vec![d as f32, -1.0] } else { vec![] }).collect(),
            millis,
        }
    }

    #[test]
    fn the_first_answer_has_only_the_shown_depth_and_the_rest_completes_it() {
        let first = with(4, &[2], 1.5);
        assert!(first.has(2) && !first.has(0) && !first.has(3) && !first.has(4));
        assert!(!first.is_complete() && !Representation::default().is_complete());
        let rest = with(4, &[0, 1, 3], 4.0);
        let whole = rest.fill(first);
        assert_eq!(whole, Representation { millis: 5.5, ..with(4, &[0, 1, 2, 3], 0.0) });
        assert!(whole.is_complete());
    }
}
