//! `vitscope convert`, and the page's conversion of dropped checkpoints (the same code, in its
//! worker): official checkpoints (MoCo v3, SimMIM, MAE, DINO, BEiT, timm and Hugging Face exports)
//! into vitscope weight files. [`layout`] is pure key logic; [`checkpoint`] reads files through a
//! [`ByteSource`]; [`int8`] chooses how the file is quantised.

pub mod checkpoint;
mod hugging_face;
pub mod int8;
pub mod layout;
mod position_tables;
pub mod registry;

pub use conversion::{ConvertOptions, Step, convert_source};
pub use int8::{Encoded, encode};
pub use layout::{Layout, Overrides};
pub use pytorch_reader::ByteSource;

/// Reads the checkpoint at `path` (see [`convert_source`]). Errors do not repeat the path: the
/// caller names the file once.
#[cfg(not(target_arch = "wasm32"))]
pub fn convert(
    path: &std::path::Path,
    options: &ConvertOptions,
) -> Result<vitscope_core::weights::ModelFile, ConvertError> {
    let file = std::fs::File::open(path).map_err(|e| ConvertError::Read(e.to_string()))?;
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    convert_source(std::sync::Arc::new(file), &file_name, options, &mut |_| {})
}

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

mod conversion {
    use std::sync::Arc;

    use pytorch_reader::ByteSource;

    use super::ConvertError;
    use super::checkpoint::Checkpoint;
    use super::layout::{self, Layout, Overrides};
    use super::registry;
    use vitscope_core::model::position::relative_position_index;
    use vitscope_core::model::{HostTensor, HostWeights};
    use vitscope_core::weights::{ModelCard, ModelFile, Precision, WeightsError};

    #[derive(Clone, Debug, Default)]
    pub struct ConvertOptions {
        /// `None` detects the layout from the keys.
        pub layout: Option<Layout>,
        pub overrides: Overrides,
        /// Card name; defaults to the file stem.
        pub name: Option<String>,
        /// The file's sha256 when the caller has hashed it already (the page, to look for an
        /// earlier conversion): the file is then not read twice.
        pub sha256: Option<String>,
    }

    /// Where a conversion is, for a progress bar: bytes of the whole file hashed (its sha256 names
    /// the source on the card), then bytes of the kept tensors read.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Step {
        Hashing { done: u64, total: u64 },
        Reading { done: u64, total: u64 },
    }

    /// Reads a checkpoint named `file_name` and returns the validated model (f32 in memory;
    /// precision is chosen on save). Only the tensors the layout keeps are read.
    pub fn convert_source(
        source: Arc<dyn ByteSource>,
        file_name: &str,
        options: &ConvertOptions,
        progress: &mut dyn FnMut(Step),
    ) -> Result<ModelFile, ConvertError> {
        let sha256 = match &options.sha256 {
            Some(known) => known.clone(),
            None => super::checkpoint::sha256(&*source, &mut |done, total| progress(Step::Hashing { done, total }))?,
        };
        let checkpoint = Checkpoint::open(source)?;
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
        let total = plan.mapping.values().flatten().map(|raw| checkpoint.stored_bytes(raw)).sum();
        let mut done = 0;
        let mut load = |raw: &str| {
            let data = checkpoint.load(raw)?;
            done += checkpoint.stored_bytes(raw);
            progress(Step::Reading { done, total });
            Ok::<_, ConvertError>(data)
        };
        let mut weights = HostWeights::new();
        for (name, raws) in &plan.mapping {
            let mut shape = shapes[&raws[0]].clone();
            let mut data = load(&raws[0])?;
            for raw in &raws[1..] {
                if let (Some(rows), Some(&more)) = (shape.first_mut(), shapes[raw].first()) {
                    *rows = rows.saturating_add(more);
                }
                data.extend(load(raw)?);
            }
            // Parts stacked along rows must agree in every other dimension.
            if shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) != Some(data.len()) {
                return Err(ConvertError::Tensor {
                    key: raws.join(" + "),
                    reason: format!("{} values do not fill the shape {shape:?}", data.len()),
                });
            }
            weights.insert(name.clone(), HostTensor::new(shape, data));
        }
        super::position_tables::fold_class_position(&plan, &mut weights);
        super::position_tables::resample_to_stored_size(&plan, &mut weights);
        let defaults = layout.card_defaults();
        let card = ModelCard {
            name: options.name.clone().unwrap_or_else(|| default_name(file_name, layout)),
            family: defaults.family,
            objective: defaults.objective,
            source: registry::source(layout, file_name, sha256),
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
