#!/usr/bin/env bash
# run.sh - build tee-worker (release) and run it in standalone mode on its embedded defaults.
# Any variable of the README's configuration table may be set in the environment or in
# $DATA_DIR/.env; this script only picks standalone mode and a data directory next to the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
[ -d build-release ] || meson setup build-release --buildtype=release -Dtests=false >/dev/null
ninja -C build-release >/dev/null
export STANDALONE="${STANDALONE:-true}"
export DATA_DIR="${DATA_DIR:-$PWD/data}"
mkdir -p "$DATA_DIR"
exec ./build-release/tee-worker "$@"
