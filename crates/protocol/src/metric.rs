//! The per-layer metrics, named once: their keys (in reports, CSV files and model cards), titles,
//! units and x axes. The CLI's reports, the paper's curves, the page's charts and the end-to-end tests
//! all go through [`Metric`], so they cannot disagree about what a layer number means.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    AttentionDistance,
    Nmi,
    DeltaLogAmplitude,
    TokenSimilarity,
    HeadSimilarity,
}

/// What a curve's index counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// Attention metrics: one value per block, numbered from 1.
    Layer,
    /// Token-stream metrics: the embedding is depth 0, block d's output is depth d.
    Depth,
}

impl Axis {
    pub fn label(self) -> &'static str {
        match self {
            Self::Layer => "layer",
            Self::Depth => "depth (0 = embedding)",
        }
    }

    /// The number shown for the curve's `index`-th value.
    pub fn number(self, index: usize) -> usize {
        match self {
            Self::Layer => index + 1,
            Self::Depth => index,
        }
    }
}

impl Metric {
    /// Every metric, in display order.
    pub const ALL: [Metric; 5] =
        [Self::AttentionDistance, Self::Nmi, Self::DeltaLogAmplitude, Self::TokenSimilarity, Self::HeadSimilarity];

    /// The metrics the page charts (head similarity is in reports and exports only).
    pub const CHARTED: [Metric; 4] =
        [Self::AttentionDistance, Self::Nmi, Self::DeltaLogAmplitude, Self::TokenSimilarity];

    pub fn key(self) -> &'static str {
        match self {
            Self::AttentionDistance => "attention_distance",
            Self::Nmi => "nmi",
            Self::DeltaLogAmplitude => "delta_log_amplitude",
            Self::TokenSimilarity => "token_similarity",
            Self::HeadSimilarity => "head_similarity",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::AttentionDistance => "Mean attention distance",
            Self::Nmi => "NMI of attention (low = collapse)",
            Self::DeltaLogAmplitude => "Fourier ΔlogA at the highest bin",
            Self::TokenSimilarity => "Cosine similarity between tokens",
            Self::HeadSimilarity => "Cosine similarity between heads",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Self::AttentionDistance => "pixels",
            Self::Nmi => "NMI",
            Self::DeltaLogAmplitude => "ΔlogA",
            Self::TokenSimilarity | Self::HeadSimilarity => "cosine",
        }
    }

    pub fn axis(self) -> Axis {
        if self.starts_at_embedding() { Axis::Depth } else { Axis::Layer }
    }

    /// Stream metrics (ΔlogA, token similarity) are measured on the embedding too.
    pub fn starts_at_embedding(self) -> bool {
        matches!(self, Self::DeltaLogAmplitude | Self::TokenSimilarity)
    }

    /// Per-head metrics carry one value per head as well as the layer mean.
    pub fn per_head(self) -> bool {
        matches!(self, Self::AttentionDistance | Self::Nmi)
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_are_the_serialised_names() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_key(m.key()), Some(m));
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{}\"", m.key()));
        }
        assert_eq!(Metric::from_key("attention"), None);
    }

    #[test]
    fn stream_metrics_count_from_the_embedding_and_attention_metrics_from_layer_one() {
        let depth: Vec<Metric> = Metric::ALL.into_iter().filter(|m| m.axis() == Axis::Depth).collect();
        assert_eq!(depth, [Metric::DeltaLogAmplitude, Metric::TokenSimilarity]);
        assert_eq!((Axis::Layer.number(0), Axis::Depth.number(0)), (1, 0));
        assert_eq!((Axis::Layer.number(11), Axis::Depth.number(12)), (12, 12));
        assert_eq!(Metric::Nmi.axis().label(), "layer");
        assert_eq!(Metric::TokenSimilarity.axis().label(), "depth (0 = embedding)");
        let per_head: Vec<Metric> = Metric::ALL.into_iter().filter(|m| m.per_head()).collect();
        assert_eq!(per_head, [Metric::AttentionDistance, Metric::Nmi]);
        assert!(!Metric::CHARTED.contains(&Metric::HeadSimilarity));
    }
}
