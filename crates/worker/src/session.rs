//! The worker's state and work, free of any browser API so the native tests run exactly this code:
//! loaded models by id, the one image the page opened (decoded once, kept for every later run), and
//! that image analysed by several models.

use std::collections::BTreeMap;
use std::sync::Arc;

use burn::tensor::Device;
use image::RgbImage;
use vitscope_convert::checkpoint::is_vitscope_file;
use vitscope_convert::{ByteSource, ConvertOptions, Step, convert_source, encode};
use vitscope_core::analysis::probe::probe_curves;
use vitscope_core::analysis::{AnalysisError, Derived, Grams, Representation};
use vitscope_core::image::{ApplyFilter, FrequencyFilter, Prepared, decode, from_rgba, log_spectrum};
use vitscope_core::model::{ModelError, VitOutput};
use vitscope_core::pipeline::LoadedModel;
use vitscope_core::weights::ModelFile;
use vitscope_core::weights::format::MAX_FILE_BYTES;
use vitscope_protocol::messages::{
    Arithmetic, MAX_ATTENTION_BYTES, Measurement, Measures, ModelAnalysis, ModelInfo, RunSize, Stage, WorkerError,
    attention_bytes,
};
use vitscope_protocol::probe::{PooledFeatures, ProbeCurves};

/// A dropped file, read: the vitscope file it is or was converted to.
pub struct Dropped {
    pub bytes: Vec<u8>,
    /// The layout it was converted from; `None` for a file that was vitscope's already.
    pub converted_from: Option<String>,
}

pub struct Session {
    device: Device,
    models: BTreeMap<String, LoadedModel>,
    image: Option<RgbImage>,
    /// How int8 weights multiply, in every model loaded now or later.
    arithmetic: Arithmetic,
}

impl Session {
    pub fn new(device: Device) -> Self {
        Self { device, models: BTreeMap::new(), image: None, arithmetic: Arithmetic::default() }
    }

    /// How weights stored in int8 multiply on the CPU, in every model from now on (WebGPU and
    /// f32 files are unaffected).
    pub fn set_arithmetic(&mut self, arithmetic: Arithmetic) {
        self.arithmetic = arithmetic;
        self.models.values_mut().for_each(|m| m.set_arithmetic(arithmetic));
    }

    /// Validates and loads a vitscope file to run at `size`; every rejection names its reason.
    pub fn load(&mut self, id: &str, bytes: &[u8], size: RunSize) -> Result<ModelInfo, WorkerError> {
        let refused = |reason: String| WorkerError::Model { id: id.to_string(), reason };
        let unusable = |e: &dyn std::fmt::Display| refused(format!("this is not a usable vitscope model: {e}"));
        // Tensors are dequantized one at a time as the model takes them: a ViT-B's f32 weights are
        // never all in the worker's memory, whose high-water mark it keeps for good.
        let (file, tensors) = ModelFile::open(bytes).map_err(|e| unusable(&e))?;
        let c = &file.config;
        let native = c.image_size;
        let run = match size {
            RunSize::Card => None,
            RunSize::Native => {
                let bytes = attention_bytes(c.depth, c.heads, c.prefix_tokens(), native / c.patch_size);
                if bytes > MAX_ATTENTION_BYTES {
                    return Err(refused(format!(
                        "at its native {native} px its attention maps alone take {} MB, more than the page holds ({} MB); `vitscope analyze --image-size {native}` measures it natively",
                        bytes >> 20,
                        MAX_ATTENTION_BYTES >> 20
                    )));
                }
                Some(native)
            }
        };
        let precision = file.precision.to_string();
        let mut model = LoadedModel::from_stored(file, &tensors, run, &self.device).map_err(|e| match e {
            ModelError::Unreadable(_) => unusable(&e),
            e => refused(format!("the model cannot run: {e}")),
        })?;
        model.set_arithmetic(self.arithmetic);
        let c = &model.file.config;
        let info = ModelInfo {
            id: id.to_string(),
            card: model.file.card.clone(),
            image_size: model.image_size(),
            native_size: native as u32,
            patch_size: c.patch_size,
            prefix_tokens: c.prefix_tokens(),
            depth: c.depth,
            heads: c.heads,
            width: c.width,
            precision,
        };
        self.models.insert(id.to_string(), model);
        Ok(info)
    }

