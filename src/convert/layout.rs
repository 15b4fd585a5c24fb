//! Official checkpoint layouts → canonical (timm) names, as pure functions of the key list.
//!
//! Each layout names the prefix its encoder lives under and the entries to drop (heads, momentum
//! encoders, decoders). Keys outside the encoder's dictionary (optimizer state, epoch, args) are not
//! model weights and are ignored; inside it, any key that is neither kept nor dropped is an error.

use std::collections::BTreeMap;

use crate::model::{AbsolutePosition, QkvBias, RelativePosition, VitConfig};
use crate::weights::{Family, Preprocessing, Source};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    MocoV3,
    SimMim,
    Mae,
    Dino,
    DinoFull,
    Beit,
    Timm,
}

impl Layout {
    pub const ALL: [Layout; 7] =
        [Self::MocoV3, Self::SimMim, Self::Mae, Self::Dino, Self::DinoFull, Self::Beit, Self::Timm];

    pub fn name(self) -> &'static str {
        match self {
            Self::MocoV3 => "mocov3",
            Self::SimMim => "simmim",
            Self::Mae => "mae",
            Self::Dino => "dino",
            Self::DinoFull => "dino-full",
            Self::Beit => "beit",
            Self::Timm => "timm",
        }
    }

    /// Parses a `--layout` value; `auto` is `None`.
    pub fn parse(s: &str) -> Result<Option<Self>, String> {
        if s == "auto" {
            return Ok(None);
        }
        Self::ALL.into_iter().find(|l| l.name() == s).map(Some).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|l| l.name()).collect();
            format!("unknown layout `{s}` (choose auto, {})", names.join(", "))
        })
    }

    /// Where the encoder's tensors live, and the alternative prefixes stripped after it.
    fn prefixes(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Self::MocoV3 => ("state_dict.module.base_encoder.", &[]),
            Self::SimMim => ("model.encoder.", &[]),
            Self::Mae | Self::Beit => ("model.", &[]),
            Self::Dino | Self::Timm => ("", &[]),
            Self::DinoFull => ("teacher.", &["module.", "backbone."]),
        }
    }

    /// The dictionary the encoder belongs to: keys there that are neither kept nor dropped are errors.
    fn scope(self) -> &'static str {
        match self {
            Self::MocoV3 => "state_dict.",
            Self::SimMim | Self::Mae | Self::Beit => "model.",
            Self::Dino | Self::Timm => "",
            Self::DinoFull => "teacher.",
        }
    }

    /// Canonical-name prefixes (after stripping) and scoped raw prefixes that are dropped.
    fn dropped(self, canonical: &str, raw: &str) -> bool {
        let starts = |p: &[&str], s: &str| p.iter().any(|p| s.starts_with(p));
        match self {
            Self::MocoV3 => {
                starts(&["head."], canonical)
                    || starts(&["state_dict.module.momentum_encoder.", "state_dict.module.predictor."], raw)
            }
            Self::SimMim => canonical == "mask_token" || starts(&["model.decoder."], raw),
            Self::Mae => starts(&["decoder_", "mask_token", "head.", "fc_norm."], canonical),
            Self::Dino | Self::DinoFull => starts(&["head."], canonical),
            Self::Beit => starts(&["mask_token", "lm_head.", "head."], canonical),
            Self::Timm => starts(&["head.", "fc_norm.", "head_drop."], canonical),
        }
    }

    fn family(self) -> Family {
        match self {
            Self::MocoV3 | Self::Dino | Self::DinoFull => Family::Contrastive,
            Self::SimMim | Self::Mae | Self::Beit => Family::MaskedImageModeling,
            Self::Timm => Family::Supervised,
        }
    }

    fn absolute(self) -> AbsolutePosition {
        match self {
            Self::MocoV3 | Self::Mae => AbsolutePosition::SinCos,
            _ => AbsolutePosition::Learned,
        }
    }

    /// Detects the layout from the keys (the `auto` choice). `from_safetensors` separates a timm
    /// export from a bare DINO `.pth`, which share their key names.
    pub fn detect(keys: &[String], from_safetensors: bool) -> Result<Self, String> {
        let any = |p: &str| keys.iter().any(|k| k.starts_with(p));
        let found = if any("state_dict.module.base_encoder.") {
            Self::MocoV3
        } else if any("model.encoder.") {
            Self::SimMim
        } else if any("teacher.") {
            Self::DinoFull
        } else if any("model.") && (any("model.rel_pos_bias.") || any("model.lm_head.")) {
            Self::Beit
        } else if any("model.blocks.") {
            Self::Mae
        } else if any("blocks.") {
            if from_safetensors { Self::Timm } else { Self::Dino }
        } else {
            let mut sample: Vec<&str> = keys.iter().map(String::as_str).take(8).collect();
            sample.sort();
            return Err(format!(
                "no known ViT layout matches these keys (first ones: {}); pass --layout explicitly",
                sample.join(", ")
            ));
        };
        Ok(found)
    }

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
            Self::Timm => (
                "as trained by the exporter (timm / Hugging Face safetensors export)",
                "see the source model's license",
                "",
                "Wightman. PyTorch Image Models (timm).",
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

/// What a layout resolves to: canonical name → source key, and the inferred architecture.
#[derive(Debug)]
pub struct Plan {
    pub layout: Layout,
    pub mapping: BTreeMap<String, String>,
    pub dropped: Vec<String>,
    /// Source keys holding a relative position index, checked against the generated one.
    pub index_keys: Vec<String>,
    pub config: VitConfig,
}

/// Renames the few keys whose timm spelling differs from vitscope's canonical one.
fn canonical_name(key: &str) -> String {
    key.replace(".ls1.gamma", ".gamma_1").replace(".ls2.gamma", ".gamma_2")
}

/// Overrides for what shapes cannot tell.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub heads: Option<usize>,
    pub image_size: Option<usize>,
}

