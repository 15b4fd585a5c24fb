"""The three objectives: MoCo v3, SimMIM and their hybrid (paper §5)."""

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .models import SimMimEncoder, mlp, moco_encoder


def infonce(q: torch.Tensor, k: torch.Tensor, tau: float) -> torch.Tensor:
    """MoCo v3's contrastive loss: InfoNCE over the batch, scaled by 2τ."""
    q, k = F.normalize(q, dim=1), F.normalize(k, dim=1)
    logits = q @ k.t() / tau
    return F.cross_entropy(logits, torch.arange(q.shape[0], device=q.device)) * 2 * tau


def momentum_at(progress: float, base: float = 0.99) -> float:
    """Momentum from `base` to 1 on a half cosine over training progress ∈ [0, 1]."""
    return 1 - 0.5 * (1 + math.cos(math.pi * progress)) * (1 - base)


def block_mask(batch: int, image: int, device, mask_patch: int = 16, model_patch: int = 8, ratio: float = 0.6):
    """SimMIM's MaskGenerator: `ratio` of the (image/mask_patch)² blocks, each covering model patches."""
    side = image // mask_patch
    count = math.ceil(side * side * ratio)
    order = torch.rand(batch, side * side, device=device).argsort(1)
    mask = torch.zeros(batch, side * side, device=device)
    mask.scatter_(1, order[:, :count], 1.0)
    scale = mask_patch // model_patch
    return mask.view(batch, side, side).repeat_interleave(scale, 1).repeat_interleave(scale, 2)


