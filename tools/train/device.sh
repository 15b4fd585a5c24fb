#!/usr/bin/env bash
# Trains, evaluates (kNN) and exports the given methods one after another; meant for the GPU machine.
#
#   cp ../shared/data/imagenette112_*.npz tools/train/data/      # once, here (the folder is ignored)
#   OUT=/some/dir MINUTES=4 bash tools/train/device.sh mocov3 simmim
#
# On the device tool: carry tools/train/data, and write into its $OUT. Each method leaves
# METHOD.pth (fp16, official layout) and METHOD.json (steps, epochs, time, GPU, kNN) in $OUT.
# A CPU dry run: EXTRA="--subset 64 --val-subset 40 --depth 2 --width 64 --heads 2 --batch 16
# --max-steps 3" OUT=/tmp/dry bash tools/train/device.sh mocov3 simmim hybrid
set -euo pipefail
cd "$(dirname "$0")"
out=${OUT:?set OUT to the output folder}
mkdir -p "$out"
data=data
[ -f "$data/imagenette112_train.npz" ] || data=../../../shared/data
py=$(command -v python3)
[ -x ../../.venv/bin/python ] && [ -z "${CUDA_VISIBLE_DEVICES+x}" ] && ! command -v nvidia-smi >/dev/null && py=../../.venv/bin/python
for method in "$@"; do
  # shellcheck disable=SC2086
  "$py" -m vitscope_train.train --method "$method" --minutes "${MINUTES:-4}" --data "$data" \
    --cache /tmp/vitscope-train-cache --half --encoder-only --out "$out/$method.pth" ${EXTRA:-} | tee "$out/$method.json"
done
