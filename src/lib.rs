//! vitscope: see what self-supervised Vision Transformers learn.
//!
//! One ViT ([`model`]), its weight format ([`weights`]), the metrics of Park et al., *What Do
//! Self-Supervised Vision Transformers Learn?* (ICLR 2023) ([`analysis`]) and image preprocessing
//! ([`image`]). The same code runs in the native CLI, the tests and the browser (wasm32).
//!
//! Features: `cpu` and `gpu` pick burn's backends (both by default); without either (no `compute`),
//! only the host-side types remain, which is how the explorer's page builds.

pub mod analysis;
pub mod app;
pub mod charts;
#[cfg(all(not(target_arch = "wasm32"), feature = "cpu", feature = "gpu"))]
pub mod cli;
pub mod convert;
pub mod image;
pub mod model;
#[cfg(feature = "compute")]
pub mod pipeline;
pub mod weights;
pub mod worker;
