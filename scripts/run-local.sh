#!/usr/bin/env bash
# Installs what the project needs, builds it (both skipped when the build is
# current), then runs payments-server in the foreground against a local Dojo
# emulator (HTTPS with a throwaway CA) on the embedded SQLite store. Ctrl-C
# (or SIGTERM to this script) stops both.
# Run as root on Debian 12.
#
# Ports (override with the same-named variables): gRPC 50051, metrics 9464,
# emulator HTTPS 8443 (the Dojo API) and HTTP 8080 (the same API plus its
# control endpoints under /_emulator/).
#
# State (certificates, the SQLite store, the emulator's log, and the PIDs of
# the two processes while they run: server.pid, emulator.pid) goes in ./run,
# or in RUN_DIR if set.
set -euo pipefail
cd "$(dirname "$0")/.."
GRPC_PORT=${GRPC_PORT:-50051}
METRICS_PORT=${METRICS_PORT:-9464}
EMULATOR_HTTPS_PORT=${EMULATOR_HTTPS_PORT:-8443}
EMULATOR_HTTP_PORT=${EMULATOR_HTTP_PORT:-8080}

# Installing and building take a while even with nothing to do: when the two
# binaries are up to date (ninja has no work for them, which also means that no
# CMakeLists.txt changed), start at once.
if [ -f build/build.ninja ] && command -v ninja > /dev/null &&
  ninja -C build -n payments-server dojo-emulator 2> /dev/null | grep -q '^ninja: no work to do'; then
  echo "run-local: the build is current; starting at once (no install-deps.sh or build.sh)"
else
  ./scripts/install-deps.sh
  ./scripts/build.sh
fi

state=${RUN_DIR:-$PWD/run}
mkdir -p "$state"
state=$(cd "$state" && pwd)
./scripts/gen-test-certs.sh "$state/certs"

# Local sandbox credentials: the emulator accepts any sk_sandbox_ key.
export DOJO_API_KEY=sk_sandbox_local_demo_key
export DOJO_WEBHOOK_SECRETS=local=whsec_local_demo_secret

# Both processes run in the background so that this script stays able to
# take signals: on Ctrl-C, SIGTERM or any exit it stops the two (by PID) and
# waits for them.
emulator_pid="" server_pid=""
stop() {
  local pid
  for pid in $server_pid $emulator_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $server_pid $emulator_pid; do wait "$pid" 2>/dev/null || true; done
  rm -f "$state/server.pid" "$state/emulator.pid"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

build/tests/emulator/dojo-emulator --http-port="$EMULATOR_HTTP_PORT" \
  --https-port="$EMULATOR_HTTPS_PORT" \
  --tls-cert="$state/certs/server.pem" --tls-key="$state/certs/server.key" \
  > "$state/emulator.log" 2>&1 &
emulator_pid=$!
echo "$emulator_pid" > "$state/emulator.pid"

buf=tools/node_modules/@bufbuild/buf-linux-x64/bin/buf
cat <<MSG

payments-server on 127.0.0.1:$GRPC_PORT (metrics :$METRICS_PORT/metrics),
Dojo emulator on https://localhost:$EMULATOR_HTTPS_PORT (control API
http://127.0.0.1:$EMULATOR_HTTP_PORT/_emulator), store sqlite:$state/payments.db.
Stop both with Ctrl-C here, or from another terminal: kill $$

Try, from another terminal, with grpcurl:

  grpcurl -plaintext -d '{"reference":"Order-1","amount":{"value":1000,"currencyCode":"GBP"}}' \\
    127.0.0.1:$GRPC_PORT payments.v1.PaymentsService/CreateIntent

or with buf curl (grpcurl is not packaged for Debian 12; scripts/install-deps.sh installs buf):

  $buf curl --protocol grpc --http2-prior-knowledge \\
    http://127.0.0.1:$GRPC_PORT/payments.v1.PaymentsService/CreateIntent \\
    -d '{"reference":"Order-1","amount":{"value":1000,"currencyCode":"GBP"}}'

MSG

build/server/payments-server --tls=off \
  --listen_addr="127.0.0.1:$GRPC_PORT" --metrics_addr="127.0.0.1:$METRICS_PORT" \
  --store="sqlite:$state/payments.db" \
  --dojo_base_url="https://localhost:$EMULATOR_HTTPS_PORT" \
  --dojo_ca_file="$state/certs/ca.pem" &
server_pid=$!
echo "$server_pid" > "$state/server.pid"
# The server's status is the script's (a signal above ends the wait early).
wait "$server_pid"
