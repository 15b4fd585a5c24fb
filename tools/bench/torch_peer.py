"""PyTorch CPU eager peer for `vitscope bench`: the same ViT, the same image, forward + every
per-layer metric (attention distance, NMI, ΔlogA, token and head similarity), median over runs.

    python tools/bench/torch_peer.py --arch s16_224 --precision f32 --threads 2 \
        --checkpoint /tmp/s16.pth.tar --image www/gallery/skimage_chelsea.jpg

With --checkpoint it first writes that model's weights in the MoCo v3 layout, so `vitscope convert`
gives vitscope exactly the same network. `--device cuda --batch 64` is the GPU peer of
`vitscope bench --device wgpu --batch 64` (tools/bench/gpu.sh): f32 with TF32 off, as burn's f32 is.
"""

import argparse
import json
import math
import os
import statistics
import time
from functools import partial

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from timm.models.vision_transformer import VisionTransformer

ARCHS = {
    "ti8_112": dict(img_size=112, patch_size=8, embed_dim=192, depth=12, num_heads=3),
    "s16_224": dict(img_size=224, patch_size=16, embed_dim=384, depth=12, num_heads=12),
    "b16_224": dict(img_size=224, patch_size=16, embed_dim=768, depth=12, num_heads=12),
}


def build(arch: str) -> VisionTransformer:
    torch.manual_seed(0)
    m = VisionTransformer(**ARCHS[arch], mlp_ratio=4.0, qkv_bias=True, num_classes=0, global_pool="token",
                          norm_layer=partial(nn.LayerNorm, eps=1e-6))
    for blk in m.blocks:
        blk.attn.fused_attn = False  # the attention maps are the point: both sides materialise them
    return m.eval()


def prepare(path: str, size: int) -> torch.Tensor:
    img = Image.open(path).convert("RGB")
    resize = size * 8 // 7
    w, h = img.size
    nw, nh = (resize, resize * h // w) if w <= h else (resize * w // h, resize)
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = round((nw - size) / 2), round((nh - size) / 2)
    img = img.crop((left, top, left + size, top + size))
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    return ((x - mean) / std)[None]


def metrics_step(model, x, grid, patch, dist):
    attns, streams = [], []
    hooks = [b.attn.attn_drop.register_forward_hook(lambda m, i, o: attns.append(o)) for b in model.blocks]
    hooks.append(model.blocks[0].register_forward_pre_hook(lambda m, a: streams.append(a[0])))
    hooks += [b.register_forward_hook(lambda m, i, o: streams.append(o)) for b in model.blocks]
    with torch.inference_mode():
        model.forward_features(x)
        out = []
        n = grid * grid
        for a in attns:
            p = a[:, :, 1:, 1:]
            pd = (p + 1e-32) / (p + 1e-32).sum(-1, keepdim=True)
            out.append((pd * dist).sum(-1).mean(-1))
            pn = (p + 1e-8) / (p + 1e-8).sum(-1, keepdim=True)
            pk = pn.mean(2, keepdim=True)
            mutual = (pn * torch.log(pn / pk)).sum((2, 3)) / n
            hk = -(pk * torch.log(pk)).sum((2, 3))
            out.append(mutual / torch.sqrt(hk * math.log(n)))
            u = nn.functional.normalize(p.flatten(2), dim=-1)
            out.append((u @ u.transpose(1, 2)).mean((1, 2)))
        for z in streams:
            t = z[:, 1:, :]
            f = torch.fft.fft2(t.transpose(1, 2).reshape(t.shape[0], -1, grid, grid))
            la = torch.log(f.abs() + 1e-6).mean(1)
            k = torch.arange(grid // 2 + 1, device=la.device)
            out.append(la[:, k, k] - la[:, :1, :1].flatten(1))
            u = nn.functional.normalize(t, dim=-1)
            s = u.sum(1)
            out.append(((s * s).sum(-1) - n) / (n * (n - 1)))
        values = [o.flatten().tolist() for o in out]  # the read-back
    for h in hooks:
        h.remove()
    attns.clear()
    streams.clear()
    return values


def save_mocov3(model, path):
    sd = {f"module.base_encoder.{k}": v for k, v in model.state_dict().items()}
    torch.save({"epoch": 0, "arch": "bench", "state_dict": sd}, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=ARCHS, required=True)
    ap.add_argument("--precision", choices=["f32", "int8"], default="f32")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--image", required=True)
    ap.add_argument("--checkpoint")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--batch", type=int, default=1, help="copies of the image per forward pass")
    args = ap.parse_args()
    if args.device == "cuda" and args.precision != "f32":
        ap.error("PyTorch's dynamic int8 runs on the CPU only: use --precision f32 with --device cuda")
    torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = build(args.arch)
    if args.checkpoint:
        save_mocov3(model, args.checkpoint)
    if args.precision == "int8":
        model = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    cfg = ARCHS[args.arch]
    grid, patch = cfg["img_size"] // cfg["patch_size"], cfg["patch_size"]
    idx = torch.arange(grid * grid)
    r, c = (idx // grid).float(), (idx % grid).float()
    dist = patch * torch.sqrt((r[:, None] - r[None]) ** 2 + (c[:, None] - c[None]) ** 2)
    model = model.to(args.device)
    dist = dist.to(args.device)
    x = prepare(args.image, cfg["img_size"]).repeat(args.batch, 1, 1, 1).to(args.device)
    def timed(step):
        times = []
        for i in range(args.warmup + args.runs):
            start = time.perf_counter()
            step()
            if i >= args.warmup:
                times.append((time.perf_counter() - start) * 1e3)
        return times

    def forward_only():
        with torch.inference_mode():
            model.forward_features(x)[:, 0].tolist()  # the read-back waits for the GPU

    forward = timed(forward_only)
    times = timed(lambda: metrics_step(model, x, grid, patch, dist))
    device = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    print(json.dumps({"arch": args.arch, "precision": args.precision, "threads": args.threads,
                      "device": device, "batch": args.batch,
                      "median_ms": statistics.median(times), "min_ms": min(times),
                      "forward_only_median_ms": statistics.median(forward), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
