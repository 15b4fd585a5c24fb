//! `vitscope convert`: official checkpoints (MoCo v3, SimMIM, MAE, DINO, BEiT, timm exports) into
//! vitscope weight files. [`layout`] is pure key logic; [`checkpoint`] reads files (native only).

#[cfg(not(target_arch = "wasm32"))]
pub mod checkpoint;
mod hugging_face;
pub mod int8;
pub mod layout;
#[cfg(not(target_arch = "wasm32"))]
mod position_tables;
pub mod registry;

pub use layout::{Layout, Overrides};

#[cfg(not(target_arch = "wasm32"))]
pub use native::{ConvertOptions, convert};

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{0}")]
    Read(String),
    #[error("{0}")]
    Layout(String),
    #[error("tensor `{key}`: {reason}")]
    Tensor { key: String, reason: String },
    #[error(transparent)]
    Weights(#[from] vitscope_core::weights::WeightsError),
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::path::Path;

    use super::ConvertError;
    use super::checkpoint::Checkpoint;
    use super::layout::{self, Layout, Overrides};
    use super::registry;
    use vitscope_core::model::position::relative_position_index;
    use vitscope_core::model::{HostTensor, HostWeights};
    use vitscope_core::weights::{ModelCard, ModelFile, Precision, WeightsError, sha256_hex};

    #[derive(Clone, Debug, Default)]
    pub struct ConvertOptions {
        /// `None` detects the layout from the keys.
        pub layout: Option<Layout>,
        pub overrides: Overrides,
        /// Card name; defaults to the file stem.
        pub name: Option<String>,
    }

    /// Reads a checkpoint and returns the validated model (f32 in memory; precision is chosen on save).
    pub fn convert(path: &Path, options: &ConvertOptions) -> Result<ModelFile, ConvertError> {
        let checkpoint = Checkpoint::open(path)?;
        let shapes = checkpoint.shapes();
        let keys: Vec<String> = shapes.keys().cloned().collect();
        let layout = match options.layout {
            Some(l) => l,
            None => Layout::detect(&keys, checkpoint.is_safetensors()).map_err(ConvertError::Layout)?,
        };
        let plan = layout::plan(layout, &shapes, &options.overrides).map_err(ConvertError::Layout)?;
        for key in &plan.index_keys {
            let stored = checkpoint.load(key)?;
            let expected = relative_position_index(plan.config.grid());
            if stored.len() != expected.len() || stored.iter().zip(&expected).any(|(&s, &e)| s as usize != e) {
                return Err(ConvertError::Tensor {
                    key: key.clone(),
                    reason: "differs from the BEiT relative position index vitscope generates".into(),
                });
            }
        }
        let mut weights = HostWeights::new();
        for (name, raws) in &plan.mapping {
            let mut shape = shapes[&raws[0]].clone();
            let mut data = checkpoint.load(&raws[0])?;
            for raw in &raws[1..] {
                shape[0] += shapes[raw][0];
                data.extend(checkpoint.load(raw)?);
            }
            weights.insert(name.clone(), HostTensor::new(shape, data));
        }
        super::position_tables::fold_class_position(&plan, &mut weights);
        super::position_tables::resample_to_stored_size(&plan, &mut weights);
        let bytes = std::fs::read(path).map_err(|e| ConvertError::Read(format!("{}: {e}", path.display())))?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let defaults = layout.card_defaults();
        let card = ModelCard {
            name: options.name.clone().unwrap_or_else(|| default_name(&file_name, layout)),
            family: defaults.family,
            objective: defaults.objective,
            source: registry::source(layout, &file_name, sha256_hex(&bytes)),
            license: defaults.license,
            training_data: defaults.training_data,
            preprocessing: registry::preprocessing(plan.config.image_size, options.overrides.image_size.is_some()),
            citation: defaults.citation,
            notes: None,
            training: None,
            reference_curves: None,
        };
        let model = ModelFile { config: plan.config, card, weights, precision: Precision::F32 };
        model.validate().map_err(|e| match e {
            WeightsError::Missing(names) => ConvertError::Layout(format!(
                "the {} checkpoint lacks tensors the inferred architecture needs: {}",
                layout.name(),
                names.join(", ")
            )),
            WeightsError::Unexpected(names) => ConvertError::Layout(format!(
                "the {} checkpoint has tensors vitscope's ViT does not use: {}",
                layout.name(),
                names.join(", ")
            )),
            other => other.into(),
        })?;
        Ok(model)
    }

    /// The file name without its checkpoint extensions (`vit-b-300ep.pth.tar` → `vit-b-300ep`).
    fn default_name(file_name: &str, layout: Layout) -> String {
        let mut name = file_name;
        for ext in [".tar", ".pth", ".pt", ".bin", ".safetensors"] {
            name = name.strip_suffix(ext).unwrap_or(name);
        }
        if name.is_empty() { layout.name().into() } else { name.into() }
    }
}
