#!/usr/bin/env bash
# The Dojo emulator holding many delayed requests at once: REQUESTS
# concurrent HTTP/1.1 connections, each answered after DELAY_MS by an asio
# timer. Prints completion, wall time, and the emulator's thread count and
# peak RSS. Usage: scripts/bench-emulator.sh [REQUESTS (10000)] [DELAY_MS (2000)]
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-10000}
delay_ms=${2:-2000}
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
emulator_pid=""
trap '[ -n "$emulator_pid" ] && kill -TERM "$emulator_pid" 2>/dev/null; rm -rf "$work"' EXIT
build/tests/emulator/dojo-emulator --http-port=0 --port-file="$work/ports.json" > "$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do [ -s "$work/ports.json" ] && break; sleep 0.1; done
base=http://127.0.0.1:$(jq -r .http "$work/ports.json")
curl -sf "$base/_emulator/faults" -H 'Content-Type: application/json' \
  -d "{\"method\":\"GET\",\"path\":\"/payment-intents/*\",\"responses\":[{\"status\":200,\"delayMs\":$delay_ms,\"repeat\":$requests}]}" > /dev/null

threads_before=$(awk '/^Threads:/ {print $2}' "/proc/$emulator_pid/status")
h2load --h1 -n "$requests" -c "$requests" -t 2 \
  -H 'Authorization: Basic sk_sandbox_bench_key' -H 'version: 2026-02-27' \
  "$base/payment-intents/pi_sandbox_AAAAAAAAAAAAAAAAAAAAAA" > "$work/h2load.out" &
h2load_pid=$!
sleep "$(( delay_ms / 2000 + 1 ))"
threads_loaded=$(awk '/^Threads:/ {print $2}' "/proc/$emulator_pid/status")
open_fds=$(ls "/proc/$emulator_pid/fd" | wc -l)
wait "$h2load_pid"
rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$emulator_pid/status")
succeeded=$(awk '/^requests:/ {print $8}' "$work/h2load.out")
echo "emulator: $requests requests in flight, each delayed ${delay_ms} ms"
echo "succeeded: $succeeded of $requests; $(grep '^finished in' "$work/h2load.out")"
echo "emulator threads: $threads_before idle, $threads_loaded with $open_fds descriptors open; peak RSS $((rss_kb / 1024)) MiB"
[ "$succeeded" = "$requests" ] || { echo "FAIL: not every request succeeded" >&2; exit 1; }
