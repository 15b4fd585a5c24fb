#!/usr/bin/env bash
# Builds the CLI, converts a fixture checkpoint of every official layout and analyses the gallery
# photos with a CL and a MIM model. Output: demo/report.json, demo/svg/*.svg, demo/csv/*.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p vitscope-cli
bin=target/release/vitscope
mkdir -p demo
# The fixtures are random weights in the official layouts: say so in their cards.
cat >demo/fixture-card.json <<'JSON'
{"notes": "Tiny random weights in an official checkpoint layout (tests/fixtures): a demonstration of the pipeline, not a trained model.",
 "training_data": "none (random weights)", "license": "MIT OR Apache-2.0 (vitscope test fixture)"}
JSON
for dir in tests/fixtures/{mocov3,simmim,mae,dino,dino-full,beit,timm}; do
  layout=$(basename "$dir")
  checkpoint=$(find "$dir" -maxdepth 1 -type f ! -name 'reference.safetensors' ! -name 'fixture.json' | head -n 1)
  "$bin" convert "$checkpoint" --heads 2 --name "fixture-$layout" --card demo/fixture-card.json \
    --out "demo/$layout.safetensors"
done
"$bin" info demo/simmim.safetensors
"$bin" analyze --models demo/mocov3.safetensors,demo/simmim.safetensors --images www/gallery \
  --out demo/report.json --csv demo/csv --svg demo/svg --paper
echo "Open demo/svg/*.svg for the per-layer charts; demo/report.json has every number."
