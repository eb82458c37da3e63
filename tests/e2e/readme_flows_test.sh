#!/usr/bin/env bash
# The README's payment flows, run as written so they cannot rot.
#
# Extracts every fenced block opened with ```sh flow from MARKDOWN and runs
# them in order, in one bash shell (set -euo pipefail), against a fresh
# stack configured like ./scripts/run-local.sh: the same webhook secret and
# a sandbox API key. Two things differ, both on ports, so that the test can
# run beside other tests and a local run: paymentsctl's default target comes
# from PAYMENTSCTL_TARGET, and the emulator's control URL
# http://127.0.0.1:8080 is rewritten to the emulator's real port. The blocks
# run in a scratch directory with paymentsctl first on PATH.
#
# Usage: readme_flows_test.sh MARKDOWN SERVER_BIN EMULATOR_BIN GEN_CERTS_SCRIPT CTL_BIN
set -euo pipefail

markdown=$1 server_bin=$2 emulator_bin=$3 gen_certs=$4 ctl_bin=$5
work=$(mktemp -d)
emulator_pid="" server_pid=""
cleanup() {
  for pid in $server_pid $emulator_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL $*" >&2
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

# --- the flow blocks, in order; each is preceded by a marker line so that
# a failure can be traced to its block.
awk '
  /^```sh flow[[:space:]]*$/ { inside = 1; n++; printf "echo \"--- flow block %d (line %d)\"\n", n, NR; next }
  inside && /^```[[:space:]]*$/ { inside = 0; next }
  inside { print }
' "$markdown" > "$work/flows.sh"
blocks=$(grep -c '^echo "--- flow block' "$work/flows.sh" || true)
[ "$blocks" -ge 5 ] || fail "found $blocks \`\`\`sh flow blocks in $markdown, want at least 5"

# --- a fresh stack, as run-local.sh configures it (see there).
"$gen_certs" "$work/certs" > /dev/null
"$emulator_bin" --http-port=0 --https-port=0 \
  --tls-cert="$work/certs/server.pem" --tls-key="$work/certs/server.key" \
  --port-file="$work/ports.json" > "$work/emulator.log" 2>&1 &
emulator_pid=$!
wait_for 20 test -s "$work/ports.json" || fail "emulator did not start"
https_port=$(jq -r .https "$work/ports.json")
http_port=$(jq -r .http "$work/ports.json")

DOJO_API_KEY=sk_sandbox_local_demo_key DOJO_WEBHOOK_SECRETS=local=whsec_local_demo_secret \
  "$server_bin" --listen_addr=127.0.0.1:0 --metrics_addr=127.0.0.1:0 \
  --store="sqlite:$work/payments.db" \
  --dojo_base_url="https://localhost:$https_port" \
  --dojo_ca_file="$work/certs/ca.pem" > "$work/server.log" 2>&1 &
server_pid=$!
wait_for 20 grep -q '"event":"started"' "$work/server.log" || fail "server did not start"
port=$(jq -r .port <<< "$(grep '"event":"started"' "$work/server.log")")

sed -i "s#http://127\.0\.0\.1:8080#http://127.0.0.1:$http_port#g" "$work/flows.sh"
mkdir -p "$work/bin" "$work/run"
ln -s "$(realpath "$ctl_bin")" "$work/bin/paymentsctl"

set +e
(cd "$work/run" &&
  PATH=$work/bin:$PATH PAYMENTSCTL_TARGET=127.0.0.1:$port \
  bash -euo pipefail "$work/flows.sh") > "$work/flows.out" 2>&1
code=$?
set -e
cat "$work/flows.out"
[ $code -eq 0 ] || fail "the flows exited $code (see the last flow block above)"

# The flows' own checks ran under set -e; these confirm they reached the end.
grep -q '^order Order-[0-9]* paid$' "$work/flows.out" || fail "checkout flow did not finish"
grep -q '^fulfil the order of pi_sandbox_' "$work/flows.out" || fail "webhook not handled"
grep -q '^duplicate evt_.*: ignored$' "$work/flows.out" || fail "duplicate webhook not ignored"
grep -q '^exit 16 ' "$work/flows.out" || fail "docs vector with another secret: want exit 16"
echo "readme flows: $blocks blocks ran"
