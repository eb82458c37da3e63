#!/usr/bin/env bash
# Renders docs/images/grafana-dashboard.png from real metrics: runs payments-server against the
# Dojo emulator, drives a few minutes of mixed traffic, lets Debian's Prometheus scrape /metrics
# every second, evaluates every query of deploy/grafana/payments-gateway.json with Prometheus'
# query_range API, and draws the panels (layout and queries from the dashboard JSON) into an HTML
# page that headless Chromium screenshots. Grafana itself is not packaged in Debian.
#
# The traffic, in four equal phases:
#  - throughout: two client loops create intents (a third of them sent twice: idempotent replays;
#    every tenth reference reused with another amount: mismatches), read them, refresh secrets,
#    create links, send invalid input, and verify webhooks (fresh events signed by the emulator,
#    half of them delivered twice, a fifth with a bad signature); a third loop sends bursts of
#    four identical concurrent creates (one creates, the others wait for it or replay it);
#  - phase 2: every 4 s, Dojo loses the answer to one create (the server, run with
#    --upstream_timeout=900ms, gives up on it; it never re-sends it), six ways in turn:
#    0. the answer is late; the intent exists and the call's own search finds it;
#    1. the request is lost; nothing is found, the caller gets OUTCOME_UNKNOWN, and the reconciler
#       settles it as not created once the settle period (--settle_period=60s here) has passed;
#    2. the answer is late and the search fails too (503); the caller gets OUTCOME_UNKNOWN and the
#       reconciler finds the intent on a later round;
#    3. the answer is late and, meanwhile, a second intent with the same reference and amount is
#       created straight at the emulator (another client): the settlement keeps the gateway's and
#       cancels the other (duplicate canceled);
#    4. as 3, with the second intent Authorized at once (duplicate kept);
#    5. as 3, with Dojo answering 503 to the cancel (duplicate cancel_failed);
#  - phase 3: Dojo answers 503 to a share of reads and is slow (400 ms) for creates;
#  - phase 4: recovery.
#
# Usage: deploy/grafana/render/render-dashboard.sh [BUILD_DIR] [SECONDS]   (root; default build, 240)
set -euo pipefail
cd "$(dirname "$0")/../../.."
repo=$PWD
build=${1:-build}
duration=${2:-240}
for p in prometheus chromium fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$p" >/dev/null
done
buf=$repo/tools/node_modules/@bufbuild/buf-linux-x64/bin/buf
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cp "$build/server/payments-server" "$build/tests/emulator/dojo-emulator" "$work/"

"$repo/scripts/gen-test-certs.sh" "$work/certs"
"$work/dojo-emulator" --http-port=0 --https-port=0 --tls-cert="$work/certs/server.pem" \
  --tls-key="$work/certs/server.key" --port-file="$work/ports.json" > "$work/emulator.log" 2>&1 &
pids+=($!)
until [ -s "$work/ports.json" ]; do sleep 0.1; done
D=http://127.0.0.1:$(jq -r .http "$work/ports.json")
E=$D/_emulator
key=sk_sandbox_render_dashboard   # the emulator takes any sandbox key (account: its last 4 characters)
DOJO_API_KEY=$key DOJO_WEBHOOK_SECRETS=docs=PDYkJQq6sESYHp_zJuTTBQ \
  "$work/payments-server" --listen_addr=127.0.0.1:0 --metrics_addr=127.0.0.1:0 \
  --store="sqlite:$work/payments.db" --upstream_timeout=900ms --settle_period=60s --dojo_base_url="https://localhost:$(jq -r .https "$work/ports.json")" \
  --dojo_ca_file="$work/certs/ca.pem" > "$work/server.log" 2>&1 &
pids+=($!)
until grep -qs '"event":"started"' "$work/server.log"; do sleep 0.1; done
started=$(grep '"event":"started"' "$work/server.log")
port=$(jq -r .port <<< "$started")
metrics_port=$(jq -r .metrics_port <<< "$started")

prom_port=$((20000 + RANDOM % 20000))
cat > "$work/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: payments-gateway
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
        labels: {namespace: payments, pod: payments-gateway-0}
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" > "$work/prometheus.log" 2>&1 &
pids+=($!)
until curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null; do sleep 0.2; done

