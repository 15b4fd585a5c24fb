#!/usr/bin/env bash
# Builds the explorer (release) and serves it with the bundled default models at http://127.0.0.1:8080/.
#   bash tools/serve.sh [port]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/web-setup.sh
source tools/web-setup.sh
trunk build --release
exec node tools/e2e/serve.mjs dist "${1:-8080}"
