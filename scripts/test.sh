#!/usr/bin/env bash
# Installs what the project needs, builds it and runs every test (unit,
# integration against the emulator, the exactly-once fault matrix,
# end-to-end through reflection, proto lint). Run as root on a fresh
# Debian 12 machine. Prints how long each part took.
set -euo pipefail
cd "$(dirname "$0")/.."

timings=()
timed() {  # timed NAME COMMAND...: runs it, records its time, keeps its status
  local start=$SECONDS rc=0
  "${@:2}" || rc=$?
  timings+=("$(printf '%-8s %4d s' "$1" $((SECONDS - start)))")
  return "$rc"
}

timed install ./scripts/install-deps.sh
timed build ./scripts/build.sh
rm -f build/fault-matrix.txt
status=0
timed test bash -c 'cd build && ctest -j "${TEST_JOBS:-2}" --output-on-failure --timeout 300' || status=$?
if [ -s build/fault-matrix.txt ]; then
  echo
  echo "Exactly-once fault matrix (tests/integration/journal_fault_matrix_test.cc):"
  cat build/fault-matrix.txt
fi
echo
echo "Time per part:"
printf '  %s\n' "${timings[@]}"
exit "$status"
