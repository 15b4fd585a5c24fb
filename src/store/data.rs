//! What the page holds besides the URL state and the model list: the gallery, the image being
//! analysed and the analyses. Analyses arrive once and are then only read, so their parts are shared
//! (`Rc`): a component's props compare by pointer and a render never copies pixels.

use std::rc::Rc;

use vitscope_protocol::messages::{Backend, ModelAnalysis, ModelInfo};
use vitscope_protocol::{Derived, LayerMetrics, Representation, Snapshot, Timing};

use super::{MapKind, View, ViewState};

#[derive(Clone, Debug, PartialEq)]
pub struct GalleryItem {
    pub file: String,
    pub author: String,
    pub license: String,
    pub source: String,
}

/// The gallery's `MANIFEST.tsv` (a header line, then file, …, source, author, license).
pub fn parse_gallery(text: &str) -> Vec<GalleryItem> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (f.len() >= 6).then(|| GalleryItem {
                file: f[0].into(),
                source: f[3].into(),
                author: f[4].into(),
                license: f[5].into(),
            })
        })
        .collect()
}

/// The image being analysed: its bytes stay in this page and the worker.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageInput {
    pub name: String,
    pub bytes: ImageBytes,
    /// The gallery file it came from (only those go into the URL).
    pub gallery: Option<String>,
}

/// What the worker is handed: a file it decodes, or a camera frame's pixels.
#[derive(Clone, Debug, PartialEq)]
pub enum ImageBytes {
    File(Rc<Vec<u8>>),
    /// RGBA rows, as a canvas gives them.
    Frame {
        width: u32,
        height: u32,
        rgba: Rc<Vec<u8>>,
    },
}

impl ImageInput {
    /// A file the user chose or dropped, or a gallery photo (`gallery`: its file name).
    pub fn file(name: String, bytes: Rc<Vec<u8>>, gallery: Option<String>) -> Self {
        Self { name, bytes: ImageBytes::File(bytes), gallery }
    }

    /// How it is described once opened: a file's size, a frame's pixels.
    pub fn size_label(&self) -> String {
        match &self.bytes {
            ImageBytes::File(bytes) => format!("{} KB", bytes.len() / 1024),
            ImageBytes::Frame { width, height, .. } => format!("{width}×{height}"),
        }
    }
}

/// One model's results for the image, with the model's description. Cloning shares every part.
#[derive(Clone, Debug)]
pub struct ModelResult {
    pub info: Rc<ModelInfo>,
    /// The model's input as RGB, `size²` (filtered, in a filtered run).
    pub input: Rc<Vec<u8>>,
    pub size: u32,
    /// Gray log-amplitude spectrum of the input, `size²`.
    pub spectrum: Rc<Vec<u8>>,
    /// PCA colours of the patch tokens per depth, moved out of the representation so canvases can
    /// share them; empty until it arrives.
    pub pca: Vec<Rc<Vec<u8>>>,
    /// The foreground PCA's colours per depth, likewise.
    pub foreground_pca: Vec<Rc<Vec<u8>>>,
    /// The rollout, metrics and unit tokens; `None` while the worker is still computing them,
    /// after the maps were drawn.
    pub derived: Option<Rc<Derived>>,
    /// The rest of the representation (foreground patches, spectra); `None` while the worker is
    /// still computing it, after the rest of the snapshot was drawn.
    pub representation: Option<Rc<Representation>>,
    pub snapshot: Rc<Snapshot>,
    /// The snapshot's, with the representation's time once it is in.
    pub timing: Timing,
}

impl ModelResult {
    pub fn new(info: Rc<ModelInfo>, mut analysis: ModelAnalysis) -> Self {
        let representation = analysis.snapshot.representation.take();
        let mut result = Self {
            info,
            input: Rc::new(analysis.input),
            size: analysis.size,
            spectrum: Rc::new(analysis.spectrum),
            pca: Vec::new(),
            foreground_pca: Vec::new(),
            derived: analysis.snapshot.derived.take().map(Rc::new),
            representation: None,
            timing: analysis.snapshot.timing,
            snapshot: Rc::new(analysis.snapshot),
        };
        if let Some(r) = representation {
            result.represent(r);
        }
        result
    }

    /// Takes the rollout, metrics and unit tokens in (they came after the maps), and every layer's
    /// maps where the first answer held the shown layer's alone.
    pub fn derive(&mut self, mut derived: Derived) {
        if !derived.attention.is_empty() {
            let mut snapshot = (*self.snapshot).clone();
            snapshot.take_every_layer(std::mem::take(&mut derived.attention));
            self.snapshot = Rc::new(snapshot);
        }
        self.timing.total_ms = self.timing.first_ms + derived.millis;
        self.derived = Some(Rc::new(derived));
    }

