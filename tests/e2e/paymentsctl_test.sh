#!/usr/bin/env bash
# End-to-end: paymentsctl and the client library's example program against
# the built payments-server and dojo-emulator (HTTPS, throwaway CA).
# Every subcommand, the exit codes (gRPC code; 64 for usage errors), the
# error block, verify-webhook with Dojo's documented vector from a file and
# from stdin, and that a client session secret is only printed on request.
#
# Usage: paymentsctl_test.sh SERVER_BIN EMULATOR_BIN GEN_CERTS_SCRIPT CTL_BIN EXAMPLE_BIN
set -euo pipefail

server_bin=$1 emulator_bin=$2 gen_certs=$3 ctl_bin=$4 example_bin=$5
source "$(dirname "$0")/stack.sh"

api_key=sk_sandbox_ctl_Hq3LtdPm0m1w2n3o4p5q6r7s8t9u
webhook_secret=PDYkJQq6sESYHp_zJuTTBQ  # the secret of Dojo's docs vector

e2e_start_stack "$api_key" "docs=$webhook_secret"

# ctl ARGS... : runs paymentsctl; stdout in $work/out, stderr in $work/err,
# exit status in $code (never aborts the script).
ctl() {
  set +e
  "$ctl_bin" "$@" --target="$target" > "$work/out" 2> "$work/err" < "${ctl_stdin:-/dev/null}"
  code=$?
  set -e
}
expect_code() {  # expect_code WANT WHAT
  [ "$code" -eq "$1" ] || fail "$2: exit $code, want $1"
}

# --- health
ctl health; expect_code 0 "health"
[ "$(cat "$work/out")" = SERVING ] || fail "health output"
ctl health --service=payments.v1.PaymentsService; expect_code 0 "health of the service"
ctl health --service=no.such.Service; expect_code 5 "health of an unknown service"
pass "health: SERVING exits 0, an unknown service exits 5 (NOT_FOUND)"

# --- create-intent (human and JSON), idempotent replay
ctl create-intent --reference=CTL-1 --amount=1000 --currency=GBP --description="Two coffees"
expect_code 0 "create-intent"
grep -Eq '^intent +pi_sandbox_' "$work/out" || fail "create-intent: no intent id"
grep -Eq '^status +CREATED$' "$work/out" || fail "create-intent: status"
grep -Eq '^amount +10.00 GBP$' "$work/out" || fail "create-intent: amount"
id=$(awk '$1 == "intent" {print $2}' "$work/out")
ctl create-intent --reference=CTL-1b --amount=1000 --currency=GBP --json
expect_code 0 "create-intent --json"
[[ $(jq -r .intent.id "$work/out") == pi_sandbox_* ]] || fail "create-intent --json: id"
[ "$(jq -r .intent.status "$work/out")" = PAYMENT_INTENT_STATUS_CREATED ] || fail "create-intent --json: status"
pass "create-intent creates $id (human summary and --json)"

# --- get-intent
ctl get-intent --id="$id" --json; expect_code 0 "get-intent"
[ "$(jq -r '.intent.reference + " " + .intent.amount.value' "$work/out")" = "CTL-1 1000" ] ||
  fail "get-intent returned another intent"
pass "get-intent reads it back"

# --- create-link (dash-style flags too)
ctl create-link --reference=CTL-link --amount=2500 --currency=EUR --title="Invoice 7" \
  --redirect-url=https://shop.example/thanks --expire-in=48h
