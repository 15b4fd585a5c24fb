//! The network: its configuration, position handling and forward pass.

pub mod config;
pub mod position;
pub mod vit;

pub use config::{AbsolutePosition, QkvBias, RelativePosition, VitConfig};
pub use vit::{BlockOutput, Capture, ModelError, Vit, VitOutput};
