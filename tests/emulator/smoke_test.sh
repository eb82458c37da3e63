#!/usr/bin/env bash
# Black-box smoke test of dojo-emulator with curl.
# Usage: tests/emulator/smoke_test.sh PATH/TO/dojo-emulator
# Needs curl, openssl and python3; uses scripts/gen-test-certs.sh for TLS.
set -euo pipefail

bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  # Kept for the whole-suite secrets scan (scripts/scan-secrets.sh).
  [ -n "${PAYMENTS_TEST_KEEP_DIRS:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

"$here/../../scripts/gen-test-certs.sh" "$work/certs"
printf 'alice=sk_sandbox_alice_key\nbob=sk_sandbox_bob_key\n' >"$work/keys"
printf 'carol=sk_sandbox_carol_key\n' >"$work/forbidden"
"$bin" --http-port=0 --https-port=0 --tls-cert="$work/certs/server.pem" \
  --tls-key="$work/certs/server.key" --api-keys="$work/keys" \
  --forbidden-keys="$work/forbidden" --port-file="$work/ports.json" \
  >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 50); do [[ -s $work/ports.json ]] && break; sleep 0.1; done
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
http=$(json 'd["http"]' <"$work/ports.json")
https=$(json 'd["https"]' <"$work/ports.json")
B=http://127.0.0.1:$http
S=https://localhost:$https
A='Authorization: Basic sk_sandbox_alice_key'
Bob='Authorization: Basic sk_sandbox_bob_key'
V='version: 2026-02-27'
C='Content-Type: application/json'
failures=0
expect() {  # expect NAME WANT GOT
  if [[ $2 == "$3" ]]; then echo "ok   $1"; else
    echo "FAIL $1: want '$2', got '$3'"; failures=$((failures + 1)); fi
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }
create='{"amount":{"value":1000,"currencyCode":"GBP"},"reference":"smoke-1"}'

expect "health https" '{"ok":true}' "$(curl -s --cacert "$work/certs/ca.pem" $S/_emulator/health)"
out=$(curl -s $B/payment-intents -H "$A" -H "$V" -H "$C" -d "$create")
id=$(json 'd["id"]' <<<"$out")
expect "create id" 1 "$([[ $id =~ ^pi_sandbox_[A-Za-z0-9_-]{22}$ ]] && echo 1)"
expect "create status" Created "$(json 'd["status"]' <<<"$out")"
expect "create no secret" "False 0001-01-01T00:00:00Z" "$(json '"clientSessionSecret" in d, d["clientSessionSecretExpirationDate"]' <<<"$out")"
expect "unknown field" 400 "$(code $B/payment-intents -H "$A" -H "$V" -H "$C" -d '{"amount":{"value":1,"currencyCode":"GBP"},"reference":"r","x":1}')"
out=$(curl -s $B/payment-intents -H "$A" -H "$V" -H "$C" -d '{"amount":{"value":"1000","currencyCode":"GBP"},"reference":"r"}')
expect "amount string" "['Amount.Value']" "$(json 'list(d["errors"])' <<<"$out")"
expect "missing key" "401 0" "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' $B/payment-intents -H "$V" -d "$create")"
expect "forbidden key" 403 "$(code $B/payment-intents -H 'Authorization: Basic sk_sandbox_carol_key' -H "$V" -d "$create")"
expect "missing version" 400 "$(code $B/payment-intents -H "$A" -d "$create")"
expect "get own" 200 "$(code $B/payment-intents/$id -H "$A" -H "$V")"
expect "get other account" 404 "$(code $B/payment-intents/$id -H "$Bob" -H "$V")"
out=$(curl -s -X POST $B/payment-intents/$id/refresh-client-session-secret -H "$A" -H "$V")
expect "refresh secret" True "$(json 'len(d["clientSessionSecret"]) > 40 and d["clientSessionSecretExpirationDate"] > "2000"' <<<"$out")"
expect "cancel" Canceled "$(curl -s -X DELETE $B/payment-intents/$id -H "$A" -H "$V" | json 'd["status"]')"
expect "cancel twice" 409 "$(code -X DELETE $B/payment-intents/$id -H "$A" -H "$V")"
expect "get canceled" 404 "$(code $B/payment-intents/$id -H "$A" -H "$V")"
expect "get returnCanceled" 200 "$(code "$B/payment-intents/$id?returnCanceled=true" -H "$A" -H "$V")"
expect "wrong method" 405 "$(code -X PUT $B/payment-intents -H "$A" -H "$V")"
out=$(curl -s $B/payment-intents/search -H "$A" -H "$V" -H "$C" -d '{"statuses":["Canceled"],"startDate":"2000-01-01T00:00:00Z"}')
expect "search" "['smoke-1']" "$(json '[x["reference"] for x in d["data"]]' <<<"$out")"
expect "search other account" "[]" "$(curl -s $B/payment-intents/search -H "$Bob" -H "$V" -H "$C" -d '{}' | json 'd["data"]')"
expect "set status" Authorized "$(curl -s $B/_emulator/payment-intents/$id/status -d '{"status":"Authorized"}' | json 'd["status"]')"
expect "by reference" 1 "$(curl -s "$B/_emulator/payment-intents?reference=smoke-1" | json 'len(d["data"])')"
vector='{"secret":"PDYkJQq6sESYHp_zJuTTBQ","paymentIntentId":"pi_vpwd4ooAPEqyNAQe4z89WQ","paymentStatus":"Created","captureMode":"Auto","accountId":"acc_test","eventId":"evt_hnnHxIKR_Uy6bhZCusCltw","event":"payment_intent.created","createdAt":"2022-02-01T13:07:41.8667859Z"}'
expect "webhook vector" sha256=4B-49-F8-FE-25-A7-E6-7D-00-4F-A7-9C-F8-0B-63-00-C7-77-B4-F2-2D-E5-E1-22-84-FA-04-18-50-A1-76-FD \
  "$(curl -s $B/_emulator/webhooks/send -d "$vector" | json 'd["signature"]')"
