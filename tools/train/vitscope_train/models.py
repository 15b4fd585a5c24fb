"""The encoders and heads. timm provides the ViT blocks so checkpoints use the official key names.

- MoCo v3 encoder: timm `VisionTransformer` with MoCo v3's fixed 2-D sin-cos table (CLS row zero) and a
  frozen random patch projection (`stop_grad_conv1`).
- SimMIM encoder: timm `Beit` with one shared relative position bias, layer scale 0.1, q/v bias, no
  absolute table, plus a learnable mask token. `positions="absolute"` gives the plain-ViT variant instead
  (a learned absolute table, no relative bias), which SimMIM's code also offers (`use_abs_pos_emb`).
"""

from functools import partial

import torch
import torch.nn as nn
from timm.models.beit import Beit
from timm.models.vision_transformer import VisionTransformer

TINY = dict(img_size=112, patch_size=8, embed_dim=192, depth=12, num_heads=3)
LN = partial(nn.LayerNorm, eps=1e-6)


def sincos_2d(grid: int, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """MoCo v3's `build_2d_sincos_position_embedding`, CLS row included: [1, 1 + grid², dim]."""
    grid_w = torch.arange(grid, dtype=torch.float32)
    grid_h = torch.arange(grid, dtype=torch.float32)
    grid_w, grid_h = torch.meshgrid(grid_w, grid_h, indexing="ij")
    pos_dim = dim // 4
    omega = 1.0 / temperature ** (torch.arange(pos_dim, dtype=torch.float32) / pos_dim)
    out_w = torch.einsum("m,d->md", grid_w.flatten(), omega)
    out_h = torch.einsum("m,d->md", grid_h.flatten(), omega)
    table = torch.cat([torch.sin(out_w), torch.cos(out_w), torch.sin(out_h), torch.cos(out_h)], 1)
    return torch.cat([torch.zeros(1, dim), table], 0)[None]


def moco_encoder(**arch) -> VisionTransformer:
    a = {**TINY, **arch}
    m = VisionTransformer(**a, mlp_ratio=4.0, qkv_bias=True, norm_layer=LN, num_classes=0, global_pool="token")
    grid = a["img_size"] // a["patch_size"]
    m.pos_embed = nn.Parameter(sincos_2d(grid, a["embed_dim"]), requires_grad=False)
    for p in m.patch_embed.parameters():
        p.requires_grad = False
    return m


class SimMimEncoder(Beit):
    """timm's Beit with SimMIM's masking: masked patch embeddings become the mask token."""

    def __init__(self, positions: str = "relative", **arch):
        if positions not in ("relative", "absolute"):
            raise ValueError(f"positions must be relative or absolute, not {positions!r}")
        a = {**TINY, **arch}
        absolute = positions == "absolute"
        super().__init__(**a, mlp_ratio=4.0, qkv_bias=True, use_abs_pos_emb=absolute, use_rel_pos_bias=False,
                         use_shared_rel_pos_bias=not absolute, init_values=0.1, num_classes=0,
                         global_pool="token", norm_layer=LN)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, a["embed_dim"]))
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward_masked(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Normed tokens [B, 1 + N, C]; `mask` [B, G, G] marks patches to hide (1 = masked)."""
        return self.norm(self.tokens_by_block(x, mask)[-1])

    def tokens_by_block(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The tokens after every block, before the final norm (what the probes read)."""
        x = self.patch_embed(x)
        if mask is not None:
            w = mask.flatten(1).unsqueeze(-1).type_as(x)
            x = x * (1 - w) + self.mask_token.type_as(x) * w
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1)
        if self.pos_embed is not None:
            x = x + self.pos_embed
        rel = self.rel_pos_bias() if self.rel_pos_bias is not None else None
        if rel is not None and torch.is_autocast_enabled(x.device.type):
            # SDPA wants its float mask in the query's dtype; the table lookup leaves it in float32.
            rel = rel.to(torch.get_autocast_dtype(x.device.type))
        out = []
        for blk in self.blocks:
            x = blk(x, shared_rel_pos_bias=rel)
            out.append(x)
        return out


def mlp(layers: int, d_in: int, hidden: int, d_out: int, last_bn: bool = True) -> nn.Sequential:
    """MoCo v3's `_build_mlp`: Linear (no bias) + BN + ReLU, the last BN without affine."""
    mods = []
    for i in range(layers):
        a = d_in if i == 0 else hidden
        b = d_out if i == layers - 1 else hidden
        mods.append(nn.Linear(a, b, bias=False))
        if i < layers - 1:
            mods += [nn.BatchNorm1d(b), nn.ReLU(inplace=True)]
        elif last_bn:
            mods.append(nn.BatchNorm1d(b, affine=False))
    return nn.Sequential(*mods)
