//! vitscope's core: one ViT ([`model`]), its weight format ([`weights`]), the metrics of Park et al.,
//! *What Do Self-Supervised Vision Transformers Learn?* (ICLR 2023) ([`analysis`]) and image
//! preprocessing ([`image`]); [`pipeline`] joins them. The same code runs in the native CLI, the
//! tests and the browser's worker (wasm32).
//!
//! Imports point one way: `model` uses nothing of this crate; `weights` and `image` use `model`;
//! `analysis` measures a forward pass's output; `pipeline` sits on top. Plain results (cards,
//! metrics, snapshots) are `vitscope-protocol`'s, re-exported where they belong.
//!
//! Features: `cpu` and `gpu` pick burn's backends (both by default).

pub mod analysis;
pub mod image;
pub mod model;
pub mod pipeline;
pub mod weights;

pub use vitscope_protocol as protocol;
