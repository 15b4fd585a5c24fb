//! The analyses of Park et al. (ICLR 2023) and a few more. The results ([`metrics`], [`snapshot`]) and
//! their naming are plain host data; the computations are small functions on device tensors (feature
//! `compute`), each file headed by the formula it implements and where that comes from.

pub mod metrics;
pub mod paper;
pub mod report;
pub mod snapshot;

#[cfg(feature = "compute")]
pub mod attention_map;
#[cfg(feature = "compute")]
pub mod distance;
#[cfg(feature = "compute")]
pub mod fourier;
#[cfg(feature = "compute")]
mod measure;
#[cfg(feature = "compute")]
pub mod nmi;
#[cfg(feature = "compute")]
pub mod rollout;
#[cfg(feature = "compute")]
pub mod similarity;
#[cfg(feature = "compute")]
pub mod spectrum;

#[cfg(feature = "compute")]
pub use attention_map::{Query, attention_map};
#[cfg(feature = "compute")]
pub use measure::{AnalysisError, MetricContext, read};
pub use metrics::LayerMetrics;
pub use snapshot::{Snapshot, Timing};
