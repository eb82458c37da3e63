#!/usr/bin/env bash
# A read retried across a server restart succeeds (proto/service_config.json:
# waitForReady and the read retry policy).
#
# On a fresh stack, loops of GetIntent on one long-lived channel each, with
# proto/service_config.json, run while the server is stopped (SIGTERM), left
# down for 5 s and started again on the same port:
#   - Python (Debian's grpcio, the channel of examples/python), and
#   - C++ (the client library, which has the file compiled in):
#     every call must succeed, and at least one must have waited across the
#     restart (the loop's slowest call took over 1 s).
#   - Control: Python with the same file less waitForReady must see a
#     failure (its retries give up within about 3 s of backoff), so that this
#     test would catch the gap it covers.
#
# Usage: read_across_restart_test.sh SERVER_BIN EMULATOR_BIN GEN_CERTS_SCRIPT READ_LOOP_BIN REPO_ROOT
set -euo pipefail

server_bin=$1 emulator_bin=$2 gen_certs=$3 read_loop_bin=$4 repo=$5
source "$(dirname "$0")/stack.sh"
loop_pids=""
stop_loops() { local pid; for pid in $loop_pids; do kill -TERM "$pid" 2>/dev/null || true; done; }
trap 'stop_loops; e2e_cleanup' EXIT

mkdir -p "$work/stubs"
protoc -I "$repo/proto" --python_out="$work/stubs" --grpc_python_out="$work/stubs" \
  --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
  payments/v1/payments_service.proto google/rpc/status.proto google/rpc/error_details.proto
config=$repo/proto/service_config.json
jq 'del(.methodConfig[].waitForReady)' "$config" > "$work/no-wait-for-ready.json"
py_loop() { /usr/bin/python3 "$(dirname "$0")/read_loop.py" --target "$target" --stubs "$work/stubs" "$@"; }

e2e_start_stack sk_sandbox_restart_test "local=whsec_restart"
id=$(py_loop --service-config "$config" --create --seconds 0 | sed -n 's/^created //p')
[[ $id == pi_sandbox_* ]] || fail "no intent created"
pass "created $id"

seconds=12
py_loop --service-config "$config" --id "$id" --seconds $seconds > "$work/python.out" 2>&1 &
python_pid=$!
"$read_loop_bin" "$target" "$id" $seconds > "$work/cpp.out" 2>&1 &
cpp_pid=$!
py_loop --service-config "$work/no-wait-for-ready.json" --id "$id" --seconds $seconds \
  > "$work/control.out" 2>&1 &
control_pid=$!
loop_pids="$python_pid $cpp_pid $control_pid"

sleep 2
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""
mv "$work/server.log" "$work/server-1.log"
pass "server stopped (SIGTERM) under the loops"
sleep 5    # longer than the read retries' backoff can span (about 3 s)
first_target=$target
listen_addr=$target e2e_start_server DOJO_API_KEY=sk_sandbox_restart_test DOJO_WEBHOOK_SECRETS=local=whsec_restart
[ "$target" = "$first_target" ] || fail "the server came back on $target, not $first_target"
pass "server started again on $target"

python_status=0 cpp_status=0 control_status=0
wait $python_pid || python_status=$?
wait $cpp_pid || cpp_status=$?
wait $control_pid || control_status=$?
loop_pids=""
for name in python cpp control; do echo "--- $name"; cat "$work/$name.out"; done

slowest() { sed -n 's/^calls [0-9]* failed [0-9]* slowest //p' "$1"; }
for name in python cpp; do
  status_var=${name}_status
  [ "${!status_var}" -eq 0 ] || fail "$name: a read failed across the restart"
  awk -v s="$(slowest "$work/$name.out")" 'BEGIN { exit !(s > 1.0) }' ||
    fail "$name: no call waited across the restart (slowest $(slowest "$work/$name.out") s)"
  pass "$name: every read succeeded across the restart (slowest $(slowest "$work/$name.out") s)"
done
[ "$control_status" -ne 0 ] || fail "control without waitForReady never failed: the test cannot tell"
pass "control: without waitForReady a read failed ($(grep -m1 '^FAIL' "$work/control.out"))"
echo "read across restart: $checks checks passed"
