//! Official checkpoint layouts → canonical (timm) names, as pure functions of the key list.
//!
//! Each layout names the prefix its encoder lives under and the entries to drop (heads, momentum
//! encoders, decoders). Keys outside the encoder's dictionary (optimizer state, epoch, args) are not
//! model weights and are ignored; inside it, any key that is neither kept nor dropped is an error.

use std::collections::BTreeMap;

use vitscope_core::model::names;
use vitscope_core::model::{AbsolutePosition, QkvBias, RelativePosition, VitConfig};
use vitscope_core::weights::Family;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    MocoV3,
    SimMim,
    Mae,
    Dino,
    DinoFull,
    Beit,
    Timm,
    /// Hugging Face `Dinov2Model` (and `Dinov2WithRegistersModel`), any head dropped.
    HfDinov2,
    /// Hugging Face `ViTModel` (ViT, DeiT, DINO v1 exports), any head dropped.
    HfVit,
}

impl Layout {
    pub const ALL: [Layout; 9] = [
        Self::MocoV3,
        Self::SimMim,
        Self::Mae,
        Self::Dino,
        Self::DinoFull,
        Self::Beit,
        Self::Timm,
        Self::HfDinov2,
        Self::HfVit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::MocoV3 => "mocov3",
            Self::SimMim => "simmim",
            Self::Mae => "mae",
            Self::Dino => "dino",
            Self::DinoFull => "dino-full",
            Self::Beit => "beit",
            Self::Timm => "timm",
            Self::HfDinov2 => "hf-dinov2",
            Self::HfVit => "hf-vit",
        }
    }

    fn hugging_face(self) -> bool {
        matches!(self, Self::HfDinov2 | Self::HfVit)
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
            Self::Dino | Self::Timm | Self::HfDinov2 | Self::HfVit => ("", &[]),
            Self::DinoFull => ("teacher.", &["module.", "backbone."]),
        }
    }

    /// The dictionary the encoder belongs to: keys there that are neither kept nor dropped are errors.
    fn scope(self) -> &'static str {
        match self {
            Self::MocoV3 => "state_dict.",
            Self::SimMim | Self::Mae | Self::Beit => "model.",
            Self::Dino | Self::Timm | Self::HfDinov2 | Self::HfVit => "",
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
            // Mask tokens only matter during masked pre-training (DINOv2's iBOT loss).
            Self::Timm => canonical == "mask_token" || starts(&["head.", "fc_norm.", "head_drop."], canonical),
            Self::HfDinov2 | Self::HfVit => {
                canonical == "mask_token" || starts(&["classifier.", "pooler.", "head."], canonical)
            }
        }
    }

    pub(crate) fn family(self) -> Family {
        match self {
            Self::MocoV3 | Self::Dino | Self::DinoFull => Family::Contrastive,
            Self::SimMim | Self::Mae | Self::Beit => Family::MaskedImageModeling,
            // An export says nothing about how its weights were trained.
            Self::Timm | Self::HfDinov2 | Self::HfVit => Family::Unknown,
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
        let hf = |marker: &str| keys.iter().any(|k| k.contains(marker));
        let found = if hf("embeddings.patch_embeddings.projection.") {
            if hf(".layer_scale1.") || hf(".mlp.fc1.") { Self::HfDinov2 } else { Self::HfVit }
        } else if any("state_dict.module.base_encoder.") {
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
}

/// What a layout resolves to: canonical name → source keys, and the inferred architecture.
#[derive(Debug)]
pub struct Plan {
    pub layout: Layout,
    /// Canonical name → the source keys concatenated along the first axis to make it (one key, or
    /// Hugging Face's separate query, key and value for the fused `qkv`).
    pub mapping: BTreeMap<String, Vec<String>>,
    pub dropped: Vec<String>,
    /// Source keys holding a relative position index, checked against the generated one.
    pub index_keys: Vec<String>,
    /// The table's CLS row is added to the CLS token and removed from the table (Hugging Face's
    /// DINOv2 with registers, whose table still covers CLS; timm's and vitscope's does not).
    pub fold_class_position: bool,
    /// The table's size when it differs from the stored one (`--image-size` resamples it).
    pub trained_image_size: usize,
    pub config: VitConfig,
}

/// Renames the few keys whose timm spelling differs from vitscope's canonical one.
fn canonical_name(key: &str) -> String {
    key.replace(".ls1.gamma", &format!(".{}", names::LAYER_SCALE_1))
        .replace(".ls2.gamma", &format!(".{}", names::LAYER_SCALE_2))
}

/// Overrides for what shapes cannot tell.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub heads: Option<usize>,
    pub image_size: Option<usize>,
}

/// A checkpoint's keys sorted into what is kept (by canonical name), dropped and checked.
#[derive(Debug, Default)]
pub(crate) struct MappedKeys {
    pub mapping: BTreeMap<String, Vec<String>>,
    pub dropped: Vec<String>,
    pub index_keys: Vec<String>,
}

/// The official layouts: strip the encoder's prefix, drop heads and twins.
fn map_keys(layout: Layout, shapes: &BTreeMap<String, Vec<usize>>) -> Result<MappedKeys, String> {
    let (prefix, strip) = layout.prefixes();
    let scope = layout.scope();
    let mut mapped = MappedKeys::default();
    let mut unexpected = Vec::new();
    for raw in shapes.keys() {
        if !raw.starts_with(scope) {
            continue;
        }
        let Some(mut rest) = raw.strip_prefix(prefix) else {
            if layout.dropped("", raw) {
                mapped.dropped.push(raw.clone())
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
            mapped.dropped.push(raw.clone());
        } else if name.ends_with("relative_position_index") {
            mapped.index_keys.push(raw.clone());
        } else {
            mapped.mapping.insert(name, vec![raw.clone()]);
        }
    }
    if !unexpected.is_empty() {
        return Err(format!("unexpected keys for layout {}: {}", layout.name(), unexpected.join(", ")));
    }
    if mapped.mapping.is_empty() {
        return Err(format!("no encoder tensors under `{prefix}`: this is not a {} checkpoint", layout.name()));
    }
    Ok(mapped)
}

/// Resolves a layout against a checkpoint's keys and shapes.
pub fn plan(layout: Layout, shapes: &BTreeMap<String, Vec<usize>>, overrides: &Overrides) -> Result<Plan, String> {
    let MappedKeys { mapping, dropped, index_keys } =
        if layout.hugging_face() { crate::hugging_face::map_keys(layout, shapes)? } else { map_keys(layout, shapes)? };
    let prefix = layout.prefixes().0;
    // A fused tensor's shape: its parts stacked along the first axis.
    let shape = |name: &str| -> Result<Vec<usize>, String> {
        let parts = mapping.get(name).map(|raws| raws.iter().filter_map(|r| shapes.get(r)).collect::<Vec<_>>());
        match parts.as_deref() {
            Some([first, rest @ ..]) => {
                let mut shape = (*first).clone();
                if let Some(d0) = shape.first_mut() {
                    *d0 = rest.iter().fold(*d0, |sum, s| sum.saturating_add(s.first().copied().unwrap_or(0)));
                }
                Ok(shape)
            }
            _ => Err(format!("missing key `{prefix}{name}` for layout {}", layout.name())),
        }
    };
    // Shapes come from the file: a rank or size that does not fit is a refusal, never an index
    // out of bounds or an overflow.
    let shape_of = |name: &str, rank: usize| -> Result<Vec<usize>, String> {
        let s = shape(name)?;
        if s.len() != rank {
            return Err(format!("`{prefix}{name}` has shape {s:?}: expected {rank} dimensions"));
        }
        Ok(s)
    };
    let first = names::block(0);
    let first_attention = first.pp(names::ATTENTION);
    let conv = shape(&names::patch_weight())?;
    if conv.len() != 4 || conv[2] != conv[3] {
        return Err(format!("`{prefix}{}` has shape {conv:?}, expected [C, 3, P, P]", names::patch_weight()));
    }
    let (width, in_channels, patch) = (conv[0], conv[1], conv[2]);
    let depth =
        (0..).take_while(|&i| mapping.contains_key(&names::block(i).pp(names::NORM_1).key(names::WEIGHT))).count();
    let mlp_hidden = shape_of(&first.pp(names::MLP_1).key(names::WEIGHT), 2)?[0];
    let has = |n: &str| mapping.contains_key(n);
    let relative_position = if has(&names::shared_relative_table()) {
        RelativePosition::Shared
    } else if has(&names::block_relative_table(0)) {
        RelativePosition::PerBlock
    } else {
        RelativePosition::None
    };
    let rel_table = match relative_position {
        RelativePosition::Shared => Some(shape_of(&names::shared_relative_table(), 2)?),
        RelativePosition::PerBlock => Some(shape_of(&names::block_relative_table(0), 2)?),
        RelativePosition::None => None,
    };
    let cls_token = has(names::CLS_TOKEN);
    let register_tokens = if has(names::REGISTER_TOKENS) { shape_of(names::REGISTER_TOKENS, 3)?[1] } else { 0 };
    // Hugging Face keeps CLS's row in the table even with registers; timm folds it into the token.
    let fold_class_position = layout.hugging_face() && register_tokens > 0 && cls_token;
    let table_prefix = usize::from(cls_token && (register_tokens == 0 || fold_class_position));
    let has_position_table = has(names::POSITION_TABLE);
    let grid = if has_position_table {
        let pos = shape_of(names::POSITION_TABLE, 3)?;
        let n = pos[1].saturating_sub(table_prefix);
        let g = (n as f64).sqrt().round() as usize;
        if g.checked_mul(g) != Some(n) {
            return Err(format!("`pos_embed` has {} rows: not a square grid plus CLS", pos[1]));
        }
        Some(g)
    } else if let Some(t) = &rel_table {
        let side = ((t[0].saturating_sub(3)) as f64).sqrt().round() as usize;
        if side.checked_mul(side).and_then(|s| s.checked_add(3)) != Some(t[0]) || side.is_multiple_of(2) {
            return Err(format!("relative position table has {} rows, not (2G−1)² + 3", t[0]));
        }
        Some(side.div_ceil(2))
    } else {
        None
    };
    let grid_px = |g: usize| {
        g.checked_mul(patch).ok_or_else(|| format!("a position table of {g}×{g} patches of {patch} px is too large"))
    };
    let trained_image_size = match grid {
        Some(g) => grid_px(g)?,
        None => overrides.image_size.unwrap_or(224),
    };
    let image_size = match (grid, overrides.image_size) {
        // An absolute table is resampled to the requested size at conversion; relative tables are not.
        (Some(_), Some(s)) if trained_image_size != s && rel_table.is_some() => {
            return Err(format!(
                "--image-size {s} disagrees with the relative position table ({} px); convert at that size and \
                 run at {s} with `analyze --image-size`",
                trained_image_size
            ));
        }
        (Some(_), Some(s)) if !s.is_multiple_of(patch) || s < patch => {
            return Err(format!("--image-size {s} is not a positive multiple of the patch size {patch}"));
        }
        (_, Some(s)) => s,
        (Some(_), None) => trained_image_size,
        (None, None) => 224,
    };
    let heads = match (overrides.heads, &rel_table) {
        (Some(h), Some(t)) if t[1] != h => {
            return Err(format!("--heads {h} disagrees with the relative position table ({} heads)", t[1]));
        }
        (Some(h), _) => h,
        (None, Some(t)) => t[1],
        (None, None) => default_heads(layout, width)?,
    };
    let qkv_bias = if has(&first_attention.pp(names::QKV).key(names::BIAS)) {
        QkvBias::Full
    } else if has(&first_attention.key(names::QUERY_BIAS)) {
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
        // Hugging Face's `ViTConfig` default; every other layout here uses 1e-6.
        layer_norm_eps: if layout == Layout::HfVit { 1e-12 } else { 1e-6 },
        cls_token,
        register_tokens,
        absolute_position: if has_position_table { layout.absolute() } else { AbsolutePosition::None },
        relative_position,
        qkv_bias,
        layer_scale: has(&first.key(names::LAYER_SCALE_1)),
    };
    config.validate().map_err(|e| format!("inferred config is invalid: {e}"))?;
    Ok(Plan { layout, mapping, dropped, index_keys, fold_class_position, trained_image_size, config })
}

/// Head counts of the published models; shapes cannot tell heads apart from head width.
fn default_heads(layout: Layout, width: usize) -> Result<usize, String> {
    match (layout, width) {
        (_, 192) => Ok(3),
        (Layout::MocoV3, 384) => Ok(12),
        (_, 384) => Ok(6),
        (_, 768) => Ok(12),
        (_, 1024) | (_, 1280) => Ok(16),
        _ => Err(format!(
            "cannot infer the number of heads for width {width} (published models have widths 192, 384, 768, 1024 and 1280): convert it with the CLI's --heads"
        )),
    }
}

#[cfg(test)]
mod tests {
    use vitscope_core::model::schema::expected_tensors;

    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn each_layout_is_recognised_by_its_marker_keys() {
        let cases = [
            (vec!["state_dict.module.base_encoder.cls_token", "optimizer.state"], false, Layout::MocoV3),
            (vec!["model.encoder.blocks.0.norm1.weight", "model.decoder.0.weight"], false, Layout::SimMim),
            (vec!["teacher.backbone.blocks.0.norm1.weight", "student.head.x"], false, Layout::DinoFull),
            (
                vec!["model.rel_pos_bias.relative_position_bias_table", "model.blocks.0.norm1.weight"],
                false,
                Layout::Beit,
            ),
            (vec!["model.lm_head.weight", "model.blocks.0.norm1.weight"], false, Layout::Beit),
            (vec!["model.blocks.0.norm1.weight"], false, Layout::Mae),
            (vec!["blocks.0.norm1.weight"], false, Layout::Dino),
            (vec!["blocks.0.norm1.weight"], true, Layout::Timm),
            (
                vec!["embeddings.patch_embeddings.projection.weight", "encoder.layer.0.layer_scale1.lambda1"],
                true,
                Layout::HfDinov2,
            ),
            (
                vec![
                    "vit.embeddings.patch_embeddings.projection.weight",
                    "vit.encoder.layer.0.layernorm_before.weight",
                ],
                false,
                Layout::HfVit,
            ),
        ];
        for (list, safetensors, layout) in cases {
            assert_eq!(Layout::detect(&keys(&list), safetensors), Ok(layout), "{list:?}");
        }
        let err = Layout::detect(&keys(&["z.weight", "a.bias"]), false).unwrap_err();
        assert_eq!(
            err,
            "no known ViT layout matches these keys (first ones: a.bias, z.weight); pass --layout explicitly"
        );
        assert_eq!(Layout::parse("auto"), Ok(None));
        assert_eq!(Layout::parse("dino-full"), Ok(Some(Layout::DinoFull)));
        assert_eq!(
            Layout::parse("moco").unwrap_err(),
            "unknown layout `moco` (choose auto, mocov3, simmim, mae, dino, dino-full, beit, timm, hf-dinov2, hf-vit)"
        );
    }

    /// A MoCo v3 checkpoint's keys for `config`: the encoder, its momentum twin, the predictor and
    /// the head, as the official file nests them.
    fn moco_shapes(config: &VitConfig) -> BTreeMap<String, Vec<usize>> {
        let mut shapes = BTreeMap::new();
        for e in expected_tensors(config) {
            shapes.insert(format!("state_dict.module.base_encoder.{}", e.name), e.shape.clone());
            shapes.insert(format!("state_dict.module.momentum_encoder.{}", e.name), e.shape);
        }
        shapes.insert("state_dict.module.base_encoder.head.0.weight".into(), vec![4096, config.width]);
        shapes.insert("state_dict.module.predictor.0.weight".into(), vec![4096, 256]);
        shapes.insert("optimizer.state.0.exp_avg".into(), vec![3]);
        shapes
    }

    #[test]
    fn a_plan_maps_every_encoder_tensor_and_infers_the_architecture() {
        let config = VitConfig {
            image_size: 48,
            patch_size: 8,
            width: 64,
            depth: 2,
            heads: 2,
            mlp_hidden: 128,
            ..VitConfig::vit_base16()
        };
        let shapes = moco_shapes(&config);
        let plan = plan(Layout::MocoV3, &shapes, &Overrides { heads: Some(2), image_size: None }).unwrap();
        let expected: Vec<String> = expected_tensors(&config).into_iter().map(|e| e.name).collect();
        assert_eq!(plan.mapping.keys().cloned().collect::<Vec<_>>(), {
            let mut sorted = expected.clone();
            sorted.sort();
            sorted
        });
        assert_eq!(plan.mapping["blocks.1.mlp.fc2.weight"], ["state_dict.module.base_encoder.blocks.1.mlp.fc2.weight"]);
        // The momentum encoder, the predictor and the head are dropped; the optimizer is outside scope.
        assert_eq!(plan.dropped.len(), expected.len() + 2);
        assert!(plan.index_keys.is_empty());
        assert_eq!(plan.config, VitConfig { absolute_position: AbsolutePosition::SinCos, ..config.clone() });

        // Another --image-size stores the model at that size (the table is resampled on conversion).
        let resized =
            super::plan(Layout::MocoV3, &shapes, &Overrides { heads: Some(2), image_size: Some(32) }).unwrap();
        assert_eq!((resized.config.image_size, resized.trained_image_size), (32, 48));
        let err = plan_err(&shapes, Overrides { heads: Some(2), image_size: Some(36) });
        assert_eq!(err, "--image-size 36 is not a positive multiple of the patch size 8");
        // Twelve heads are MoCo's ViT-S default.
        let err = plan_err(&shapes, Overrides { heads: None, image_size: None });
        assert_eq!(
            err,
            "cannot infer the number of heads for width 64 (published models have widths 192, 384, 768, 1024 and 1280): convert it with the CLI's --heads"
        );
    }

    fn plan_err(shapes: &BTreeMap<String, Vec<usize>>, overrides: Overrides) -> String {
        plan(Layout::MocoV3, shapes, &overrides).unwrap_err()
    }

    #[test]
    fn keys_inside_the_encoder_that_nothing_explains_are_refused() {
        let config = VitConfig {
            image_size: 48,
            patch_size: 8,
            width: 64,
            depth: 1,
            heads: 2,
            mlp_hidden: 128,
            ..VitConfig::vit_base16()
        };
        let mut shapes = moco_shapes(&config);
        shapes.insert("state_dict.module.extra.weight".into(), vec![1]);
        assert_eq!(
            plan_err(&shapes, Overrides { heads: Some(2), image_size: None }),
            "unexpected keys for layout mocov3: state_dict.module.extra.weight"
        );
        let mut shapes = moco_shapes(&config);
        shapes.insert("state_dict.module.base_encoder.pos_embed".into(), vec![1, 38, 64]);
        assert_eq!(
            plan_err(&shapes, Overrides { heads: Some(2), image_size: None }),
            "`pos_embed` has 38 rows: not a square grid plus CLS"
        );
        // Found by the property test in crates/core/tests/hostile_files.rs: a table with a
        // dimension missing, or sizes whose products overflow, are refused, not an index panic.
        let mut shapes = moco_shapes(&config);
        shapes.insert("state_dict.module.base_encoder.pos_embed".into(), vec![1, 37]);
        assert_eq!(
            plan_err(&shapes, Overrides { heads: Some(2), image_size: None }),
            "`state_dict.module.base_encoder.pos_embed` has shape [1, 37]: expected 3 dimensions"
        );
        let mut shapes = moco_shapes(&config);
        shapes.insert("state_dict.module.base_encoder.pos_embed".into(), vec![1, usize::MAX, 64]);
        assert_eq!(
            plan_err(&shapes, Overrides { heads: Some(2), image_size: None }),
            format!("`pos_embed` has {} rows: not a square grid plus CLS", usize::MAX)
        );
        let mut shapes = moco_shapes(&config);
        shapes.insert("state_dict.module.base_encoder.blocks.0.mlp.fc1.weight".into(), vec![128]);
        assert_eq!(
            plan_err(&shapes, Overrides { heads: Some(2), image_size: None }),
            "`state_dict.module.base_encoder.blocks.0.mlp.fc1.weight` has shape [128]: expected 2 dimensions"
        );
        let only_other: BTreeMap<String, Vec<usize>> = BTreeMap::from([("model.encoder.cls_token".into(), vec![1])]);
        assert_eq!(
            plan(Layout::MocoV3, &only_other, &Overrides::default()).unwrap_err(),
            "no encoder tensors under `state_dict.module.base_encoder.`: this is not a mocov3 checkpoint"
        );
    }

    #[test]
    fn registers_are_prefix_tokens_and_the_mask_token_is_dropped() {
        let config = VitConfig {
            image_size: 28,
            patch_size: 14,
            width: 64,
            depth: 1,
            heads: 2,
            mlp_hidden: 128,
            register_tokens: 4,
            absolute_position: AbsolutePosition::Learned,
            layer_scale: true,
            ..VitConfig::vit_base16()
        };
        // timm's DINOv2-with-registers: the table covers the four patches only.
        let mut shapes: BTreeMap<String, Vec<usize>> =
            expected_tensors(&config).into_iter().map(|e| (canonical_name_back(&e.name), e.shape)).collect();
        assert_eq!(shapes["pos_embed"], [1, 4, 64]);
        shapes.insert("mask_token".into(), vec![1, 64]);
        let timm = plan(Layout::Timm, &shapes, &Overrides { heads: Some(2), image_size: None }).unwrap();
        assert_eq!(timm.config, config);
        assert_eq!(timm.dropped, ["mask_token"]);
        assert!(!timm.fold_class_position);
        assert_eq!(config.prefix_tokens(), 5);
    }

    /// timm's spelling of a canonical name (the inverse of [`canonical_name`]).
    fn canonical_name_back(name: &str) -> String {
        name.replace(".gamma_1", ".ls1.gamma").replace(".gamma_2", ".ls2.gamma")
    }

    #[test]
    fn timm_layer_scale_names_become_vitscopes() {
        assert_eq!(canonical_name("blocks.3.ls1.gamma"), "blocks.3.gamma_1");
        assert_eq!(canonical_name("blocks.3.ls2.gamma"), "blocks.3.gamma_2");
        assert_eq!(canonical_name("blocks.3.norm1.weight"), "blocks.3.norm1.weight");
    }
}
