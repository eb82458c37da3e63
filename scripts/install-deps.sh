#!/usr/bin/env bash
# Installs every Debian package and npm tool the project needs to build, run and test.
# Safe to run repeatedly; run as root on Debian 12 (bookworm).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build pkg-config ccache g++ clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto libabsl-dev
  libcurl4-openssl-dev libssl-dev openssl ca-certificates prometheus-cpp-dev
  libgtest-dev libgmock-dev libsqlite3-dev libpq-dev postgresql
  nghttp2-client nlohmann-json3-dev libspdlog-dev libboost-dev
  curl jq
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from Debian (nodejs + npm) or a vendor package that bundles npm.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# buf: the reflection client the tests drive the server with, and the proto linter.
if [ ! -x tools/node_modules/@bufbuild/buf-linux-x64/bin/buf ]; then
  npm install --prefix tools --no-audit --no-fund --silent @bufbuild/buf@1
fi
