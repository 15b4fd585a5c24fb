# Sourced by serve.sh and test.sh: what building the explorer needs, installed once where missing.
# Trunk 0.21.14 (newer ones need a newer rustc), the wasm-bindgen CLI matching Cargo.toml's pin,
# and npm's binaryen 132 (wasm-opt; Debian's is too old) plus playwright-core for the browser tests.
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
rustup target add wasm32-unknown-unknown >/dev/null
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "the explorer's build needs Node.js and npm (apt-get install nodejs npm)" >&2
    exit 1
  fi
fi
[ "$(trunk --version 2>/dev/null)" = "trunk 0.21.14" ] || cargo install trunk --version 0.21.14 --locked
[ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" = "0.2.130" ] || cargo install wasm-bindgen-cli --version 0.2.130
[ -x node_modules/.bin/wasm-opt ] && [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
# Trunk builds offline: every crate must already be here.
cargo fetch --locked >/dev/null
