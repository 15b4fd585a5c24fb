//! Which tensors a config implies, with their shapes and storage roles.

use crate::model::{AbsolutePosition, QkvBias, RelativePosition, VitConfig};

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
    push("patch_embed.proj.weight".into(), vec![c, config.in_channels, p, p], Role::Matrix);
    push("patch_embed.proj.bias".into(), vec![c], Role::Small);
    if config.cls_token {
        push("cls_token".into(), vec![1, 1, c], Role::Table);
    }
    if config.absolute_position != AbsolutePosition::None {
        push("pos_embed".into(), vec![1, config.tokens(), c], Role::Table);
    }
    let rel_rows = VitConfig::relative_table_rows(config.grid());
    if config.relative_position == RelativePosition::Shared {
        push("rel_pos_bias.relative_position_bias_table".into(), vec![rel_rows, h], Role::Small);
    }
    for i in 0..config.depth {
        let b = format!("blocks.{i}");
        push(format!("{b}.norm1.weight"), vec![c], Role::Small);
        push(format!("{b}.norm1.bias"), vec![c], Role::Small);
        push(format!("{b}.attn.qkv.weight"), vec![3 * c, c], Role::Matrix);
        match config.qkv_bias {
            QkvBias::Full => push(format!("{b}.attn.qkv.bias"), vec![3 * c], Role::Small),
            QkvBias::QueryValue => {
                push(format!("{b}.attn.q_bias"), vec![c], Role::Small);
                push(format!("{b}.attn.v_bias"), vec![c], Role::Small);
            }
            QkvBias::None => {}
        }
        if config.relative_position == RelativePosition::PerBlock {
            push(format!("{b}.attn.relative_position_bias_table"), vec![rel_rows, h], Role::Small);
        }
        push(format!("{b}.attn.proj.weight"), vec![c, c], Role::Matrix);
        push(format!("{b}.attn.proj.bias"), vec![c], Role::Small);
        push(format!("{b}.norm2.weight"), vec![c], Role::Small);
        push(format!("{b}.norm2.bias"), vec![c], Role::Small);
        push(format!("{b}.mlp.fc1.weight"), vec![m, c], Role::Matrix);
        push(format!("{b}.mlp.fc1.bias"), vec![m], Role::Small);
        push(format!("{b}.mlp.fc2.weight"), vec![c, m], Role::Matrix);
        push(format!("{b}.mlp.fc2.bias"), vec![c], Role::Small);
        if config.layer_scale {
            push(format!("{b}.gamma_1"), vec![c], Role::Small);
            push(format!("{b}.gamma_2"), vec![c], Role::Small);
        }
    }
    push("norm.weight".into(), vec![c], Role::Small);
    push("norm.bias".into(), vec![c], Role::Small);
    out
}
