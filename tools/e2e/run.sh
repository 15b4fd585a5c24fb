#!/usr/bin/env bash
# The explorer's browser tests: builds dist/, has the native CLI analyse the test photo with the
# default models (the numbers the page must show), then runs tools/e2e/*.test.mjs in headless
# Chromium with and without WebGPU. Screenshots go to target/e2e-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/web-setup.sh
source tools/web-setup.sh
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "the browser tests need Debian's chromium and chromium-driver" >&2
    exit 1
  fi
fi
trunk build --release
cargo build --release --locked
ref=target/e2e-reference
rm -rf "$ref" && mkdir -p "$ref/images"
cp www/gallery/skimage_chelsea.jpg "$ref/images/"
models=$(node -e '
  const m = require("./www/models/manifest.json");
  console.log(m.default_pair.map((id) => "www/models/" + m.models.find((x) => x.id === id).file).join(","));')
target/release/vitscope analyze --models "$models" --images "$ref/images" --out "$ref/report.json"
node --test --test-concurrency=1 tools/e2e/
