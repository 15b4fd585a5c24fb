#!/usr/bin/env bash
# Runs every test vitscope has, after installing what a fresh Debian machine with Rust lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null; then
  echo "vitscope needs Rust (cargo); install it with rustup: https://rustup.rs" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add wasm32-unknown-unknown >/dev/null
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
# The core must build for the browser too.
cargo clippy --locked --lib --target wasm32-unknown-unknown -- -D warnings
cargo test --locked
