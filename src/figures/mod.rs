//! What the views draw, as plain data computed from an analysis and the settings: canvas pictures
//! ([`picture`], [`maps`]) and charts ([`charts`]). The page and its PNG export share them.

pub mod charts;
pub mod cls;
pub mod exports;
pub mod maps;
pub mod picture;
pub mod sinks;

#[cfg(test)]
mod tests;
