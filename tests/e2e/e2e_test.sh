#!/usr/bin/env bash
# End-to-end: the built payments-server and dojo-emulator, driven through
# gRPC reflection by `buf curl` exactly as a person with grpcurl would.
#
# Usage: e2e_test.sh SERVER_BIN EMULATOR_BIN BUF_BIN GEN_CERTS_SCRIPT
set -euo pipefail

server_bin=$1 emulator_bin=$2 buf_bin=$3 gen_certs=$4
source "$(dirname "$0")/stack.sh"

# Fake credentials: still checked for leaks below.
api_key=sk_sandbox_e2e_Hq3LtdPm0m1w2n3o4p5q6r7s8t9u
webhook_secret=PDYkJQq6sESYHp_zJuTTBQ  # the secret of Dojo's docs vector

e2e_start_stack "$api_key" "docs=$webhook_secret"
target=http://$target

# The raw bytes of the first error detail of TYPE in buf's error JSON (FILE).
# buf curl prints details it cannot decode as base64; grep -a reads them.
detail_bytes() {
  local value
  value=$(jq -r --arg t "$1" '[.details[] | select(.type == $t)][0].value' "$2")
  while [ $(( ${#value} % 4 )) -ne 0 ]; do value="$value="; done
  printf '%s' "$value" | tr '_-' '/+' | base64 -d
}

call() {  # call METHOD JSON -> prints the response; exit status is buf's
  "$buf_bin" curl --protocol grpc --http2-prior-knowledge "$target/$1" -d "$2"
}

methods=$("$buf_bin" curl --protocol grpc --http2-prior-knowledge --list-methods "$target")
for m in payments.v1.PaymentsService/CreateIntent payments.v1.PaymentsService/GetIntent \
  payments.v1.PaymentsService/CreatePaymentLink \
  payments.v1.PaymentsService/RefreshClientSessionSecret \
  payments.v1.PaymentsService/VerifyWebhook grpc.health.v1.Health/Check \
  grpc.health.v1.Health/Watch; do
  grep -qx "$m" <<< "$methods" || fail "list-methods lacks $m"
done
pass "buf curl --list-methods lists the five RPCs and health"

[ "$(call grpc.health.v1.Health/Check '{}' | jq -r .status)" = SERVING ] || fail "overall health"
[ "$(call grpc.health.v1.Health/Check '{"service":"payments.v1.PaymentsService"}' | jq -r .status)" = SERVING ] ||
  fail "service health"
pass "health Check: overall and payments.v1.PaymentsService SERVING"

# Watch streams the current status first, then changes; end it after that.
watched=$(timeout 3 "$buf_bin" curl --protocol grpc --http2-prior-knowledge \
  "$target/grpc.health.v1.Health/Watch" -d '{"service":"payments.v1.PaymentsService"}' || true)
[ "$(jq -rs '.[0].status' <<< "$watched")" = SERVING ] || fail "health Watch"
pass "health Watch streams payments.v1.PaymentsService SERVING"

created=$(call payments.v1.PaymentsService/CreateIntent \
  '{"reference":"E2E-1","amount":{"value":1000,"currencyCode":"GBP"},"description":"e2e"}') ||
  fail "CreateIntent"
id=$(jq -r .intent.id <<< "$created")
[[ $id == pi_sandbox_* ]] || fail "CreateIntent id '$id'"
[ "$(jq -r .intent.status <<< "$created")" = PAYMENT_INTENT_STATUS_CREATED ] || fail "CreateIntent status"
held=$(curl -sf "http://127.0.0.1:$(jq -r .http "$work/ports.json")/_emulator/payment-intents/$id")
[ "$(jq -r .reference <<< "$held")" = E2E-1 ] || fail "emulator does not hold $id"
pass "CreateIntent created $id at the emulator"

got=$(call payments.v1.PaymentsService/GetIntent "{\"id\":\"$id\"}") || fail "GetIntent"
[ "$(jq -r '.intent.id + " " + .intent.reference + " " + .intent.amount.value' <<< "$got")" = "$id E2E-1 1000" ] ||
  fail "GetIntent returned another intent"
pass "GetIntent returns what the emulator holds"

link=$(call payments.v1.PaymentsService/CreatePaymentLink \
  '{"reference":"E2E-link","amount":{"value":2500,"currencyCode":"EUR"}}') || fail "CreatePaymentLink"
link_id=$(jq -r .intent.id <<< "$link")
[[ $(jq -r .paymentLink <<< "$link") == https://pay.dojo.tech*/checkout/$link_id ]] || fail "payment link"
[ "$(jq -r .expiresAt <<< "$link")" != null ] || fail "payment link expiry"
pass "CreatePaymentLink returns the checkout link and its expiry"

secret=$(call payments.v1.PaymentsService/RefreshClientSessionSecret "{\"id\":\"$id\"}") ||
  fail "RefreshClientSessionSecret"
client_secret=$(jq -r .clientSessionSecret <<< "$secret")
[ -n "$client_secret" ] && [ "$client_secret" != null ] || fail "no client session secret"
[ "$(jq -r .expiresAt <<< "$secret")" != null ] || fail "secret expiry"
pass "RefreshClientSessionSecret issues a secret with its expiry"

docs_body='{"id":"evt_hnnHxIKR_Uy6bhZCusCltw","event":"payment_intent.created","accountId":"acc_test","createdAt":"2022-02-01T13:07:41.8667859Z","data":{"paymentIntentId":"pi_vpwd4ooAPEqyNAQe4z89WQ","paymentStatus":"Created","captureMode":"Auto"}}'
docs_signature=sha256=4B-49-F8-FE-25-A7-E6-7D-00-4F-A7-9C-F8-0B-63-00-C7-77-B4-F2-2D-E5-E1-22-84-FA-04-18-50-A1-76-FD
body_b64=$(printf '%s' "$docs_body" | base64 -w0)
verified=$(call payments.v1.PaymentsService/VerifyWebhook \
  "{\"body\":\"$body_b64\",\"signature\":\"$docs_signature\"}") || fail "VerifyWebhook docs vector"
[ "$(jq -r '.matchedSecretId + " " + .event.id + " " + .event.paymentStatus' <<< "$verified")" = \
  "docs evt_hnnHxIKR_Uy6bhZCusCltw PAYMENT_INTENT_STATUS_CREATED" ] || fail "VerifyWebhook event"
pass "VerifyWebhook accepts the docs' vector"

tampered_b64=$(printf '%s' "${docs_body/Created/created}" | base64 -w0)
set +e
call payments.v1.PaymentsService/VerifyWebhook \
  "{\"body\":\"$tampered_b64\",\"signature\":\"$docs_signature\"}" > "$work/out" 2>&1
code=$?
set -e
[ $code -eq $((8 * 16)) ] || fail "tampered webhook: buf exit $code, want UNAUTHENTICATED"
detail_bytes google.rpc.ErrorInfo "$work/out" | grep -aq SIGNATURE_MISMATCH || fail "tampered webhook: no SIGNATURE_MISMATCH detail"
pass "a one-byte change to the body gives UNAUTHENTICATED SIGNATURE_MISMATCH"

set +e
call payments.v1.PaymentsService/CreateIntent '{"reference":"","amount":{"value":0,"currencyCode":"GBP"}}' \
  > "$work/out" 2>&1
code=$?
set -e
[ $code -eq $((8 * 3)) ] || fail "invalid CreateIntent: buf exit $code, want INVALID_ARGUMENT"
detail_bytes google.rpc.BadRequest "$work/out" | grep -aq amount.value || fail "invalid CreateIntent: no field violation"
pass "invalid input gives INVALID_ARGUMENT with field violations"

metrics=$(curl -sf "http://127.0.0.1:$metrics_port/metrics") || fail "scrape /metrics"
for m in CreateIntent GetIntent CreatePaymentLink RefreshClientSessionSecret VerifyWebhook; do
  grep -Eq "^grpc_server_handled_total\{grpc_code=\"OK\",grpc_method=\"$m\",grpc_service=\"payments.v1.PaymentsService\",grpc_type=\"unary\"\} [1-9]" \
    <<< "$metrics" || fail "/metrics lacks an OK count for $m"
done
grep -Eq '^grpc_server_handled_total\{grpc_code="UNAUTHENTICATED",grpc_method="VerifyWebhook".* 1$' <<< "$metrics" ||
  fail "/metrics lacks the UNAUTHENTICATED VerifyWebhook"
pass "/metrics counts grpc_server_handled_total per method and code"

kill -TERM "$server_pid"
set +e
wait "$server_pid"
code=$?
set -e
server_pid=""
[ $code -eq 0 ] || fail "SIGTERM: exit $code"
grep -q '"event":"stopped"' "$work/server.log" || fail "SIGTERM: no clean stop"
pass "SIGTERM drains and exits 0"

for s in "$api_key" "$webhook_secret" "$client_secret"; do
  if grep -qF -- "$s" "$work/server.log" || grep -qF -- "$s" <<< "$metrics"; then
    fail "a secret appears in the server log or metrics"
  fi
done
pass "no API key, webhook secret or client session secret in logs or metrics"

echo "e2e: $checks checks passed"