    /// A dropped file as a vitscope file: read whole if it is one ([`Session::read_vitscope_file`]),
    /// else converted ([`Session::convert_dropped`]). Nothing is loaded yet: [`Session::load`] the
    /// bytes.
    pub async fn read_dropped(
        &self,
        id: &str,
        name: &str,
        source: Arc<dyn ByteSource>,
        sha256: Option<String>,
        progress: &mut dyn FnMut(Stage, u64, Option<u64>),
    ) -> Result<Dropped, WorkerError> {
        if is_vitscope_file(&*source) {
            let bytes = Self::read_vitscope_file(id, &*source, progress)?;
            return Ok(Dropped { bytes, converted_from: None });
        }
        self.convert_dropped(id, name, source, sha256, progress).await
    }

    /// A dropped vitscope file's bytes (the loader checks them).
    pub fn read_vitscope_file(
        id: &str,
        source: &dyn ByteSource,
        progress: &mut dyn FnMut(Stage, u64, Option<u64>),
    ) -> Result<Vec<u8>, WorkerError> {
        let refused = |reason: String| WorkerError::Model { id: id.to_string(), reason };
        let unreadable = |e: std::io::Error| refused(format!("the file could not be read: {e}"));
        let len = source.len().map_err(unreadable)?;
        if len > MAX_FILE_BYTES {
            return Err(refused(format!("the file is {len} bytes, above the {MAX_FILE_BYTES}-byte limit")));
        }
        let mut bytes = vec![0u8; len as usize];
        source.read_exact_at(&mut bytes, 0).map_err(unreadable)?;
        progress(Stage::Loading, len, Some(len));
        Ok(bytes)
    }

    /// A dropped checkpoint converted exactly as `vitscope convert --precision int8` converts it (the
    /// grouping measured on this session's device). `sha256`, when the caller hashed the file
    /// already, spares hashing it again.
    pub async fn convert_dropped(
        &self,
        id: &str,
        name: &str,
        source: Arc<dyn ByteSource>,
        sha256: Option<String>,
        progress: &mut dyn FnMut(Stage, u64, Option<u64>),
    ) -> Result<Dropped, WorkerError> {
        let refused = |reason: String| WorkerError::Model { id: id.to_string(), reason };
        let options = ConvertOptions { sha256, ..ConvertOptions::default() };
        let model = convert_source(source, name, &options, &mut |step| match step {
            Step::Hashing { done, total } => progress(Stage::Hashing, done, Some(total)),
            Step::Reading { done, total } => progress(Stage::Converting, done, Some(total)),
        })
        .map_err(|e| refused(format!("this is neither a vitscope model nor a checkpoint vitscope can convert: {e}")))?;
        let candidates = vitscope_convert::int8::CANDIDATES.len() as u64;
        let mut measured = 0;
        let mut checking = |_| {
            progress(Stage::CheckingInt8, measured, Some(candidates));
            measured += 1;
        };
        let encoded = encode(&model, &self.device, &mut checking).await.map_err(refused)?;
        Ok(Dropped { bytes: encoded.bytes, converted_from: Some(model.card.source.layout.clone()) })
    }

    /// Frees `id` (nothing happens if it is not loaded).
    pub fn unload(&mut self, id: &str) {
        self.models.remove(id);
    }

    pub fn has(&self, id: &str) -> bool {
        self.models.contains_key(id)
    }

    /// Decodes and keeps the image for every later [`Session::analyze`]; a refused image leaves the
    /// previous one in place. Returns its size.
    pub fn open_image(&mut self, bytes: &[u8]) -> Result<(u32, u32), WorkerError> {
        let decoded = decode(bytes).map_err(|e| WorkerError::Image(e.to_string()))?;
        let size = decoded.dimensions();
        self.image = Some(decoded);
        Ok(size)
    }

