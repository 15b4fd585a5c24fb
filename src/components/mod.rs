//! The page's parts as function components with props. Large data comes as `Rc`s that compare by
//! identity, so a component re-renders only when its own data changed: a hover re-renders the maps
//! and their text, never a card or a chart.

pub mod camera;
pub mod canvas;
pub mod chart;
pub mod colorbar;
pub mod controls;
pub mod dataset;
pub mod footer;
pub mod header;
pub mod inputs;
pub mod model;
pub mod probe;
pub mod query;
