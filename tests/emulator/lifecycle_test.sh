#!/usr/bin/env bash
# Black-box test of the dojo-emulator payment lifecycle: captures (partial,
# over the total), reversal, refunds (idempotencyKey, over the rest,
# refundedAmount, Refunded), GET refund, SetCustomAmount, auto-expiry
# (Capture, Release, the expire control endpoint), status webhooks to a local
# receiver with verified signatures, faults on the new routes, and the
# response bodies checked against the spec's schemas.
# Usage: tests/emulator/lifecycle_test.sh PATH/TO/dojo-emulator
# Needs curl, jq, openssl and Debian's python3 with PyYAML (python3-yaml). Runs in
# about 5 s.
set -euo pipefail

bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
spec=$here/../data/openapi/openapi-2025-09-10.yaml
work=$(mktemp -d)
pid=
rpid=
bg=
cleanup() {
  [[ -n $bg ]] && kill "$bg" 2>/dev/null && wait "$bg" 2>/dev/null || true
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [[ -n $rpid ]] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null || true
  # Kept for the whole-suite secrets scan (scripts/scan-secrets.sh).
  [ -n "${PAYMENTS_TEST_KEEP_DIRS:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# --- A webhook receiver: appends {"path","signature","body"} per POST -------
cat >"$work/receiver.py" <<'EOF'
import http.server, json, os, sys
out, port_file = sys.argv[1], sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path,
                                "signature": self.headers.get("dojo-signature"),
                                "body": body.decode()}) + "\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
EOF
: >"$work/hooks"
python3 "$work/receiver.py" "$work/hooks" "$work/rport" &
rpid=$!
for _ in $(seq 50); do [[ -s $work/rport ]] && break; sleep 0.1; done
R=http://127.0.0.1:$(cat "$work/rport")
secret=whsec_lifecycle_test_secret

printf 'alice=sk_sandbox_alice_key\nbob=sk_sandbox_bob_key\n' >"$work/keys"
"$bin" --api-keys="$work/keys" --port-file="$work/ports.json" \
  --webhook-url="$R/hooks" --webhook-secret="$secret" \
  >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 50); do [[ -s $work/ports.json ]] && break; sleep 0.1; done
