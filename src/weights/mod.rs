//! vitscope's weight files: one `.safetensors` per model, int8/f16/f32, with the config and model card in
//! the header metadata. Every other checkpoint layout converts into this one (see `convert`).

pub mod card;
pub mod error;
pub mod format;
pub mod quantize;
pub mod schema;

use std::collections::BTreeMap;

pub use card::{Curve, Evaluation, Family, Interpolation, ModelCard, Preprocessing, ReferenceCurves, Source, Training};
pub use error::WeightsError;
pub use format::{ModelFile, Precision, replace_card};

/// A dequantized tensor in host memory, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl HostTensor {
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Self { shape, data }
    }
}

/// Canonical (timm-named) tensors of one model.
pub type HostWeights = BTreeMap<String, HostTensor>;

/// Lower-case hex SHA-256 of some bytes (model cards and the manifest record it).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
