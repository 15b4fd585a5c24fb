#!/usr/bin/env bash
# The explorer beside ONNX Runtime Web in headless Chromium (see compare.mjs). Installs the peer
# (npm onnxruntime-web, pinned here apart from the test dependencies; pip onnx/onnxruntime for the
# export), exports the default models to ONNX, builds dist/ if missing and prints a Markdown table.
#   bash tools/bench/ort/run.sh [cpu runs] [webgpu runs] > /tmp/ort.md
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
for id in $(node -e 'console.log(require("./www/models/manifest.json").default_pair.join(" "))'); do
  "$py" tools/bench/ort/export_onnx.py "www/models/$id.safetensors" "$www/models" >&2
done
node tools/bench/ort/compare.mjs "$@"
