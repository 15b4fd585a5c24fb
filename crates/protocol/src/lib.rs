//! What the explorer's page and its inference worker say to each other, and the plain results every
//! part of vitscope shares: model cards ([`card`]), per-layer metrics and their registry
//! ([`metrics`], [`metric`], [`report`]), one image's snapshot ([`snapshot`]), the paper's published
//! curves ([`paper`]), a labelled set's probes ([`probe`]) and the messages ([`messages`]).
//!
//! No burn here: the page depends on this crate alone for its data, so the compiler keeps the model
//! out of the page.

pub mod card;
pub mod download;
pub mod filter;
pub mod labels;
pub mod messages;
pub mod metric;
pub mod metrics;
pub mod paper;
pub mod probe;
mod raw_f32;
pub mod report;
pub mod snapshot;

pub use card::{Curve, Evaluation, Family, Interpolation, ModelCard, Preprocessing, ReferenceCurves, Source, Training};
pub use filter::{FilterKind, FrequencyFilter};
pub use metric::{Axis, Metric};
pub use metrics::LayerMetrics;
pub use snapshot::{Derived, Representation, Snapshot, Timing, shown_depth};
