#!/usr/bin/env bash
# Forward + all per-layer metrics per image: vitscope (CPU, and wgpu where an adapter exists) beside
# PyTorch CPU eager, same weights, same image, same thread count. Prints a Markdown table of ratios.
#
#   bash tools/bench/run.sh [THREADS] > /tmp/bench.md
#   ARCHS="ti8_112 b16_224" PRECISIONS=int8 bash tools/bench/run.sh 2   (a subset)
# An int8 model runs twice: dequantized at load (f32 products), and with `--arithmetic int8`
# (integer products, one thread, as the page's "integers").
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=${1:-$(nproc)}
work=$(mktemp -d)
image=www/gallery/skimage_chelsea.jpg
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || { python3 -m venv .venv && .venv/bin/pip install -q -r tools/requirements.txt; py=.venv/bin/python; }
cargo build --release --quiet -p vitscope-cli --features gpu
bin=target/release/vitscope
export RAYON_NUM_THREADS=$threads OMP_NUM_THREADS=$threads


echo "| model | precision | vitscope CPU ms (forward only) | PyTorch CPU ms | vitscope / PyTorch | vitscope wgpu ms |"
echo "|---|---|---|---|---|---|"
for arch in ${ARCHS:-ti8_112 s16_224 b16_224}; do
  for precision in ${PRECISIONS:-f32 int8}; do
    ckpt=$work/$arch.pth.tar
    "$py" tools/bench/torch_peer.py --arch "$arch" --precision "$precision" --threads "$threads" \
      --image "$image" --checkpoint "$ckpt" --runs 1 --warmup 0 >/dev/null 2>&1
    model=$work/${arch}_$precision.safetensors
    "$bin" convert "$ckpt" --out "$model" --precision "$precision" --name "$arch" >/dev/null
    arithmetics=f32
    [ "$precision" = int8 ] && arithmetics="f32 int8"
    # Alternate the sides three times and keep each side's best median: this machine is shared.
    : >"$work/torch.jsonl"
    for arithmetic in $arithmetics; do : >"$work/ours-$arithmetic.jsonl"; done
    for _ in 1 2 3; do
      "$py" tools/bench/torch_peer.py --arch "$arch" --precision "$precision" --threads "$threads" \
        --image "$image" --runs 20 2>/dev/null >>"$work/torch.jsonl"
      for arithmetic in $arithmetics; do
        "$bin" bench --model "$model" --image "$image" --runs 20 --arithmetic "$arithmetic" >>"$work/ours-$arithmetic.jsonl"
      done
    done
    gpu=$("$bin" bench --model "$model" --image "$image" --device wgpu --runs 3 --warmup 1 2>/dev/null || echo '{}')
    for arithmetic in $arithmetics; do
      "$py" - "$arch" "$precision" "$arithmetic" "$work/torch.jsonl" "$work/ours-$arithmetic.jsonl" "$gpu" <<'PY'
import json, sys
arch, precision, arithmetic, torch_path, ours_path, gpu = sys.argv[1:]
best = lambda path: min((json.loads(l) for l in open(path)), key=lambda r: r["median_ms"])
t, o, g = best(torch_path), best(ours_path), json.loads(gpu)
wgpu = f"{g['median_ms']:.1f}" if "median_ms" in g else "no adapter"
label = precision if precision == "f32" else f"{precision}, {'integer' if arithmetic == 'int8' else 'f32'} products"
print(f"| {arch} | {label} | {o['median_ms']:.1f} ({o['forward_only_median_ms']:.1f}) | "
      f"{t['median_ms']:.1f} | **{o['median_ms'] / t['median_ms']:.2f}×** | {wgpu} |")
PY
    done
  done
done
rm -rf "$work"
