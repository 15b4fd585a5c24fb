//! The analyses of Park et al. (ICLR 2023) and a few more, as small functions on device tensors.
//! Each file is headed by the formula it implements and where that comes from.

pub mod attention_map;
pub mod distance;
pub mod fourier;
pub mod metrics;
pub mod nmi;
pub mod paper;
pub mod report;
pub mod rollout;
pub mod similarity;
pub mod snapshot;
pub mod spectrum;

pub use attention_map::{Query, attention_map};
pub use metrics::{AnalysisError, LayerMetrics, MetricContext, read};
pub use snapshot::{Snapshot, Timing};
