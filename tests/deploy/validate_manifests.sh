#!/usr/bin/env bash
# Offline validation of deploy/ and the Dockerfile, so that a bad edit fails CI:
#   1. `kubectl kustomize` renders deploy/k8s/base and every overlay (kubectl 1.32 with kustomize 5;
#      Debian's kubernetes-client 1.20 is too old for this syntax);
#   2. validate_manifests.cjs checks every object against the Kubernetes / Prometheus Operator
#      schemas (kubernetes-models) and the invariants (probes, security context, resources, named
#      ports, no literal secrets, PDB/HPA/NetworkPolicy/alerts, ...);
#   3. `tsc --noEmit` type-checks every object as a literal of its kubernetes-types type, which
#      rejects unknown or misspelled fields;
#   4. the Grafana dashboard is valid JSON using the service's metrics; the Dockerfile passes
#      dockerfilelint and keeps its non-root, exec-form, exposed-ports shape;
#   5. check_metrics.cjs: every metric, label and label value that the alerts and the dashboard use
#      is exported by lib/metrics/metrics.cc, and the unsettled-operation thresholds (alert and
#      dashboard) equal PAYMENTS_SETTLE_PERIOD in each overlay's ConfigMap;
#   6. --self-test (also run by ctest): known-bad edits of a copy of deploy/ must each fail.
#
# Usage: validate_manifests.sh [--self-test] [REPO_DIR]
# Needs: kubectl >= 1.27 on PATH (on this project's machine image); node and the npm tools in
# tools/ that scripts/install-deps.sh installs.
set -euo pipefail

self_test=0
if [ "${1:-}" = --self-test ]; then self_test=1; shift; fi
repo=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
here=$repo/tests/deploy
tools=$repo/tools
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

die() { echo "validate_manifests: FAIL $*" >&2; exit 1; }
command -v kubectl >/dev/null 2>&1 ||
  die "kubectl not found. It comes with this project's machine image (kubectl 1.32, kustomize 5.5); \
Debian's kubernetes-client (1.20) cannot render current kustomize syntax, so it is not installed here."
kubectl_minor=$(kubectl version --client -o json 2>/dev/null | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(parseInt(JSON.parse(s).clientVersion.minor)))')
[ "$kubectl_minor" -ge 27 ] || die "kubectl 1.$kubectl_minor is too old for kustomize 5 syntax (need >= 1.27)"
for t in kubernetes-models kubernetes-types yaml @kubernetes-models/prometheus-operator; do
  [ -d "$tools/node_modules/$t" ] || die "tools/node_modules/$t missing (run scripts/install-deps.sh)"
done

