#!/usr/bin/env bash
# User-space instructions per call of each RPC of payments-server, counted by
# valgrind's callgrind: a per-call cost that does not move with the machine's
# load, for comparing builds (before/after a change) on a shared machine.
#
#   scripts/bench-instructions.sh [OUT_DIR (build/bench-instructions)]
#
# Why: hardware counters (perf stat) are not available on the machines this
# project is developed on, and the wall-clock CPU ratios of scripts/bench.sh
# move by +-20% from run to run on a shared 2-core machine; callgrind's
# instruction counts of back-to-back runs agree within ~1%. They still move a
# little with the machine's load: with a build running alongside, fewer calls
# are served in the window and the figures came out 1-5% higher (absl::Mutex
# spinning and gRPC's poller threads, over fewer calls), so compare builds
# measured one after the other. What they leave out: callgrind counts
# user space only, so the kernel's share (syscalls, futex wake-ups, the fsync
# of verify's store insert) is not in the figure, and threads run one at a
# time under valgrind, so lock contention is not either. Use scripts/bench.sh
# for throughput and latency.
#
# For each RPC in turn (check, get, create_replay, verify, verify_duplicate;
# see scripts/bench.sh for what each does), against a fresh dojo-emulator and
# a fresh payments-server (PAYMENTS_TLS=off, SQLite store in a scratch
# directory) under valgrind --tool=callgrind, with the load generator
# build/tests/bench/payments-bench keeping 8 calls in flight on 2 channels:
#   1. warm-up run: 3 s (its own process; it also creates the reference that
#      create_replay replays);
#   2. callgrind_control -z PID: counters zeroed;
#   3. measured run: BENCH_INSTR_SECONDS (a new process);
#   4. callgrind_control -d PID: the counts since the zero dumped.
# instructions per call = the PROGRAM TOTALS of the dump(s) written after the
# zero / served calls, where served = the calls the bench counts in its window
# + the 8 in flight it drains after the window (the server serves those inside
# the zeroed interval too). The interval also holds the measured run's 2
# connection setups and the server's idle background work (a few % at most on
# check, less on the others).
#
# It prints the table | RPC | instructions per call | ratio to check | and
# writes OUT_DIR/instructions.md (the table, the binary, calls served) and, per
# RPC, OUT_DIR/<rpc>/cg.dump (see where the instructions go with
# callgrind_annotate --inclusive=yes OUT_DIR/get/cg.dump | head -60) and
# OUT_DIR/<rpc>/bench.json (the measured run's line). About 1-2 minutes per
# RPC, most of it the server starting under valgrind.
#
# Environment: BUILD_DIR (build); SERVER_BIN, another payments-server binary
# to measure (an older build, for a before/after comparison); BENCH_INSTR_RPCS
# (space-separated; also create_fresh); BENCH_INSTR_SECONDS (10). Relative
# paths are taken from the current directory. The server binary is copied at
# the start, so a rebuild during the run does not change what is measured.
# Throwaway credentials are generated for the run and never printed.
#
# Needs: a build (payments-server dojo-emulator payments-bench), valgrind, jq,
# curl, openssl. Processes it starts are stopped by PID on exit.
set -Eeuo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
root=$PWD
abspath() { case $1 in /*) echo "$1" ;; *) echo "$caller/$1" ;; esac; }
build=$(abspath "${BUILD_DIR:-$root/build}")
out=$(abspath "${1:-$build/bench-instructions}")
seconds=${BENCH_INSTR_SECONDS:-10}
read -r -a rpcs <<< "${BENCH_INSTR_RPCS:-check get create_replay verify verify_duplicate}"
warmup=3
concurrency=8

server_bin=$(abspath "${SERVER_BIN:-$build/server/payments-server}")
emulator_bin=$build/tests/emulator/dojo-emulator
bench_bin=$build/tests/bench/payments-bench
for bin in "$server_bin" "$emulator_bin" "$bench_bin"; do
  [ -x "$bin" ] || { echo "bench-instructions.sh: $bin is missing: build payments-server dojo-emulator payments-bench" >&2; exit 2; }
done
for tool in valgrind callgrind_control callgrind_annotate jq curl openssl; do
  command -v "$tool" > /dev/null || { echo "bench-instructions.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done
[ "${#rpcs[@]}" -gt 0 ] || { echo "bench-instructions.sh: BENCH_INSTR_RPCS is empty" >&2; exit 2; }
for rpc in "${rpcs[@]}"; do
  case $rpc in
    check | get | create_fresh | create_replay | verify | verify_duplicate) ;;
    *) echo "bench-instructions.sh: unknown RPC '$rpc' (check get create_fresh create_replay verify verify_duplicate)" >&2; exit 2 ;;
  esac
done
[[ $seconds =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "bench-instructions.sh: BENCH_INSTR_SECONDS must be a number of seconds" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d)
pids=()
# stop_all: TERM to every process started (the server first), then up to 30 s
# each to exit (callgrind writes its final dump) before KILL.
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  stop_all
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench-instructions.sh: failed at line $LINENO" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM
wait_for() { local end=$((SECONDS + $1)); shift; until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.1; done; }

# Throwaway credentials: the emulator accepts any sk_sandbox_ key.
api_key=sk_sandbox_instr_$(openssl rand -hex 8)
webhook_secret=$(openssl rand -hex 24)
export BENCH_DOJO_API_KEY=$api_key BENCH_WEBHOOK_SECRET=$webhook_secret
redact() { sed -e "s/$api_key/[api key]/g" -e "s/$webhook_secret/[webhook secret]/g"; }
# fail DIR MESSAGE: the tails of DIR's logs (credentials redacted), then exit.
fail() {
  local f
  for f in "$1"/*.log; do
    if [ -s "$f" ]; then echo "--- $(basename "$f")"; tail -n 15 "$f" | redact; fi
  done >&2
  echo "bench-instructions.sh: $2" >&2
  exit 1
}

cp "$server_bin" "$work/payments-server"
server_sha=$(sha256sum "$work/payments-server" | cut -c1-12)

# measure RPC: one fresh emulator and server, sets ir, served, calls, errors.
measure() {
  local rpc=$1 w=$work/$1 id="" port emulator server_pid dumps f t
  mkdir -p "$w" "$out/$rpc"
  rm -f "$out/$rpc"/cg.dump "$out/$rpc"/cg.*.dump "$out/$rpc"/bench.json

  "$emulator_bin" --http-port=0 --port-file="$w/ports.json" > "$w/emulator.log" 2>&1 &
  pids+=("$!")
  wait_for 20 test -s "$w/ports.json" || fail "$w" "$rpc: emulator did not start"
  emulator=http://127.0.0.1:$(jq -r .http "$w/ports.json")

  PAYMENTS_TLS=off DOJO_API_KEY=$api_key DOJO_WEBHOOK_SECRETS=bench=$webhook_secret PAYMENTS_DEFAULT_DEADLINE=60s \
    valgrind --tool=callgrind --callgrind-out-file="$w/cg.out.%p" --collect-atstart=yes \
    "$work/payments-server" --listen_addr=127.0.0.1:0 --metrics_addr=127.0.0.1:0 \
    --store="sqlite:$w/p.db" --dojo_base_url="$emulator" > "$w/server.log" 2> "$w/valgrind.log" &
  server_pid=$!
  pids=("$server_pid" "${pids[@]}")  # the server is stopped first
  for _ in $(seq 1800); do
    grep -q '"event":"started"' "$w/server.log" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || fail "$w" "$rpc: the server exited under valgrind"
    sleep 0.1
  done
  grep -q '"event":"started"' "$w/server.log" || fail "$w" "$rpc: the server did not start under valgrind in 180 s"
  port=$(grep -m1 '"event":"started"' "$w/server.log" | jq -r .port)

  if [ "$rpc" = get ]; then
    # The key goes through stdin, not the command line.
    id=$(curl -sf -H @- "$emulator/payment-intents" -H 'version: 2026-02-27' \
      -H 'Content-Type: application/json' \
      -d '{"reference":"bench-instructions","amount":{"value":1000,"currencyCode":"GBP"}}' \
      <<< "Authorization: Basic $api_key" | jq -r .id) || id=""
    if [ -z "$id" ] || [ "$id" = null ]; then fail "$w" "get: the emulator did not create an intent"; fi
  fi
  local common=(--mode=closed --rpc="$rpc" --id="$id" --reference=bench-instructions-replay
    --target="127.0.0.1:$port" --concurrency="$concurrency" --channels=2 --warmup=0)

  "$bench_bin" "${common[@]}" --label=warmup --duration="$warmup" > "$w/warmup.json" 2> "$w/bench.log" ||
    fail "$w" "$rpc: the warm-up run failed"
  callgrind_control -z "$server_pid" > "$w/zero.log" 2>&1 || fail "$w" "$rpc: callgrind_control -z failed"
  touch "$w/zeroed"
  "$bench_bin" "${common[@]}" --label="$rpc" --duration="$seconds" --server_pid="$server_pid" \
    > "$w/measure.json" 2>> "$w/bench.log" || fail "$w" "$rpc: the measured run failed"
  callgrind_control -d "$server_pid" > "$w/dump.log" 2>&1 || fail "$w" "$rpc: callgrind_control -d failed"
  grep -q OK "$w/dump.log" || fail "$w" "$rpc: the dump was not confirmed"

  # The dumps written after the zero: cg.out.PID.N (one, or one per thread
  # had --separate-threads=yes been given).
  dumps=()
  for _ in $(seq 100); do
    while IFS= read -r f; do dumps+=("$f"); done < <(find "$w" -maxdepth 1 -name "cg.out.$server_pid.*" -newer "$w/zeroed" | sort)
    [ "${#dumps[@]}" -gt 0 ] && break
    sleep 0.1
  done
  [ "${#dumps[@]}" -gt 0 ] || fail "$w" "$rpc: no dump written after the zero"
  ir=0 n=0
  for f in "${dumps[@]}"; do
    # (no early exit in awk: with pipefail, SIGPIPE to callgrind_annotate would fail the pipe)
    t=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ && !d {gsub(",", "", $1); print $1; d = 1}')
    [ -n "$t" ] || fail "$w" "$rpc: no PROGRAM TOTALS in $(basename "$f")"
    ir=$((ir + t)) n=$((n + 1))
    if [ "${#dumps[@]}" = 1 ]; then cp "$f" "$out/$rpc/cg.dump"; else cp "$f" "$out/$rpc/cg.$n.dump"; fi
  done
  cp "$w/measure.json" "$out/$rpc/bench.json"
  calls=$(jq -r .calls "$w/measure.json")
  errors=$(jq -r .errors "$w/measure.json")
  [ "$calls" -gt 0 ] || fail "$w" "$rpc: no call completed in the measured window"
  if [ "$errors" != 0 ]; then
    echo "bench-instructions.sh: $rpc: $errors of $calls calls failed, first: $(jq -r .first_error "$w/measure.json" | redact)" >&2
  fi
  served=$((calls + concurrency))
  stop_all
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
load_start=$(cut -d' ' -f1 /proc/loadavg)
echo "bench-instructions.sh: $server_bin (sha256 $server_sha), $concurrency in flight, ${warmup} s warm-up, ${seconds} s window per RPC" >&2
declare -A per_call=() served_of=() errors_of=()
for rpc in "${rpcs[@]}"; do
  start=$SECONDS
  measure "$rpc"
  per_call[$rpc]=$(awk -v i="$ir" -v c="$served" 'BEGIN {printf "%.0f", i / c}')
  served_of[$rpc]=$served errors_of[$rpc]=$errors
  echo "  $rpc: ${per_call[$rpc]} instructions/call ($ir over $served calls, $n dump(s), $((SECONDS - start)) s)" >&2
done

# --- Report.
{
  echo "payments-server user-space instructions per call (valgrind callgrind): $server_bin (sha256 $server_sha);"
  echo "repository at commit $commit; $(date -u +%Y-%m-%d); $(nproc) cores, load average $load_start at the start, $(cut -d' ' -f1 /proc/loadavg) at the end;"
  echo "$concurrency calls in flight, ${warmup} s warm-up, ${seconds} s counted window per RPC."
  echo
  echo "| RPC | instructions per call | ratio to check |"
  echo "|---|---:|---:|"
  for rpc in "${rpcs[@]}"; do
    awk -v r="$rpc" -v p="${per_call[$rpc]}" -v b="${per_call[check]:-}" 'BEGIN {
      printf "| %s | %.1fk | %s |\n", r, p / 1000, b == "" ? "-" : sprintf("%.2fx", p / b) }'
  done
  echo
  printf 'Calls served in the counted window:'
  for rpc in "${rpcs[@]}"; do printf ' %s %s;' "$rpc" "${served_of[$rpc]}"; done
  echo
  for rpc in "${rpcs[@]}"; do
    [ "${errors_of[$rpc]}" = 0 ] || echo "Warning: ${errors_of[$rpc]} calls of $rpc failed; its figure includes them."
  done
  echo "Counts user space only: syscalls, futex wake-ups and fsync are not in these figures."
} > "$out/instructions.md"

echo
cat "$out/instructions.md"
echo
echo "results: $out/instructions.md; per RPC: callgrind_annotate --inclusive=yes $out/<rpc>/cg.dump | head -60"
