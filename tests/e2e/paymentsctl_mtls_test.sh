#!/usr/bin/env bash
# End-to-end: paymentsctl over mutual TLS. A server with PAYMENTS_TLS=mtls,
# certificates from scripts/gen-test-certs.sh and a caller policy:
#   - checkout (allowed CreateIntent and GetIntent) creates and reads an intent
#     with --tls --ca_file --cert_file --key_file;
#   - the same caller's refund exits 7 (PERMISSION_DENIED, CALLER_NOT_ALLOWED);
#   - no client certificate, or one from another CA, is refused (exit 14);
#   - ops (allowed everything) gets past the policy for the same refund.
#
# Usage: paymentsctl_mtls_test.sh SERVER_BIN EMULATOR_BIN GEN_CERTS_SCRIPT CTL_BIN
set -euo pipefail

server_bin=$1 emulator_bin=$2 gen_certs=$3 ctl_bin=$4
source "$(dirname "$0")/stack.sh"

api_key=sk_sandbox_mtls_Hq3LtdPm0m1w2n3o4p5q6r7s8t9u
e2e_start_emulator "$api_key"
# Client CA, checkout.pem/.key, ops.pem/.key, and rogue.pem/.key from another CA.
"$gen_certs" "$work/certs" checkout ops > /dev/null
id() { echo "spiffe://payments.test/ns/test/sa/$1"; }
jq -n --arg checkout "$(id checkout)" --arg ops "$(id ops)" '{callers: {
  ($checkout): {rpcs: ["CreateIntent", "GetIntent"], accounts: ["default"]},
  ($ops): {rpcs: ["*"], accounts: ["*"]}}}' > "$work/policy.json"
e2e_start_server DOJO_API_KEY="$api_key" PAYMENTS_TLS=mtls \
  PAYMENTS_TLS_CERT_FILE="$work/certs/server.pem" PAYMENTS_TLS_KEY_FILE="$work/certs/server.key" \
  PAYMENTS_TLS_CLIENT_CA_FILE="$work/certs/client-ca.pem" PAYMENTS_POLICY_FILE="$work/policy.json"

# ctl ARGS...: paymentsctl against the server; stdout in $work/out, stderr
# in $work/err, exit status in $code (never aborts the script).
ctl() {
  set +e
  "$ctl_bin" "$@" --target="$target" --deadline=10s > "$work/out" 2> "$work/err" < /dev/null
  code=$?
  set -e
}
# as NAME ARGS...: paymentsctl over TLS with NAME's client certificate.
as() {
  local name=$1; shift
  ctl "$@" --tls --ca_file="$work/certs/ca.pem" \
    --cert_file="$work/certs/$name.pem" --key_file="$work/certs/$name.key"
}
expect_code() {  # expect_code WANT WHAT
  [ "$code" -eq "$1" ] || fail "$2: exit $code, want $1"
}

# --- an allowed caller
as checkout create-intent --reference=MTLS-1 --amount=1000 --currency=GBP --json
expect_code 0 "create-intent as checkout"
id_=$(jq -r .intent.id "$work/out")
[[ $id_ == pi_sandbox_* ]] || fail "create-intent as checkout: id '$id_'"
as checkout get-intent --id="$id_" --json
expect_code 0 "get-intent as checkout"
[ "$(jq -r .intent.reference "$work/out")" = MTLS-1 ] || fail "get-intent returned another intent"
grep '^{' "$work/server.log" | jq -s -e --arg c "$(id checkout)" \
  'any(.[]; .event == "rpc" and .method == "CreateIntent" and .caller == $c)' > /dev/null ||
  fail "no rpc line with caller $(id checkout)"
pass "checkout over mTLS: create-intent and get-intent succeed, logged as its SPIFFE id"

# --- a caller the policy does not allow to refund
as checkout refund --id="$id_" --amount=100 --refund_key=mtls-refund-1
expect_code 7 "refund as checkout"
grep -q '^error: PERMISSION_DENIED (7): ' "$work/err" || fail "refund as checkout: error line"
grep -q 'reason: CALLER_NOT_ALLOWED' "$work/err" || fail "refund as checkout: reason"
pass "checkout's refund exits 7 (PERMISSION_DENIED, CALLER_NOT_ALLOWED)"

# --- the same refund by a caller allowed everything gets past the policy
# (Dojo refuses refunding an intent that was never paid, but not with 7).
as ops refund --id="$id_" --amount=100 --refund_key=mtls-refund-2
[ "$code" -ne 7 ] || fail "refund as ops: PERMISSION_DENIED"
grep -q 'CALLER_NOT_ALLOWED' "$work/err" && fail "refund as ops: CALLER_NOT_ALLOWED"
pass "ops's refund is not refused by the policy (exit $code)"

# --- no client certificate; a certificate from another CA; plaintext
ctl create-intent --reference=MTLS-2 --amount=1000 --currency=GBP --tls --ca_file="$work/certs/ca.pem"
[ "$code" -ne 0 ] || fail "create-intent without a client certificate succeeded"
expect_code 14 "create-intent without a client certificate"
as rogue create-intent --reference=MTLS-3 --amount=1000 --currency=GBP
expect_code 14 "create-intent with a certificate from another CA"
ctl create-intent --reference=MTLS-4 --amount=1000 --currency=GBP
expect_code 14 "create-intent in plaintext"
grep '^{' "$work/server.log" | jq -s -e '[.[] | select(.event == "rpc" or .event == "rpc_failed") |
  select(.method == "CreateIntent")] | length == 1' > /dev/null ||
  fail "a refused handshake reached CreateIntent"
pass "no client certificate, one from another CA, or plaintext: refused (exit 14), no call reached the server"

echo "paymentsctl over mTLS: $checks checks passed"
