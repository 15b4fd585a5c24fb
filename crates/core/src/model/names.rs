//! Every tensor name the ViT reads, spelled once. The module tree is the key tree (candle's
//! `VarBuilder::pp`): a [`Path`] grows one module at a time, and the forward pass, the schema the
//! weight format checks, and the converters all build names from here. The names are timm's.

use std::fmt;

/// A module's place in the tree (`blocks.3.attn`); [`Path::key`] names a tensor inside it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    pub fn root() -> Self {
        Self(String::new())
    }

    /// The child module `name` (a field name or a block index).
    pub fn pp(&self, name: impl fmt::Display) -> Self {
        if self.0.is_empty() { Self(name.to_string()) } else { Self(format!("{}.{name}", self.0)) }
    }

    /// The tensor `leaf` of this module.
    pub fn key(&self, leaf: &str) -> String {
        if self.0.is_empty() { leaf.to_string() } else { format!("{}.{leaf}", self.0) }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// Modules.
pub const PATCH_PROJECTION: &str = "patch_embed.proj";
pub const BLOCKS: &str = "blocks";
pub const ATTENTION: &str = "attn";
pub const QKV: &str = "qkv";
pub const PROJECTION: &str = "proj";
pub const NORM_1: &str = "norm1";
pub const NORM_2: &str = "norm2";
pub const MLP_1: &str = "mlp.fc1";
pub const MLP_2: &str = "mlp.fc2";
/// The final LayerNorm.
pub const NORM: &str = "norm";
/// BEiT's and SimMIM's relative position bias shared by every block.
pub const SHARED_RELATIVE_BIAS: &str = "rel_pos_bias";

// Tensors.
pub const WEIGHT: &str = "weight";
pub const BIAS: &str = "bias";
pub const CLS_TOKEN: &str = "cls_token";
/// Register tokens, `[1, R, C]` (timm's name).
pub const REGISTER_TOKENS: &str = "reg_token";
pub const POSITION_TABLE: &str = "pos_embed";
pub const RELATIVE_TABLE: &str = "relative_position_bias_table";
/// BEiT's separate query and value biases (the key has none).
pub const QUERY_BIAS: &str = "q_bias";
pub const VALUE_BIAS: &str = "v_bias";
/// Layer scale on the attention and MLP branches.
pub const LAYER_SCALE_1: &str = "gamma_1";
pub const LAYER_SCALE_2: &str = "gamma_2";

/// Block `i`'s module path.
pub fn block(i: usize) -> Path {
    Path::root().pp(BLOCKS).pp(i)
}

/// The shared relative bias table's key.
pub fn shared_relative_table() -> String {
    Path::root().pp(SHARED_RELATIVE_BIAS).key(RELATIVE_TABLE)
}

/// Block `i`'s own relative bias table's key.
pub fn block_relative_table(i: usize) -> String {
    block(i).pp(ATTENTION).key(RELATIVE_TABLE)
}

pub fn patch_weight() -> String {
    Path::root().pp(PATCH_PROJECTION).key(WEIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_spell_timm_keys() {
        assert_eq!(block(3).pp(ATTENTION).pp(QKV).key(WEIGHT), "blocks.3.attn.qkv.weight");
        assert_eq!(block(0).pp(MLP_1).key(BIAS), "blocks.0.mlp.fc1.bias");
        assert_eq!(shared_relative_table(), "rel_pos_bias.relative_position_bias_table");
        assert_eq!(block_relative_table(2), "blocks.2.attn.relative_position_bias_table");
        assert_eq!(Path::root().key(CLS_TOKEN), "cls_token");
        assert_eq!(patch_weight(), "patch_embed.proj.weight");
        assert_eq!(block(11).key(LAYER_SCALE_2), "blocks.11.gamma_2");
    }
}
