//! Per-layer probes of a labelled set (the paper's Fig. 10; the kNN protocol of DINO and MoCo v3): the
//! pooled features each block of a model gives an image, and the accuracy each probe reaches on them.
//! The CLI and the page's worker compute them with the same code (`vitscope_core::analysis::probe`).

use serde::{Deserialize, Serialize};

use super::raw_f32;

/// Neighbours that vote in the kNN probe.
pub const KNN_K: usize = 20;
/// The vote of a neighbour at cosine similarity s weighs exp(s / T).
pub const KNN_TEMPERATURE: f32 = 0.07;
/// The linear probe runs when every class has at least this many images: with fewer, leaving one
/// out leaves a class almost without examples.
pub const LINEAR_MIN_PER_CLASS: usize = 5;
/// The ridge penalty of the linear probe, per image, on standardised features.
pub const RIDGE_PENALTY_PER_IMAGE: f64 = 1.0;

/// One image through one model: after each block (before the final LayerNorm), the CLS token and the
/// mean of the patch tokens.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PooledFeatures {
    pub width: usize,
    /// `[layer · width + channel]`; empty for a model without a CLS token.
    #[serde(with = "raw_f32")]
    pub cls: Vec<f32>,
    /// `[layer · width + channel]`.
    #[serde(with = "raw_f32")]
    pub avg: Vec<f32>,
}

impl PooledFeatures {
    pub fn layers(&self) -> usize {
        self.avg.len().checked_div(self.width).unwrap_or(0)
    }

    /// Layer `layer`'s (0-based) vector of the chosen pooling, if the model has it.
    pub fn layer(&self, pooling: Pooling, layer: usize) -> Option<&[f32]> {
        let all = match pooling {
            Pooling::Cls => &self.cls,
            Pooling::Avg => &self.avg,
        };
        all.get(layer * self.width..(layer + 1) * self.width)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pooling {
    /// The CLS token.
    Cls,
    /// The mean of the patch tokens.
    Avg,
}

/// A labelled set's probes for one model, layer by layer (index i is block i + 1); accuracies in [0, 1].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeCurves {
    /// Leave-one-out weighted kNN on the CLS token; `None` for a model without one.
    pub knn_cls: Option<Vec<f32>>,
    /// Leave-one-out weighted kNN on the average-pooled tokens.
    pub knn_avg: Vec<f32>,
    /// Leave-one-out ridge classifier on the standardised average-pooled tokens; `None` when a class
    /// has fewer than [`LINEAR_MIN_PER_CLASS`] images.
    pub linear_avg: Option<Vec<f32>>,
}

/// Which probe a curve is, in the order the page and the CLI show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Probe {
    KnnCls,
    KnnAvg,
    LinearAvg,
}

impl Probe {
    pub const ALL: [Probe; 3] = [Probe::KnnCls, Probe::KnnAvg, Probe::LinearAvg];

    pub fn key(self) -> &'static str {
        match self {
            Probe::KnnCls => "knn_cls",
            Probe::KnnAvg => "knn_avg",
            Probe::LinearAvg => "linear_avg",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Probe::KnnCls => "kNN accuracy, CLS token",
            Probe::KnnAvg => "kNN accuracy, average-pooled tokens",
            Probe::LinearAvg => "Linear probe accuracy, average-pooled tokens",
        }
    }

    pub fn curve(self, curves: &ProbeCurves) -> Option<&[f32]> {
        match self {
            Probe::KnnCls => curves.knn_cls.as_deref(),
            Probe::KnnAvg => Some(&curves.knn_avg),
            Probe::LinearAvg => curves.linear_avg.as_deref(),
        }
    }
}

/// The protocol in words, for reports and the page.
pub fn protocol_text() -> String {
    format!(
        "leave one out over the labelled set; kNN: k = {KNN_K}, cosine, votes weighted exp(s / {KNN_TEMPERATURE}); linear: ridge classifier, α = {RIDGE_PENALTY_PER_IMAGE} × images, on features standardised over the set, run when every class has ≥ {LINEAR_MIN_PER_CLASS} images; features after each block, before the final LayerNorm"
    )
}

/// A labelled set's images per class, and whether the linear probe may run on it.
pub fn linear_probe_runs(class_counts: &[usize]) -> bool {
    class_counts.len() >= 2 && class_counts.iter().all(|&n| n >= LINEAR_MIN_PER_CLASS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linear_probe_needs_two_classes_of_five() {
        assert!(linear_probe_runs(&[5, 7]));
        assert!(!linear_probe_runs(&[5, 4]));
        assert!(!linear_probe_runs(&[50]));
    }

    #[test]
    fn features_are_read_per_layer_and_pooling() {
        let f = PooledFeatures { width: 2, cls: vec![1., 2., 3., 4.], avg: vec![5., 6., 7., 8.] };
        assert_eq!(f.layers(), 2);
        assert_eq!(f.layer(Pooling::Cls, 1), Some(&[3., 4.][..]));
        assert_eq!(f.layer(Pooling::Avg, 0), Some(&[5., 6.][..]));
        assert_eq!(f.layer(Pooling::Avg, 2), None);
        let no_cls = PooledFeatures { width: 2, cls: vec![], avg: vec![5., 6.] };
        assert_eq!(no_cls.layer(Pooling::Cls, 0), None);
    }
}
