//! Which tensors a config implies, with their shapes and storage roles: the one list the weight
//! format validates files against and the converters check their key mapping with. Names come from
//! [`super::names`], as the forward pass's do.

use super::config::{AbsolutePosition, QkvBias, RelativePosition, VitConfig};
use super::names::{self, Path};

/// How a tensor may be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Linear and patch-conv weights: int8 per output channel (with a `_scale`), f16 or f32.
    Matrix,
    /// Large non-matrix tables (position embedding, CLS token): f16 or f32.
    Table,
    /// Small tensors (biases, norms, layer scale, relative bias tables): always f32 in int8/f16 files,
    /// since they are tiny and some (layer scale 1e-5…0.1, relative biases) lose precision in f16.
    Small,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    pub name: String,
    pub shape: Vec<usize>,
    pub role: Role,
}

/// Suffix of the per-output-channel scale stored next to an int8 matrix.
pub const SCALE_SUFFIX: &str = "_scale";

/// Every tensor the config needs, in canonical (timm) names.
pub fn expected_tensors(config: &VitConfig) -> Vec<Expected> {
    let (c, p, h, m) = (config.width, config.patch_size, config.heads, config.mlp_hidden);
    let mut out = Vec::new();
    let mut push = |name: String, shape: Vec<usize>, role: Role| out.push(Expected { name, shape, role });
    let root = Path::root();
    let patch = root.pp(names::PATCH_PROJECTION);
    push(patch.key(names::WEIGHT), vec![c, config.in_channels, p, p], Role::Matrix);
    push(patch.key(names::BIAS), vec![c], Role::Small);
    if config.cls_token {
        push(root.key(names::CLS_TOKEN), vec![1, 1, c], Role::Table);
    }
    if config.register_tokens > 0 {
        push(root.key(names::REGISTER_TOKENS), vec![1, config.register_tokens, c], Role::Table);
    }
    if config.absolute_position != AbsolutePosition::None {
        push(root.key(names::POSITION_TABLE), vec![1, config.position_rows(), c], Role::Table);
    }
    let rel_rows = VitConfig::relative_table_rows(config.grid());
    if config.relative_position == RelativePosition::Shared {
        push(names::shared_relative_table(), vec![rel_rows, h], Role::Small);
    }
    let norm = |push: &mut dyn FnMut(String, Vec<usize>, Role), module: Path| {
        push(module.key(names::WEIGHT), vec![c], Role::Small);
        push(module.key(names::BIAS), vec![c], Role::Small);
    };
    let linear = |push: &mut dyn FnMut(String, Vec<usize>, Role), module: Path, d_in: usize, d_out: usize| {
        push(module.key(names::WEIGHT), vec![d_out, d_in], Role::Matrix);
        push(module.key(names::BIAS), vec![d_out], Role::Small);
    };
    for i in 0..config.depth {
        let b = names::block(i);
        let attn = b.pp(names::ATTENTION);
        norm(&mut push, b.pp(names::NORM_1));
        let qkv = attn.pp(names::QKV);
        push(qkv.key(names::WEIGHT), vec![3 * c, c], Role::Matrix);
        match config.qkv_bias {
            QkvBias::Full => push(qkv.key(names::BIAS), vec![3 * c], Role::Small),
            QkvBias::QueryValue => {
                push(attn.key(names::QUERY_BIAS), vec![c], Role::Small);
                push(attn.key(names::VALUE_BIAS), vec![c], Role::Small);
            }
            QkvBias::None => {}
        }
        if config.relative_position == RelativePosition::PerBlock {
            push(names::block_relative_table(i), vec![rel_rows, h], Role::Small);
        }
        linear(&mut push, attn.pp(names::PROJECTION), c, c);
        norm(&mut push, b.pp(names::NORM_2));
        linear(&mut push, b.pp(names::MLP_1), c, m);
        linear(&mut push, b.pp(names::MLP_2), m, c);
        if config.layer_scale {
            push(b.key(names::LAYER_SCALE_1), vec![c], Role::Small);
            push(b.key(names::LAYER_SCALE_2), vec![c], Role::Small);
        }
    }
    norm(&mut push, root.pp(names::NORM));
    out
}
