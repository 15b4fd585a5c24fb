//! The model card: what a model is, where it came from, and how to feed it. Stored as JSON in the
//! weight file's header so a file can never be separated from its description.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Family {
    /// Contrastive / joint-embedding (MoCo v3, DINO).
    #[serde(rename = "CL")]
    Contrastive,
    /// Masked image modelling (SimMIM, MAE, BEiT).
    #[serde(rename = "MIM")]
    MaskedImageModeling,
    #[serde(rename = "hybrid")]
    Hybrid,
    #[serde(rename = "supervised")]
    Supervised,
    /// Exports (timm, Hugging Face) that do not record how their weights were trained.
    #[serde(rename = "unknown")]
    Unknown,
}

impl Family {
    pub fn label(self) -> &'static str {
        match self {
            Self::Contrastive => "CL",
            Self::MaskedImageModeling => "MIM",
            Self::Hybrid => "hybrid",
            Self::Supervised => "supervised",
            Self::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    Bilinear,
    Bicubic,
}

/// Resize the shorter side, centre-crop, normalise: the evaluation transform of every paper here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    pub resize: u32,
    pub crop: u32,
    pub interpolation: Interpolation,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// An image already `crop`×`crop` goes in as it is instead of being enlarged to `resize` and
    /// cropped back (which blurs it and moves early layers' attention distance by pixels).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_images_at_crop_size: bool,
}

impl Preprocessing {
    /// The paper's: shorter side to 256 (bilinear), centre crop 224, ImageNet statistics.
    pub fn imagenet(crop: u32) -> Self {
        Self {
            resize: crop * 8 / 7,
            crop,
            interpolation: Interpolation::Bilinear,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
            keep_images_at_crop_size: false,
        }
    }

    /// What an image goes through before the model sees it, for a reader.
    pub fn describe(&self) -> String {
        let filter = match self.interpolation {
            Interpolation::Bilinear => "bilinear",
            Interpolation::Bicubic => "bicubic",
        };
        let c = self.crop;
        let kept =
            if self.keep_images_at_crop_size { format!("; a {c}×{c} image goes in unchanged") } else { String::new() };
        format!("shorter side resized to {} px ({filter}), centre crop {c}×{c}{kept}", self.resize)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// File name of the checkpoint this was converted from.
    pub checkpoint: String,
    /// SHA-256 of that file.
    pub sha256: Option<String>,
    /// Where the official file is published.
    pub url: Option<String>,
    /// The checkpoint layout it was read as (mocov3, simmim, …).
    pub layout: String,
}

/// One metric's per-layer curve: the layer means and, where the metric is per head, each head's value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub mean: Vec<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_head: Vec<Vec<f32>>,
}

/// Dataset averages written by `vitscope analyze --into-card`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceCurves {
    pub dataset: String,
    pub images: usize,
    pub image_size: usize,
    pub curves: BTreeMap<String, Curve>,
}

/// How one of vitscope's own models was trained; official checkpoints have none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Training {
    /// The recipe and what vitscope changed from the paper's (size, schedule).
    pub recipe: String,
    /// The command that reproduces the run.
    pub command: String,
    pub steps: u64,
    pub epochs: f32,
    pub batch: u32,
    pub seconds: f32,
    pub hardware: String,
    pub evaluation: Evaluation,
}

/// Frozen-feature accuracy on a held-out set (fractions in 0–1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// e.g. "Imagenette val (1,000 images), kNN k = 20, cosine, T = 0.07, train set as the bank".
    pub protocol: String,
    pub knn_cls: f32,
    pub knn_avg_pool: f32,
    /// Linear-probe accuracy on average-pooled tokens after each block, where measured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linear_probe_per_layer: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub name: String,
    pub family: Family,
    pub objective: String,
    pub source: Source,
    pub license: String,
    pub training_data: String,
    pub preprocessing: Preprocessing,
    pub citation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<Training>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_curves: Option<ReferenceCurves>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preprocessing_reads_as_a_sentence() {
        let mut pre = Preprocessing::imagenet(224);
        assert_eq!(pre.describe(), "shorter side resized to 256 px (bilinear), centre crop 224×224");
        pre.keep_images_at_crop_size = true;
        assert_eq!(
            pre.describe(),
            "shorter side resized to 256 px (bilinear), centre crop 224×224; a 224×224 image goes in unchanged"
        );
        // The flag is left out of the JSON when off, so older files and cards stay byte-identical.
        let json = serde_json::to_string(&Preprocessing::imagenet(112)).unwrap();
        assert!(!json.contains("keep_images_at_crop_size"), "{json}");
    }
}