B=http://127.0.0.1:$(jq .http "$work/ports.json")
E=$B/_emulator
A='Authorization: Basic sk_sandbox_alice_key'
Bob='Authorization: Basic sk_sandbox_bob_key'
V='version: 2026-02-27'
C='Content-Type: application/json'
failures=0
expect() {  # expect NAME WANT GOT
  if [[ $2 == "$3" ]]; then echo "ok   $1"; else
    echo "FAIL $1: want '$2', got '$3'"; failures=$((failures + 1)); fi
}
# call METHOD PATH [curl args...]: sets $st (HTTP status, 000 when there was
# no answer) and $out (body), as alice.
call() {
  local m=$1 p=$2
  shift 2
  out=$(curl -s -X "$m" -w '\n%{http_code}' "$B$p" -H "$A" -H "$V" -H "$C" "$@") || true
  st=${out##*$'\n'}
  out=${out%$'\n'*}
}
n=0
keep() {  # keep SCHEMA: the last body is checked against the spec at the end
  n=$((n + 1))
  printf '%s' "$out" >"$work/doc$n.json"
  printf '%s\t%s\n' "$1" "$work/doc$n.json" >>"$work/docs"
}
: >"$work/docs"
create() {  # create JSON -> id
  curl -s $B/payment-intents -H "$A" -H "$V" -H "$C" -d "$1" | jq -r .id
}
manual='{"amount":{"value":1000,"currencyCode":"GBP"},"reference":"m","captureMode":"Manual"}'
auto='{"amount":{"value":1000,"currencyCode":"GBP"},"reference":"a"}'
authorize() { curl -s -X POST "$E/payment-intents/$1/authorize"; }
intent() { curl -s "$E/payment-intents/$1"; }
status_of() { intent "$1" | jq -r .status; }
key() { printf 'k%.0s' $(seq "$1"); }  # key N: a key of N characters
now_ms() { echo $(($(date +%s%N) / 1000000)); }
until_ms() {  # until_ms T: sleep until epoch ms T
  sleep "$(awk -v d=$(($1 - $(now_ms))) 'BEGIN { printf "%.3f", (d > 0 ? d : 0) / 1000 }')"
}
# Wait (up to 5 s) until every status webhook sent so far has been answered.
settle() {
  for _ in $(seq 50); do
    [[ $(curl -s $E/webhooks/deliveries | jq 'any(.deliveries[]; .deliveryStatus == null)') == false ]] && return
    sleep 0.1
  done
}
# Wait (up to 5 s) until the request log has a request with this key.
logged() {
  for _ in $(seq 50); do
    [[ $(curl -s $E/requests | jq --arg k "$1" 'any(.requests[]; .idempotencyKey == $k)') == true ]] && return
    sleep 0.1
  done
}

# --- 1. Captures ------------------------------------------------------------
m1=$(create "$manual")
out=$(intent "$m1")
expect "new intent carries captures and refundedAmount" '[] 0' "$(jq -c '[.captures, .refundedAmount] | "\(.[0]) \(.[1])"' -r <<<"$out")"
call POST /payment-intents/$m1/captures -d '{"amount":100}'
expect "capture a Created intent: 409" 409 "$st"
call POST /payment-intents -d '{"amount":{"value":0,"currencyCode":"GBP"},"reference":"zero"}'
expect "create with amount 0: 400 Amount.Value" "400 [\"Amount.Value\"]" "$st $(jq -c '.errors | keys' <<<"$out")"
expect "control authorize" "Authorized 1" "$(authorize "$m1" | jq -r '"\(.status) \(.paymentDetails != null | if . then 1 else 0 end)"')"
expect "authorize twice: 409" 409 "$(curl -s -o /dev/null -w '%{http_code}' -X POST $E/payment-intents/$m1/authorize)"
call POST /payment-intents/$m1/captures -d '{"amount":0}'
expect "capture amount 0: 400 Amount" "400 [\"Amount\"]" "$st $(jq -c '.errors | keys' <<<"$out")"
call POST /payment-intents/$m1/captures -d '{"amount":"100"}'
expect "capture amount string: 400" 400 "$st"
call POST /payment-intents/$m1/captures -d '{"amount":100,"currency":"GBP"}'
expect "capture unknown field: 400" "400 [\"Currency\"]" "$st $(jq -c '.errors | keys' <<<"$out")"
call POST /payment-intents/$m1/captures -d '{"value":100}'
expect "capture without amount: 400" 400 "$st"
call POST /payment-intents/$m1/captures -d '{"amount":{"value":100,"currencyCode":"GBP"}}'
expect "capture with Money instead of int64: 400" 400 "$st"
expect "capture by another account: 404" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' $B/payment-intents/$m1/captures -H "$Bob" -H "$V" -H "$C" -d '{"amount":100}')"
call POST /payment-intents/pi_sandbox_nope/captures -d '{"amount":100}'
expect "capture an unknown intent: 404" 404 "$st"
call POST /payment-intents/$m1/captures -d '{"amount":400}'
keep Capture
expect "partial capture 400: 200 with captureId" "200 1" "$st $(jq -r '.captureId | test("^cp_[A-Za-z0-9_-]{22}$") | if . then 1 else 0 end' <<<"$out")"
cap1=$(jq -r .captureId <<<"$out")
out=$(intent "$m1")
expect "partial capture leaves Authorized, captures[] kept" "Authorized 1 400 Successful $cap1" \
  "$(jq -r '"\(.status) \(.captures | length) \(.captures[0].amount) \(.captures[0].status) \(.captures[0].id)"' <<<"$out")"
call POST /payment-intents/$m1/captures -d '{"amount":601}'
expect "capture over the rest (601 > 600): 400" 400 "$st"
call POST /payment-intents/$m1/reversal
expect "reversal of a partly captured intent: 409" 409 "$st"
call POST /payment-intents/$m1/captures -d '{"amount":250,"tipsAmount":50}'
expect "second partial capture" 200 "$st"
call POST /payment-intents/$m1/captures -d '{"amount":350}'
expect "capture to the total" 200 "$st"
call GET /payment-intents/$m1
keep PaymentIntent
expect "fully captured: Captured, 3 captures summing 1000, tips kept" "Captured 3 1000 50" \
  "$(jq -r '"\(.status) \(.captures | length) \([.captures[].amount] | add) \(.captures[1].tipsAmount)"' <<<"$out")"
call POST /payment-intents/$m1/captures -d '{"amount":1}'
expect "capture a Captured intent: 409" 409 "$st"
a1=$(create "$auto")
authorize "$a1" >/dev/null
call POST /payment-intents/$a1/captures -d '{"amount":1}'
expect "capture an Auto intent: 409" 409 "$st"
expect "Auto authorize: Captured with one full capture" "Captured 1 1000" \
  "$(intent "$a1" | jq -r '"\(.status) \(.captures | length) \(.captures[0].amount)"')"

# --- 2. Reversal ------------------------------------------------------------
m2=$(create "$manual")
call POST /payment-intents/$m2/reversal
expect "reversal of a Created intent: 409" 409 "$st"
authorize "$m2" >/dev/null
call POST /payment-intents/$m2/reversal
keep Reversal
expect "reversal of an Authorized intent" "200 1" "$st $(jq -r '.reversalId | test("^rvs_[A-Za-z0-9_-]{22}$") | if . then 1 else 0 end' <<<"$out")"
expect "reversed" Reversed "$(status_of "$m2")"
call POST /payment-intents/$m2/reversal
expect "reversal twice: 409" 409 "$st"
call DELETE /payment-intents/$m2
expect "cancel a Reversed intent: 409" 409 "$st"
call DELETE /payment-intents/$m1
expect "cancel a Captured intent: 409" 409 "$st"
call POST /payment-intents/$m2/captures -d '{"amount":1}'
expect "capture a Reversed intent: 409" 409 "$st"
call POST /payment-intents/$a1/reversal
expect "reversal of a Captured intent: 409" 409 "$st"

# --- 3. Refunds -------------------------------------------------------------
refund() {  # refund ID KEY BODY [intent header]
  call POST "/payment-intents/$1/refunds" -H "idempotencyKey: $2" -d "$3"
}
call POST /payment-intents/$a1/refunds -d '{"amount":100}'
expect "refund without idempotencyKey: 400" "400 [\"idempotencyKey\"]" "$st $(jq -c '.errors | keys' <<<"$out")"
refund "$a1" "$(key 101)" '{"amount":100}'
expect "refund with a 101-character key: 400" "400 [\"idempotencyKey\"]" "$st $(jq -c '.errors | keys' <<<"$out")"
refund "$a1" "$(key 100)" '{"amount":1}'
expect "refund with a 100-character key: 200" 200 "$st"
refund "$a1" k0 '{"amount":0}'
expect "refund amount 0: 400" 400 "$st"
refund "$a1" k0 '{"amount":1,"reason":"x"}'
expect "refund unknown field: 400" 400 "$st"
refund "$(create "$auto")" k0 '{"amount":1}'
expect "refund a Created intent: 400" 400 "$st"
refund "$m1" k0 "{\"amount\":1,\"notes\":\"$(key 4097)\"}"
expect "refund notes over 4096: 400" 400 "$st"
refund "$a1" k1 '{"amount":299,"refundReason":"Demo refund","notes":"first"}'
keep Refund
r1=$(jq -r .refundId <<<"$out")
expect "refund 299: 200 Refund" "200 $a1 1 Demo refund first" \
  "$st $(jq -r '"\(.paymentIntentId) \(.refundId | test("^rfnd_[A-Za-z0-9_-]{22}$") | if . then 1 else 0 end) \(.refundReason) \(.notes)"' <<<"$out")"
refund "$a1" k1 '{"amount":299,"refundReason":"Demo refund","notes":"first"}'
expect "same key, same body: the same refund" "200 $r1" "$st $(jq -r .refundId <<<"$out")"
refund "$a1" k1 '{"amount":500}'
expect "same key, different body: 409" 409 "$st"
expect "settings refundKeyReuse replay" replay "$(curl -s $E/settings -d '{"refundKeyReuse":"replay"}' | jq -r .refundKeyReuse)"
refund "$a1" k1 '{"amount":500}'
expect "replay mode: same key, different body: the first refund" "200 $r1" "$st $(jq -r .refundId <<<"$out")"
curl -s $E/settings -d '{"refundKeyReuse":"conflict"}' >/dev/null
expect "refundedAmount 300 after 2 refunds, still Captured" "300 Captured" "$(intent "$a1" | jq -r '"\(.refundedAmount) \(.status)"')"
expect "control refunds list: 2 refunds (1 + 299), keys kept" "1,299 $(key 100),k1" \
  "$(curl -s $E/payment-intents/$a1/refunds | jq -r '[.data[].amount] | join(",")') $(curl -s $E/payment-intents/$a1/refunds | jq -r '[.data[].idempotencyKey] | join(",")')"
refund "$a1" k2 '{"amount":701}'
expect "refund over captured - refunded (701 > 700): 400" 400 "$st"
refund "$a1" k3 '{"amount":700}'
expect "refund the rest" 200 "$st"
call GET /payment-intents/$a1
keep PaymentIntent
expect "fully refunded: Refunded, refundedAmount 1000" "Refunded 1000" "$(jq -r '"\(.status) \(.refundedAmount)"' <<<"$out")"
refund "$a1" k4 '{"amount":1}'
expect "refund a Refunded intent: 400" 400 "$st"
refund "$a1" k1 '{"amount":299,"refundReason":"Demo refund","notes":"first"}'
expect "old key after Refunded: still the same refund" "200 $r1" "$st $(jq -r .refundId <<<"$out")"
call GET /payment-intents/refunds/$r1
keep Refund
expect "GET refund" "200 $r1 $a1 Demo refund" "$st $(jq -r '"\(.refundId) \(.paymentIntentId) \(.refundReason)"' <<<"$out")"
expect "GET refund of another account: 404" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' $B/payment-intents/refunds/$r1 -H "$Bob" -H "$V")"
call GET /payment-intents/refunds/rfnd_unknown
expect "GET unknown refund: 404" 404 "$st"
call GET /payment-intents/refunds/$(key 51)
expect "GET refund id over 50 characters: 400" 400 "$st"
refund "$m1" k1 '{"amount":1000}'
expect "same key on another intent is another refund" 200 "$st"
expect "log keeps the idempotencyKey" k1 "$(curl -s $E/requests | jq -r '.requests[-1].idempotencyKey')"
m3=$(create "$manual")
authorize "$m3" >/dev/null
call POST /payment-intents/$m3/captures -d '{"amount":500}'
refund "$m3" k1 '{"amount":100}'
expect "refund a partly captured (Authorized) intent: 400" 400 "$st"

# --- 4. SetCustomAmount -----------------------------------------------------
call POST /payment-intents/$(create "$auto")/amount -d '{"amount":{"value":5500,"currencyCode":"GBP"}}'
expect "amount change without customAmountAllowed: 405" 405 "$st"
custom=$(create '{"amount":{"value":1000,"currencyCode":"GBP"},"reference":"c","config":{"payment":{"customAmountAllowed":true}}}')
call POST /payment-intents/$custom/amount -d '{"amount":{"value":5500,"currencyCode":"EUR"}}'
expect "amount change to another currency: 400" 400 "$st"
call POST /payment-intents/$custom/amount -d '{"amount":{"value":0,"currencyCode":"GBP"}}'
expect "amount change to 0: 400" 400 "$st"
call POST /payment-intents/$custom/amount -d '{"amount":5500}'
expect "amount change with a bare integer: 400" 400 "$st"
call POST /payment-intents/$custom/amount -d '{"amount":{"value":5500,"currencyCode":"GBP"}}'
keep PaymentIntent
expect "amount change" "200 5500 1000 5500" \
  "$st $(jq -r '"\(.amount.value) \(.requestedAmount.value) \(.totalAmount.value)"' <<<"$out")"
call POST /payment-intents/$custom/amount -d '{"amount":{"value":6000,"currencyCode":"GBP"}}'
expect "second change keeps the requested amount" "1000 6000" "$(intent "$custom" | jq -r '"\(.requestedAmount.value) \(.amount.value)"')"
authorize "$custom" >/dev/null
call POST /payment-intents/$custom/amount -d '{"amount":{"value":7000,"currencyCode":"GBP"}}'
expect "amount change after payment: 400" 400 "$st"
expect "authorised amount is the changed one" 6000 "$(intent "$custom" | jq '.captures[0].amount')"

# --- 5. Auto-expiry ---------------------------------------------------------
expire_body() {  # expire_body ACTION
  printf '{"amount":{"value":1000,"currencyCode":"GBP"},"reference":"x","captureMode":"Manual","autoExpireIn":"00:00:30","autoExpireAction":"%s"}' "$1"
}
expect "settings autoExpireScale" 0.03 "$(curl -s $E/settings -d '{"autoExpireScale":0.03}' | jq .autoExpireScale)"
expect "autoExpireScale 0 rejected" 400 "$(curl -s -o /dev/null -w '%{http_code}' $E/settings -d '{"autoExpireScale":0}')"
xc=$(create "$(expire_body Capture)")
xr=$(create "$(expire_body Release)")
xp=$(create "$(expire_body Release)")
xs=$(create "$(expire_body Release)")
t0=$(now_ms)
authorize "$xc" >/dev/null
authorize "$xr" >/dev/null
authorize "$xp" >/dev/null
authorize "$xs" >/dev/null
call POST /payment-intents/$xp/captures -d '{"amount":250}'
call POST /payment-intents/$xs/reversal
expect "timers not fired yet (900 ms)" "Authorized Authorized" "$(status_of "$xc") $(status_of "$xr")"
until_ms $((t0 + 1500))
expect "autoExpireIn 30 s x 0.03, Capture: Captured with a full capture" "Captured 1000" \
  "$(intent "$xc" | jq -r '"\(.status) \([.captures[].amount] | add)"')"
expect "autoExpireIn 30 s x 0.03, Release: Reversed" "Reversed 0" \
  "$(intent "$xr" | jq -r '"\(.status) \(.captures | length)"')"
expect "Release after a partial capture: Captured, the rest released" "Captured 250" \
  "$(intent "$xp" | jq -r '"\(.status) \([.captures[].amount] | add)"')"
expect "reversed before expiry: untouched" Reversed "$(status_of "$xs")"
curl -s $E/settings -d '{"autoExpireScale":1}' >/dev/null
xe=$(create "$(expire_body Capture)")
out=$(curl -s -w '\n%{http_code}' -X POST $E/payment-intents/$xe/expire)
expect "expire endpoint on a Created intent: 409" 409 "${out##*$'\n'}"
authorize "$xe" >/dev/null
call POST /payment-intents/$xe/captures -d '{"amount":300}'
expect "expire endpoint, Capture after a partial capture" "Captured 2 1000" \
  "$(curl -s -X POST $E/payment-intents/$xe/expire | jq -r '"\(.status) \(.captures | length) \([.captures[].amount] | add)"')"
xd=$(create "$manual")
authorize "$xd" >/dev/null
expect "expire endpoint, no autoExpireAction: Release" Reversed \
  "$(curl -s -X POST $E/payment-intents/$xd/expire | jq -r .status)"
expect "expire endpoint on an Auto intent: 409" 409 \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST $E/payment-intents/$a1/expire)"

