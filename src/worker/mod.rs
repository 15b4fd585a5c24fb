//! The explorer's inference worker: the messages ([`protocol`]), the browser-free work ([`session`]),
//! and, on wasm32, the glue that fetches, caches and answers messages ([`web`]).

pub mod protocol;
pub mod session;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use protocol::{Backend, BackendChoice, ModelAnalysis, ModelInfo, ModelSource, Request, Response};
pub use session::Session;
