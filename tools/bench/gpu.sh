#!/usr/bin/env bash
# vitscope on a GPU through burn-wgpu beside PyTorch CUDA eager (issue 13, goal 5): ViT-B/16 at 224 (ARCH), the
# same random weights and image on both sides, forward + every per-layer metric (the work `tools/bench/run.sh`
# times on the CPU), at batch 1 and 64, the two peers interleaved, median over runs. f32 on both sides, TF32
# off in PyTorch (burn's f32 uses none).
#
#   BIN=target/release/vitscope bash tools/bench/gpu.sh [RUNS] [ROUNDS]   # BIN built with --features gpu
#
# Prints one JSON line per measurement, then a table of ratios (vitscope / PyTorch, below 1 is faster).
# wgpu reaches an NVIDIA GPU through Vulkan: the machine needs the Vulkan loader and the GL vendor-neutral
# libraries the NVIDIA driver's Vulkan ICD loads (Debian: libvulkan1 libglvnd0 libegl1 libgl1 libglx0
# libopengl0 libgles2); where the ICD file is not found, VK_DRIVER_FILES names it.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
rounds=${2:-2}
bin=${BIN:-target/release/vitscope}
py=${PYTHON:-python3}
work=${WORK:-/tmp/vitscope-gpu-bench}
batches=${BATCHES:-1 64}
arch=${ARCH:-b16_224}
torch_device=${TORCH_DEVICE:-cuda}   # ARCH=ti8_112 TORCH_DEVICE=cpu BATCHES=2 checks the script without a GPU
image=www/gallery/skimage_chelsea.jpg
mkdir -p "$work"
results="$work/results.jsonl"
: >"$results"
"$bin" bench --help | grep -q -- --batch || { echo "$bin has no --batch: rebuild it" >&2; exit 1; }
# Say up front what wgpu will miss (its own message only says "no adapter found").
for lib in libvulkan.so.1 libGLdispatch.so.0 libGLX.so.0 libEGL.so.1; do
  ldconfig -p | grep -q "$lib" || echo "note: $lib is not installed; the NVIDIA Vulkan driver may need it" >&2
done

# PyTorch writes its model in the MoCo v3 layout; vitscope converts exactly that network to f32.
"$py" tools/bench/torch_peer.py --arch "$arch" --device "$torch_device" --runs 1 --warmup 0 --image "$image" \
  --checkpoint "$work/$arch.pth.tar" >/dev/null
"$bin" convert "$work/$arch.pth.tar" --layout mocov3 --precision f32 --out "$work/$arch.safetensors" >/dev/null

for round in $(seq "$rounds"); do
  for batch in $batches; do
    n=$runs
    [ "$batch" -gt 8 ] && n=$(( (runs + 1) / 2 ))
    "$py" tools/bench/torch_peer.py --arch "$arch" --device "$torch_device" --batch "$batch" --runs "$n" --image "$image" |
      sed "s/^{/{\"peer\": \"pytorch\", \"round\": $round, /" | tee -a "$results"
    if ! "$bin" bench --model "$work/$arch.safetensors" --image "$image" --device wgpu --batch "$batch" --runs "$n" \
      2>"$work/adapter.txt" | sed "s/^{/{\"peer\":\"vitscope\",\"round\":$round,/" | tee -a "$results"; then
      cat "$work/adapter.txt" >&2
      exit 1
    fi
  done
done
cat "$work/adapter.txt"
"$py" - "$results" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("| batch | round | PyTorch CUDA forward + metrics (ms) | vitscope wgpu (ms) | ratio | forward only: PyTorch / vitscope (ms) | ratio |")
print("|---|---|---|---|---|---|---|")
for r in sorted({(x["batch"], x["round"]) for x in rows}):
    t = next(x for x in rows if x["peer"] == "pytorch" and (x["batch"], x["round"]) == r)
    v = next(x for x in rows if x["peer"] == "vitscope" and (x["batch"], x["round"]) == r)
    print(f"| {r[0]} | {r[1]} | {t['median_ms']:.1f} | {v['median_ms']:.1f} | {v['median_ms'] / t['median_ms']:.2f}x "
          f"| {t['forward_only_median_ms']:.1f} / {v['forward_only_median_ms']:.1f} "
          f"| {v['forward_only_median_ms'] / t['forward_only_median_ms']:.2f}x |")
PY