    /// Keeps a camera frame as [`Session::open_image`] keeps a file: the newest frame replaces the image.
    pub fn open_frame(&mut self, width: u32, height: u32, rgba: Vec<u8>) -> Result<(u32, u32), WorkerError> {
        let frame = from_rgba(width, height, rgba).map_err(|e| WorkerError::Image(e.to_string()))?;
        self.image = Some(frame);
        Ok((width, height))
    }

    /// Runs each model on its own preprocessing of the kept image, through `filter` when given.
    pub async fn analyze(
        &self,
        ids: &[String],
        filter: Option<FrequencyFilter>,
    ) -> Result<Vec<ModelAnalysis>, WorkerError> {
        let Analysed { mut models, passes } = self.analyze_first(ids, filter, None).await?;
        let (derived, pending) = self.derive(&models, passes).await?;
        for (m, ((_, d), (_, r))) in models.iter_mut().zip(derived.into_iter().zip(pending.represent())) {
            debug_assert!(d.attention.is_empty(), "every layer's maps stayed in the snapshot");
            m.snapshot.timing.total_ms += d.millis + r.millis;
            m.snapshot.derived = Some(d);
            m.snapshot.representation = Some(r);
        }
        Ok(models)
    }

    /// [`Session::analyze`]'s first part: each model's attention maps and token norms (all the
    /// attention view draws), and the passes [`Session::derive`] takes the rest from. With
    /// `Some(layer)` a snapshot holds that layer's maps alone (the one on screen: a twelfth of the
    /// bytes to send before it is drawn), and its derived part brings every layer's.
    pub async fn analyze_first(
        &self,
        ids: &[String],
        filter: Option<FrequencyFilter>,
        layer: Option<usize>,
    ) -> Result<Analysed, WorkerError> {
        let image = self.image.as_ref().ok_or(WorkerError::NoImage)?;
        let mut out = Analysed { models: Vec::with_capacity(ids.len()), passes: Passes(Vec::with_capacity(ids.len())) };
        for id in ids {
            let model = self.models.get(id).ok_or_else(|| WorkerError::NotLoaded(id.clone()))?;
            let mut prepared = model.prepare(image);
            if let Some(f) = filter {
                prepared = Prepared::from_cropped(f.apply(&prepared.cropped), &model.file.card.preprocessing);
            }
            let (mut snapshot, pass) = model.snapshot_maps(&prepared).await.map_err(device_error)?;
            let every_layer = layer.map(|l| snapshot.keep_one_layer(l));
            out.models.push(ModelAnalysis {
                id: id.clone(),
                spectrum: log_spectrum(&prepared.cropped).into_raw(),
                input: prepared.cropped.into_raw(),
                size: prepared.size,
                snapshot,
            });
            out.passes.0.push(Pass { id: id.clone(), out: pass, every_layer });
        }
        Ok(out)
    }

    /// Each model's rollout, metrics and unit tokens from its pass (`first`: the snapshots
    /// [`Session::analyze_first`] gave with `passes`), with every layer's maps where the snapshot
    /// held one layer's, by id, and what gives the representations (host work: nothing is left to
    /// fail).
    pub async fn derive(
        &self,
        first: &[ModelAnalysis],
        passes: Passes,
    ) -> Result<(Vec<(String, Derived)>, Pending), WorkerError> {
        let mut derived = Vec::with_capacity(first.len());
        let mut pending = Pending(Vec::with_capacity(first.len()));
        for (Pass { id, out, every_layer }, analysis) in passes.0.into_iter().zip(first) {
            let model = self.models.get(&id).ok_or_else(|| WorkerError::NotLoaded(id.clone()))?;
            let attention = every_layer.as_deref().unwrap_or(&analysis.snapshot.attention);
            let (mut d, grams) = model.derive(&out, attention).await.map_err(device_error)?;
            d.attention = every_layer.unwrap_or_default();
            derived.push((id.clone(), d));
            pending.0.push((id, grams));
        }
        Ok((derived, pending))
    }

