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
matrices=(build/fault-matrix.txt build/operations-fault-matrix.txt)
rm -f "${matrices[@]}"
status=0
timed test bash -c 'cd build && ctest -j "${TEST_JOBS:-2}" --output-on-failure --timeout 300' || status=$?
for matrix in "${matrices[@]}"; do
  if [ -s "$matrix" ]; then
    echo
    echo "Exactly-once fault matrix ($matrix):"
    cat "$matrix"
  fi
done
echo
echo "Time per part:"
printf '  %s\n' "${timings[@]}"
exit "$status"