    /// The per-layer metrics, once they are in.
    pub fn metrics(&self) -> Option<&LayerMetrics> {
        self.derived.as_deref().map(|d| &d.metrics)
    }

    /// Takes the representation in (it came after the rest of the snapshot).
    pub fn represent(&mut self, mut r: Representation) {
        self.pca = std::mem::take(&mut r.pca_rgb).into_iter().map(Rc::new).collect();
        self.foreground_pca = std::mem::take(&mut r.foreground_rgb).into_iter().map(Rc::new).collect();
        self.timing.total_ms = self.timing.first_ms + self.derived.as_ref().map_or(0.0, |d| d.millis) + r.millis;
        self.representation = Some(Rc::new(r));
    }

    /// The ln σ spectrum after `depth` tokens, once that depth's representation is in.
    pub fn singular_values(&self, depth: usize) -> Option<&[f32]> {
        let r = self.representation.as_ref().filter(|r| r.has(depth))?;
        r.spectrum.get(depth).map(Vec::as_slice)
    }

    /// The foreground patches after `depth`, once that depth's representation is in.
    pub fn foreground(&self, depth: usize) -> Option<&[bool]> {
        let r = self.representation.as_ref().filter(|r| r.has(depth))?;
        r.foreground.get(depth).map(Vec::as_slice)
    }
}

/// One run over the image: every model of the pair, in pair order.
#[derive(Debug)]
pub struct Analysis {
    pub image: String,
    pub width: u32,
    pub height: u32,
    pub backend: Backend,
    pub models: Vec<ModelResult>,
}

/// Analyses compare by identity: each run is a new one, and comparing megabytes of attention
/// whenever a component checks its props would cost more than the render it saves.
impl PartialEq for Analysis {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Analysis {
    /// Whether every model's representation is in (the run is over).
    pub fn is_complete(&self) -> bool {
        self.is_derived() && self.models.iter().all(|m| m.representation.as_ref().is_some_and(|r| r.is_complete()))
    }

    /// Whether every model's rollout, metrics and unit tokens are in (the worker's second answer).
    pub fn is_derived(&self) -> bool {
        self.models.iter().all(|m| m.derived.is_some())
    }

    /// Whether every model's representation is in at least for the depth shown (the first of the
    /// worker's two representation answers).
    pub fn is_shown(&self) -> bool {
        self.is_derived() && self.models.iter().all(|m| m.representation.is_some())
    }

    /// Whether the view `view` describes can be drawn from what is in: the attention maps (but the
    /// rollout) need only the first answer where it holds the layer on screen, every other view the
    /// derived part too.
    pub fn draws(&self, view: &ViewState) -> bool {
        match view.view {
            View::Attention if view.map != MapKind::Rollout => {
                self.models.iter().all(|m| m.snapshot.layer_attention(m.snapshot.shown_layer(view.layer)).is_some())
            }
            _ => self.is_derived(),
        }
    }

    /// This analysis with each model's rollout, metrics and unit tokens (by id) taken in.
    pub fn derived(&self, derived: Vec<(String, Derived)>) -> Self {
        self.taking(derived, ModelResult::derive)
    }

    /// This analysis with each model's representation (by id) taken in.
    pub fn represented(&self, representations: Vec<(String, Representation)>) -> Self {
        self.taking(representations, ModelResult::represent)
    }

    /// A new analysis (views compare analyses by identity) sharing every part of this one, with each
    /// model's later part (by id) taken in by `take`.
    fn taking<T>(&self, parts: Vec<(String, T)>, take: fn(&mut ModelResult, T)) -> Self {
        let mut models = self.models.clone();
        for (id, part) in parts {
            if let Some(m) = models.iter_mut().find(|m| m.info.id == id) {
                take(m, part);
            }
        }
        Self { image: self.image.clone(), width: self.width, height: self.height, backend: self.backend, models }
    }

    /// The grid queries are kept in: the first model's.
    pub fn reference_grid(&self) -> usize {
        self.models.first().map_or(14, |m| m.snapshot.grid)
    }

    pub fn min_depth(&self) -> usize {
        self.models.iter().map(|m| m.info.depth).min().unwrap_or(1)
    }
}

/// A model download, read or conversion under way.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub model: String,
    pub stage: vitscope_protocol::messages::Stage,
    pub loaded: u64,
    pub total: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gallery_manifest_skips_its_header_and_short_lines() {
        let text = "file\tw\th\tsource\tauthor\tlicense\na.jpg\t1\t1\thttps://x\tAda\tCC0\nbroken\tline\n";
        assert_eq!(
            parse_gallery(text),
            [GalleryItem {
                file: "a.jpg".into(),
                author: "Ada".into(),
                license: "CC0".into(),
                source: "https://x".into()
            }]
        );
    }
}
