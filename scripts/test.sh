#!/usr/bin/env bash
# Installs what the project needs, builds it and runs every test (unit,
# integration against the emulator, end-to-end through reflection, proto
# lint). Run as root on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd build
ctest -j "${TEST_JOBS:-2}" --output-on-failure --timeout 300
