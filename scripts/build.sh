#!/usr/bin/env bash
# Configures and builds everything (server, emulator, tests) with Ninja and
# ccache into ./build. Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR=${CCACHE_DIR:-$PWD/.cache/ccache}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > /dev/null
cmake --build build -j "${BUILD_JOBS:-2}"