curl -s $B/_emulator/faults -d '{"method":"GET","path":"/payment-intents/*","responses":[{"status":503,"retryAfter":"1"},{"status":503}]}' >/dev/null
got=""
for _ in 1 2 3; do got+="$(code "$B/payment-intents/$id" -H "$A" -H "$V") "; done
expect "faults 503,503,normal" "503 503 200 " "$got"
curl -s $B/_emulator/faults -d '{"path":"/payment-intents","responses":[{"status":503,"delayMs":300},{"drop":true},{"processThenDrop":true}]}' >/dev/null
expect "delayMs 503 after 300ms" True "$(curl -s -o /dev/null -w '%{http_code} %{time_total}' $B/payment-intents -H "$A" -H "$V" -d "$create" | python3 -c 'import sys; c, t = sys.stdin.read().split(); print(c == "503" and float(t) >= 0.3)')"
set +e
curl -s $B/payment-intents -H "$A" -H "$V" -d "$create" >/dev/null; drop_rc=$?
curl -s $B/payment-intents -H "$A" -H "$V" -H "$C" -d '{"amount":{"value":1,"currencyCode":"GBP"},"reference":"ptd"}' >/dev/null; ptd_rc=$?
set -e
expect "drop" 52 "$drop_rc"
expect "processThenDrop dropped" 52 "$ptd_rc"
expect "processThenDrop created" 1 "$(curl -s "$B/_emulator/payment-intents?reference=ptd" | json 'len(d["data"])')"
expect "log has no keys" 0 "$(curl -s $B/_emulator/requests | grep -c sk_sandbox || true)"
expect "log drop status" 0 "$(curl -s $B/_emulator/requests | json 'd["requests"][-1]["status"]')"
expect "no keys on stdout/stderr" 0 "$(cat "$work/stdout" "$work/stderr" | grep -c sk_sandbox || true)"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
expect "SIGTERM exit" 0 "$rc"
if ((failures > 0)); then echo "$failures failure(s)"; exit 1; fi
echo "all passed"
