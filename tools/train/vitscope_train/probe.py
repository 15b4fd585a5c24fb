"""Per-layer linear probe (the shape of the paper's Fig. 10): a linear classifier on the average-pooled
patch tokens after each block of a frozen encoder, read from an exported checkpoint.

    python -m vitscope_train.probe --method mocov3 --checkpoint mocov3.pth --train-subset 3000
"""

import argparse
import json
import os

import torch
import torch.nn as nn

from .augment import normalise
from .data import decode_npz
from .models import SimMimEncoder, moco_encoder
from .train import SHARED, positions


def load_encoder(method: str, path: str) -> nn.Module:
    """The encoder of an exported checkpoint (official layout, any precision), in float32."""
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    if method == "mocov3":
        prefix, enc, state = "module.base_encoder.", moco_encoder(), ckpt["state_dict"]
    else:
        prefix, enc, state = "encoder.", SimMimEncoder(positions(method)), ckpt["model"]
    own = {k[len(prefix):]: v.float() if v.is_floating_point() else v for k, v in state.items()
           if k.startswith(prefix) and ".head." not in k}
    missing, unexpected = enc.load_state_dict(own, strict=False)
    unexpected = [k for k in unexpected if not k.endswith("relative_position_index")]
    if missing or unexpected:
        raise ValueError(f"{path}: missing {missing}, unexpected {unexpected}")
    return enc.eval()


@torch.no_grad()
def layer_features(enc: nn.Module, images_u8: torch.Tensor, batch: int = 128) -> torch.Tensor:
    """Average-pooled patch tokens after every block: [layers, N, C]."""
    out = []
    for i in range(0, images_u8.shape[0], batch):
        x = normalise(images_u8[i:i + batch].float() / 255)
        feats = []
        if isinstance(enc, SimMimEncoder):
            feats = [t[:, 1:].mean(1) for t in enc.tokens_by_block(x)]
        else:
            x = enc.norm_pre(enc._pos_embed(enc.patch_embed(x)))
            for blk in enc.blocks:
                x = blk(x)
                feats.append(x[:, 1:].mean(1))
        out.append(torch.stack(feats))
    return torch.cat(out, 1)


def linear_probe(train_f, train_y, val_f, val_y, classes: int, steps: int = 300) -> float:
    """Full-batch AdamW on standardised features; returns val accuracy."""
    mean, std = train_f.mean(0), train_f.std(0) + 1e-6
    tx, vx = (train_f - mean) / std, (val_f - mean) / std
    torch.manual_seed(0)
    head = nn.Linear(tx.shape[1], classes)
    opt = torch.optim.AdamW(head.parameters(), lr=1e-2, weight_decay=1e-3)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(head(tx), train_y).backward()
        opt.step()
    with torch.no_grad():
        return (head(vx).argmax(1) == val_y).float().mean().item()


def probe(method: str, checkpoint: str, data: str, train_subset, val_subset) -> list[float]:
    enc = load_encoder(method, checkpoint)
    tx, ty, classes = decode_npz(os.path.join(data, "imagenette112_train.npz"), train_subset)
    vx, vy, _ = decode_npz(os.path.join(data, "imagenette112_val.npz"), val_subset)
    to = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).contiguous()  # noqa: E731
    tf, vf = layer_features(enc, to(tx)), layer_features(enc, to(vx))
    ty, vy = torch.from_numpy(ty), torch.from_numpy(vy)
    return [linear_probe(tf[i], ty, vf[i], vy, len(classes)) for i in range(tf.shape[0])]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--method", choices=["mocov3", "simmim", "simmim_abs", "hybrid"], required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", default=os.path.normpath(SHARED))
    ap.add_argument("--train-subset", type=int, default=None)
    ap.add_argument("--val-subset", type=int, default=None)
    args = ap.parse_args()
    print(json.dumps(probe(args.method, args.checkpoint, args.data, args.train_subset, args.val_subset)))


if __name__ == "__main__":
    main()
