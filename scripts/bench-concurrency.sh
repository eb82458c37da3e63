#!/usr/bin/env bash
# Concurrency benchmark: N GetIntent RPCs in flight at once while the Dojo
# emulator delays every answer by DELAY_MS. Prints throughput, p50/p99
# latency, the server's thread count (peak while loaded) and its peak RSS.
#
# Usage: scripts/bench-concurrency.sh [REQUESTS (5000)] [DELAY_MS (250)]
# Needs a build (scripts/build.sh) and h2load (nghttp2-client).
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-5000}
delay_ms=${2:-250}
connections=50
streams=$(( (requests + connections - 1) / connections ))

work=$(mktemp -d)
emulator_pid="" server_pid="" sampler_pid=""
cleanup() {
  for pid in $sampler_pid $server_pid $emulator_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
wait_for() { local end=$((SECONDS + $1)); shift; until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.1; done; }

build/tests/emulator/dojo-emulator --http-port=0 --port-file="$work/ports.json" > "$work/emulator.log" 2>&1 &
emulator_pid=$!
wait_for 20 test -s "$work/ports.json"
emulator=http://127.0.0.1:$(jq -r .http "$work/ports.json")

# Plain HTTP upstream (the emulator speaks HTTP/1.1 only, so one connection
# per request in flight; against Dojo, HTTP/2 multiplexes instead).
DOJO_API_KEY=sk_sandbox_bench_key PAYMENTS_UPSTREAM_MAX_CONNECTIONS=$((requests + 100)) \
  PAYMENTS_DEFAULT_DEADLINE=120s \
  build/server/payments-server --tls=off --listen_addr=127.0.0.1:0 --metrics_addr=127.0.0.1:0 \
  --store="sqlite:$work/payments.db" --dojo_base_url="$emulator" > "$work/server.log" 2>&1 &
server_pid=$!
wait_for 20 grep -q '"event":"started"' "$work/server.log"
port=$(grep '"event":"started"' "$work/server.log" | jq -r .port)
metrics_port=$(grep '"event":"started"' "$work/server.log" | jq -r .metrics_port)

id=$(curl -sf "$emulator/payment-intents" -H 'Authorization: Basic sk_sandbox_bench_key' \
  -H 'version: 2026-02-27' -H 'Content-Type: application/json' \
  -d '{"reference":"bench","amount":{"value":100,"currencyCode":"GBP"}}' | jq -r .id)
curl -sf "$emulator/_emulator/faults" -H 'Content-Type: application/json' \
  -d "{\"method\":\"GET\",\"path\":\"/payment-intents/*\",\"responses\":[{\"delayMs\":$delay_ms,\"repeat\":$requests}]}" > /dev/null

# One gRPC frame: flag 0, 4-byte big-endian length, the GetIntentRequest.
printf 'id: "%s"' "$id" | protoc --encode=payments.v1.GetIntentRequest -I proto \
  proto/payments/v1/payments_service.proto > "$work/request.pb"
len=$(stat -c %s "$work/request.pb")
{ printf '\x00\x00\x00\x00'"$(printf '\\x%02x' "$len")"; cat "$work/request.pb"; } > "$work/frame"

threads_idle=$(awk '/^Threads:/ {print $2}' "/proc/$server_pid/status")
( peak=0
  while kill -0 "$server_pid" 2>/dev/null; do
    t=$(awk '/^Threads:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || echo 0)
    [ "${t:-0}" -gt "$peak" ] && peak=$t && echo "$peak" > "$work/threads_peak"
    sleep 0.05
  done ) &
sampler_pid=$!

h2load -n "$requests" -c "$connections" -m "$streams" -t 1 \
  -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/frame" \
  --log-file="$work/h2load.log" "http://127.0.0.1:$port/payments.v1.PaymentsService/GetIntent" \
  > "$work/h2load.out"

ok=$(curl -sf "http://127.0.0.1:$metrics_port/metrics" |
  awk '/^grpc_server_handled_total\{grpc_code="OK",grpc_method="GetIntent"/ {print $2}')
rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")
threads_peak=$(cat "$work/threads_peak" 2>/dev/null || echo "$threads_idle")
# h2load's log: start time, HTTP status, duration in microseconds.
read -r p50 p99 < <(awk '{print $3}' "$work/h2load.log" | sort -n |
  awk '{a[NR]=$1} END {printf "%.0f %.0f\n", a[int(NR*0.50)]/1000, a[int(NR*0.99)]/1000}')
rps=$(awk '/^finished in/ {print $4}' "$work/h2load.out")

echo "requests in flight: $requests (h2load: $connections connections x $streams streams), upstream delay ${delay_ms} ms"
echo "succeeded (server metrics, GetIntent OK): ${ok%.*} of $requests"
echo "throughput: $rps req/s; latency p50 ${p50} ms, p99 ${p99} ms"
echo "server threads: ${threads_idle} idle, ${threads_peak} peak under load; peak RSS $((rss_kb / 1024)) MiB"
[ "${ok%.*}" = "$requests" ] || { echo "FAIL: not every call succeeded" >&2; exit 1; }
