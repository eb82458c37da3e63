#!/usr/bin/env bash
# The C++ client library as another project's dependency.
#
#   1. A client-only build of this repository (-DPAYMENTS_CLIENT_ONLY=ON) in
#      BUILD_DIR (kept between runs, so a rerun is incremental): it must not
#      look for PostgreSQL, SQLite, Boost, libcurl or prometheus-cpp.
#   2. cmake --install into a temporary prefix: headers under the project's
#      own include/payments-client (generated google/rpc included, nothing in
#      include/google), the CMake package, the protos and service config.
#   3. tests/e2e/client_consumer, an outside project, configured with
#      find_package(PaymentsClient) against that prefix, built, and run
#      against a fresh stack.
#
# Usage: client_install_test.sh REPO_ROOT BUILD_DIR SERVER_BIN EMULATOR_BIN GEN_CERTS_SCRIPT
set -euo pipefail

repo=$1 client_build=$2 server_bin=$3 emulator_bin=$4 gen_certs=$5
source "$(dirname "$0")/stack.sh"
prefix=$work/prefix
# The cache scripts/build.sh uses, unless the caller chose one.
export CCACHE_DIR=${CCACHE_DIR:-$repo/.cache/ccache}

cmake -S "$repo" -B "$client_build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPAYMENTS_CLIENT_ONLY=ON > "$work/configure.out" 2>&1 ||
  { cat "$work/configure.out"; fail "client-only configure failed"; }
if grep -Eq '^(PostgreSQL|SQLite3|Boost|CURL|prometheus-cpp)[A-Za-z_]*(DIR|INCLUDE_DIR|LIBRARY)[:=]' \
    "$client_build/CMakeCache.txt"; then
  grep -E '^(PostgreSQL|SQLite3|Boost|CURL|prometheus-cpp)' "$client_build/CMakeCache.txt" >&2
  fail "the client-only build looked for a server dependency"
fi
pass "client-only configure: no PostgreSQL, SQLite, Boost, libcurl or prometheus-cpp"
cmake --build "$client_build" -j "${BUILD_JOBS:-2}" > "$work/build.out" 2>&1 ||
  { tail -n 40 "$work/build.out"; fail "client-only build failed"; }
[ ! -e "$client_build/server" ] && [ ! -e "$client_build/tests" ] ||
  fail "the client-only build has server or test targets"
pass "client-only build"

cmake --install "$client_build" --prefix "$prefix" > "$work/install.out"
for f in include/payments-client/client/payments_client.h \
         include/payments-client/payments/v1/payments_service.pb.h \
         include/payments-client/google/rpc/status.pb.h \
         include/payments-client/google/rpc/error_details.pb.h \
         lib/libpayments_client.a lib/libpayments_proto.a bin/paymentsctl \
         lib/cmake/PaymentsClient/PaymentsClientConfig.cmake \
         share/payments/service_config.json \
         share/payments/proto/payments/v1/payments_service.proto \
         share/payments/proto/google/rpc/error_details.proto; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
[ ! -e "$prefix/include/google" ] || fail "installed into include/google, where googleapis' headers go"
cmp "$repo/proto/service_config.json" "$prefix/share/payments/service_config.json" ||
  fail "installed service config differs"
pass "installed into $prefix (headers under include/payments-client)"

cmake -S "$(dirname "$0")/client_consumer" -B "$work/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" > "$work/consumer.out" 2>&1 &&
  cmake --build "$work/consumer" >> "$work/consumer.out" 2>&1 ||
  { cat "$work/consumer.out"; fail "the outside project did not build against the package"; }
pass "outside project built with find_package(PaymentsClient) and payments::client"

e2e_start_stack sk_sandbox_consumer "local=whsec_consumer"
"$work/consumer/consumer" "$target" > "$work/out" 2> "$work/err" || fail "the consumer failed"
cat "$work/out"
grep -q '^consumer ok: pi_sandbox_' "$work/out" || fail "consumer output"
pass "the consumer ran against the server"
echo "client install: $checks checks passed"
