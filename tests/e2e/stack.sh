# shellcheck shell=bash
# shellcheck disable=SC2154  # server_bin, emulator_bin, gen_certs: set by the sourcing script
# The harness shared by the end-to-end scripts in this folder: a scratch
# directory, check reporting, and a fresh stack of the built dojo-emulator
# (HTTPS with throwaway certs) and payments-server, both on ports the
# kernel picks. Source it after `set -euo pipefail`:
#
#   source "$(dirname "$0")/stack.sh"
#
# On sourcing it creates $work (a temporary directory) and sets an EXIT trap
# that stops the processes it started, by their PIDs only, then removes
# $work. The start functions read the caller's variables
#   server_bin    the payments-server binary
#   emulator_bin  the dojo-emulator binary
#   gen_certs     scripts/gen-test-certs.sh
# and set
#   emulator_http, emulator_https  the emulator's ports (ports in $work/ports.json)
#   control        the emulator's control URL, http://127.0.0.1:PORT/_emulator
#   port, metrics_port             the server's gRPC and metrics ports
#   target         the server's address, 127.0.0.1:PORT
# The logs are $work/emulator.log and $work/server.log; the server's store
# is sqlite:$work/payments.db. With server_name=NAME set, e2e_start_server
# starts another server beside it instead: log $work/NAME.log, store
# sqlite:$work/NAME.db, its PID appended to $extra_pids (stopped on exit
# too); server_pid and server.log stay those of the first.
#
#   pass TEXT...          counts a check in $checks and prints "ok   TEXT"
#   fail TEXT...          prints "FAIL TEXT", $work/out and $work/err if they
#                         exist, the tail of the server log; exits 1
#   wait_for SECS CMD...  runs CMD until it succeeds; status 1 after SECS

# shellcheck disable=SC2034  # the variables below are for the sourcing script
{
  work=$(mktemp -d)
  emulator_pid="" server_pid="" extra_pids=""
  emulator_http="" emulator_https="" control=""
  port="" metrics_port="" target=""
  checks=0
}

e2e_cleanup() {
  local pid
  for pid in $server_pid $extra_pids $emulator_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $server_pid $extra_pids $emulator_pid; do wait "$pid" 2>/dev/null || true; done
  # Kept for the whole-suite secrets scan (scripts/scan-secrets.sh).
  [ -n "${PAYMENTS_TEST_KEEP_DIRS:-}" ] || rm -rf "$work"
}
trap e2e_cleanup EXIT

pass() { checks=$((checks + 1)); echo "ok   $*"; }
fail() {
  echo "FAIL $*" >&2
  local f
  for f in out err; do [ -f "$work/$f" ] && { echo "--- $f" >&2; cat "$work/$f" >&2; }; done
  echo "--- server log (tail)" >&2; tail -n 20 "$work/server.log" >&2 || true
  exit 1
}
wait_for() {  # wait_for SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# e2e_start_emulator [API_KEY]: throwaway certs in $work/certs, then the
# emulator. With API_KEY it accepts only that key (the default account);
# without, any sk_sandbox_ key, as ./scripts/run-local.sh runs it.
e2e_start_emulator() {
  local keys=()
  "$gen_certs" "$work/certs" > /dev/null
  if [ $# -gt 0 ]; then
    printf 'default=%s\n' "$1" > "$work/emulator-keys"
    keys=(--api-keys="$work/emulator-keys")
  fi
  "$emulator_bin" --http-port=0 --https-port=0 \
    --tls-cert="$work/certs/server.pem" --tls-key="$work/certs/server.key" \
    "${keys[@]}" --port-file="$work/ports.json" > "$work/emulator.log" 2>&1 &
  emulator_pid=$!
  wait_for 20 test -s "$work/ports.json" || fail "emulator did not start"
  emulator_https=$(jq -r .https "$work/ports.json")
  emulator_http=$(jq -r .http "$work/ports.json")
  control=http://127.0.0.1:$emulator_http/_emulator
}

# e2e_start_server [NAME=VALUE...]: the server against the emulator, with
# NAME=VALUE (DOJO_API_KEY, DOJO_WEBHOOK_SECRETS, ...) in its environment;
# its ports come from its "started" log line. It listens on $listen_addr if
# the caller sets it (e.g. to restart on the same port), else on a free port.
e2e_start_server() {
  local started pid log=$work/server.log store=sqlite:$work/payments.db
  if [ -n "${server_name:-}" ]; then log=$work/$server_name.log store=sqlite:$work/$server_name.db; fi
  # Plaintext unless the caller says otherwise (PAYMENTS_TLS=... in "$@").
  env PAYMENTS_TLS=off "$@" "$server_bin" --listen_addr="${listen_addr:-127.0.0.1:0}" --metrics_addr=127.0.0.1:0 \
    --store="$store" \
    --dojo_base_url="https://localhost:$emulator_https" \
    --dojo_ca_file="$work/certs/ca.pem" > "$log" 2>&1 &
  pid=$!
  if [ -n "${server_name:-}" ]; then extra_pids="$extra_pids $pid"; else server_pid=$pid; fi
  wait_for 20 grep -q '"event":"started"' "$log" || { tail -n 20 "$log" >&2; fail "server ${server_name:-} did not start"; }
  started=$(grep '"event":"started"' "$log")
  port=$(jq -r .port <<< "$started")
  metrics_port=$(jq -r .metrics_port <<< "$started")
  target=127.0.0.1:$port
}

# e2e_start_stack API_KEY WEBHOOK_SECRETS: the emulator accepting only
# API_KEY, and the server with DOJO_API_KEY=API_KEY and
# DOJO_WEBHOOK_SECRETS=WEBHOOK_SECRETS ("id=secret,...").
e2e_start_stack() {
  e2e_start_emulator "$1"
  e2e_start_server DOJO_API_KEY="$1" DOJO_WEBHOOK_SECRETS="$2"
}