# --- 6. Webhooks ------------------------------------------------------------
w=$(create "$manual")
authorize "$w" >/dev/null
call POST /payment-intents/$w/captures -d '{"amount":1000}'
wc=$(create "$auto")
call DELETE /payment-intents/$wc
settle
hooks_for() { jq -c --arg id "$1" 'select((.body | fromjson).data.paymentIntentId == $id)' "$work/hooks"; }
expect "webhooks: Authorized then Captured" "Authorized,Captured" \
  "$(hooks_for "$w" | jq -rs '[.[].body | fromjson | .data.paymentStatus] | sort | join(",")')"
expect "webhook on cancel" Canceled "$(hooks_for "$wc" | jq -r '.body | fromjson | .data.paymentStatus')"
expect "webhook on reversal" Reversed "$(hooks_for "$m2" | jq -rs '.[-1].body | fromjson | .data.paymentStatus')"
expect "webhook on refund (Refunded)" Refunded "$(hooks_for "$a1" | jq -rs '.[-1].body | fromjson | .data.paymentStatus')"
expect "webhook on auto-expiry" Captured "$(hooks_for "$xc" | jq -rs '.[-1].body | fromjson | .data.paymentStatus')"
expect "no webhook for a partial capture or refund" 1 "$(hooks_for "$m3" | wc -l)"
first=$(hooks_for "$w" | head -1)
expect "webhook body shape" '["id","event","accountId","createdAt","data"] ["paymentIntentId","paymentStatus","captureMode"] payment_intent.status_updated acc_alice Manual /hooks' \
  "$(jq -r '.body | fromjson | "\(keys_unsorted | tojson) \(.data | keys_unsorted | tojson) \(.event) \(.accountId) \(.data.captureMode)"' <<<"$first") $(jq -r .path <<<"$first")"
