//! The worker's state and work, free of any browser API so the native tests run exactly this code:
//! loaded models by id, the one image the page opened (decoded once, kept for every later run), and
//! that image analysed by several models.

use std::collections::BTreeMap;

use burn::tensor::Device;
use image::RgbImage;
use vitscope_core::analysis::AnalysisError;
use vitscope_core::image::{ApplyFilter, FrequencyFilter, Prepared, decode, log_spectrum};
use vitscope_core::pipeline::LoadedModel;
use vitscope_core::weights::ModelFile;
use vitscope_protocol::messages::{ModelAnalysis, ModelInfo, WorkerError};

pub struct Session {
    device: Device,
    models: BTreeMap<String, LoadedModel>,
    image: Option<RgbImage>,
}

impl Session {
    pub fn new(device: Device) -> Self {
        Self { device, models: BTreeMap::new(), image: None }
    }

    /// Validates and loads a vitscope file; every rejection names its reason.
    pub fn load(&mut self, id: &str, bytes: &[u8]) -> Result<ModelInfo, WorkerError> {
        let refused = |reason: String| WorkerError::Model { id: id.to_string(), reason };
        let file =
            ModelFile::from_bytes(bytes).map_err(|e| refused(format!("this is not a usable vitscope model: {e}")))?;
        let precision = file.precision.to_string();
        let model =
            LoadedModel::new(file, None, &self.device).map_err(|e| refused(format!("the model cannot run: {e}")))?;
        let c = &model.file.config;
        let info = ModelInfo {
            id: id.to_string(),
            card: model.file.card.clone(),
            image_size: model.image_size(),
            patch_size: c.patch_size,
            depth: c.depth,
            heads: c.heads,
            width: c.width,
            precision,
        };
        self.models.insert(id.to_string(), model);
        Ok(info)
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

    /// Runs each model on its own preprocessing of the kept image, through `filter` when given.
    pub async fn analyze(
        &self,
        ids: &[String],
        filter: Option<FrequencyFilter>,
    ) -> Result<Vec<ModelAnalysis>, WorkerError> {
        let image = self.image.as_ref().ok_or(WorkerError::NoImage)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let model = self.models.get(id).ok_or_else(|| WorkerError::NotLoaded(id.clone()))?;
            let mut prepared = model.prepare(image);
            if let Some(f) = filter {
                prepared = Prepared::from_cropped(f.apply(&prepared.cropped), &model.file.card.preprocessing);
            }
            let snapshot = model.snapshot(&prepared).await.map_err(device_error)?;
            out.push(ModelAnalysis {
                id: id.clone(),
                spectrum: log_spectrum(&prepared.cropped).into_raw(),
                input: prepared.cropped.into_raw(),
                size: prepared.size,
                snapshot,
            });
        }
        Ok(out)
    }
}

/// A run that fails after the model loaded failed on the device (a lost WebGPU device cannot hand
/// results back): the page moves to another backend rather than blaming the image.
fn device_error(e: AnalysisError) -> WorkerError {
    WorkerError::Device(e.to_string())
}
