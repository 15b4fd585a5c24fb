#!/usr/bin/env bash
# Trains, evaluates (kNN) and exports the given methods; meant for the GPU machine.
#
#   cp ../shared/data/imagenette112_*.npz tools/train/data/      # once, here (the folder is ignored)
#   OUT=/some/dir MINUTES=6 PARALLEL=1 bash tools/train/device.sh mocov3 simmim hybrid
#
# On the device tool: carry tools/train/data, and write into its $OUT. Each method leaves
# METHOD.pth (fp16, official layout) and METHOD.json (steps, epochs, time, GPU, kNN) in $OUT.
# PARALLEL=1 trains the methods at the same time on the one GPU: a ViT-Ti step leaves the H100 idle
# between small kernels, so three runs side by side each get more than a third of a lone run's steps.
# A CPU dry run: EXTRA="--subset 64 --val-subset 40 --depth 2 --width 64 --heads 2 --batch 16
# --max-steps 3" OUT=/tmp/dry PARALLEL=1 bash tools/train/device.sh mocov3 simmim hybrid
set -euo pipefail
cd "$(dirname "$0")"
out=${OUT:?set OUT to the output folder}
mkdir -p "$out"
data=data
[ -f "$data/imagenette112_train.npz" ] || data=../../../shared/data
py=$(command -v python3)
[ -x ../../.venv/bin/python ] && [ -z "${CUDA_VISIBLE_DEVICES+x}" ] && ! command -v nvidia-smi >/dev/null && py=../../.venv/bin/python
export PYTHONUNBUFFERED=1
cache=/tmp/vitscope-train-cache
# Decode the JPEGs once, before parallel runs race to write the cache.
"$py" -c "from vitscope_train.data import decode_npz as d; import sys; [d(f'$data/imagenette112_{s}.npz', None, '$cache') for s in ('train', 'val')]" \
  >/dev/null 2>&1 || true
train_one() {
  # shellcheck disable=SC2086
  "$py" -m vitscope_train.train --method "$1" --minutes "${MINUTES:-4}" --data "$data" \
    --cache "$cache" --half --encoder-only --out "$out/$1.pth" ${EXTRA:-} >"$out/$1.json" 2>"$out/$1.log"
  echo "$1: $(cat "$out/$1.json")"
}
if [ -n "${PARALLEL:-}" ]; then
  pids=()
  for method in "$@"; do train_one "$method" & pids+=($!); done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  for method in "$@"; do { echo "--- $method"; cat "$out/$method.log"; } >>"$out/train.log"; rm "$out/$method.log"; done
  tail -c 3000 "$out/train.log"
  exit $status
fi
for method in "$@"; do train_one "$method"; cat "$out/$method.log" >>"$out/train.log"; rm "$out/$method.log"; done
