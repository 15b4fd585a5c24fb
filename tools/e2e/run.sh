#!/usr/bin/env bash
# The explorer's browser tests: builds dist/, has the native CLI analyse the test photo with the
# default models (the numbers the page must show), then runs tools/e2e/*.test.mjs in headless
# Chromium with and without WebGPU. Screenshots go to target/e2e-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/web-setup.sh
source tools/web-setup.sh
bash tools/e2e/install-chromium.sh
trunk build --release
# The debug CLI (cargo test builds it for its CLI tests) gives the same numbers as a release one.
[ -x target/debug/vitscope ] || cargo build --locked -p vitscope-cli
ref=target/e2e-reference
rm -rf "$ref" && mkdir -p "$ref/images"
cp www/gallery/skimage_chelsea.jpg "$ref/images/"
models=$(node -e '
  const m = require("./www/models/manifest.json");
  console.log(m.default_pair.map((id) => "www/models/" + m.models.find((x) => x.id === id).file).join(","));')
target/debug/vitscope analyze --models "$models" --images "$ref/images" --out "$ref/report.json"
# The whole gallery, for the page's set measurement (means and quartiles over 22 photos).
target/debug/vitscope analyze --models "$models" --images www/gallery --out "$ref/gallery.json"
# A labelled folder for the page's probes (probe.test.mjs): the gallery's photos in two classes by
# source, an image outside any class folder and a broken one, both skipped by page and CLI alike.
mkdir -p "$ref/labelled/lomiri" "$ref/labelled/other"
cp www/gallery/lomiri_*.jpg "$ref/labelled/lomiri/"
cp www/gallery/skimage_*.jpg www/gallery/sklearn_*.jpg "$ref/labelled/other/"
cp www/gallery/skimage_chelsea.jpg "$ref/labelled/loose.jpg"
cp tests/fixtures/images/truncated.jpg "$ref/labelled/other/broken.jpg"
target/debug/vitscope probe --models "$models" --images "$ref/labelled" --out "$ref/probe.json"
# Two images a class, for WebGPU, where SwiftShader takes about 15 s a model an image.
mkdir -p "$ref/labelled-small/lomiri" "$ref/labelled-small/other"
cp www/gallery/lomiri_Bridge_by_Sander_Klootwijk.jpg www/gallery/lomiri_Dragonfly_by_Bolly.jpg "$ref/labelled-small/lomiri/"
cp www/gallery/skimage_coffee.jpg www/gallery/sklearn_flower.jpg "$ref/labelled-small/other/"
target/debug/vitscope probe --models "$models" --images "$ref/labelled-small" --out "$ref/probe-small.json"
# The same four photos in one flat folder, their classes in a labels.csv, and one image it leaves out.
mkdir -p "$ref/listed"
cp "$ref"/labelled-small/*/*.jpg www/gallery/skimage_camera.jpg "$ref/listed/"
mv "$ref/listed/skimage_camera.jpg" "$ref/listed/unlisted.jpg"
printf 'file,label\n%s,lomiri\n%s,lomiri\n%s,other\n%s,other\n' lomiri_Bridge_by_Sander_Klootwijk.jpg \
  lomiri_Dragonfly_by_Bolly.jpg skimage_coffee.jpg sklearn_flower.jpg > "$ref/listed/labels.csv"
target/debug/vitscope probe --models "$models" --images "$ref/listed" --out "$ref/probe-listed.json"
# A fake camera for camera.test.mjs: two gallery photos as 640×480 scenes of a looping video, and
# what the CLI makes of each scene's pixels.
if [ -x .venv/bin/python ]; then
  camera=$ref/camera
  .venv/bin/python tools/e2e/make_camera.py --out "$camera" www/gallery/skimage_chelsea.jpg www/gallery/skimage_coffee.jpg
  for scene in 0 1; do
    mkdir -p "$camera/$scene" && mv "$camera/scene-$scene.png" "$camera/$scene/"
    target/debug/vitscope analyze --models "$models" --images "$camera/$scene" --out "$camera/scene-$scene.json"
  done
fi
# Full-size ViT-B/16 checkpoints in the official MoCo v3 and SimMIM layouts (random weights, ~1 GB
# each, never committed) and what the CLI makes of them, for convert.test.mjs.
vitb=target/vit-b
if [ -x .venv/bin/python ]; then
  (cd tools/fixtures && ../../.venv/bin/python make_vit_b.py --out "../../$vitb")
  for layout in mocov3 simmim; do
    checkpoint=$(ls "$vitb/$layout/"*.pth*)
    # The CLI's peak memory against the checkpoint's size (RELIABILITY.md): measured 1.20–1.31×.
    python3 tools/e2e/peak_memory.py --file "$checkpoint" --at-most 1.6 -- \
      target/debug/vitscope convert "$checkpoint" --out "$vitb/$layout/cli.safetensors"
    target/debug/vitscope analyze --models "$vitb/$layout/cli.safetensors" --images "$ref/images" \
      --out "$vitb/$layout/report.json"
  done
  # A checkpoint damaged in its tensor data is refused with its reason, within the same bound.
  damaged=$vitb/damaged.pth.tar
  cp "$vitb/mocov3/"*.pth* "$damaged"
  python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(200_000_000); f.write(b"\xff" * 1_000_000)' "$damaged"
  python3 tools/e2e/peak_memory.py --file "$damaged" --at-most 1.6 --expect-failure -- \
    target/debug/vitscope convert "$damaged" --out "$vitb/damaged.safetensors"
  rm -f "$damaged"
else
  echo "note: no .venv (tools/test.sh makes it): the ViT-B conversion and camera tests will be skipped" >&2
fi
node --test --test-concurrency=1 tools/e2e/
