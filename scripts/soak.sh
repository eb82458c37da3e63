#!/usr/bin/env bash
# Soak run: the real payments-server (embedded SQLite store, plaintext gRPC on
# loopback) against the Dojo emulator (HTTPS, throwaway certificates), driven
# for SECONDS (default 60) with mixed traffic: fresh creates, replays, reads,
# correctly and badly signed webhooks, and a few percent of upstream faults
# (5xx, dropped answers, slow answers and commits) injected through the
# emulator. The server's RSS, open fds and threads are sampled every second.
# Prints a summary and exits 1 when a bound fails (tests/soak/README.md says
# which and why); writes to OUT_DIR (default build/soak):
#   samples.csv  one row per second: t, rss_kb, fds, threads, calls, errors,
#                faulted, calls_per_s
#   soak.png     RSS, fds, threads and the call rate over time
#   summary.txt  what was printed; server.log, emulator.log
#
# Usage: scripts/soak.sh [SECONDS]
# Environment (all optional):
#   SOAK_OUT_DIR       output directory (default build/soak)
#   SOAK_SERVER_BIN    payments-server (default build/server/payments-server)
#   SOAK_EMULATOR_BIN  dojo-emulator (default build/tests/emulator/dojo-emulator)
#   SOAK_WORKERS (4), SOAK_RATE (40 calls/s in total), SOAK_FAULT_RATE (0.05)
# Needs /usr/bin/python3 with python3-grpcio and python3-protobuf, protoc with
# grpc_python_plugin, gnuplot, curl, jq and openssl (scripts/install-deps.sh).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
duration=${1:-60}
if ! [[ $duration =~ ^[0-9]+$ ]] || [ "$duration" -lt 5 ]; then
  echo "soak.sh: SECONDS must be a whole number >= 5, not '$duration'" >&2
  exit 2
fi
out=${SOAK_OUT_DIR:-$repo/build/soak}
server_bin=${SOAK_SERVER_BIN:-$repo/build/server/payments-server}
emulator_bin=${SOAK_EMULATOR_BIN:-$repo/build/tests/emulator/dojo-emulator}
for tool in "$server_bin" "$emulator_bin" /usr/bin/python3 protoc /usr/bin/grpc_python_plugin \
  gnuplot curl jq openssl; do
  command -v "$tool" > /dev/null ||
    { echo "soak.sh: $tool not found (build the project; scripts/install-deps.sh)" >&2; exit 2; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/{samples.csv,soak.png,summary.txt,server.log,emulator.log}

work=$(mktemp -d)
emulator_pid="" server_pid="" driver_pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
stop() {
  local pid
  for pid in $driver_pid $server_pid $emulator_pid; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in $driver_pid $server_pid $emulator_pid; do wait "$pid" 2> /dev/null || true; done
  rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
wait_for() {  # wait_for SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@" > /dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# Python stubs from Debian's protoc (python3-grpc-tools' protoc 3.5 rejects
# proto3 optional), with the google.rpc messages to read error details.
mkdir -p "$work/gen"
protoc -I "$repo/proto" --python_out="$work/gen" --grpc_python_out="$work/gen" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  payments/v1/payments_service.proto google/rpc/status.proto google/rpc/error_details.proto

# Fresh secrets for this run only; never printed.
api_key=sk_sandbox_soak_$(openssl rand -hex 12)
webhook_secret=whsec_soak_$(openssl rand -hex 16)
printf 'default=%s\n' "$api_key" > "$work/emulator-keys"
"$repo/scripts/gen-test-certs.sh" "$work/certs" > /dev/null

"$emulator_bin" --http-port=0 --https-port=0 --api-keys="$work/emulator-keys" \
  --tls-cert="$work/certs/server.pem" --tls-key="$work/certs/server.key" \
  --port-file="$work/ports.json" > "$out/emulator.log" 2>&1 &
emulator_pid=$!
wait_for 20 test -s "$work/ports.json" || { echo "soak.sh: the emulator did not start" >&2; exit 1; }
control=http://127.0.0.1:$(jq -r .http "$work/ports.json")/_emulator

# A 5 s settle period: the emulator has no search lag and commits within
# 300 ms here, so "not found after 5 s" is complete evidence, and a create
# lost before Dojo processed it is created anew within the run.
env PAYMENTS_TLS=off DOJO_API_KEY="$api_key" DOJO_WEBHOOK_SECRETS="soak=$webhook_secret" \
  PAYMENTS_SETTLE_PERIOD=5s PAYMENTS_RECONCILE_INTERVAL=1s \
  "$server_bin" --listen_addr=127.0.0.1:0 --metrics_addr=127.0.0.1:0 \
  --store="sqlite:$work/payments.db" \
  --dojo_base_url="https://localhost:$(jq -r .https "$work/ports.json")" \
  --dojo_ca_file="$work/certs/ca.pem" > "$out/server.log" 2>&1 &
server_pid=$!
wait_for 20 grep -q '"event":"started"' "$out/server.log" ||
  { tail -n 20 "$out/server.log" >&2; echo "soak.sh: the server did not start" >&2; exit 1; }
port=$(grep '"event":"started"' "$out/server.log" | jq -r .port)

# The growth bounds compare the end with the sample after a warm-up: 10 s,
# or a third of a shorter run.
warmup=$((duration / 3 < 10 ? duration / 3 : 10))
# In the background so that a signal to this script stops the run at once.
status=0
SOAK_WEBHOOK_SECRET=$webhook_secret /usr/bin/python3 "$repo/tests/soak/soak_driver.py" \
  --target="127.0.0.1:$port" --control="$control" --server-pid="$server_pid" \
  --gen="$work/gen" --out="$out" --duration="$duration" --warmup="$warmup" \
  --workers="${SOAK_WORKERS:-4}" --rate="${SOAK_RATE:-40}" \
  --fault-rate="${SOAK_FAULT_RATE:-0.05}" &
driver_pid=$!
wait "$driver_pid" || status=$?
driver_pid=""

# The server stops cleanly (SIGTERM: drain, exit 0).
if kill -0 "$server_pid" 2> /dev/null; then
  kill -TERM "$server_pid"
  server_status=0
  wait "$server_pid" || server_status=$?
  server_pid=""
  if [ "$server_status" -ne 0 ]; then
    echo "  [FAIL] the server exited $server_status on SIGTERM" | tee -a "$out/summary.txt"
    status=1
  fi
fi

# No secret of this run in any output.
if grep -qF -e "$api_key" -e "$webhook_secret" "$out"/*.log "$out"/summary.txt 2> /dev/null; then
  echo "  [FAIL] a secret of this run appears in $out" | tee -a "$out/summary.txt"
  status=1
fi

if [ -s "$out/samples.csv" ]; then
  result=PASS
  [ "$status" -eq 0 ] || result=FAIL
  calls=$(grep -m1 '^soak run ' "$out/summary.txt" 2> /dev/null | cut -d: -f2- || true)
  gnuplot -e "csv='$out/samples.csv'; png='$out/soak.png'; warmup=$warmup" \
    -e "heading='payments-server soak:${calls//\'/}: $result'" "$repo/tests/soak/plot.gp"
  echo "plot: $out/soak.png"
fi
exit "$status"
