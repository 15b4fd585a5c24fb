#!/usr/bin/env bash
# Builds the CLI, converts a fixture checkpoint of every official layout and analyses the gallery
# photos with a CL and a MIM model. Output: demo/report.json, demo/svg/*.svg, demo/csv/*.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
bin=target/release/vitscope
mkdir -p demo
for dir in tests/fixtures/{mocov3,simmim,mae,dino,dino-full,beit,timm}; do
  layout=$(basename "$dir")
  checkpoint=$(find "$dir" -maxdepth 1 -type f ! -name 'reference.safetensors' ! -name 'fixture.json' | head -n 1)
  "$bin" convert "$checkpoint" --heads 2 --out "demo/$layout.safetensors"
done
"$bin" info demo/simmim.safetensors
"$bin" analyze --models demo/mocov3.safetensors,demo/simmim.safetensors --images www/gallery \
  --out demo/report.json --csv demo/csv --svg demo/svg --paper
echo "Open demo/svg/*.svg for the per-layer charts; demo/report.json has every number."