class PixelDecoder(nn.Module):
    """SimMIM's linear decoder: 1×1 conv to P²·3 channels, then pixel shuffle back to the image."""

    def __init__(self, width: int, patch: int):
        super().__init__()
        self.patch = patch
        self.decoder = nn.Sequential(nn.Conv2d(width, patch * patch * 3, 1), nn.PixelShuffle(patch))

    def loss(self, tokens: torch.Tensor, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, c = tokens.shape
        g = int(n**0.5)
        rec = self.decoder(tokens.transpose(1, 2).reshape(b, c, g, g))
        m = mask.repeat_interleave(self.patch, 1).repeat_interleave(self.patch, 2).unsqueeze(1)
        return ((images - rec).abs() * m).sum() / (m.sum() + 1e-5) / 3


class MocoV3(nn.Module):
    def __init__(self, tau=0.2, proj_hidden=1024, dim=256, **arch):
        super().__init__()
        self.tau = tau
        self.base_encoder = moco_encoder(**arch)
        width = self.base_encoder.embed_dim
        self.base_encoder.head = mlp(3, width, proj_hidden, dim)
        self.momentum_encoder = copy.deepcopy(self.base_encoder)
        for p in self.momentum_encoder.parameters():
            p.requires_grad = False
        self.predictor = mlp(2, dim, proj_hidden, dim)

    @torch.no_grad()
    def update_momentum(self, m: float):
        for b, k in zip(self.base_encoder.parameters(), self.momentum_encoder.parameters()):
            k.mul_(m).add_(b.detach(), alpha=1 - m)

    def loss(self, v1, v2, m: float):
        q1 = self.predictor(self.base_encoder(v1))
        q2 = self.predictor(self.base_encoder(v2))
        with torch.no_grad():
            self.update_momentum(m)
            k1, k2 = self.momentum_encoder(v1), self.momentum_encoder(v2)
        return infonce(q1, k2, self.tau) + infonce(q2, k1, self.tau)

    def state_for_checkpoint(self):
        """MoCo v3's layout: `state_dict` with `module.` prefixes (DistributedDataParallel)."""
        return {"state_dict": {f"module.{k}": v for k, v in self.state_dict().items()}}

    def features(self, x):
        enc = self.base_encoder
        return enc.forward_features(x)


class SimMim(nn.Module):
    def __init__(self, positions: str = "relative", **arch):
        super().__init__()
        self.encoder = SimMimEncoder(positions, **arch)
        self.decoder = PixelDecoder(self.encoder.embed_dim, self.encoder.patch_embed.patch_size[0])

    def loss(self, images, mask):
        tokens = self.encoder.forward_masked(images, mask)[:, 1:]
        return self.decoder.loss(tokens, images, mask)

    def state_for_checkpoint(self):
        """SimMIM's layout: `model` with `encoder.` (relative index included) and `decoder.0.`."""
        sd = {f"encoder.{k}": v for k, v in self.encoder.state_dict().items()}
        if self.encoder.rel_pos_bias is not None:
            sd["encoder.rel_pos_bias.relative_position_index"] = self.encoder.rel_pos_bias.relative_position_index
        sd.update({f"decoder.{k[len('decoder.'):]}": v for k, v in self.decoder.state_dict().items()})
        return {"model": sd}

    def features(self, x):
        return self.encoder.forward_masked(x, None)


class Hybrid(nn.Module):
    """(1 − λ)·L_MIM + λ·L_CL on one SimMIM-style encoder (vitscope's design; see the README).

    Each of the two views is masked; the MIM loss reconstructs its masked pixels, and the CLS tokens of
    the masked views, through MoCo v3's projector and predictor, are contrasted with a momentum
    encoder's CLS tokens of the unmasked views.
    """

    def __init__(self, lam=0.5, tau=0.2, proj_hidden=1024, dim=256, **arch):
        super().__init__()
        self.lam, self.tau = lam, tau
        self.encoder = SimMimEncoder(**arch)
        width = self.encoder.embed_dim
        self.decoder = PixelDecoder(width, self.encoder.patch_embed.patch_size[0])
        self.projector = mlp(3, width, proj_hidden, dim)
        self.predictor = mlp(2, dim, proj_hidden, dim)
        self.momentum_encoder = copy.deepcopy(self.encoder)
        self.momentum_projector = copy.deepcopy(self.projector)
        for p in list(self.momentum_encoder.parameters()) + list(self.momentum_projector.parameters()):
            p.requires_grad = False

    @torch.no_grad()
    def update_momentum(self, m: float):
        pairs = list(zip(self.encoder.parameters(), self.momentum_encoder.parameters()))
        pairs += list(zip(self.projector.parameters(), self.momentum_projector.parameters()))
        for b, k in pairs:
            k.mul_(m).add_(b.detach(), alpha=1 - m)

    def loss(self, v1, v2, mask1, mask2, m: float):
        t1 = self.encoder.forward_masked(v1, mask1)
        t2 = self.encoder.forward_masked(v2, mask2)
        mim = 0.5 * (self.decoder.loss(t1[:, 1:], v1, mask1) + self.decoder.loss(t2[:, 1:], v2, mask2))
        q1, q2 = self.predictor(self.projector(t1[:, 0])), self.predictor(self.projector(t2[:, 0]))
        with torch.no_grad():
            self.update_momentum(m)
            k1 = self.momentum_projector(self.momentum_encoder.forward_masked(v1, None)[:, 0])
            k2 = self.momentum_projector(self.momentum_encoder.forward_masked(v2, None)[:, 0])
        cl = infonce(q1, k2, self.tau) + infonce(q2, k1, self.tau)
        return (1 - self.lam) * mim + self.lam * cl

    def state_for_checkpoint(self):
        """The SimMIM layout for the encoder (so `vitscope convert` reads it); CL heads beside it."""
        sd = {f"encoder.{k}": v for k, v in self.encoder.state_dict().items()}
        if self.encoder.rel_pos_bias is not None:
            sd["encoder.rel_pos_bias.relative_position_index"] = self.encoder.rel_pos_bias.relative_position_index
        sd.update({f"decoder.{k[len('decoder.'):]}": v for k, v in self.decoder.state_dict().items()})
        heads = {k: v for k, v in self.state_dict().items() if k.startswith(("projector.", "predictor."))}
        return {"model": sd, "contrastive_heads": heads}

    def features(self, x):
        return self.encoder.forward_masked(x, None)
