#!/usr/bin/env bash
# The explorer beside ONNX Runtime Web in headless Chromium (see compare.mjs). Installs the peer
# (npm onnxruntime-web, pinned here apart from the test dependencies; pip onnx/onnxruntime for the
# export), exports the default models to ONNX, builds dist/ if missing and prints a Markdown table.
# MODELS=vit-b runs two full-size ViT-B/16s instead (MoCo v3 and SimMIM layouts), and measures the
# renderer's memory with both loaded and their load time from the browser's cache; MODELS=vit-s runs
# a ViT-S/16 (MoCo v3 layout).
#   bash tools/bench/ort/run.sh [cpu runs] [webgpu runs] > /tmp/ort.md
#   MODELS=vit-b bash tools/bench/ort/run.sh 5 0 > /tmp/ort-vit-b.md
#   MODELS=vit-s bash tools/bench/ort/run.sh 5 0 > /tmp/ort-vit-s.md
set -euo pipefail
cd "$(dirname "$0")/../../.."
# shellcheck source=tools/web-setup.sh
source tools/web-setup.sh >&2
bash tools/e2e/install-chromium.sh >&2
(cd tools/bench/ort && npm ci --no-audit --no-fund >&2)
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || { python3 -m venv .venv; py=.venv/bin/python; }
"$py" -m pip install -q --no-cache-dir -r tools/requirements.txt -r tools/bench/ort/requirements.txt >&2
[ -f dist/index.html ] || trunk build --release >&2
www=target/bench-ort/www
rm -rf "$www" && mkdir -p "$www/models"
cp tools/bench/ort/page.html "$www/index.html"
ln -s "$PWD/tools/bench/ort/node_modules/onnxruntime-web/dist" "$www/ort"
if [ "${MODELS:-default}" = vit-b ]; then
  # Full-size ViT-B/16s in the official MoCo v3 and SimMIM layouts (random weights: speed and memory
  # do not depend on the values), converted by the CLI; the explorer reads them through ?manifest=.
  vitb=target/vit-b
  if [ ! -f "$vitb/simmim/cli.safetensors" ]; then
    [ -x target/debug/vitscope ] || cargo build --locked -p vitscope-cli >&2
    (cd tools/fixtures && "../../$py" make_vit_b.py --out "../../$vitb") >&2
    for layout in mocov3 simmim; do
      target/debug/vitscope convert "$(ls "$vitb/$layout/"*.pth*)" --out "$vitb/$layout/cli.safetensors" >&2
    done
  fi
  mkdir -p "$www/vit-b"
  for layout in mocov3 simmim; do
    cp "$vitb/$layout/cli.safetensors" "$www/vit-b/vit-b-$layout.safetensors"
    "$py" tools/bench/ort/export_onnx.py "$www/vit-b/vit-b-$layout.safetensors" "$www/models" >&2
  done
  node -e '
    const { createHash } = require("node:crypto"); const fs = require("node:fs");
    const dir = process.argv[1];
    const models = [["mocov3", "MoCo v3", "CL"], ["simmim", "SimMIM", "MIM"]].map(([layout, name, family]) => {
      const file = `vit-b-${layout}.safetensors`; const bytes = fs.readFileSync(`${dir}/${file}`);
      return { id: `vit-b-${layout}`, name: `${name} ViT-B/16 (official layout, random weights)`, family, file,
        bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), image_size: 224 };
    });
    fs.writeFileSync(`${dir}/manifest.json`, JSON.stringify({ models, default_pair: models.map((m) => m.id) }));
  ' "$www/vit-b"
elif [ "${MODELS:-default}" = vit-s ]; then
  # A ViT-S/16 at 224 in the MoCo v3 layout (timm's random weights, as tools/bench/run.sh makes it),
  # converted by the CLI to int8 as the page would have it.
  [ -x target/debug/vitscope ] || cargo build --locked -p vitscope-cli >&2
  vits=target/bench-ort/vit-s
  mkdir -p "$vits" "$www/vit-s"
  [ -f "$vits/s16_224.pth.tar" ] || "$py" tools/bench/torch_peer.py --arch s16_224 --image www/gallery/skimage_chelsea.jpg \
    --checkpoint "$vits/s16_224.pth.tar" --runs 1 --warmup 0 >/dev/null
  target/debug/vitscope convert "$vits/s16_224.pth.tar" --out "$www/vit-s/vit-s-mocov3.safetensors" \
    --precision int8 --name "ViT-S/16 (MoCo v3 layout, random weights)" >&2
  "$py" tools/bench/ort/export_onnx.py "$www/vit-s/vit-s-mocov3.safetensors" "$www/models" >&2
  node -e '
    const { createHash } = require("node:crypto"); const fs = require("node:fs");
    const dir = process.argv[1]; const file = "vit-s-mocov3.safetensors"; const bytes = fs.readFileSync(`${dir}/${file}`);
    const models = [{ id: "vit-s-mocov3", name: "MoCo v3 ViT-S/16 (random weights)", family: "CL", file,
      bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), image_size: 224 }];
    fs.writeFileSync(`${dir}/manifest.json`, JSON.stringify({ models, default_pair: models.map((m) => m.id) }));
  ' "$www/vit-s"
else
  for id in $(node -e 'console.log(require("./www/models/manifest.json").default_pair.join(" "))'); do
    "$py" tools/bench/ort/export_onnx.py "www/models/$id.safetensors" "$www/models" >&2
  done
fi
node tools/bench/ort/compare.mjs "$@"