    /// One image of a set: each model's per-layer numbers, as `vitscope analyze` computes them, or its
    /// pooled features, as `vitscope probe` takes them; the image is not kept, and the one kept for
    /// [`Session::analyze`] is untouched.
    pub async fn measure(
        &self,
        bytes: &[u8],
        ids: &[String],
        measures: Measures,
    ) -> Result<Vec<(String, Measurement)>, WorkerError> {
        let image = decode(bytes).map_err(|e| WorkerError::Image(e.to_string()))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let model = self.models.get(id).ok_or_else(|| WorkerError::NotLoaded(id.clone()))?;
            let prepared = [&model.prepare(&image)];
            let measured = match measures {
                Measures::Metrics => {
                    let mut metrics = model.layer_metrics(&prepared).await.map_err(device_error)?;
                    Measurement::Metrics(metrics.pop().unwrap_or_default())
                }
                Measures::Pooled => {
                    let mut pooled = model.pooled_features(&prepared).await.map_err(device_error)?;
                    Measurement::Pooled(pooled.pop().unwrap_or_default())
                }
            };
            out.push((id.clone(), measured));
        }
        Ok(out)
    }

    /// A labelled set's probes per model, as `vitscope probe` computes them (no model is needed: the
    /// features came with the set).
    pub fn probe(
        classes: usize,
        labels: &[usize],
        models: &[(String, Vec<PooledFeatures>)],
    ) -> Result<Vec<(String, ProbeCurves)>, WorkerError> {
        let malformed = |why: String| WorkerError::Malformed(why);
        if labels.iter().any(|&l| l >= classes) {
            return Err(malformed(format!("a label is not below the {classes} classes")));
        }
        models
            .iter()
            .map(|(id, features)| {
                let width = features.first().map_or(0, |f| f.width);
                let layers = features.first().map_or(0, PooledFeatures::layers);
                let consistent = |f: &PooledFeatures| {
                    f.width == width
                        && f.avg.len() == layers * width
                        && (f.cls.is_empty() || f.cls.len() == layers * width)
                };
                if features.len() != labels.len() || !features.iter().all(consistent) {
                    return Err(malformed(format!("{id}: the features do not match the labels or one another")));
                }
                let refs: Vec<&PooledFeatures> = features.iter().collect();
                Ok((id.clone(), probe_curves(&refs, labels, classes, &mut |_, _| {})))
            })
            .collect()
    }
}

/// Snapshots of the maps alone, and the passes that give the rest ([`Session::derive`]).
pub struct Analysed {
    pub models: Vec<ModelAnalysis>,
    pub passes: Passes,
}

/// Each analysed model's forward pass, in the order analysed.
pub struct Passes(Vec<Pass>);

/// A model's forward pass (by id), its attention and streams still held, and every layer's maps on
/// the host where its snapshot kept one layer's.
struct Pass {
    id: String,
    out: VitOutput,
    every_layer: Option<Vec<f32>>,
}

/// Each analysed model's Gram matrices, by id.
pub struct Pending(Vec<(String, Grams)>);

impl Pending {
    /// Each model's representation, by id, in the order analysed.
    pub fn represent(&self) -> Vec<(String, Representation)> {
        self.0.iter().map(|(id, g)| (id.clone(), g.represent())).collect()
    }

    /// Each model's representation at the depth the page shows for `layer` (after block
    /// `layer + 1`, or the model's last), the other depths empty: what the open view needs.
    pub fn represent_shown(&self, layer: usize) -> Vec<(String, Representation)> {
        let shown = |g: &Grams| vitscope_protocol::shown_depth(layer, g.depths().saturating_sub(1));
        self.0.iter().map(|(id, g)| (id.clone(), g.represent_depths(|d| d == shown(g)))).collect()
    }

    /// `first` (from [`Self::represent_shown`]) completed with every other depth.
    pub fn represent_rest(&self, first: Vec<(String, Representation)>) -> Vec<(String, Representation)> {
        self.0
            .iter()
            .zip(first)
            .map(|((id, g), (_, first))| (id.clone(), g.represent_depths(|d| !first.has(d)).fill(first)))
            .collect()
    }
}

/// A run that fails after the model loaded failed on the device (a lost WebGPU device cannot hand
/// results back): the page moves to another backend rather than blaming the image.
fn device_error(e: AnalysisError) -> WorkerError {
    WorkerError::Device(e.to_string())
}