# Verify every signature independently: HMAC-SHA256 over the raw body, as
# uppercase hex pairs joined by '-'.
bad=0
while read -r line; do
  got=$(jq -r .signature <<<"$line")
  want=sha256=$(jq -j .body <<<"$line" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1 |
    tr a-f A-F | sed 's/../&-/g; s/-$//')
  [[ $got == "$want" ]] || bad=$((bad + 1))
done <"$work/hooks"
expect "every webhook signature verifies ($(wc -l <"$work/hooks") events)" 0 "$bad"
expect "deliveries log: all delivered with 204" "$(wc -l <"$work/hooks") 204" \
  "$(curl -s $E/webhooks/deliveries | jq -r '"\(.deliveries | length) \([.deliveries[].deliveryStatus] | unique | join(","))"')"
out=$(curl -s $E/settings)
expect "settings show the url, not the secret" "$R/hooks true 0" \
  "$(jq -r '"\(.webhookUrl) \(.webhookSecretSet)"' <<<"$out") $(grep -c "$secret" <<<"$out" || true)"
expect "settings webhookUrl must be http://" 400 "$(curl -s -o /dev/null -w '%{http_code}' $E/settings -d '{"webhookUrl":"ftp://x"}')"
curl -s $E/settings -d "{\"webhookUrl\":\"$R/other\",\"webhookSecret\":\"s2\"}" >/dev/null
w2=$(create "$auto")
authorize "$w2" >/dev/null
settle
line=$(hooks_for "$w2")
expect "settings: new url and secret used" "/other $(jq -j .body <<<"$line" | openssl dgst -sha256 -hmac s2 -r | cut -d' ' -f1 | tr a-f A-F | sed 's/../&-/g; s/-$//')" \
  "$(jq -r .path <<<"$line") $(jq -r .signature <<<"$line" | sed 's/^sha256=//')"
