"""Imagenette 112 px from the shared npz files (concatenated JPEG bytes + offsets), decoded once to uint8."""

import io
import os

import numpy as np
import torch
from PIL import Image


def decode_npz(path: str, limit: int | None = None, cache_dir: str | None = None):
    """Returns (images uint8 [N, 112, 112, 3], labels int64 [N], class names)."""
    d = np.load(path)
    n = len(d["labels"]) if limit is None else min(limit, len(d["labels"]))
    cache = None
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
        cache = os.path.join(cache_dir, f"{os.path.basename(path)}.{n}.npy")
        if os.path.exists(cache) and os.path.exists(cache + ".labels.npy"):
            return np.load(cache), np.load(cache + ".labels.npy"), list(d["classes"])
    data, offsets = d["data"], d["offsets"]
    # The files are sorted by class: a subset takes evenly spaced images so every class is in it.
    pick = np.linspace(0, len(d["labels"]) - 1, n).round().astype(int)
    images = np.stack([
        np.asarray(Image.open(io.BytesIO(data[offsets[i]:offsets[i + 1]].tobytes())).convert("RGB"))
        for i in pick
    ])
    labels = d["labels"][pick].astype(np.int64)
    if cache:
        np.save(cache, images)
        np.save(cache + ".labels.npy", labels)
    return images, labels, list(d["classes"])


def to_device(images: np.ndarray, device) -> torch.Tensor:
    """uint8 NHWC → uint8 NCHW on the device; augmentation converts per batch on the device."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous().to(device)
