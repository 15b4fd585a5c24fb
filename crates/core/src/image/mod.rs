//! Images in, model inputs out: decoding with limits, then the model card's preprocessing.

pub mod decode;
pub mod filter;
pub mod preprocess;

pub use decode::{ImageError, decode, from_rgba};
pub use filter::{ApplyFilter, FilterKind, FrequencyFilter, log_spectrum};
pub use preprocess::{Prepared, prepare};