expect_code 0 "create-link"
link=$(awk '$1 == "payment" && $2 == "link" {print $3}' "$work/out")
[[ $link == https://pay.dojo.tech*/checkout/pi_sandbox_* ]] || fail "create-link: link '$link'"
grep -Eq '^link expires at +20[0-9-]+T' "$work/out" || fail "create-link: expiry"
pass "create-link prints the hosted checkout link and its expiry"

# --- refresh-secret: hidden by default, shown on request
ctl refresh-secret --id="$id"; expect_code 0 "refresh-secret"
grep -q 'hidden' "$work/out" || fail "refresh-secret printed the secret without --show_secret"
ctl refresh-secret --id="$id" --json; expect_code 0 "refresh-secret --json"
secret=$(jq -r .clientSessionSecret "$work/out")
[ -n "$secret" ] && [ "$secret" != null ] || fail "refresh-secret --json: no secret"
ctl refresh-secret --id="$id" --show_secret; expect_code 0 "refresh-secret --show_secret"
grep -Eq '^client session secret +[^( ]' "$work/out" || fail "--show_secret did not print it"
pass "refresh-secret: secret hidden in the summary, printed with --json or --show_secret"

# --- components: create with a client session secret; virtual terminal
ctl create-intent --reference=CTL-components --amount=1500 --payment_methods=card,wallet \
  --include_client_session_secret --capture_mode=manual --json
expect_code 0 "create-intent with a client session secret"
[ "$(jq -r '.intent.clientSessionSecret | length > 0' "$work/out")" = true ] || fail "no secret on create"
[ "$(jq -r .intent.captureMode "$work/out")" = CAPTURE_MODE_MANUAL ] || fail "capture mode"
ctl create-intent --reference=CTL-moto --amount=900 --card_holder_not_present
expect_code 0 "create-intent card holder not present"
grep -Eq '^card holder not present +yes$' "$work/out" || fail "cardHolderNotPresent not set"
pass "create-intent --include_client_session_secret and --card_holder_not_present"

# --- --request_json with flags overriding it
printf '%s' '{"reference":"from-json","amount":{"value":5,"currencyCode":"GBP"},"metadata":{"order":"77"}}' \
  > "$work/request.json"
ctl create-intent --request_json="$work/request.json" --reference=CTL-json --amount=777 --json
expect_code 0 "create-intent --request_json"
[ "$(jq -r '.intent.reference + " " + .intent.amount.value + " " + .intent.metadata.order' "$work/out")" = \
  "CTL-json 777 77" ] || fail "--request_json merge"
pass "create-intent --request_json=FILE, flags override its fields"

# --- verify-webhook: Dojo's documented vector, from a file and from stdin
docs_signature=sha256=4B-49-F8-FE-25-A7-E6-7D-00-4F-A7-9C-F8-0B-63-00-C7-77-B4-F2-2D-E5-E1-22-84-FA-04-18-50-A1-76-FD
printf '%s' '{"id":"evt_hnnHxIKR_Uy6bhZCusCltw","event":"payment_intent.created","accountId":"acc_test","createdAt":"2022-02-01T13:07:41.8667859Z","data":{"paymentIntentId":"pi_vpwd4ooAPEqyNAQe4z89WQ","paymentStatus":"Created","captureMode":"Auto"}}' \
  > "$work/body.json"
ctl verify-webhook --body-file="$work/body.json" --signature="$docs_signature"
expect_code 0 "verify-webhook (file)"
grep -Eq "^signature +valid \(secret 'docs'\)$" "$work/out" || fail "verify-webhook: matched secret"
grep -Eq '^event +evt_hnnHxIKR_Uy6bhZCusCltw$' "$work/out" || fail "verify-webhook: event id"
grep -Eq '^payment intent +pi_vpwd4ooAPEqyNAQe4z89WQ$' "$work/out" || fail "verify-webhook: intent"
ctl_stdin=$work/body.json ctl verify-webhook --body_file=- --signature="$docs_signature" --json
expect_code 0 "verify-webhook (stdin)"
[ "$(jq -r '.event.type + " " + .event.paymentStatus' "$work/out")" = \
  "payment_intent.created PAYMENT_INTENT_STATUS_CREATED" ] || fail "verify-webhook stdin event"
pass "verify-webhook accepts the docs' vector from a file and from stdin"

printf '%s\n' "$(cat "$work/body.json")" > "$work/body-newline.json"
ctl verify-webhook --body-file="$work/body-newline.json" --signature="$docs_signature"
expect_code 16 "verify-webhook with one extra byte"
grep -q '^error: UNAUTHENTICATED (16): ' "$work/err" || fail "bad signature: error line"
grep -q 'reason: SIGNATURE_MISMATCH' "$work/err" || fail "bad signature: reason"
ctl verify-webhook --body-file="$work/body.json"
expect_code 16 "verify-webhook without a signature"
grep -q 'reason: SIGNATURE_MISSING' "$work/err" || fail "missing signature: reason"
pass "a bad or missing signature exits 16 (UNAUTHENTICATED) with the reason"

# --- error blocks and exit codes
ctl create-intent --reference=CTL-bad --amount=0 --currency=GBP
expect_code 3 "invalid create-intent"
grep -q '^error: INVALID_ARGUMENT (3): ' "$work/err" || fail "invalid: error line"
grep -q '^  field amount.value: ' "$work/err" || fail "invalid: field violation"
[ ! -s "$work/out" ] || fail "invalid: something on stdout"
ctl get-intent --id=pi_sandbox_doesNotExist0000000000
expect_code 5 "get-intent of a missing intent"
grep -q '^error: NOT_FOUND (5): ' "$work/err" || fail "not found: error line"
grep -q 'reason: DOJO_NOT_FOUND' "$work/err" || fail "not found: reason"
pass "exit 3 with field violations for an invalid argument, 5 for a missing intent"

set +e
"$ctl_bin" refresh-secret --id=pi_x --target=127.0.0.1:1 --deadline=5s > /dev/null 2> "$work/err"
code=$?
set -e
expect_code 14 "unreachable server"
grep -q '^error: UNAVAILABLE (14)' "$work/err" || fail "unreachable: error line"
curl -sf "$control/faults" -d '{"method":"GET","path":"/payment-intents/*","responses":[{"delayMs":3000}]}' \
  > /dev/null || fail "fault"
ctl get-intent --id="$id" --deadline=500ms
expect_code 4 "get-intent past its deadline"
curl -sf -X DELETE "$control/faults" > /dev/null
pass "exit 14 when unreachable, 4 when --deadline passes"

for args in "" "frobnicate" "get-intent" "get-intent --id=x --amount=5" "create-intent --amount=ten" \
  "create-intent --capture_mode=later --reference=x --amount=1" "verify-webhook --signature=x" \
  "verify-webhook --body_file=$work/missing --signature=x" "get-intent --id=x stray"; do
  # shellcheck disable=SC2086
  ctl $args
  expect_code 64 "usage error '$args'"
  grep -q 'paymentsctl' "$work/err" || fail "usage error '$args': no message"
done
ctl get-intent --help; expect_code 0 "get-intent --help"
grep -q -- '--return_canceled' "$work/out" || fail "get-intent --help lists its flags"
pass "usage errors exit 64 with a message; --help per command"

# --- the client library's example program
set +e
"$example_bin" "$target" > "$work/out" 2> "$work/err"
code=$?
set -e
expect_code 0 "example program"
grep -q '^created pi_sandbox_' "$work/out" || fail "example: created line"
grep -q '^status PAYMENT_INTENT_STATUS_CREATED, amount 1250 GBP$' "$work/out" || fail "example: status line"
# The library waits for a connection (proto/service_config.json's
# waitForReady) up to the example's 5 s deadline; paymentsctl does not wait.
set +e
"$example_bin" 127.0.0.1:1 > /dev/null 2> "$work/err"
code=$?
set -e
expect_code 4 "example program, unreachable (waits for its deadline)"
pass "client library example: create then get, exit status = gRPC code"

for s in "$api_key" "$webhook_secret"; do
  grep -qF -- "$s" "$work/server.log" && fail "a secret appears in the server log"
done
pass "no key or webhook secret in the server log"

echo "paymentsctl: $checks checks passed"
