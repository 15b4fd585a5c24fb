//! The worker's state and work, free of any browser API so the native tests run exactly this code:
//! loaded models by id, and one image analysed by several models.

use std::collections::BTreeMap;

use burn::tensor::Device;

use super::protocol::{ModelAnalysis, ModelInfo};
use crate::analysis::Snapshot;
use crate::image::{FrequencyFilter, Prepared, decode, log_spectrum};
use crate::pipeline::LoadedModel;
use crate::weights::ModelFile;

pub struct Session {
    device: Device,
    models: BTreeMap<String, LoadedModel>,
}

impl Session {
    pub fn new(device: Device) -> Self {
        Self { device, models: BTreeMap::new() }
    }

    /// Validates and loads a vitscope file; every rejection names its reason.
    pub fn load(&mut self, id: &str, bytes: &[u8]) -> Result<ModelInfo, String> {
        let file = ModelFile::from_bytes(bytes).map_err(|e| format!("this is not a usable vitscope model: {e}"))?;
        let precision = file.precision.to_string();
        let model = LoadedModel::new(file, None, &self.device).map_err(|e| format!("the model cannot run: {e}"))?;
        let c = &model.file.config;
        let info = ModelInfo {
            id: id.to_string(),
            name: model.file.card.name.clone(),
            family: model.file.card.family.label().to_string(),
            card_json: serde_json::to_string(&model.file.card).expect("cards serialise"),
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

    /// Decodes the image once and runs each model on its own preprocessing of it.
    pub async fn analyze(
        &self,
        image: &[u8],
        ids: &[String],
        filter: Option<FrequencyFilter>,
    ) -> Result<(u32, u32, Vec<ModelAnalysis>), String> {
        let decoded = decode(image).map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let model = self.models.get(id).ok_or_else(|| format!("model `{id}` is not loaded"))?;
            let mut prepared = model.prepare(&decoded);
            if let Some(f) = filter {
                prepared = Prepared::from_cropped(f.apply(&prepared.cropped), &model.file.card.preprocessing);
            }
            let snapshot = Snapshot::compute(model, &prepared).await.map_err(|e| e.to_string())?;
            out.push(ModelAnalysis {
                id: id.clone(),
                spectrum: log_spectrum(&prepared.cropped).into_raw(),
                input: prepared.cropped.into_raw(),
                size: prepared.size,
                snapshot,
            });
        }
        Ok((decoded.width(), decoded.height(), out))
    }
}
