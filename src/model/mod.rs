//! The network: its configuration and position handling (host data, shared with the weight format)
//! and its forward pass on burn tensors (feature `compute`).

#[cfg(feature = "compute")]
pub mod activation;
pub mod config;
pub mod position;
#[cfg(feature = "compute")]
pub mod vit;

pub use config::{AbsolutePosition, QkvBias, RelativePosition, VitConfig};
#[cfg(feature = "compute")]
pub use vit::{BlockOutput, Capture, ModelError, Vit, VitOutput};
