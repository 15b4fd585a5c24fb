//! Hugging Face `Dinov2Model` and `ViTModel` keys → canonical (timm) names. Unlike the official
//! layouts these rename every module, and split `qkv` into query, key and value, so they get their
//! own table instead of prefix stripping.

use std::collections::BTreeMap;

use vitscope_core::model::names;

use crate::layout::{Layout, MappedKeys};

/// Where a Hugging Face key goes.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A canonical tensor, or one part (0 = query, 1 = key, 2 = value) of a fused one.
    Tensor {
        name: String,
        part: usize,
    },
    Dropped,
}

/// The model's tensors sit under a prefix that depends on the class saved (`dinov2.` for
/// `Dinov2ForImageClassification`, `vit.` for `ViTForImageClassification`, none for the bare model).
fn model_prefix(shapes: &BTreeMap<String, Vec<usize>>) -> Option<String> {
    const MARKER: &str = "embeddings.patch_embeddings.projection.weight";
    shapes.keys().find_map(|k| k.strip_suffix(MARKER).map(String::from))
}

fn target(layout: Layout, key: &str) -> Option<Target> {
    let tensor = |name: String| Some(Target::Tensor { name, part: 0 });
    match key {
        "embeddings.cls_token" => return tensor(names::CLS_TOKEN.into()),
        "embeddings.register_tokens" => return tensor(names::REGISTER_TOKENS.into()),
        "embeddings.position_embeddings" => return tensor(names::POSITION_TABLE.into()),
        "embeddings.mask_token" => return Some(Target::Dropped),
        _ => {}
    }
    if let Some(rest) = key.strip_prefix("embeddings.patch_embeddings.projection.") {
        return tensor(names::Path::root().pp(names::PATCH_PROJECTION).key(rest));
    }
    if let Some(rest) = key.strip_prefix("layernorm.") {
        return tensor(names::Path::root().pp(names::NORM).key(rest));
    }
    let rest = key.strip_prefix("encoder.layer.")?;
    let (index, module) = rest.split_once('.')?;
    let block = names::block(index.parse().ok()?);
    let attention = block.pp(names::ATTENTION);
    for (i, part) in ["query", "key", "value"].iter().enumerate() {
        if let Some(leaf) = module.strip_prefix(&format!("attention.attention.{part}.")) {
            return Some(Target::Tensor { name: attention.pp(names::QKV).key(leaf), part: i });
        }
    }
    let renames: &[(&str, names::Path)] = match layout {
        Layout::HfDinov2 => &[
            ("norm1.", block.pp(names::NORM_1)),
            ("norm2.", block.pp(names::NORM_2)),
            ("attention.output.dense.", attention.pp(names::PROJECTION)),
            ("mlp.fc1.", block.pp(names::MLP_1)),
            ("mlp.fc2.", block.pp(names::MLP_2)),
        ],
        _ => &[
            ("layernorm_before.", block.pp(names::NORM_1)),
            ("layernorm_after.", block.pp(names::NORM_2)),
            ("attention.output.dense.", attention.pp(names::PROJECTION)),
            ("intermediate.dense.", block.pp(names::MLP_1)),
            ("output.dense.", block.pp(names::MLP_2)),
        ],
    };
    for (from, to) in renames {
        if let Some(leaf) = module.strip_prefix(from) {
            return tensor(to.key(leaf));
        }
    }
    match module {
        "layer_scale1.lambda1" if layout == Layout::HfDinov2 => tensor(block.key(names::LAYER_SCALE_1)),
        "layer_scale2.lambda1" if layout == Layout::HfDinov2 => tensor(block.key(names::LAYER_SCALE_2)),
        _ => None,
    }
}

