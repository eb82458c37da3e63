#!/usr/bin/env bash
# Installs every Debian package and npm tool the project needs to build, run and test.
# Safe to run repeatedly; run as root on Debian 12 (bookworm).
#
# PAYMENTS_DEPS=build installs only what compiling the binaries needs (the
# Dockerfile's build stage uses it): no PostgreSQL server, test tools or npm.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build pkg-config ccache g++ clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto libabsl-dev
  libcurl4-openssl-dev libssl-dev openssl ca-certificates prometheus-cpp-dev
  libgtest-dev libgmock-dev libsqlite3-dev libpq-dev postgresql
  nghttp2-client nghttp2-proxy nlohmann-json3-dev libspdlog-dev libboost-dev
  curl jq python3 python3-yaml
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
)
# The other languages' example clients (examples/, README "Calling from other
# languages"): Python with Debian's grpcio; Go with Debian's grpc-go, protobuf-go
# (golang/protobuf 1.5, not 1.3, which predates protobuf-go's API), genproto
# and protoc plugins.
example_packages=(
  python3-grpcio python3-protobuf
  golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev
  golang-google-genproto-dev protoc-gen-go protoc-gen-go-grpc
)
packages+=("${example_packages[@]}")
# Not needed to compile (PAYMENTS_DEPS=build leaves them out).
not_for_build=(clang-format openssl ca-certificates postgresql nghttp2-client nghttp2-proxy curl jq python3
  python3-yaml clang-14 libfuzzer-14-dev libclang-rt-14-dev "${example_packages[@]}")
packages+=(gnuplot-nox) not_for_build+=(gnuplot-nox)  # scripts/soak.sh draws its samples
packages+=(valgrind) not_for_build+=(valgrind)  # scripts/bench-instructions.sh counts instructions per call with callgrind
deps=${PAYMENTS_DEPS:-all}
case $deps in
  all) ;;
  build)
    kept=()
    for p in "${packages[@]}"; do
      [[ " ${not_for_build[*]} " == *" $p "* ]] || kept+=("$p")
    done
    packages=("${kept[@]}")
    ;;
  *) echo "install-deps.sh: PAYMENTS_DEPS must be 'all' or 'build', not '$deps'" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from Debian (nodejs + npm) or a vendor package that bundles npm.
if [ "$deps" = all ]; then command -v npm >/dev/null 2>&1 || missing+=(nodejs npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[ "$deps" = all ] || exit 0

# buf: the reflection client the tests drive the server with, and the proto linter.
if [ ! -x tools/node_modules/@bufbuild/buf-linux-x64/bin/buf ]; then
  npm install --prefix tools --no-audit --no-fund --silent @bufbuild/buf@1
fi

# The Node.js example client's packages (@grpc/grpc-js, @grpc/proto-loader), as locked.
if [ ! -d examples/node/node_modules/@grpc/grpc-js ] || [ ! -d examples/node/node_modules/@grpc/proto-loader ]; then
  npm ci --prefix examples/node --no-audit --no-fund --silent
fi

# Offline checks of deploy/ (tests/deploy): Kubernetes schemas (kubernetes-models 4.x runs on
# Node 20; 5.x needs 22), a TypeScript type check that catches unknown fields, YAML parsing and a
# Dockerfile linter.
if [ ! -d tools/node_modules/kubernetes-models ] || [ ! -d tools/node_modules/kubernetes-types ] ||
  [ ! -x tools/node_modules/.bin/tsc ] || [ ! -d tools/node_modules/yaml ] ||
  [ ! -d tools/node_modules/@kubernetes-models/prometheus-operator ] ||
  [ ! -x tools/node_modules/.bin/dockerfilelint ]; then
  npm install --prefix tools --no-audit --no-fund --silent kubernetes-models@^4.5.1 \
    @kubernetes-models/prometheus-operator@^4.4.4 kubernetes-types@^1.30.0 typescript@^5.9.3 \
    yaml@^2.8.0 dockerfilelint@^1.8.0
fi
