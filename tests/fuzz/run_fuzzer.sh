#!/usr/bin/env bash
# run_fuzzer.sh BINARY SECONDS ARTIFACT_DIR
# Runs one libFuzzer target for SECONDS over its committed corpus
# (corpus/<name>, read-only: new inputs go to a scratch directory) with its
# dictionary (<name>.dict) if any, prints one summary line, and exits
# non-zero on any finding: crash, failed invariant, sanitizer report, leak,
# timeout (-timeout) or OOM (-rss_limit_mb). Crashing inputs are written to
# ARTIFACT_DIR/<name>/. Set FUZZ_NEW_UNITS=DIR to keep the new inputs (to
# merge into the corpus by hand with -merge=1). FUZZ_SEED (default 1) fixes
# the mutation sequence, so the same build explores the same inputs and a
# short CI run is repeatable; FUZZ_SEED=0 lets libFuzzer pick one, for
# longer exploratory runs.
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 BINARY SECONDS ARTIFACT_DIR" >&2
  exit 2
fi
binary=$1 seconds=$2 artifacts=$3
name=$(basename "$binary")
here=$(cd "$(dirname "$0")" && pwd)
corpus=$here/corpus/$name
[ -d "$corpus" ] || { echo "$name: no corpus at $corpus" >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
new=${FUZZ_NEW_UNITS:-$scratch/new}
mkdir -p "$new" "$artifacts/$name"

args=(-max_total_time="$seconds" -seed="${FUZZ_SEED:-1}" -timeout=10 -rss_limit_mb=2048
  -error_exitcode=77 -timeout_exitcode=77 -print_final_stats=1
  -artifact_prefix="$artifacts/$name/")
[ -f "$here/$name.dict" ] && args+=(-dict="$here/$name.dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

log=$scratch/log
rc=0
"$binary" "${args[@]}" "$new" "$corpus" >"$log" 2>&1 || rc=$?

stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
# The last status line ("#N DONE cov: C ft: F corp: U/S ...") holds coverage.
last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
field() { sed -n "s/.* $1: \([^ ]*\).*/\1/p" <<<"$last"; }
printf '%-22s %s  execs %s  exec/s %s  cov %s  ft %s  corpus %s (seed %s, new %s)  rss %s MB\n' \
  "$name" "$([ $rc -eq 0 ] && echo ok || echo FAILED)" \
  "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" \
  "$(field cov)" "$(field ft)" "$(field corp)" \
  "$(find "$corpus" -type f | wc -l)" "$(find "$new" -type f | wc -l)" \
  "$(stat peak_rss_mb)"
if [ $rc -ne 0 ]; then
  echo "---- $name: libFuzzer exited $rc; end of its log:" >&2
  tail -n 60 "$log" >&2
  echo "---- crash inputs: $artifacts/$name/" >&2
  ls -l "$artifacts/$name/" >&2 || true
fi
exit $rc
