//! The explorer's inference worker: the messages ([`protocol`]), the browser-free work ([`session`]),
//! and, on wasm32, the glue that fetches, caches and answers messages ([`web`]).

pub mod protocol;
#[cfg(feature = "compute")]
pub mod session;
#[cfg(all(target_arch = "wasm32", feature = "compute"))]
pub mod web;

pub use protocol::{Backend, ModelAnalysis, ModelInfo, ModelSource, Request, Response};
#[cfg(feature = "compute")]
pub use session::Session;
