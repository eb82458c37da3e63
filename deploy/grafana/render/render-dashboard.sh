#!/usr/bin/env bash
# Renders docs/images/grafana-dashboard.png from real metrics: runs payments-server against the
# Dojo emulator, drives a few minutes of mixed traffic (successes, invalid input, upstream 503s and
# slow answers, webhook signatures good and bad), lets Debian's Prometheus scrape /metrics every
# second, evaluates every query of deploy/grafana/payments-gateway.json with Prometheus'
# query_range API, and draws the panels (layout and queries from the dashboard JSON) into an HTML
# page that headless Chromium screenshots. Grafana itself is not packaged in Debian.
#
# Usage: deploy/grafana/render/render-dashboard.sh [BUILD_DIR] [SECONDS]   (root; default build, 150)
set -euo pipefail
cd "$(dirname "$0")/../../.."
repo=$PWD
build=${1:-build}
duration=${2:-150}
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
E=http://127.0.0.1:$(jq -r .http "$work/ports.json")/_emulator
DOJO_API_KEY=sk_sandbox_render_dashboard DOJO_WEBHOOK_SECRETS=docs=PDYkJQq6sESYHp_zJuTTBQ \
  "$work/payments-server" --listen_addr=127.0.0.1:0 --metrics_addr=127.0.0.1:0 \
  --store="sqlite:$work/payments.db" --dojo_base_url="https://localhost:$(jq -r .https "$work/ports.json")" \
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
body='{"id":"evt_hnnHxIKR_Uy6bhZCusCltw","event":"payment_intent.created","accountId":"acc_test","createdAt":"2022-02-01T13:07:41.8667859Z","data":{"paymentIntentId":"pi_vpwd4ooAPEqyNAQe4z89WQ","paymentStatus":"Created","captureMode":"Auto"}}'
sig=sha256=4B-49-F8-FE-25-A7-E6-7D-00-4F-A7-9C-F8-0B-63-00-C7-77-B4-F2-2D-E5-E1-22-84-FA-04-18-50-A1-76-FD
good=$(printf '%s' "$body" | base64 -w0)
bad=$(printf '%s' "${body/Created/created}" | base64 -w0)
start=$(date +%s)
echo "render-dashboard: ${duration}s of traffic (server :$port, Prometheus :$prom_port)"
traffic() {  # one client loop; $1 seeds the references
  local n=0 now phase id
  while now=$(date +%s); [ $((now - start)) -lt "$duration" ]; do
    n=$((n + 1)); phase=$(( (now - start) * 4 / duration ))
    id=$("$buf" curl --protocol grpc --http2-prior-knowledge "http://127.0.0.1:$port/payments.v1.PaymentsService/CreateIntent" \
      -d "{\"reference\":\"R-$1-$n\",\"amount\":{\"value\":$((500 + n % 40 * 125)),\"currencyCode\":\"GBP\"}}" 2>/dev/null | jq -r .intent.id) || id=""
    [ -z "$id" ] || call payments.v1.PaymentsService/GetIntent "{\"id\":\"$id\"}"
    [ $((n % 3)) -ne 0 ] || [ -z "$id" ] || call payments.v1.PaymentsService/RefreshClientSessionSecret "{\"id\":\"$id\"}"
    [ $((n % 4)) -ne 0 ] || call payments.v1.PaymentsService/CreatePaymentLink "{\"reference\":\"L-$1-$n\",\"amount\":{\"value\":2500,\"currencyCode\":\"EUR\"}}"
    call payments.v1.PaymentsService/VerifyWebhook "{\"body\":\"$good\",\"signature\":\"$sig\"}"
    [ $((n % 5)) -ne 0 ] || call payments.v1.PaymentsService/VerifyWebhook "{\"body\":\"$bad\",\"signature\":\"$sig\"}"
    [ $((n % 7)) -ne 0 ] || call payments.v1.PaymentsService/CreateIntent '{"reference":"","amount":{"value":0,"currencyCode":"GBP"}}'
    [ $((n % 9)) -ne 0 ] || call payments.v1.PaymentsService/GetIntent '{"id":"pi_sandbox_doesnotexist0000000000"}'
    [ "$phase" -ne 2 ] || [ $((n % 2)) -ne 0 ] || call payments.v1.PaymentsService/GetIntent "{\"id\":\"$id\"}"
  done
}
traffic a & pids+=($!)
traffic b & pids+=($!)
# Phase 2 of 4: Dojo answers 503 to a share of reads and is slow for creates.
sleep $((duration / 2))
curl -sf "$E/faults" -d '{"method":"GET","path":"/payment-intents/*","responses":[{"status":503,"repeat":150}]}' >/dev/null
curl -sf "$E/faults" -d '{"method":"POST","path":"/payment-intents","responses":[{"delayMs":400,"repeat":150}]}' >/dev/null
sleep $((duration / 4))
curl -sf -X DELETE "$E/faults" >/dev/null
wait "${pids[@]:3}" 2>/dev/null || true
sleep 3
end=$(date +%s)

node "$repo/deploy/grafana/render/render-dashboard.cjs" "$repo/deploy/grafana/payments-gateway.json" \
  "http://127.0.0.1:$prom_port" "$start" "$end" "$work/dashboard.html"
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --window-size=1600,1480 --screenshot="$repo/docs/images/grafana-dashboard.png" \
  "file://$work/dashboard.html" >/dev/null 2>&1
echo "render-dashboard: wrote docs/images/grafana-dashboard.png"
