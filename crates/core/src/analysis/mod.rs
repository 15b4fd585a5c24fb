//! The analyses of Park et al. (ICLR 2023) and a few more: small functions on device tensors, each
//! file headed by the formula it implements and where that comes from. [`measure`] runs them all on
//! one forward pass's output ([`crate::model::VitOutput`]) and reads the numbers back; the results
//! are `vitscope-protocol`'s plain types, re-exported here.

pub mod attention_map;
pub mod distance;
pub mod fourier;
// The browser's CPU path for two metrics.
#[cfg(feature = "cpu")]
mod host;
pub mod measure;
pub mod nmi;
pub mod probe;
pub mod rollout;
pub mod similarity;
pub mod spectrum;

pub use attention_map::{Query, attention_map};
pub use measure::{AnalysisError, Grams, MetricContext, derive, layer_metrics, read, snapshot, snapshot_maps};
pub use vitscope_protocol::metrics::headline_bin;
pub use vitscope_protocol::{Derived, LayerMetrics, Metric, Representation, Snapshot, Timing, paper, report};
