//! vitscope: see what self-supervised Vision Transformers learn.
//!
//! One ViT ([`model`]), its weight format ([`weights`]), the metrics of Park et al., *What Do
//! Self-Supervised Vision Transformers Learn?* (ICLR 2023) ([`analysis`]) and image preprocessing
//! ([`image`]). The same code runs in the native CLI, the tests and the browser (wasm32).

pub mod analysis;
pub mod app;
pub mod charts;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod convert;
pub mod image;
pub mod model;
pub mod pipeline;
pub mod weights;
pub mod worker;