# validate DEPLOY_DIR DOCKERFILE OUT_DIR: every check; prints failures, returns non-zero on any.
validate() {
  local deploy=$1 dockerfile=$2 out=$3 rc=0 args=() name dir
  mkdir -p "$out"
  for dir in "$deploy/k8s/base" "$deploy"/k8s/overlays/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    if ! kubectl kustomize "$dir" > "$out/$name.yaml" 2> "$out/$name.err"; then
      echo "FAIL [$name] kubectl kustomize: $(head -c 600 "$out/$name.err")"
      rc=1
      continue
    fi
    args+=("$name=$out/$name.yaml")
  done
  [ -d "$deploy/k8s/overlays/dev" ] && [ -d "$deploy/k8s/overlays/prod" ] || { echo "FAIL overlays dev and prod must exist"; rc=1; }
  [ ${#args[@]} -gt 0 ] || return 1
  node "$here/validate_manifests.cjs" "$tools" "$out/manifests.ts" "${args[@]}" || rc=1

  cat > "$out/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "strict": true, "noEmit": true, "skipLibCheck": true, "types": [],
    "module": "commonjs", "moduleResolution": "node", "target": "es2020",
    "baseUrl": "$tools/node_modules"
  },
  "files": ["manifests.ts"]
}
EOF
  if ! "$tools/node_modules/.bin/tsc" -p "$out/tsconfig.json" > "$out/tsc.log" 2>&1; then
    echo "FAIL tsc: unknown fields or wrong types:"
    grep -E 'error TS' "$out/tsc.log" | head -n 20 | sed 's/^/  /'
    rc=1
  else
    echo "ok   tsc --noEmit: every object type-checks against kubernetes-types (no unknown fields)"
  fi

  # Grafana dashboard: parses, and queries this service's metrics.
  local dash
  for dash in "$deploy"/grafana/*.json; do
    [ -f "$dash" ] || { echo "FAIL no Grafana dashboard in deploy/grafana"; rc=1; break; }
    node -e '
      const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const exprs = JSON.stringify(d.panels.map((p) => (p.targets || []).map((t) => t.expr)));
      const need = ["grpc_server_handled_total", "grpc_server_handling_seconds_bucket",
        "http_client_request_duration_seconds", "payments_upstream_retries_total",
        "payments_idempotency_results_total", "payments_webhook_verifications_total",
        "payments_unknown_operations", "payments_unknown_operation_oldest_timestamp_seconds",
        "payments_unknown_outcomes_total", "payments_reconciliations_total",
        "payments_duplicate_intents_total", "payments_store_up"];
      const missing = need.filter((m) => !exprs.includes(m));
      if (!d.title || !d.uid || missing.length) { console.log("FAIL dashboard " + process.argv[1] + " lacks " + missing.join(", ")); process.exit(1); }
      console.log("ok   dashboard " + d.title + ": " + d.panels.length + " panels over the service metrics");
    ' "$dash" || rc=1
  done

  # Metric names, labels and label values against lib/metrics/metrics.cc; the settle period.
  node "$here/check_metrics.cjs" "$tools" "$repo/lib/metrics/metrics.cc" "${args[@]}" "$deploy"/grafana/*.json || rc=1

  # Dockerfile.
  if ! "$tools/node_modules/.bin/dockerfilelint" "$dockerfile" > "$out/dockerfilelint.log" 2>&1; then
    echo "FAIL dockerfilelint:"; sed 's/^/  /' "$out/dockerfilelint.log"; rc=1
  fi
  local final
  final=$(awk '/^FROM /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$dockerfile")
  grep -Eq '^FROM debian:bookworm-slim( |$)' <<< "$final" || { echo "FAIL Dockerfile: runtime stage must be FROM debian:bookworm-slim"; rc=1; }
  grep -Eq '^USER [1-9][0-9]*(:[1-9][0-9]*)?$' <<< "$final" || { echo "FAIL Dockerfile: runtime stage must set a numeric non-root USER"; rc=1; }
  grep -Eq '^ENTRYPOINT \["/usr/local/bin/payments-server"\]$' <<< "$final" || { echo "FAIL Dockerfile: ENTRYPOINT must be the server, exec form"; rc=1; }
  grep -Eq '^EXPOSE 50051 9464$' <<< "$final" || { echo "FAIL Dockerfile: EXPOSE 50051 9464"; rc=1; }
  grep -q 'install-deps.sh' "$dockerfile" || { echo "FAIL Dockerfile: the build stage must use scripts/install-deps.sh"; rc=1; }
  [ $rc -ne 0 ] || echo "ok   Dockerfile: dockerfilelint clean; bookworm-slim runtime, numeric non-root USER, exec-form ENTRYPOINT, EXPOSE"
  return $rc
}

validate "$repo/deploy" "$repo/Dockerfile" "$work/real" || die "deploy/ or the Dockerfile (see above)"
[ $self_test = 1 ] || exit 0

# ---- self-test: each bad edit must be caught --------------------------------------------------
mutations=0
mutate() {  # mutate DESCRIPTION EXPECTED_OUTPUT_REGEX FILE SED_EXPR
  local what=$1 expect=$2 file=$3 expr=$4 copy=$work/m$mutations
  mutations=$((mutations + 1))
  mkdir -p "$copy"
  cp -r "$repo/deploy" "$copy/deploy"
  cp "$repo/Dockerfile" "$copy/Dockerfile"
  cp "$copy/$file" "$copy/$file.orig"
  sed -i -e "$expr" "$copy/$file"
  cmp -s "$copy/$file" "$copy/$file.orig" && die "self-test '$what': the edit changed nothing"
  rm "$copy/$file.orig"
  if validate "$copy/deploy" "$copy/Dockerfile" "$copy/out" > "$copy/log" 2>&1; then
    die "self-test: '$what' was not caught"
  fi
  grep -Eq "$expect" "$copy/log" || { cat "$copy/log" >&2; die "self-test: '$what' failed without /$expect/"; }
  echo "ok   bad edit caught: $what"
}
mutate "readiness probe on the wrong service" 'readinessProbe must be grpc' \
  deploy/k8s/base/deployment.yaml 's/service: payments.v1.PaymentsService/service: payments.v1.Other/'
mutate "misspelled field (readOnlyRootFileSystem)" 'tsc: unknown fields' \
  deploy/k8s/base/deployment.yaml 's/readOnlyRootFilesystem: true/readOnlyRootFileSystem: true/'
mutate "schema violation (periodSeconds: five)" 'schema: .*periodSeconds' \
  deploy/k8s/base/deployment.yaml '0,/periodSeconds: 5/s//periodSeconds: five/'
mutate "capabilities not dropped" 'capabilities must drop ALL' \
  deploy/k8s/base/deployment.yaml 's/drop: \["ALL"\]/drop: ["NET_RAW"]/'
mutate "literal Dojo key in the ConfigMap" 'DOJO_API_KEY looks like a secret' \
  deploy/k8s/base/kustomization.yaml 's|^\(\s*\)- PAYMENTS_DEFAULT_DEADLINE=30s|&\n\1- DOJO_API_KEY=sk_prod_0123456789abcdef|'
mutate "literal PostgreSQL URL with password in prod" 'PAYMENTS_STORE' \
  deploy/k8s/overlays/prod/deployment-patch.yaml '/valueFrom:/,/key: url/c\              value: postgresql://payments:hunter2@db:5432/payments'
mutate "no memory limit" 'resources.limits.memory missing' \
  deploy/k8s/base/deployment.yaml '/^            limits:/,/memory: 512Mi/{/memory: 512Mi/d}'
mutate "grace period shorter than upstream timeout + drain" 'terminationGracePeriodSeconds' \
  deploy/k8s/base/deployment.yaml 's/terminationGracePeriodSeconds: 60/terminationGracePeriodSeconds: 30/'
mutate "NetworkPolicy dropped" 'no NetworkPolicy selects' \
  deploy/k8s/base/kustomization.yaml '/- networkpolicy.yaml/d'
mutate "egress opened to any port" 'NetworkPolicy egress only' \
  deploy/k8s/base/networkpolicy.yaml 's/- port: 443/- port: 8443/'
mutate "Dockerfile running as root" 'numeric non-root USER' \
  Dockerfile 's/^USER 65532:65532$/USER root/'
mutate "alert on a metric the service does not export" 'metric payments_duplicate_intent_total is not exported' \
  deploy/k8s/base/prometheusrule.yaml '0,/payments_duplicate_intents_total/s//payments_duplicate_intent_total/'
mutate "dashboard query on a metric the service does not export" 'metric payments_reconciliation_total is not exported' \
  deploy/grafana/payments-gateway.json 's/payments_reconciliations_total/payments_reconciliation_total/'
mutate "alert on a label value the service never sets" 'label value result="error_search"' \
  deploy/k8s/base/prometheusrule.yaml 's/result="failed"/result="error_search"/'
mutate "settle period changed without its alert and dashboard" 'threshold 900 must equal PAYMENTS_SETTLE_PERIOD' \
  deploy/k8s/base/kustomization.yaml 's/PAYMENTS_SETTLE_PERIOD=15m/PAYMENTS_SETTLE_PERIOD=30m/'
mutate "dev upstream over plain HTTP to a non-loopback host" 'plain http:// only to a loopback host' \
  deploy/k8s/overlays/dev/kustomization.yaml 's|DOJO_BASE_URL=http://127.0.0.1:8080|DOJO_BASE_URL=http://dojo-emulator:8080|'
mutate "dev emulator listening on every interface" 'emulator must listen on loopback only' \
  deploy/k8s/overlays/dev/deployment-patch.yaml 's/--bind=127.0.0.1/--bind=0.0.0.0/'
mutate "dev emulator on another port than DOJO_BASE_URL's" 'must be DOJO_BASE_URL.s port' \
  deploy/k8s/overlays/dev/deployment-patch.yaml 's/--http-port=8080/--http-port=8090/'
mutate "dev emulator image pinned apart from the gateway's" 'must run the gateway.s image, same tag' \
  deploy/k8s/overlays/dev/deployment-patch.yaml 's|image: registry.example.com/payments/payments-gateway$|image: payments-gateway:0.0.9|'
echo "validate_manifests: self-test: $mutations bad edits caught"
