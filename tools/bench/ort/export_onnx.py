"""The browser benchmark's peer models: a vitscope model file → ONNX (fp32, and int8 by ONNX Runtime's
dynamic quantization), with the final tokens and every layer's attention probabilities as outputs, the
work vitscope's forward pass does before its metrics.

    python tools/bench/ort/export_onnx.py www/models/vitscope-mocov3-ti8.safetensors target/bench-ort

The model is rebuilt in timm (VisionTransformer, or Beit for SimMIM's layout) from the file's
dequantised weights, and the export is checked against PyTorch before it is written.
"""

import argparse
import json
import os
import sys
from functools import partial

import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn
from onnxruntime.quantization import QuantType, quantize_dynamic
from safetensors import safe_open
from timm.models.beit import Beit
from timm.models.vision_transformer import VisionTransformer


def read_vitscope(path):
    """Weights as f32 torch tensors (int8 values times their f16 scales), plus the file's config."""
    with safe_open(path, "np") as f:
        config = json.loads(f.metadata()["config"])
        raw = {k: f.get_tensor(k) for k in f.keys()}
    weights = {}
    for k, v in raw.items():
        if k.endswith("_scale"):
            continue
        scale = raw.get(k + "_scale")
        if scale is not None:
            # One scale per row (`[rows]`) or per group of inputs in each row (`[rows, G]`).
            rows = v.reshape(v.shape[0], -1).astype(np.float32)
            groups = scale.astype(np.float32).reshape(v.shape[0], -1)
            v = (rows * np.repeat(groups, rows.shape[1] // groups.shape[1], axis=1)).reshape(v.shape)
        weights[k] = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))
    return config, weights


def build(config):
    c = config
    common = dict(img_size=c["image_size"], patch_size=c["patch_size"], embed_dim=c["width"], depth=c["depth"],
                  num_heads=c["heads"], mlp_ratio=c["mlp_hidden"] / c["width"], num_classes=0,
                  global_pool="token", norm_layer=partial(nn.LayerNorm, eps=c["layer_norm_eps"]))
    if c["relative_position"] == "shared":
        return Beit(**common, qkv_bias=c["qkv_bias"] != "none", use_abs_pos_emb=c["absolute_position"] != "none",
                    use_rel_pos_bias=False, use_shared_rel_pos_bias=True,
                    init_values=0.1 if c["layer_scale"] else None)
    if c["relative_position"] != "none":
        sys.exit(f"this script exports shared or no relative position bias, not {c['relative_position']!r}")
    return VisionTransformer(**common, qkv_bias=c["qkv_bias"] == "full",
                             init_values=0.1 if c["layer_scale"] else None)


class Probe(nn.Module):
    """Stands in for a block's attention dropout (identity at inference) and keeps what passes."""

    def __init__(self, store):
        super().__init__()
        self.store = store

    def forward(self, a):
        self.store.append(a)
        return a


class TokensAndAttention(nn.Module):
    def __init__(self, vit):
        super().__init__()
        self.vit, self.maps = vit, []
        for blk in vit.blocks:
            blk.attn.fused_attn = False
            blk.attn.attn_drop = Probe(self.maps)

    def forward(self, x):
        self.maps.clear()
        tokens = self.vit.forward_features(x)
        return tokens, torch.stack(self.maps, 1)  # [B, T, C], [B, L, H, T, T]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a vitscope .safetensors file")
    p.add_argument("out", help="folder for <name>.fp32.onnx and <name>.int8.onnx")
    a = p.parse_args()
    config, weights = read_vitscope(a.model)
    vit = build(config).eval()
    missing, unexpected = vit.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.endswith("relative_position_index")]
    if missing or unexpected:
        sys.exit(f"the file's tensors do not fit timm's model: missing {missing}, unexpected {unexpected}")
    net = TokensAndAttention(vit).eval()
    size = config["image_size"]
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = net(x)
    os.makedirs(a.out, exist_ok=True)
    name = os.path.basename(a.model).removesuffix(".safetensors")
    fp32 = os.path.join(a.out, f"{name}.fp32.onnx")
    int8 = os.path.join(a.out, f"{name}.int8.onnx")
    torch.onnx.export(net, (x,), fp32, input_names=["image"], output_names=["tokens", "attention"],
                      opset_version=17, dynamo=False)
    quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, per_channel=True)
    for path, tol in ((fp32, 1e-4), (int8, 0.1)):
        got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"image": x.numpy()})
        err = max(float(np.abs(g - w.numpy()).max()) for g, w in zip(got, want))
        if err > tol * max(1.0, float(want[0].abs().max())):
            sys.exit(f"{path}: ONNX Runtime differs from PyTorch by {err}")
        print(f"{path}: {os.path.getsize(path) / 1e6:.1f} MB, max |ORT - PyTorch| = {err:.2e}")


if __name__ == "__main__":
    main()