/// Resolves a layout against a checkpoint's keys and shapes.
pub fn plan(layout: Layout, shapes: &BTreeMap<String, Vec<usize>>, overrides: &Overrides) -> Result<Plan, String> {
    let (prefix, strip) = layout.prefixes();
    let scope = layout.scope();
    let mut mapping = BTreeMap::new();
    let mut dropped = Vec::new();
    let mut index_keys = Vec::new();
    let mut unexpected = Vec::new();
    for raw in shapes.keys() {
        if !raw.starts_with(scope) {
            continue;
        }
        let Some(mut rest) = raw.strip_prefix(prefix) else {
            if layout.dropped("", raw) {
                dropped.push(raw.clone())
            } else {
                unexpected.push(raw.clone())
            }
            continue;
        };
        for p in strip {
            rest = rest.strip_prefix(p).unwrap_or(rest);
        }
        let name = canonical_name(rest);
        if layout.dropped(&name, raw) {
            dropped.push(raw.clone());
        } else if name.ends_with("relative_position_index") {
            index_keys.push(raw.clone());
        } else {
            mapping.insert(name, raw.clone());
        }
    }
    if !unexpected.is_empty() {
        return Err(format!("unexpected keys for layout {}: {}", layout.name(), unexpected.join(", ")));
    }
    if mapping.is_empty() {
        return Err(format!("no encoder tensors under `{prefix}`: this is not a {} checkpoint", layout.name()));
    }
    let shape = |name: &str| -> Result<&Vec<usize>, String> {
        mapping
            .get(name)
            .and_then(|raw| shapes.get(raw))
            .ok_or_else(|| format!("missing key `{prefix}{name}` for layout {}", layout.name()))
    };
    let conv = shape("patch_embed.proj.weight")?;
    if conv.len() != 4 || conv[2] != conv[3] {
        return Err(format!("`{prefix}patch_embed.proj.weight` has shape {conv:?}, expected [C, 3, P, P]"));
    }
    let (width, in_channels, patch) = (conv[0], conv[1], conv[2]);
    let depth = (0..).take_while(|i| mapping.contains_key(&format!("blocks.{i}.norm1.weight"))).count();
    let mlp_hidden = shape("blocks.0.mlp.fc1.weight")?[0];
    let has = |n: &str| mapping.contains_key(n);
    let relative_position = if has("rel_pos_bias.relative_position_bias_table") {
        RelativePosition::Shared
    } else if has("blocks.0.attn.relative_position_bias_table") {
        RelativePosition::PerBlock
    } else {
        RelativePosition::None
    };
    let rel_table = match relative_position {
        RelativePosition::Shared => Some(shape("rel_pos_bias.relative_position_bias_table")?),
        RelativePosition::PerBlock => Some(shape("blocks.0.attn.relative_position_bias_table")?),
        RelativePosition::None => None,
    };
    let cls_token = has("cls_token");
    let grid = if let Some(pos) = has("pos_embed").then(|| shape("pos_embed")).transpose()? {
        let n = pos[1].saturating_sub(usize::from(cls_token));
        let g = (n as f64).sqrt().round() as usize;
        if g * g != n {
            return Err(format!("`pos_embed` has {} rows: not a square grid plus CLS", pos[1]));
        }
        Some(g)
    } else if let Some(t) = rel_table {
        let side = ((t[0].saturating_sub(3)) as f64).sqrt().round() as usize;
        if side * side + 3 != t[0] || side.is_multiple_of(2) {
            return Err(format!("relative position table has {} rows, not (2G−1)² + 3", t[0]));
        }
        Some(side.div_ceil(2))
    } else {
        None
    };
    let image_size = match (grid, overrides.image_size) {
        (Some(g), Some(s)) if g * patch != s => {
            return Err(format!("--image-size {s} disagrees with the position table ({} px)", g * patch));
        }
        (Some(g), _) => g * patch,
        (None, Some(s)) => s,
        (None, None) => 224,
    };
    let heads = match (overrides.heads, rel_table) {
        (Some(h), Some(t)) if t[1] != h => {
            return Err(format!("--heads {h} disagrees with the relative position table ({} heads)", t[1]));
        }
        (Some(h), _) => h,
        (None, Some(t)) => t[1],
        (None, None) => default_heads(layout, width)?,
    };
    let qkv_bias = if has("blocks.0.attn.qkv.bias") {
        QkvBias::Full
    } else if has("blocks.0.attn.q_bias") {
        QkvBias::QueryValue
    } else {
        QkvBias::None
    };
    let config = VitConfig {
        image_size,
        patch_size: patch,
        in_channels,
        width,
        depth,
        heads,
        mlp_hidden,
        layer_norm_eps: 1e-6,
        cls_token,
        absolute_position: if has("pos_embed") { layout.absolute() } else { AbsolutePosition::None },
        relative_position,
        qkv_bias,
        layer_scale: has("blocks.0.gamma_1"),
    };
    config.validate().map_err(|e| format!("inferred config is invalid: {e}"))?;
    Ok(Plan { layout, mapping, dropped, index_keys, config })
}

/// Head counts of the published models; shapes cannot tell heads apart from head width.
fn default_heads(layout: Layout, width: usize) -> Result<usize, String> {
    match (layout, width) {
        (_, 192) => Ok(3),
        (Layout::MocoV3, 384) => Ok(12),
        (_, 384) => Ok(6),
        (_, 768) => Ok(12),
        (_, 1024) | (_, 1280) => Ok(16),
        _ => Err(format!("cannot infer the number of heads for width {width}; pass --heads")),
    }
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

/// The paper's evaluation transform, which every official model here shares.
pub fn preprocessing(image_size: usize) -> Preprocessing {
    Preprocessing::imagenet(image_size as u32)
}
