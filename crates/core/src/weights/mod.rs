//! vitscope's weight files: one `.safetensors` per model, int8/f16/f32, with the config and model card in
//! the header metadata. Every other checkpoint layout converts into this one (see `vitscope-convert`).
//! Which tensors a file must hold is the model's own [`crate::model::schema`]; the card is a plain
//! `vitscope-protocol` type, so the page can read it without this crate.

pub mod error;
pub mod format;
pub mod quantize;

pub use error::WeightsError;
pub use format::{ModelFile, Precision, replace_card};
pub use quantize::Grouping;
pub use vitscope_protocol::card::{
    Curve, Evaluation, Family, Interpolation, ModelCard, Preprocessing, ReferenceCurves, Source, Training,
};

/// Lower-case hex SHA-256 of some bytes (model cards and the manifest record it).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
