//! The browser side of the page: the worker, the WebGPU probe, fetches, files, the URL and the
//! exports. [`commands::run`] carries out the store's commands; outcomes come back as actions, so
//! no view ever sees a worker or a fetch.

pub mod camera;
pub mod commands;
pub mod dom;
pub mod export;
pub mod fetch;
pub mod files;
pub mod folders;
pub mod url;
mod webgpu;
pub mod worker;
