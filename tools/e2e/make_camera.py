"""A fake camera for camera.test.mjs: Chromium plays a .y4m file as its camera
(--use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE), looping it.

Each photo given becomes one scene: centre-cropped to 4:3, resized to 640x480, written as the PNG
the CLI analyses (the numbers the page should come close to; the camera path adds only YUV 4:2:0)
and held for --seconds in the video, so the page sees the scene change while it runs.
"""
import argparse
from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT, FPS = 640, 480, 30


def framed(path: Path) -> Image.Image:
    image = Image.open(path).convert("RGB")
    w, h = image.size
    if w * 3 > h * 4:
        crop = h * 4 // 3
        image = image.crop(((w - crop) // 2, 0, (w - crop) // 2 + crop, h))
    else:
        crop = w * 3 // 4
        image = image.crop((0, (h - crop) // 2, w, (h - crop) // 2 + crop))
    return image.resize((WIDTH, HEIGHT), Image.BICUBIC)


def i420(image: Image.Image) -> bytes:
    """BT.601 studio range, which Chromium's I420 to RGB conversion assumes."""
    rgb = np.asarray(image, dtype=np.float64) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    cb = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    cr = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    half = lambda c: c.reshape(HEIGHT // 2, 2, WIDTH // 2, 2).mean(axis=(1, 3))
    planes = [y, half(cb), half(cr)]
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder for camera.y4m and the scenes' PNGs")
    parser.add_argument("--seconds", type=float, default=2.0, help="how long each scene is shown")
    parser.add_argument("photos", type=Path, nargs="+")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    frames = max(1, round(args.seconds * FPS))
    with open(args.out / "camera.y4m", "wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for index, photo in enumerate(args.photos):
            image = framed(photo)
            image.save(args.out / f"scene-{index}.png")
            frame = i420(image)
            for _ in range(frames):
                video.write(b"FRAME\n" + frame)


if __name__ == "__main__":
    main()