curl -s $E/settings -d '{"webhookUrl":null}' >/dev/null
before=$(curl -s $E/webhooks/deliveries | jq '.deliveries | length')
authorize "$(create "$auto")" >/dev/null
expect "webhookUrl null: no more webhooks" "$before" "$(curl -s $E/webhooks/deliveries | jq '.deliveries | length')"

# --- 7. Faults on the new routes ------------------------------------------
f1=$(create "$manual")
authorize "$f1" >/dev/null
curl -s $E/faults -d '{"method":"POST","path":"/payment-intents/*/captures","responses":[{"processThenDrop":true}]}' >/dev/null
rc=0
curl -s $B/payment-intents/$f1/captures -H "$A" -H "$V" -H "$C" -d '{"amount":1000}' >/dev/null || rc=$?
expect "processThenDrop on a capture: no answer (curl 52)" 52 "$rc"
expect "processThenDrop on a capture: it happened" "Captured 1" "$(intent "$f1" | jq -r '"\(.status) \(.captures | length)"')"
f0=$(create "$manual")
authorize "$f0" >/dev/null
curl -s $E/faults -d '{"method":"POST","path":"/payment-intents/*/captures","responses":[{"commitDelayMs":500}]}' >/dev/null
curl -s -o /dev/null $B/payment-intents/$f0/captures -H "$A" -H "$V" -H "$C" -H 'idempotencyKey: cap-log' -d '{"amount":1000}' &
bg=$!
logged cap-log
expect "commitDelayMs on a capture: not visible before the commit" "Authorized 0" "$(intent "$f0" | jq -r '"\(.status) \(.captures | length)"')"
wait "$bg"
bg=
expect "... visible at the commit" "Captured 1" "$(intent "$f0" | jq -r '"\(.status) \(.captures | length)"')"
curl -s $E/faults -d '{"method":"POST","path":"/payment-intents/*/refunds","responses":[{"processThenStatus":503}]}' >/dev/null
refund "$f1" retry-1 '{"amount":400}'
expect "processThenStatus 503 on a refund" 503 "$st"
expect "... the refund happened" 400 "$(intent "$f1" | jq .refundedAmount)"
refund "$f1" retry-1 '{"amount":400}'
first_id=$(curl -s $E/payment-intents/$f1/refunds | jq -r '.data[0].refundId')
expect "... the retry with the same key gets the same refund, not a second one" "200 $first_id 400 1" \
  "$st $(jq -r .refundId <<<"$out") $(intent "$f1" | jq .refundedAmount) $(curl -s $E/payment-intents/$f1/refunds | jq '.data | length')"
