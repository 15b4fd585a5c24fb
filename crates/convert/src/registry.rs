//! What vitscope knows about each publisher's checkpoints, in one table per fact: the card a
//! converted file gets (objective, license, project page, citation, training data, by layout) and
//! where each official file is published (by file name).

use vitscope_core::weights::{Family, Preprocessing, Source};

use crate::layout::Layout;

impl Layout {
    pub fn card_defaults(self) -> CardDefaults {
        let imagenet = "ImageNet-1k train (1.28 M images, no labels used)";
        let (objective, license, url, citation, data) = match self {
            Self::MocoV3 => (
                "MoCo v3: contrastive (InfoNCE) between two views, momentum encoder",
                "CC-BY-NC-4.0",
                "https://github.com/facebookresearch/moco-v3",
                "Chen, Xie, He. An Empirical Study of Training Self-Supervised Vision Transformers. ICCV 2021.",
                imagenet,
            ),
            Self::SimMim => (
                "SimMIM: masked image modelling, L1 on raw pixels of masked patches",
                "MIT",
                "https://github.com/microsoft/SimMIM",
                "Xie et al. SimMIM: A Simple Framework for Masked Image Modeling. CVPR 2022.",
                imagenet,
            ),
            Self::Mae => (
                "MAE: masked autoencoder, MSE on normalised pixels of masked patches",
                "CC-BY-NC-4.0",
                "https://github.com/facebookresearch/mae",
                "He et al. Masked Autoencoders Are Scalable Vision Learners. CVPR 2022.",
                imagenet,
            ),
            Self::Dino | Self::DinoFull => (
                "DINO: self-distillation with no labels, momentum teacher",
                "Apache-2.0",
                "https://github.com/facebookresearch/dino",
                "Caron et al. Emerging Properties in Self-Supervised Vision Transformers. ICCV 2021.",
                imagenet,
            ),
            Self::Beit => (
                "BEiT: masked image modelling, predicting dVAE visual tokens",
                "MIT",
                "https://github.com/microsoft/unilm/tree/master/beit",
                "Bao et al. BEiT: BERT Pre-Training of Image Transformers. ICLR 2022.",
                "ImageNet-22k (14 M images, no labels used)",
            ),
            // An export records no training recipe: say so rather than guess (`--card` sets it).
            Self::Timm | Self::HfDinov2 | Self::HfVit => (
                "unknown: an export does not record how its weights were trained (set it with --card)",
                "see the source model's license",
                "",
                "see the source model's card",
                "see the source model's card",
            ),
        };
        CardDefaults {
            family: self.family(),
            objective: objective.into(),
            license: license.into(),
            url: (!url.is_empty()).then(|| url.into()),
            citation: citation.into(),
            training_data: data.into(),
        }
    }
}

pub struct CardDefaults {
    pub family: Family,
    pub objective: String,
    pub license: String,
    pub url: Option<String>,
    pub citation: String,
    pub training_data: String,
}

/// Download addresses of the official files, by file name (the project page is the fallback).
const OFFICIAL_FILES: [(&str, &str); 9] = [
    ("vit-s-300ep.pth.tar", "https://dl.fbaipublicfiles.com/moco-v3/vit-s-300ep/vit-s-300ep.pth.tar"),
    ("vit-b-300ep.pth.tar", "https://dl.fbaipublicfiles.com/moco-v3/vit-b-300ep/vit-b-300ep.pth.tar"),
    (
        "simmim_pretrain__vit_base__img224__800ep.pth",
        "https://github.com/microsoft/SimMIM#pre-trained-models (simmim_pretrain__vit_base__img224__800ep.pth)",
    ),
    ("mae_pretrain_vit_base.pth", "https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_base.pth"),
    (
        "dino_deitsmall16_pretrain.pth",
        "https://dl.fbaipublicfiles.com/dino/dino_deitsmall16_pretrain/dino_deitsmall16_pretrain.pth",
    ),
    (
        "dino_vitbase16_pretrain.pth",
        "https://dl.fbaipublicfiles.com/dino/dino_vitbase16_pretrain/dino_vitbase16_pretrain.pth",
    ),
    (
        "dino_vitbase16_pretrain_full_checkpoint.pth",
        "https://dl.fbaipublicfiles.com/dino/dino_vitbase16_pretrain/dino_vitbase16_pretrain_full_checkpoint.pth",
    ),
    (
        "beit_base_patch16_224_pt22k.pth",
        "https://github.com/microsoft/unilm/tree/master/beit (beit_base_patch16_224_pt22k.pth)",
    ),
    ("mae_visualize_vit_base.pth", "https://dl.fbaipublicfiles.com/mae/visualize/mae_visualize_vit_base.pth"),
];

/// The card's source block for a converted file.
pub fn source(layout: Layout, checkpoint: &str, sha256: String) -> Source {
    let url = OFFICIAL_FILES.iter().find(|(name, _)| *name == checkpoint).map(|(_, url)| url.to_string());
    Source {
        checkpoint: checkpoint.into(),
        sha256: Some(sha256),
        url: url.or(layout.card_defaults().url),
        layout: layout.name().into(),
    }
}

/// The paper's evaluation transform, which every official model here shares. A model stored above
/// 224 px (DINOv2's 518) runs at 224 by default, as the paper's analyses do, unless its size was
/// asked for (`convert --image-size`); `analyze --image-size` and the page still run it natively.
pub fn preprocessing(stored_size: usize, asked_for: bool) -> Preprocessing {
    let crop = if asked_for { stored_size } else { stored_size.min(224) };
    Preprocessing::imagenet(crop as u32)
}
