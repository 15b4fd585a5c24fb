//! The network: its configuration and position handling (host data, shared with the weight format)
//! and its forward pass on burn tensors (feature `compute`).

#[cfg(feature = "compute")]
pub mod activation;
pub mod config;
// The browser's CPU kernels, compiled natively too, where their tests run the same loops.
#[cfg(feature = "cpu")]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod flex;
#[cfg(feature = "cpu")]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub mod gemm;
#[cfg(feature = "compute")]
pub mod linear;
#[cfg(feature = "compute")]
mod matmul;
pub mod position;
#[cfg(feature = "compute")]
pub mod vit;

pub use config::{AbsolutePosition, QkvBias, RelativePosition, VitConfig};
#[cfg(feature = "compute")]
pub use vit::{BlockOutput, Capture, ModelError, Vit, VitOutput};