curl -s $E/faults -d '{"method":"POST","path":"/payment-intents/*/refunds","responses":[{"commitDelayMs":1000}]}' >/dev/null
t0=$(date +%s%N)
curl -s -o "$work/slow" $B/payment-intents/$f1/refunds -H "$A" -H "$V" -H "$C" -H 'idempotencyKey: slow-1' -d '{"amount":100}' &
bg=$!
logged slow-1
refund "$f1" slow-1 '{"amount":100}'
expect "commitDelayMs on a refund: a retry before the commit gets 409" 409 "$st"
call GET /payment-intents/$f1
expect "... and the refund is not visible yet" 400 "$(jq .refundedAmount <<<"$out")"
wait "$bg"
bg=
expect "... the first answer comes at the commit" 1 "$((($(date +%s%N) - t0) / 1000000 >= 1000 ? 1 : 0))"
refund "$f1" slow-1 '{"amount":100}'
expect "... a retry after the commit gets the same refund" "200 $(jq -r .refundId "$work/slow") 500" \
  "$st $(jq -r .refundId <<<"$out") $(intent "$f1" | jq .refundedAmount)"
# A slow refund's commit applies the refund to the intent as it is then: a
# refund and a status change committed during the delay are kept.
f3=$(create "$manual")
authorize "$f3" >/dev/null
call POST /payment-intents/$f3/captures -d '{"amount":1000}'
curl -s $E/faults -d '{"method":"POST","path":"/payment-intents/*/refunds","responses":[{"commitDelayMs":1500}]}' >/dev/null
t0=$(date +%s%N)
curl -s -o "$work/slow3" $B/payment-intents/$f3/refunds -H "$A" -H "$V" -H "$C" -H 'idempotencyKey: merge-slow' -d '{"amount":300}' &
bg=$!
logged merge-slow
refund "$f3" merge-fast '{"amount":200}'
fast_id=$(jq -r .refundId <<<"$out")
expect "commitDelayMs refund pending: another refund commits at once" "200 200" "$st $(intent "$f3" | jq .refundedAmount)"
expect "... a control status change too" Reversed   "$(curl -s $E/payment-intents/$f3/status -d '{"status":"Reversed"}' | jq -r .status)"
wait "$bg"
bg=
slow_id=$(jq -r .refundId "$work/slow3")
expect "... the slow refund answers at the commit" 1 "$((($(date +%s%N) - t0) / 1000000 >= 1500 ? 1 : 0))"
expect "... after it: refundedAmount is the sum, the status change is kept" "500 Reversed" \
  "$(intent "$f3" | jq -r '"\(.refundedAmount) \(.status)"')"
