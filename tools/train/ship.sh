#!/usr/bin/env bash
# Turns device.sh's exports into the explorer's default models: int8 vitscope files with complete cards
# in www/models, reference curves over Imagenette val in each card, the manifest, and the README figure.
#
#   bash tools/train/ship.sh RUNS      # RUNS holds METHOD.pth and METHOD.json from device.sh
#   SIMMIM=simmim_abs bash tools/train/ship.sh RUNS   # the plain-ViT SimMIM run as the MIM model
#
# Runs on the CPU. The per-layer linear probe (~4 min a model on 2 cores) and the extracted val images are
# kept in a work folder (WORK, default /tmp/vitscope-ship) and reused when present.
set -euo pipefail
runs=$(realpath "${1:?the folder with device.sh outputs}")
cd "$(dirname "$0")/../.."
root=$PWD
work=${WORK:-/tmp/vitscope-ship}
mkdir -p "$work" www/models docs/figures
py=python3
[ -x .venv/bin/python ] && py=$root/.venv/bin/python
cargo build --release --locked -p vitscope-cli --features gpu  # the build tools/bench/run.sh makes too
bin=$root/target/release/vitscope
data=tools/train/data
[ -f "$data/imagenette112_val.npz" ] || data=../shared/data
data=$(realpath "$data")

# The val JPEGs as files, for `vitscope analyze` (kept out of the repo).
val="$work/imagenette-val"
if [ ! -f "$val/.done" ]; then
  mkdir -p "$val"
  "$py" - "$data/imagenette112_val.npz" "$val" <<'PY'
import sys, numpy as np
d = np.load(sys.argv[1])
for i in range(len(d["labels"])):
    open(f"{sys.argv[2]}/{i:04d}.jpg", "wb").write(d["data"][d["offsets"][i]:d["offsets"][i + 1]].tobytes())
PY
  touch "$val/.done"
fi

models=()
for slot in mocov3 simmim hybrid; do
  # SIMMIM=simmim_abs ships the plain-ViT SimMIM run as the default MIM model.
  method=$slot
  [ "$slot" = simmim ] && method=${SIMMIM:-simmim}
  [ -f "$runs/$method.pth" ] || continue
  layout=simmim
  [ "$method" = mocov3 ] && layout=mocov3
  probe="$work/$method.probe.json"
  [ -s "$probe" ] || (cd tools/train && "$py" -m vitscope_train.probe --method "$method" \
    --checkpoint "$runs/$method.pth" --data "$data" --train-subset 2000 >"$probe")
  (cd tools/train && "$py" -m vitscope_train.card override "$runs/$method.json" "$probe") >"$work/$method.card.json"
  out=www/models/vitscope-$slot-ti8.safetensors
  "$bin" convert "$runs/$method.pth" --layout "$layout" --precision int8 --card "$work/$method.card.json" --out "$out"
  models+=("$out")
done
# Every default model's curves, so the figures keep all three when only some were retrained.
shown=()
for slot in mocov3 simmim hybrid; do
  [ -f "www/models/vitscope-$slot-ti8.safetensors" ] && shown+=("www/models/vitscope-$slot-ti8.safetensors")
done
list=$(IFS=,; echo "${shown[*]}")
"$bin" analyze --models "$list" --images "$val" --out "$work/val-report.json" \
  --dataset "Imagenette val (1,000 images, 112 px)" --svg docs/figures --paper
# Reference curves go into the cards of the models converted now; the others keep their bytes.
converted=$(IFS=,; echo "${models[*]}")
[ -z "$converted" ] || "$bin" analyze --models "$converted" --images "$val" --out "$work/converted-report.json" \
  --into-card --dataset "Imagenette val (1,000 images, 112 px)"
(cd tools/train && "$py" -m vitscope_train.card manifest "$root/www/models") >www/models/manifest.json
for m in "${shown[@]}"; do "$bin" info "$m"; done
