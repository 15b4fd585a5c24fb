//! Which int8 grouping a model's file gets, measured rather than assumed: each candidate, coarsest
//! (smallest file) first, is run against f32 on two calibration photos, and the first within
//! [`Bounds::STORED`] wins. A small or random model keeps one scale per output channel; a real
//! DINOv2-S/14 needs groups of 8 inputs (see README, int8 fidelity). The test suite checks the
//! chosen files on other photos against the same bounds.

use image::RgbImage;
use vitscope_core::analysis::{LayerMetrics, layer_metrics};
use vitscope_core::image::decode;
use vitscope_core::model::Capture;
use vitscope_core::pipeline::LoadedModel;
use vitscope_core::weights::{Grouping, ModelFile, Precision, WeightsError};

/// Tried in this order.
pub const CANDIDATES: [Grouping; 4] = [Grouping::Row, Grouping::Inputs(32), Grouping::Inputs(16), Grouping::Inputs(8)];

/// Two gallery photos (public domain, scikit-image's data) that the fidelity tests do not use.
const CALIBRATION: [&[u8]; 2] = [
    include_bytes!("../../../www/gallery/skimage_chelsea.jpg"),
    include_bytes!("../../../www/gallery/skimage_coffee.jpg"),
];

/// int8 against f32 on the same images: the worst case of each quantity a chart shows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Fidelity {
    /// Lowest cosine between a final token and its f32 twin.
    pub token_cosine: f64,
    /// Largest change of an attention probability.
    pub attention: f32,
    /// Largest change of a layer's attention distance, relative to it.
    pub distance_rel: f32,
    pub nmi: f32,
    /// ΔlogA anywhere on the half diagonal, and at the charted bin.
    pub dla: f32,
    pub dla_headline: f32,
    pub token_sim: f32,
}

/// What no chart may move by (the colour scales span 0–1; curves are read to two decimals): the same
/// quantities as a measurement, each a limit.
pub type Bounds = Fidelity;

impl Fidelity {
    /// The README's bounds, which the tests hold every file to.
    pub const CHARTS: Self = Self {
        token_cosine: 0.999,
        attention: 0.03,
        distance_rel: 0.01,
        nmi: 0.01,
        dla: 0.05,
        dla_headline: 0.02,
        token_sim: 0.01,
    };

    /// What a candidate must meet on the calibration photos: a margin under [`Self::CHARTS`],
    /// since other photos than the two measured land elsewhere.
    pub const STORED: Self = Self {
        token_cosine: 0.9993,
        attention: 0.02,
        distance_rel: 0.005,
        nmi: 0.005,
        dla: 0.035,
        dla_headline: 0.014,
        token_sim: 0.005,
    };

    /// The first quantity over its bound, named, or `None`.
    pub fn violation(&self, f: &Fidelity) -> Option<String> {
        let checks = [
            ("token cosine", f.token_cosine < self.token_cosine, f.token_cosine, self.token_cosine),
            ("attention", f.attention > self.attention, f.attention as f64, self.attention as f64),
            ("attention distance", f.distance_rel > self.distance_rel, f.distance_rel as f64, self.distance_rel as f64),
            ("NMI", f.nmi > self.nmi, f.nmi as f64, self.nmi as f64),
            ("ΔlogA", f.dla > self.dla, f.dla as f64, self.dla as f64),
            (
                "ΔlogA at the charted bin",
                f.dla_headline > self.dla_headline,
                f.dla_headline as f64,
                self.dla_headline as f64,
            ),
            ("token similarity", f.token_sim > self.token_sim, f.token_sim as f64, self.token_sim as f64),
        ];
        // Bounds are f32 constants: round them back to the decimals they were written with.
        let shown = |b: f64| (b * 1e6).round() / 1e6;
        checks
            .iter()
            .find(|c| c.1)
            .map(|(name, _, value, bound)| format!("{name} {value:.5} (bound {})", shown(*bound)))
    }
}

/// What a model draws for some images, read back to the host: the f32 side of a comparison, computed
/// once however many candidates are measured against it.
pub struct Drawn {
    width: usize,
    grid: usize,
    final_tokens: Vec<f32>,
    attention: Vec<Vec<f32>>,
    metrics: LayerMetrics,
}

impl Drawn {
    /// One image at a time: a batch's activations would sit beside the model at the page's
    /// conversion peak (a ViT-B's wasm heap after the f32 reference run: 985 MB with both photos in
    /// one batch, 886 MB one at a time).
    pub async fn of(model: &LoadedModel, images: &[RgbImage]) -> Result<Self, String> {
        let (mut final_tokens, mut attention, mut metrics) = (Vec::new(), Vec::<Vec<f32>>::new(), Vec::new());
        for image in images {
            let prepared = model.prepare(image);
            let out = model.forward(&[&prepared], Capture::all());
            for (i, block) in out.blocks.iter().enumerate() {
                let maps = read(block.attention.clone().ok_or("no attention")?).await?;
                match attention.get_mut(i) {
                    Some(all) => all.extend(maps),
                    None => attention.push(maps),
                }
            }
            metrics.extend(layer_metrics(&model.metrics, &out).await.map_err(|e| e.to_string())?);
            final_tokens.extend(read(out.final_tokens.ok_or("no final tokens")?).await?);
        }
        Ok(Self {
            width: model.file.config.width,
            grid: model.vit.grid(),
            final_tokens,
            attention,
            metrics: LayerMetrics::mean_of(&metrics),
        })
    }

