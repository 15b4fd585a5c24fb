//! The network: its configuration, the names and shapes of its tensors ([`names`], [`schema`]),
//! position handling, and its forward pass on burn tensors. This module uses nothing else of the
//! crate: the weight format and the converters check their tensors against [`schema`].

pub mod activation;
pub mod config;
// The browser's CPU kernels, compiled natively too, where their tests run the same loops.
#[cfg(feature = "cpu")]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) mod flex;
// Also the probes' products (analysis::probe), which run on the host whatever the backend.
pub mod gemm;
pub mod linear;
mod matmul;
pub mod names;
pub mod position;
pub mod schema;
pub mod tensors;
pub mod vit;

pub use config::{AbsolutePosition, QkvBias, RelativePosition, VitConfig};
pub use tensors::{HostTensor, HostWeights, Int8Tensor, TensorSource};
pub use vit::{BlockOutput, Capture, ModelError, Vit, VitOutput};
