#!/usr/bin/env bash
# Formatting and clippy, natively and for the browser (the page; the worker with both backends).
# CI runs it before tools/test.sh; it shares no build with the tests (clippy checks, it does not
# build), so it is its own command: about 12 minutes cold on 2 cores, under a minute warm.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add wasm32-unknown-unknown >/dev/null
cargo fmt --all -- --check
step_start=$SECONDS
cargo clippy --locked --workspace --all-targets -- -D warnings
echo "[lint.sh] clippy, native: $((SECONDS - step_start)) s" >&2 && step_start=$SECONDS
# The page is built without burn (the compiler checks it: its crate does not depend on it); the
# worker with both backends, which covers each one's code.
cargo clippy --locked --target wasm32-unknown-unknown -p vitscope-explorer -p vitscope-worker \
  --features vitscope-worker/cpu,vitscope-worker/gpu --all-targets -- -D warnings
echo "[lint.sh] clippy, wasm32: $((SECONDS - step_start)) s" >&2