    /// `self` (f32) against `other` (a candidate) on the same images: everything the page draws.
    pub fn against(&self, other: &Drawn) -> Fidelity {
        let c = self.width;
        let token_cosine = self
            .final_tokens
            .chunks(c)
            .zip(other.final_tokens.chunks(c))
            .map(|(x, y)| cosine(x, y))
            .fold(1.0, f64::min);
        let attention =
            self.attention.iter().zip(&other.attention).map(|(x, y)| max_abs_diff(x, y)).fold(0.0, f32::max);
        let (ma, mb) = (&self.metrics, &other.metrics);
        let da = LayerMetrics::layer_means(&ma.attention_distance);
        let db = LayerMetrics::layer_means(&mb.attention_distance);
        Fidelity {
            token_cosine,
            attention,
            distance_rel: da.iter().zip(&db).map(|(x, y)| (x - y).abs() / x.abs().max(1e-6)).fold(0.0, f32::max),
            nmi: max_abs_diff(&LayerMetrics::layer_means(&ma.nmi), &LayerMetrics::layer_means(&mb.nmi)),
            dla: max_abs_diff(&ma.delta_log_amplitude.concat(), &mb.delta_log_amplitude.concat()),
            dla_headline: max_abs_diff(
                &ma.delta_log_amplitude_headline(self.grid),
                &mb.delta_log_amplitude_headline(self.grid),
            ),
            token_sim: max_abs_diff(&ma.token_similarity, &mb.token_similarity),
        }
    }
}

/// Runs `reference` (f32) and `candidate` on `images` and compares everything the page draws.
pub async fn measure(
    reference: &LoadedModel,
    candidate: &LoadedModel,
    images: &[RgbImage],
) -> Result<Fidelity, String> {
    Ok(Drawn::of(reference, images).await?.against(&Drawn::of(candidate, images).await?))
}

/// A model's file as `vitscope convert` writes it.
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// int8 falls back to f16 when no grouping holds the bounds.
    pub precision: Precision,
    /// Each int8 grouping measured, in order, with what it measured.
    pub tried: Vec<(Grouping, Fidelity)>,
}

/// The file's int8 bytes, grouped as finely as the model needs, measured against f32 on two photos
/// on `device` (`checking` hears each grouping before it is measured); when no grouping holds the
/// bounds the matrices go to f16 instead, and to f32 when a weight is too large for f16 (and int8's
/// f16 scales). (f16 and f32 files need no measuring: `to_bytes`.)
pub async fn encode(
    model: &ModelFile,
    device: &burn::tensor::Device,
    checking: &mut dyn FnMut(Grouping),
) -> Result<Encoded, String> {
    match calibrated(model, device, checking).await? {
        (Some(bytes), tried) => Ok(Encoded { bytes, precision: Precision::Int8, tried }),
        (None, tried) => match model.to_bytes(Precision::F16) {
            Ok(bytes) => Ok(Encoded { bytes, precision: Precision::F16, tried }),
            Err(WeightsError::OutOfRange { .. }) => {
                let bytes = model.to_bytes(Precision::F32).map_err(|e| e.to_string())?;
                Ok(Encoded { bytes, precision: Precision::F32, tried })
            }
            Err(e) => Err(e.to_string()),
        },
    }
}

/// The int8 file with the coarsest grouping that meets [`Bounds::STORED`] on the calibration
/// photos, the grouping, and what it measured; `None` for the file when no grouping does (store
/// the model in f16 instead).
pub async fn calibrated(
    model: &ModelFile,
    device: &burn::tensor::Device,
    checking: &mut dyn FnMut(Grouping),
) -> Result<(Option<Vec<u8>>, Vec<(Grouping, Fidelity)>), String> {
    let images: Vec<RgbImage> =
        CALIBRATION.iter().map(|b| decode(b).map_err(|e| e.to_string())).collect::<Result<_, _>>()?;
    // The f32 model is run once and dropped before any candidate loads: a ViT-B is then on the
    // device once at a time, which keeps the page's conversion of one under 1.5 GB.
    let reference = {
        let loaded = LoadedModel::of(model, None, device).map_err(|e| e.to_string())?;
        Drawn::of(&loaded, &images).await?
    };
    let mut tried = Vec::new();
    for grouping in CANDIDATES {
        checking(grouping);
        let bytes = match model.to_bytes_grouped(Precision::Int8, grouping) {
            Ok(bytes) => bytes,
            // A weight past what int8 with f16 scales holds: no grouping changes that.
            Err(WeightsError::OutOfRange { .. }) => return Ok((None, tried)),
            Err(e) => return Err(e.to_string()),
        };
        // Loaded as the page loads any file: its int8 weights stay int8 (a ViT-B's 86 MB, not 343) and
        // each panel is dequantized as a product reaches it, to the same f32 values.
        let candidate = {
            let (file, tensors) = ModelFile::open(&bytes).map_err(|e| e.to_string())?;
            let loaded = LoadedModel::from_stored(file, &tensors, None, device).map_err(|e| e.to_string())?;
            Drawn::of(&loaded, &images).await?
        };
        let fidelity = reference.against(&candidate);
        tried.push((grouping, fidelity));
        if Bounds::STORED.violation(&fidelity).is_none() {
            return Ok((Some(bytes), tried));
        }
    }
    Ok((None, tried))
}

async fn read<const D: usize>(t: burn::Tensor<D>) -> Result<Vec<f32>, String> {
    vitscope_core::analysis::read(t).await.map_err(|e| e.to_string())
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb).max(f64::MIN_POSITIVE)
}
