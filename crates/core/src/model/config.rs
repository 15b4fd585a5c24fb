//! The architecture of one ViT, as data: every official variant is a value of [`VitConfig`].

use serde::{Deserialize, Serialize};

/// How absolute position information enters the token stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbsolutePosition {
    /// No absolute table (SimMIM, BEiT rely on relative bias instead).
    None,
    /// A table trained with the model (DINO, supervised timm models).
    Learned,
    /// A fixed 2-D sin-cos table (MoCo v3, MAE). It is still read from the weights, never regenerated,
    /// because the official repositories disagree on the channel order.
    SinCos,
}

/// Where relative position bias tables live, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelativePosition {
    None,
    /// One table added to every block's logits (SimMIM, BEiT pre-training).
    Shared,
    /// One table per block (BEiT fine-tuned).
    PerBlock,
}

/// Which of q, k, v carry a bias.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QkvBias {
    Full,
    /// BEiT/SimMIM: q and v have biases, k's is fixed at zero (softmax is invariant to it).
    QueryValue,
    None,
}

/// Everything needed to build the network; stored as JSON in every weight file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VitConfig {
    pub image_size: usize,
    pub patch_size: usize,
    #[serde(default = "three")]
    pub in_channels: usize,
    pub width: usize,
    pub depth: usize,
    pub heads: usize,
    pub mlp_hidden: usize,
    pub layer_norm_eps: f64,
    pub cls_token: bool,
    /// Register tokens after CLS (Darcet et al. 2024, DINOv2 "reg" models). With registers the
    /// absolute table covers the patches only and CLS's position is folded into the CLS token, as
    /// timm stores them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub register_tokens: usize,
    pub absolute_position: AbsolutePosition,
    pub relative_position: RelativePosition,
    pub qkv_bias: QkvBias,
    pub layer_scale: bool,
}

fn three() -> usize {
    3
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl VitConfig {
    /// The ViT-B/16 of MoCo v3, MAE and DINO (timm `vit_base_patch16_224` shape).
    pub fn vit_base16() -> Self {
        Self {
            image_size: 224,
            patch_size: 16,
            in_channels: 3,
            width: 768,
            depth: 12,
            heads: 12,
            mlp_hidden: 3072,
            layer_norm_eps: 1e-6,
            cls_token: true,
            register_tokens: 0,
            absolute_position: AbsolutePosition::SinCos,
            relative_position: RelativePosition::None,
            qkv_bias: QkvBias::Full,
            layer_scale: false,
        }
    }

    /// MoCo v3's ViT-S/16: 12 heads of 32 channels (DINO's ViT-S has 6 heads of 64).
    pub fn vit_small16_mocov3() -> Self {
        Self { width: 384, heads: 12, mlp_hidden: 1536, ..Self::vit_base16() }
    }

    /// SimMIM's ViT-B/16: shared relative bias, q/v bias, layer scale, no absolute table.
    pub fn simmim_base16() -> Self {
        Self {
            absolute_position: AbsolutePosition::None,
            relative_position: RelativePosition::Shared,
            qkv_bias: QkvBias::QueryValue,
            layer_scale: true,
            ..Self::vit_base16()
        }
    }

    /// The ViT-Ti/8 at 112 px that vitscope trains itself: a 14×14 grid like the paper's.
    pub fn vit_tiny8_112() -> Self {
        Self { image_size: 112, patch_size: 8, width: 192, heads: 3, mlp_hidden: 768, ..Self::vit_base16() }
    }

    pub fn grid(&self) -> usize {
        self.image_size / self.patch_size
    }

    pub fn patches(&self) -> usize {
        self.grid() * self.grid()
    }

    /// Tokens before the patches: CLS, if any, then the registers.
    pub fn prefix_tokens(&self) -> usize {
        usize::from(self.cls_token) + self.register_tokens
    }

    /// Rows of the absolute position table before the patch rows: CLS's, unless registers moved it
    /// into the CLS token.
    pub fn position_prefix(&self) -> usize {
        usize::from(self.cls_token && self.register_tokens == 0)
    }

    /// Rows of the absolute position table at the trained size.
    pub fn position_rows(&self) -> usize {
        self.patches() + self.position_prefix()
    }

    pub fn tokens(&self) -> usize {
        self.patches() + self.prefix_tokens()
    }

    pub fn head_dim(&self) -> usize {
        self.width / self.heads
    }

    /// Rows of a relative position bias table for a `grid`×`grid` input: (2G−1)² offsets plus the three
    /// CLS entries (CLS→patch, patch→CLS, CLS→CLS) that BEiT defines.
    pub fn relative_table_rows(grid: usize) -> usize {
        (2 * grid - 1) * (2 * grid - 1) + 3
    }

    /// Checks the numbers agree with each other; every failure says which field and why.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("image_size", self.image_size),
            ("patch_size", self.patch_size),
            ("in_channels", self.in_channels),
            ("width", self.width),
            ("depth", self.depth),
            ("heads", self.heads),
            ("mlp_hidden", self.mlp_hidden),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(format!("{name} must be positive"));
            }
        }
        // Bounds well above ViT-H so a hostile header cannot ask for absurd allocations.
        let bounded = [
            ("image_size", self.image_size, 4096),
            ("width", self.width, 8192),
            ("depth", self.depth, 128),
            ("heads", self.heads, 256),
            ("mlp_hidden", self.mlp_hidden, 65536),
            ("in_channels", self.in_channels, 4),
            ("register_tokens", self.register_tokens, 64),
        ];
        for (name, value, max) in bounded {
            if value > max {
                return Err(format!("{name} = {value} exceeds the supported maximum {max}"));
            }
        }
        if !self.image_size.is_multiple_of(self.patch_size) {
            return Err(format!("image_size {} is not a multiple of patch_size {}", self.image_size, self.patch_size));
        }
        if !self.width.is_multiple_of(self.heads) {
            return Err(format!("width {} is not divisible by heads {}", self.width, self.heads));
        }
        if self.relative_position != RelativePosition::None && (!self.cls_token || self.register_tokens > 0) {
            return Err("relative position bias (BEiT layout) assumes a CLS token and no registers".into());
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps < 1.0) {
            return Err(format!("layer_norm_eps {} is outside (0, 1)", self.layer_norm_eps));
        }
        Ok(())
    }
}