expect "... both refunds exist" "merge-slow:300 merge-fast:200" \
  "$(curl -s $E/payment-intents/$f3/refunds | jq -r '[.data[] | "\(.idempotencyKey):\(.amount)"] | sort | reverse | join(" ")')"
expect "... GET refund finds both" "200 200" \
  "$(for r in "$slow_id" "$fast_id"; do curl -s -o /dev/null -w '%{http_code}\n' $B/payment-intents/refunds/$r -H "$A" -H "$V"; done | paste -sd' ')"
curl -s $E/faults -d '{"method":"POST","path":"/payment-intents/*/reversal","responses":[{"status":503}]}' >/dev/null
f2=$(create "$manual")
authorize "$f2" >/dev/null
call POST /payment-intents/$f2/reversal
expect "status 503 on a reversal: not reversed" "503 Authorized" "$st $(status_of "$f2")"
curl -s $E/faults -d '{"method":"GET","path":"/payment-intents/refunds/*","responses":[{"delayMs":300}]}' >/dev/null
expect "delayMs on GET refund" 1 \
  "$(curl -s -o /dev/null -w '%{http_code} %{time_total}' $B/payment-intents/refunds/$r1 -H "$A" -H "$V" | awk '$1 == 200 && $2 >= 0.3 { print 1 }')"

# --- 8. Schemas, secrets, shutdown with pending timers ---------------------
for id in "$m1" "$m2" "$a1" "$custom" "$xc" "$xr" "$xp" "$f1"; do
  call GET "/payment-intents/$id"
  keep PaymentIntent
done
rc=0
# Debian's python3 (PyYAML from python3-yaml, installed by install-deps.sh).
/usr/bin/python3 "$here/schema_check.py" "$spec" "$work/docs" >"$work/schema.out" || rc=$?
cat "$work/schema.out"
expect "response bodies match the spec's schemas" 0 "$rc"
expect "secret not on stdout/stderr" 0 "$(cat "$work/stdout" "$work/stderr" | grep -c "$secret" || true)"
p=$(create "$manual")
authorize "$p" >/dev/null  # a 7-day expiry timer
t0=$(date +%s%N)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
expect "SIGTERM with pending expiry timers: exit 0, prompt" "0 1" \
  "$rc $((($(date +%s%N) - t0) / 1000000 < 2000 ? 1 : 0))"

if ((failures > 0)); then echo "$failures failure(s)"; exit 1; fi
echo "all passed"
