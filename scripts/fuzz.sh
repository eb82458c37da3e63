#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang-14, ASan and UBSan in
# ./build-fuzz and runs each for SECONDS (default 20) over its committed
# corpus, two at a time (FUZZ_JOBS). Prints per target: executions, exec/s,
# coverage (cov/ft), corpus size and peak RSS; exits non-zero on any finding
# (crash, failed invariant, sanitizer report, leak, timeout, OOM), with the
# crashing inputs in build-fuzz/artifacts/<target>/.
# Usage: scripts/fuzz.sh [seconds-per-target]   (after scripts/install-deps.sh)
# FUZZ_TARGETS="a b" runs only those; FUZZ_NEW_UNITS=DIR keeps new inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [seconds-per-target]" >&2; exit 2; }
targets=(${FUZZ_TARGETS:-dojo_json_fuzzer dojo_errors_fuzzer webhook_fuzzer server_config_fuzzer
  retry_after_fuzzer})
export CCACHE_DIR=${CCACHE_DIR:-$PWD/.cache/ccache}

start=$SECONDS
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DPAYMENTS_FUZZ=ON -DPAYMENTS_BUILD_TESTS=OFF \
  -DPAYMENTS_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build build-fuzz -j "${BUILD_JOBS:-2}" --target "${targets[@]}"
built=$((SECONDS - start))

# Each target runs on one core, FUZZ_JOBS (default 2) at a time; each one's
# output is printed whole, in the order of `targets`.
rm -rf build-fuzz/artifacts build-fuzz/output
mkdir -p build-fuzz/output
status=0
printf '%s\n' "${targets[@]}" | xargs -P "${FUZZ_JOBS:-2}" -I{} \
  sh -c 'tests/fuzz/run_fuzzer.sh "build-fuzz/tests/fuzz/$1" "$2" build-fuzz/artifacts \
    > "build-fuzz/output/$1" 2>&1' sh {} "$seconds" || status=1
for target in "${targets[@]}"; do cat "build-fuzz/output/$target"; done
echo "fuzz: configure+build ${built} s, runs $((SECONDS - start - built)) s" \
  "($seconds s per target, ${FUZZ_JOBS:-2} at a time)"
[ "$status" -eq 0 ] || echo "fuzz: FINDINGS; crashing inputs under build-fuzz/artifacts/" >&2
exit "$status"