call() { "$buf" curl --protocol grpc --http2-prior-knowledge "http://127.0.0.1:$port/$1" -d "$2" >/dev/null 2>&1 || true; }
create() {  # prints the intent id, or nothing; a caller told UNAVAILABLE retries once, same reference
  local out
  out=$("$buf" curl --protocol grpc --http2-prior-knowledge "http://127.0.0.1:$port/payments.v1.PaymentsService/CreateIntent" -d "$1" 2>&1) || true
  if ! jq -er .intent.id <<< "$out" 2>/dev/null && grep -q '"unavailable"' <<< "$out"; then
    sleep 1
    "$buf" curl --protocol grpc --http2-prior-knowledge "http://127.0.0.1:$port/payments.v1.PaymentsService/CreateIntent" \
      -d "$1" 2>/dev/null | jq -r .intent.id 2>/dev/null || true
  fi
}
secret=PDYkJQq6sESYHp_zJuTTBQ
# Bad signature: Dojo's documented test vector with one byte of the body changed.
body='{"id":"evt_hnnHxIKR_Uy6bhZCusCltw","event":"payment_intent.created","accountId":"acc_test","createdAt":"2022-02-01T13:07:41.8667859Z","data":{"paymentIntentId":"pi_vpwd4ooAPEqyNAQe4z89WQ","paymentStatus":"Created","captureMode":"Auto"}}'
sig=sha256=4B-49-F8-FE-25-A7-E6-7D-00-4F-A7-9C-F8-0B-63-00-C7-77-B4-F2-2D-E5-E1-22-84-FA-04-18-50-A1-76-FD
bad=$(printf '%s' "${body/Created/created}" | base64 -w0)
start=$(date +%s)
echo "render-dashboard: ${duration}s of traffic (server :$port, Prometheus :$prom_port)"
traffic() {  # one client loop; $1 seeds the references
  local n=0 now phase id req event
  while now=$(date +%s); [ $((now - start)) -lt "$duration" ]; do
    n=$((n + 1)); phase=$(( (now - start) * 4 / duration ))
    req="{\"reference\":\"R-$1-$n\",\"amount\":{\"value\":$((500 + n % 40 * 125)),\"currencyCode\":\"GBP\"}}"
    id=$(create "$req")
    [ $((n % 3)) -ne 0 ] || call payments.v1.PaymentsService/CreateIntent "$req"   # replay
    [ $((n % 10)) -ne 5 ] || call payments.v1.PaymentsService/CreateIntent "{\"reference\":\"R-$1-$n\",\"amount\":{\"value\":99,\"currencyCode\":\"GBP\"}}"  # mismatch
    [ -z "$id" ] || call payments.v1.PaymentsService/GetIntent "{\"id\":\"$id\"}"
    [ $((n % 3)) -ne 0 ] || [ -z "$id" ] || call payments.v1.PaymentsService/RefreshClientSessionSecret "{\"id\":\"$id\"}"
    [ $((n % 4)) -ne 0 ] || call payments.v1.PaymentsService/CreatePaymentLink "{\"reference\":\"L-$1-$n\",\"amount\":{\"value\":2500,\"currencyCode\":\"EUR\"}}"
    if [ -n "$id" ] && event=$(curl -sf "$E/webhooks/send" -d "{\"secret\":\"$secret\",\"paymentIntentId\":\"$id\"}" |
        jq -c '{body: (.body | @base64), signature}'); then
      call payments.v1.PaymentsService/VerifyWebhook "$event"
      [ $((n % 2)) -ne 0 ] || call payments.v1.PaymentsService/VerifyWebhook "$event"   # redelivery
    fi
    [ $((n % 5)) -ne 0 ] || call payments.v1.PaymentsService/VerifyWebhook "{\"body\":\"$bad\",\"signature\":\"$sig\"}"
    [ $((n % 7)) -ne 0 ] || call payments.v1.PaymentsService/CreateIntent '{"reference":"","amount":{"value":0,"currencyCode":"GBP"}}'
    [ $((n % 9)) -ne 0 ] || call payments.v1.PaymentsService/GetIntent '{"id":"pi_sandbox_doesnotexist0000000000"}'
    [ "$phase" -ne 2 ] || [ $((n % 2)) -ne 0 ] || call payments.v1.PaymentsService/GetIntent "{\"id\":\"$id\"}"
  done
}
bursts() {  # four identical creates at once, every 3 s
  local n=0
  while [ $(($(date +%s) - start)) -lt "$duration" ]; do
    n=$((n + 1))
    for _ in 1 2 3 4; do
      call payments.v1.PaymentsService/CreateIntent "{\"reference\":\"W-$n\",\"amount\":{\"value\":1500,\"currencyCode\":\"GBP\"}}" &
    done
    wait
    sleep 3
  done
}
traffic a & pids+=($!)
traffic b & pids+=($!)
bursts & pids+=($!)
fault() { curl -sf "$E/faults" -d "$1" >/dev/null; }
# The body of the create the last fault hit (waits up to 3 s for it in the request log).
faulted_create() {
  local i body
  for i in $(seq 60); do
    body=$(curl -sf "$E/requests" | jq -c 'last(.requests[] | select(.faulted and .method == "POST"
      and .path == "/payment-intents")) | .body | fromjson' 2>/dev/null) || body=
    if [ -n "$body" ] && [ "$body" != null ]; then echo "$body"; return 0; fi
    sleep 0.05
  done
  return 1
}
# duplicate STATUS: while the gateway waits for the late answer (900 ms), another client creates an
# intent with the same reference and amount straight at Dojo (the emulator), left in STATUS.
duplicate() {
  local req id
  req=$(faulted_create) || return 0
  id=$(curl -sf "$D/payment-intents" -H "Authorization: Basic $key" -H "version: 2026-02-27" \
    -H "Content-Type: application/json" -d "$(jq -c '{reference, amount}' <<< "$req")" | jq -r .id) || return 0
  [ "$1" = Created ] || curl -sf "$E/payment-intents/$id/status" -d "{\"status\":\"$1\"}" >/dev/null || true
}
late='{"method":"POST","path":"/payment-intents","responses":[{"delayMs":3000}]}'
# Phase 2 of 4: every 4 s one create's answer is lost, six ways in turn (see the top).
k=0
sleep $((start + duration / 4 - $(date +%s)))
while [ $(($(date +%s) - start)) -lt $((duration / 2 - 3)) ]; do
  curl -sf -X DELETE "$E/faults" >/dev/null   # leftovers of the previous round
  curl -sf -X DELETE "$E/requests" >/dev/null
  case $((k % 6)) in
    0) fault "$late" ;;
    1) fault '{"method":"POST","path":"/payment-intents","responses":[{"drop":true,"delayMs":3000}]}' ;;
    2) fault "$late"
       fault '{"method":"POST","path":"/payment-intents/search","responses":[{"status":503,"repeat":3}]}' ;;
    3) fault "$late"; duplicate Created ;;
    4) fault "$late"; duplicate Authorized ;;
    5) fault '{"method":"DELETE","path":"/payment-intents/*","responses":[{"status":503,"repeat":3}]}'
       fault "$late"; duplicate Created ;;
  esac
  k=$((k + 1))
  sleep 4
