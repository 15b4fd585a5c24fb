#!/usr/bin/env bash
# The explorer beside ONNX Runtime Web in headless Chromium (see compare.mjs). Installs the peer
# (npm onnxruntime-web, pinned here apart from the test dependencies; pip onnx/onnxruntime for the
# export), exports the default models to ONNX, builds dist/ if missing and prints a Markdown table.
# MODELS=vit-b runs two full-size ViT-B/16s instead (MoCo v3 and SimMIM layouts), and measures the
# renderer's memory with both loaded and their load time from the browser's cache.
#   bash tools/bench/ort/run.sh [cpu runs] [webgpu runs] > /tmp/ort.md
#   MODELS=vit-b bash tools/bench/ort/run.sh 5 0 > /tmp/ort-vit-b.md
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
else
  for id in $(node -e 'console.log(require("./www/models/manifest.json").default_pair.join(" "))'); do
    "$py" tools/bench/ort/export_onnx.py "www/models/$id.safetensors" "$www/models" >&2
  done
fi
node tools/bench/ort/compare.mjs "$@"
