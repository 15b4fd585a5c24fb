#!/usr/bin/env bash
# Coverage-guided fuzzing (AFL++ through cargo-afl, on stable Rust) of every parser that a stranger's
# file, message or link reaches: weight files, checkpoints, images, page ↔ worker messages, the URL
# state, model lists. Builds AFL++ and the instrumented targets (fuzz/), makes small seeds, runs each
# target for SECONDS with a memory cap and a 1 s hang limit, copies anything it found to
# target/fuzz/found/ and prints a Markdown row per target from AFL++'s fuzzer_stats (RELIABILITY.md).
# Not part of tools/test.sh: CI reads back the inputs that fuzzing found (tests/fixtures/hostile/),
# it does not fuzz.
#   bash tools/fuzz/run.sh [seconds per target, default 600] [target …]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(weights checkpoint image messages url manifest)
memory_mb=${FUZZ_MEMORY_MB:-1024}

command -v cargo-afl >/dev/null || cargo install --locked cargo-afl
cargo afl config --build >/dev/null 2>&1 || true
py=.venv/bin/python
if [ ! -x "$py" ]; then
  python3 -m venv .venv
  "$py" -m pip install -q --no-cache-dir -r tools/requirements.txt
fi
out=target/fuzz
seeds=$out/seeds
[ -d "$seeds/manifest" ] || "$py" tools/fuzz/make_seeds.py --out "$seeds"
if [ ! -d "$seeds/weights" ]; then
  cargo build --locked -p vitscope-cli
  mkdir -p "$seeds/weights"
  for file in "$seeds"/checkpoint/*; do
    for precision in int8 f16 f32; do
      target/debug/vitscope convert "$file" --heads 2 --precision "$precision" \
        --out "$seeds/weights/$(basename "$file").$precision.safetensors" >/dev/null
    done
  done
fi
(cd fuzz && cargo afl build --release --target-dir ../target/fuzz/build)

export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
echo "| target | seeds | run | executions | executions/s | paths found | crashes | hangs (> 1 s) |"
echo "|---|---|---|---|---|---|---|---|"
for t in "${targets[@]}"; do
  rm -rf "$out/runs/$t"
  mkdir -p "$out/runs"
  cargo afl fuzz -V "$seconds" -m "$memory_mb" -t 1000 -i "$seeds/$t" -o "$out/runs/$t" \
    "target/fuzz/build/release/$t" >"$out/runs/$t.log" 2>&1 || true
  stats="$out/runs/$t/default/fuzzer_stats"
  value() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  echo "| $t | $(ls "$seeds/$t" | wc -l) | ${seconds} s | $(value execs_done) | $(value execs_per_sec) | $(value corpus_count) | $(value saved_crashes) | $(value saved_hangs) |"
  for kind in crashes hangs; do
    for f in "$out/runs/$t/default/$kind"/id*; do
      [ -e "$f" ] || continue
      mkdir -p "$out/found/$t"
      cp "$f" "$out/found/$t/$kind-$(basename "$f" | cut -d, -f1)"
    done
  done
done