done
# Phase 3 of 4: Dojo answers 503 to a share of reads and is slow for creates.
sleep $((start + duration / 2 - $(date +%s)))
fault '{"method":"GET","path":"/payment-intents/*","responses":[{"status":503,"repeat":150}]}'
fault '{"method":"POST","path":"/payment-intents","responses":[{"delayMs":400,"repeat":150}]}'
sleep $((start + duration * 3 / 4 - $(date +%s)))
curl -sf -X DELETE "$E/faults" >/dev/null
wait "${pids[@]:3}" 2>/dev/null || true
sleep 3
end=$(date +%s)

# What the journal panels will show, for the log.
total() { curl -sf "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" | jq -r '[.data.result[] |
  "\(.metric.result // .metric.action)=\(.value[1] | tonumber | round)"] | join(" ")'; }
echo "render-dashboard: reconciliations $(total 'sum by (result) (payments_reconciliations_total)')"
echo "render-dashboard: duplicate intents $(total 'sum by (action) (payments_duplicate_intents_total)')"
echo "render-dashboard: idempotency results $(total 'sum by (result) (payments_idempotency_results_total)')"

dashboard=$repo/deploy/grafana/payments-gateway.json
node "$repo/deploy/grafana/render/render-dashboard.cjs" "$dashboard" \
  "http://127.0.0.1:$prom_port" "$start" "$end" "$work/dashboard.html"
# The page's height, as render-dashboard.cjs lays it out (48 px header, 30 px per grid row).
height=$(jq '[.panels[].gridPos | .y + .h] | max * 30 + 56' "$dashboard")
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --window-size=1600,"$height" --screenshot="$repo/docs/images/grafana-dashboard.png" \
  "file://$work/dashboard.html" >/dev/null 2>&1
echo "render-dashboard: wrote docs/images/grafana-dashboard.png"
