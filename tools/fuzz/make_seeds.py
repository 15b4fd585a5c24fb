"""Small seed inputs for the fuzz targets (AFL++ mutates small files far faster): every checkpoint
layout of tools/fixtures/make_fixtures.py at a tiny size (width 8, one block), images of
every format and mode the decoder reads, and a few page ↔ worker messages. The weight files are
made from the checkpoints by `vitscope convert` (tools/fuzz/run.sh).

    .venv/bin/python tools/fuzz/make_seeds.py --out target/fuzz/seeds
"""
import argparse
import os
import shutil
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
import make_fixtures  # noqa: E402


def checkpoints(out):
    # The fixture writer reads these sizes from module globals when it runs (the image size is a
    # default argument, bound already: the tables stay 6×6 patches).
    make_fixtures.WIDTH, make_fixtures.DEPTH, make_fixtures.HEADS, make_fixtures.MLP = 8, 1, 2, 16
    with tempfile.TemporaryDirectory() as tmp:
        sys.argv = ["make_fixtures.py", "--out", tmp]
        make_fixtures.main()
        os.makedirs(out, exist_ok=True)
        for layout in sorted(os.listdir(tmp)):
            for name in os.listdir(os.path.join(tmp, layout)):
                if name not in ("fixture.json", "reference.safetensors"):
                    shutil.copy(os.path.join(tmp, layout, name), os.path.join(out, f"{layout}-{name}"))


def images(out):
    os.makedirs(out, exist_ok=True)
    rgb = Image.fromarray((np.arange(4 * 5 * 3).reshape(4, 5, 3) * 4).astype(np.uint8))
    rgb.save(os.path.join(out, "rgb.png"))
    rgb.save(os.path.join(out, "rgb.jpg"), quality=50)
    rgb.save(os.path.join(out, "rgb.bmp"))
    rgb.save(os.path.join(out, "rgb.webp"), lossless=True)
    rgb.convert("RGBA").save(os.path.join(out, "rgba.png"))
    rgb.convert("L").save(os.path.join(out, "gray.png"))
    rgb.convert("CMYK").save(os.path.join(out, "cmyk.jpg"))
    Image.fromarray(np.arange(20, dtype=np.uint16).reshape(4, 5) * 3000).save(os.path.join(out, "gray16.png"))
    frames = [rgb.convert("P"), rgb.transpose(Image.FLIP_LEFT_RIGHT).convert("P")]
    frames[0].save(os.path.join(out, "animated.gif"), save_all=True, append_images=frames[1:], duration=50)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: the decoder must turn it upright
    rgb.save(os.path.join(out, "rotated.jpg"), exif=exif)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    checkpoints(os.path.join(args.out, "checkpoint"))
    images(os.path.join(args.out, "image"))
    messages = os.path.join(args.out, "messages")
    os.makedirs(messages, exist_ok=True)
    # postcard: envelope id (varint), then the variant index and its fields.
    for name, data in {"start": b"\x07\x00\x01", "unload": b"\x03\x02\x02cl", "analyze": b"\x09\x04\x02\x02cl\x03mim\x00",
                       "progress": b"\x01\x02\x01m\x02\x05\x01\x09"}.items():
        with open(os.path.join(messages, name), "wb") as f:
            f.write(data)

    links(os.path.join(args.out, "url"))
    manifests(os.path.join(args.out, "manifest"))


def links(out):
    """Query, `#`, hash: as the page reads a link (decoded)."""
    os.makedirs(out, exist_ok=True)
    for i, link in enumerate([
        "view=metrics&backend=cpu#m=vitscope-mocov3-ti8,vitscope-simmim-ti8&layer=6&head=2&q=7,7&map=query&cmap=magma",
        "embed=1&theme=dark&manifest=https://blog.example/models.json#img=skimage_chelsea.jpg&view=frequency&filter=high&cutoff=0.3",
        "model=./mine.safetensors&native=a,b#q=cls&map=rollout&layer=12",
        "view=banana&backend=tpu&model=javascript:alert(1)#layer=0&cmap=jet&m=nope,nada&img=../etc/passwd",
    ]):
        with open(os.path.join(out, f"link-{i}"), "w") as f:
            f.write(link)


def manifests(out):
    """The bundled model list, and an author's with absolute addresses and a default pair."""
    os.makedirs(out, exist_ok=True)
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(root, "www", "models", "manifest.json"), "rb") as f:
        bundled = f.read()
    with open(os.path.join(out, "bundled.json"), "wb") as f:
        f.write(bundled)
    sha = "ab" * 32
    entry = lambda i, file: (f'{{"id":"m{i}","name":"Model {i}","family":"MIM","file":"{file}",'
                             f'"bytes":{1000 + i},"sha256":"{sha}"}}')
    author = f'{{"models":[{entry(0, "https://cdn.example/a.safetensors")},{entry(1, "b/c.safetensors")}],"default_pair":["m1","m0"]}}'
    with open(os.path.join(out, "author.json"), "w") as f:
        f.write(author)


if __name__ == "__main__":
    main()
