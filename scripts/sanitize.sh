#!/usr/bin/env bash
# Builds the project with a sanitizer and runs the suites that variant covers,
# failing on any report, from any process (the tests and the servers and
# emulators they start):
#   scripts/sanitize.sh address  AddressSanitizer + LeakSanitizer + UBSan;
#                                the unit and integration suites (build-asan).
#   scripts/sanitize.sh thread   ThreadSanitizer; the concurrency-heavy suites:
#                                transport, worker pool, journal stores,
#                                creator, and the server's integration suites
#                                (build-tsan).
# Run after scripts/install-deps.sh. Reports are collected in
# <build dir>/sanitizer-reports and printed.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-}
case $kind in
  address)
    dir=build-asan
    targets=(all)
    tests=(-L 'unit|integration')
    ;;
  thread)
    dir=build-tsan
    targets=(tsan_absl_mutex absl_mutex_visible_test curl_multi_transport_test
      worker_pool_test sqlite_store_test postgres_store_test postgres_conformance_test postgres_outage_test
      idempotent_creator_test payments-server dojo-emulator lifecycle_integration_test
      idempotency_integration_test intent_operations_integration_test webhook_test
      payments_service_test)
    # Test names, not binaries: CreatorTest is the creator and reconciler's
    # unit test, intent_operations* the lifecycle operations' integration
    # tests.
    tests=(-R 'tsan_absl_mutex_visible|CurlMultiTransport|WorkerPool|Sqlite|SQLite|Postgres|postgres_|CreatorTest|Lifecycle|Shutdown|Idempotency|^intent_operations|HmacSha256|PaymentsService')
    ;;
  *)
    echo "usage: scripts/sanitize.sh address|thread" >&2
    exit 2
    ;;
esac

export CCACHE_DIR=${CCACHE_DIR:-$PWD/.cache/ccache}
# -O1 keeps the instrumented build and its runs fast enough for CI. -g1 keeps
# line tables only: reports still name each frame's function, file and line,
# and the build takes about a third less time than with full debug info.
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O1" \
  -DCMAKE_CXX_FLAGS_DEBUG="-g1" -DPAYMENTS_SANITIZER="$kind" > /dev/null
cmake --build "$dir" -j "${BUILD_JOBS:-2}" --target "${targets[@]}"

reports=$PWD/$dir/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
# Every sanitized process writes its reports to $reports/<tool>.<pid>.
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="log_path=$reports/tsan:halt_on_error=0:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizers/tsan.supp"
if [ "$kind" = thread ]; then
  export LD_PRELOAD=$PWD/$dir/tests/sanitizers/libtsan_absl_mutex.so
fi

status=0
(cd "$dir" && ctest -j "${TEST_JOBS:-2}" --output-on-failure --timeout 600 "${tests[@]}") || status=$?
unset LD_PRELOAD
if compgen -G "$reports/*" > /dev/null; then
  echo "sanitizer reports ($kind):"
  for report in "$reports"/*; do
    echo "--- $report"
    head -n 60 "$report"
  done
  status=1
fi
exit "$status"
