#!/usr/bin/env bash
# grpc.reflection.v1 beside v1alpha, request ids and the access log, through
# buf curl against a fresh stack:
#   - buf curl with --reflect-protocol grpc-v1 lists the same services as
#     with grpc-v1alpha, describes every method, and calls GetIntent.
#   - x-request-id: a valid one comes back in the response headers (on an
#     error too) and in the call's log line; a 65-character one is replaced
#     by a generated id, returned with x-request-id-rejected: too_long and
#     logged as request_id_rejected; none sent gives a generated one.
#   - The access log: an rpc line for a success (service, method, code,
#     duration, account, traceparent); an rpc_failed line for a failure with
#     the ErrorInfo reason and Dojo's trace id; the account as sent.
#   - PAYMENTS_ACCESS_LOG_SAMPLE_RATIO=0: no rpc lines, rpc_failed still.
#
# Usage: reflection_access_log_test.sh SERVER_BIN EMULATOR_BIN GEN_CERTS_SCRIPT BUF_BIN
set -euo pipefail

server_bin=$1 emulator_bin=$2 gen_certs=$3 buf_bin=$4
source "$(dirname "$0")/stack.sh"

buf() { "$buf_bin" curl --protocol grpc --http2-prior-knowledge "$@"; }
# call [buf curl flags...] METHOD JSON: response on $work/out, -v trace on $work/err.
call() {
  local n=$(($# - 1))
  buf -v "${@:1:$((n - 1))}" -d "${!#}" "http://$target/payments.v1.PaymentsService/${!n}" \
    > "$work/out" 2> "$work/err"
}
header() { sed -n "s/^buf: < (#[0-9]*) $1: //Ip" "$work/err" | tr -d '\r' | tail -n 1; }
log_line() { grep '^{' "$work/server.log" | jq -c "select($1)" | tail -n 1; }

e2e_start_stack sk_sandbox_access_log "local=whsec_access_log"

# --- reflection v1
buf --reflect-protocol grpc-v1 --list-services "http://$target" > "$work/v1.txt" ||
  fail "grpc.reflection.v1: list services"
buf --reflect-protocol grpc-v1alpha --list-services "http://$target" > "$work/v1alpha.txt" ||
  fail "grpc.reflection.v1alpha: list services"
diff "$work/v1.txt" "$work/v1alpha.txt" > /dev/null || fail "v1 and v1alpha list different services"
for s in payments.v1.PaymentsService grpc.health.v1.Health grpc.reflection.v1.ServerReflection \
         grpc.reflection.v1alpha.ServerReflection; do
  grep -qx "$s" "$work/v1.txt" || fail "v1 does not list $s"
done
buf --reflect-protocol grpc-v1 --list-methods "http://$target" > "$work/methods.txt" ||
  fail "grpc.reflection.v1: describe every service"
grep -qx 'payments.v1.PaymentsService/GetIntent' "$work/methods.txt" || fail "v1: no GetIntent"
pass "grpc.reflection.v1 lists what v1alpha lists and describes every method"

call --reflect-protocol grpc-v1 CreateIntent '{"reference":"refl-1","amount":{"value":100,"currencyCode":"GBP"}}' ||
  fail "CreateIntent through v1 reflection"
id=$(jq -r .intent.id "$work/out")
grep -q 'ServerReflection/ServerReflectionInfo' "$work/err" &&
  grep -q 'POST /grpc.reflection.v1.ServerReflection/' "$work/err" || fail "buf curl did not use v1"
pass "a call resolved through grpc.reflection.v1 ($id)"

# --- request ids and the access log
traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
call -H 'x-request-id: e2e-ok-1' -H "traceparent: $traceparent" GetIntent '{"id":"'"$id"'"}' ||
  fail "GetIntent"
[ "$(header x-request-id)" = e2e-ok-1 ] || fail "x-request-id not echoed: $(header x-request-id)"
line=$(log_line '.request_id == "e2e-ok-1"')
jq -e --arg tp "$traceparent" '.event == "rpc" and .level == "info" and
  .service == "payments.v1.PaymentsService" and .method == "GetIntent" and .code == "OK" and
  .account == "default" and .traceparent == $tp and (.duration_ms | type == "number")' <<< "$line" \
  > /dev/null || fail "rpc line: $line"
pass "x-request-id echoed; rpc line with method, code, duration, account, traceparent"

call -H 'x-request-id: e2e-err-1' GetIntent '{"id":"pi_sandbox_nothere"}' && fail "unknown intent: want an error"
[ "$(header x-request-id)" = e2e-err-1 ] || fail "x-request-id not echoed on an error"
line=$(log_line '.request_id == "e2e-err-1"')
jq -e '.event == "rpc_failed" and .level == "warning" and .code == "NOT_FOUND" and
  .reason == "DOJO_NOT_FOUND" and (.dojo_trace_id | length > 0) and (.message | length > 0)' \
  <<< "$line" > /dev/null || fail "rpc_failed line: $line"
pass "x-request-id on an error; rpc_failed line with reason and Dojo's trace id"

long=$(printf 'x%.0s' {1..65})
call -H "x-request-id: $long" GetIntent '{"id":"'"$id"'"}' || fail "GetIntent with a long id"
generated=$(header x-request-id)
[[ $generated =~ ^[0-9a-f]{16}$ ]] || fail "no generated id for a 65-character one: '$generated'"
[ "$(header x-request-id-rejected)" = too_long ] || fail "x-request-id-rejected: '$(header x-request-id-rejected)'"
line=$(log_line ".request_id == \"$generated\"")
jq -e '.request_id_rejected == "too_long"' <<< "$line" > /dev/null || fail "rejected id not logged: $line"
grep -q "$long" "$work/server.log" && fail "the rejected id was logged"
pass "a 65-character id is replaced, returned with x-request-id-rejected: too_long, and logged so"

call GetIntent '{"id":"'"$id"'"}' || fail "GetIntent without an id"
generated=$(header x-request-id)
[[ $generated =~ ^[0-9a-f]{16}$ ]] || fail "no generated id: '$generated'"
[ -z "$(header x-request-id-rejected)" ] || fail "x-request-id-rejected without a sent id"
pass "no id sent: a generated one comes back ($generated)"

call -H 'x-request-id: e2e-account' GetIntent '{"id":"'"$id"'","account":"nope"}' &&
  fail "unknown account: want an error"
line=$(log_line '.request_id == "e2e-account"')
jq -e '.account == "nope" and .code == "INVALID_ARGUMENT" and .reason == "UNKNOWN_ACCOUNT"' \
  <<< "$line" > /dev/null || fail "account line: $line"
pass "the account is logged as sent"
grep -q sk_sandbox_access_log "$work/server.log" && fail "the API key reached the log"

# --- sampling: successes off, failures still logged
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
e2e_start_server DOJO_API_KEY=sk_sandbox_access_log DOJO_WEBHOOK_SECRETS=local=whsec_access_log \
  PAYMENTS_ACCESS_LOG_SAMPLE_RATIO=0
call -H 'x-request-id: sampled-ok' GetIntent '{"id":"'"$id"'"}' || fail "GetIntent"
call -H 'x-request-id: sampled-err' GetIntent '{"id":"pi_sandbox_nothere"}' && fail "want an error"
[ -z "$(log_line '.request_id == "sampled-ok"')" ] || fail "ratio 0 logged a success"
[ -n "$(log_line '.request_id == "sampled-err" and .event == "rpc_failed"')" ] ||
  fail "ratio 0 dropped a failure"
pass "PAYMENTS_ACCESS_LOG_SAMPLE_RATIO=0: no rpc lines, rpc_failed lines kept"
echo "reflection and access log: $checks checks passed"
