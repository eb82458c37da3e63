#!/usr/bin/env bash
# Installs what the project needs, builds it and runs every test: unit,
# integration against the emulator (HTTP/1.1 and HTTP/2), the exactly-once
# fault matrices, end-to-end through reflection and other languages, the
# 60-second soak, proto lint; then fuzzing, the AddressSanitizer + UBSan and
# ThreadSanitizer runs, and a scan of every log for secrets. Run as root on
# a fresh Debian 12 machine. Prints how long each part took.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p build
exec > >(tee build/test-output.log) 2>&1

timings=()
status=0
timed() {  # timed NAME COMMAND...: runs it, records its time and status
  local start=$SECONDS rc=0
  "${@:2}" || rc=$?
  timings+=("$(printf '%-8s %4d s  %s' "$1" $((SECONDS - start)) "$([ $rc = 0 ] && echo ok || echo "FAILED ($rc)")")")
  [ "$rc" = 0 ] || status=1
  return 0
}
# ctest keeps an old list of failed tests when every test passes, so each
# part's list is removed before it runs and read back into the summary after.
failed_list() { echo "$1/Testing/Temporary/LastTestsFailed.log"; }
failures=()
note_failures() {  # note_failures PART BUILD_DIR: adds that run's failed tests and reports
  local list report
  list=$(failed_list "$2")
  if [ -s "$list" ]; then
    while IFS= read -r line; do failures+=("$1: ${line#*:}"); done < "$list"
  fi
  for report in "$2"/sanitizer-reports/*; do
    [ -e "$report" ] && failures+=("$1: sanitizer report $report")
  done
  return 0
}
rm -f "$(failed_list build)" "$(failed_list build-asan)" "$(failed_list build-tsan)"

# Every test directory and log is kept here for the secrets scan.
export TMPDIR=$PWD/build/test-tmp PAYMENTS_TEST_KEEP_DIRS=1
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"

timed install ./scripts/install-deps.sh
[ "$status" = 0 ] || { printf '  %s\n' "${timings[@]}"; exit 1; }
timed build ./scripts/build.sh
matrices=(build/fault-matrix.txt build/operations-fault-matrix.txt)
rm -f "${matrices[@]}"
timed test bash -c 'cd build && ctest -j "${TEST_JOBS:-2}" --output-on-failure --timeout 300'
note_failures test build
for matrix in "${matrices[@]}"; do
  if [ -s "$matrix" ]; then
    echo
    echo "Exactly-once fault matrix ($matrix):"
    cat "$matrix"
  fi
done
timed fuzz ./scripts/fuzz.sh
timed asan ./scripts/sanitize.sh address
note_failures asan build-asan
timed tsan ./scripts/sanitize.sh thread
note_failures tsan build-tsan
timed secrets ./scripts/scan-secrets.sh "$TMPDIR" build/Testing build-asan/Testing \
  build-tsan/Testing build/test-output.log
echo
echo "Time per part:"
printf '  %s\n' "${timings[@]}"
if [ "${#failures[@]}" -gt 0 ]; then
  echo "Failed tests and sanitizer reports:"
  printf '  %s\n' "${failures[@]}"
fi
exit "$status"