/// Maps every key of a Hugging Face checkpoint; heads (`classifier.`, `pooler.`) are dropped.
pub(crate) fn map_keys(layout: Layout, shapes: &BTreeMap<String, Vec<usize>>) -> Result<MappedKeys, String> {
    let prefix = model_prefix(shapes).ok_or_else(|| {
        format!("no `embeddings.patch_embeddings.projection.weight`: not a {} checkpoint", layout.name())
    })?;
    let mut parts: BTreeMap<String, [Option<String>; 3]> = BTreeMap::new();
    let mut mapped = MappedKeys::default();
    let mut unexpected = Vec::new();
    for raw in shapes.keys() {
        let Some(rest) = raw.strip_prefix(&prefix) else {
            if ["classifier.", "pooler.", "head."].iter().any(|p| raw.starts_with(p)) {
                mapped.dropped.push(raw.clone());
            } else {
                unexpected.push(raw.clone());
            }
            continue;
        };
        match target(layout, rest) {
            Some(Target::Tensor { name, part }) => {
                if parts.entry(name).or_default()[part].replace(raw.clone()).is_some() {
                    unexpected.push(raw.clone());
                }
            }
            Some(Target::Dropped) => mapped.dropped.push(raw.clone()),
            None if rest.starts_with("pooler.") => mapped.dropped.push(raw.clone()),
            None => unexpected.push(raw.clone()),
        }
    }
    if !unexpected.is_empty() {
        return Err(format!("unexpected keys for layout {}: {}", layout.name(), unexpected.join(", ")));
    }
    for (name, keys) in parts {
        let fused = name.contains(&format!(".{}.", names::QKV));
        let keys: Vec<String> = if fused {
            let [Some(q), Some(k), Some(v)] = keys else {
                return Err(format!("`{name}` needs query, key and value; the checkpoint lacks some"));
            };
            vec![q, k, v]
        } else {
            keys.into_iter().flatten().collect()
        };
        mapped.mapping.insert(name, keys);
    }
    Ok(mapped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dinov2_and_vit_modules_get_timm_names() {
        let t = |layout, key: &str| match target(layout, key) {
            Some(Target::Tensor { name, part }) => format!("{name}#{part}"),
            Some(Target::Dropped) => "dropped".into(),
            None => "none".into(),
        };
        let d = Layout::HfDinov2;
        assert_eq!(t(d, "encoder.layer.3.attention.attention.key.weight"), "blocks.3.attn.qkv.weight#1");
        assert_eq!(t(d, "encoder.layer.3.attention.attention.value.bias"), "blocks.3.attn.qkv.bias#2");
        assert_eq!(t(d, "encoder.layer.0.attention.output.dense.weight"), "blocks.0.attn.proj.weight#0");
        assert_eq!(t(d, "encoder.layer.11.layer_scale2.lambda1"), "blocks.11.gamma_2#0");
        assert_eq!(t(d, "encoder.layer.1.mlp.fc2.bias"), "blocks.1.mlp.fc2.bias#0");
        assert_eq!(t(d, "embeddings.patch_embeddings.projection.weight"), "patch_embed.proj.weight#0");
        assert_eq!(t(d, "embeddings.register_tokens"), "reg_token#0");
        assert_eq!(t(d, "embeddings.mask_token"), "dropped");
        assert_eq!(t(d, "layernorm.bias"), "norm.bias#0");
        assert_eq!(t(d, "encoder.layer.1.mlp.weights_in.weight"), "none");
        let v = Layout::HfVit;
        assert_eq!(t(v, "encoder.layer.2.layernorm_before.weight"), "blocks.2.norm1.weight#0");
        assert_eq!(t(v, "encoder.layer.2.intermediate.dense.weight"), "blocks.2.mlp.fc1.weight#0");
        assert_eq!(t(v, "encoder.layer.2.output.dense.bias"), "blocks.2.mlp.fc2.bias#0");
        assert_eq!(t(v, "encoder.layer.2.layer_scale1.lambda1"), "none");
    }

    #[test]
    fn query_key_and_value_are_fused_in_that_order_and_heads_are_dropped() {
        let shapes: BTreeMap<String, Vec<usize>> = [
            "dinov2.embeddings.patch_embeddings.projection.weight",
            "dinov2.encoder.layer.0.attention.attention.value.weight",
            "dinov2.encoder.layer.0.attention.attention.query.weight",
            "dinov2.encoder.layer.0.attention.attention.key.weight",
            "classifier.weight",
        ]
        .iter()
        .map(|k| (k.to_string(), vec![1]))
        .collect();
        let mapped = map_keys(Layout::HfDinov2, &shapes).unwrap();
        assert_eq!(
            mapped.mapping["blocks.0.attn.qkv.weight"],
            ["query", "key", "value"].map(|p| format!("dinov2.encoder.layer.0.attention.attention.{p}.weight"))
        );
        assert_eq!(mapped.dropped, ["classifier.weight"]);
        let mut partial = shapes.clone();
        partial.remove("dinov2.encoder.layer.0.attention.attention.key.weight");
        assert_eq!(
            map_keys(Layout::HfDinov2, &partial).unwrap_err(),
            "`blocks.0.attn.qkv.weight` needs query, key and value; the checkpoint lacks some"
        );
        partial.insert("dinov2.encoder.layer.0.extra".into(), vec![1]);
        assert!(map_keys(Layout::HfDinov2, &partial).unwrap_err().starts_with("unexpected keys for layout hf-dinov2"));
    }
}
