//! Which Fourier filter the frequency view asks for (the core applies it to the model's input).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterKind {
    LowPass,
    HighPass,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrequencyFilter {
    pub kind: FilterKind,
    /// Radius as a fraction of the Nyquist frequency, 0–1.
    pub cutoff: f32,
}
