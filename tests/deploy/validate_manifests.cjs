#!/usr/bin/env node
// Offline checks of rendered Kubernetes manifests (kubectl kustomize output).
//
// Usage: node validate_manifests.cjs TOOLS_DIR TS_OUT NAME=RENDERED.yaml...
//   NAME is base, dev or prod: the invariants that apply differ per overlay.
//
// 1. Every object is validated against the Kubernetes (kubernetes-models) or Prometheus Operator
//    (@kubernetes-models/prometheus-operator) JSON schemas.
// 2. TS_OUT receives a TypeScript module that assigns every object, as an object literal, to its
//    type (kubernetes-types; the operator's interfaces for CRDs); `tsc --noEmit` on it then rejects
//    unknown or misspelled fields, which the schemas above let through.
// 3. The deployment invariants a reviewer expects (probes, security context, resources, named
//    ports, no literal secrets, PDB/HPA/NetworkPolicy/alerts present, ...).
// Prints one line per failed check and exits 1 if any failed.
"use strict";
const fs = require("fs");
const path = require("path");

const [toolsDir, tsOut, ...inputs] = process.argv.slice(2);
if (!toolsDir || !tsOut || inputs.length === 0) {
  console.error("usage: validate_manifests.cjs TOOLS_DIR TS_OUT NAME=RENDERED.yaml...");
  process.exit(2);
}
const toolsRequire = require("module").createRequire(path.resolve(toolsDir, "package.json"));
const YAML = toolsRequire("yaml");

function secretVolumesOf(pod) {
  return new Set((pod.volumes || []).filter((v) => v.secret).map((v) => v.name));
}

// apiVersion/kind -> [kubernetes-models module, TypeScript import module, TypeScript type name]
const KINDS = {
  "v1/ServiceAccount": ["kubernetes-models/v1", "kubernetes-types/core/v1", "ServiceAccount"],
  "v1/ConfigMap": ["kubernetes-models/v1", "kubernetes-types/core/v1", "ConfigMap"],
  "v1/Secret": ["kubernetes-models/v1", "kubernetes-types/core/v1", "Secret"],
  "v1/Service": ["kubernetes-models/v1", "kubernetes-types/core/v1", "Service"],
  "apps/v1/Deployment": ["kubernetes-models/apps/v1", "kubernetes-types/apps/v1", "Deployment"],
  "policy/v1/PodDisruptionBudget": ["kubernetes-models/policy/v1", "kubernetes-types/policy/v1", "PodDisruptionBudget"],
  "autoscaling/v2/HorizontalPodAutoscaler": ["kubernetes-models/autoscaling/v2", "kubernetes-types/autoscaling/v2", "HorizontalPodAutoscaler"],
  "networking.k8s.io/v1/NetworkPolicy": ["kubernetes-models/networking.k8s.io/v1", "kubernetes-types/networking/v1", "NetworkPolicy"],
  "monitoring.coreos.com/v1/ServiceMonitor": [
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor", "IServiceMonitor"],
  "monitoring.coreos.com/v1/PrometheusRule": [
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule", "IPrometheusRule"],
};

const APP = "payments-gateway";
const UPSTREAM_TIMEOUT_DEFAULT = 20, SHUTDOWN_GRACE_DEFAULT = 25;
const SECRETISH = /KEY|SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL/i;
const URL_WITH_PASSWORD = /:\/\/[^\/\s:@]+:[^\/\s@]+@/;
const DOJO_KEY = /\bsk_(prod|live|sandbox|test)_[A-Za-z0-9]/;
const REQUIRED_ALERT_METRICS = [
  "grpc_server_handled_total", "http_client_request_duration_seconds_count",
  "payments_unknown_operation_oldest_timestamp_seconds", "payments_duplicate_intents_total",
  "payments_reconciliations_total", "payments_retry_budget_exhausted_total", "payments_store_up",
  "payments_caller_calls_total",
];

let failures = 0;
let checks = 0;
function check(ok, overlay, what) {
  checks++;
  if (!ok) {
    failures++;
    console.log(`FAIL [${overlay}] ${what}`);
  }
  return ok;
}
const seconds = (d, fallback) => {
  if (d === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(d));
  if (!m) return NaN;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
};
const matches = (selector, labels) =>
  selector && Object.entries(selector).every(([k, v]) => labels && labels[k] === v);

const tsImports = new Map();  // module -> Set of type names
const tsDecls = [];

for (const input of inputs) {
  const eq = input.indexOf("=");
  const overlay = input.slice(0, eq);
  const file = input.slice(eq + 1);
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  const objects = [];
  for (const doc of docs) {
    if (doc.errors.length) { check(false, overlay, `YAML: ${doc.errors[0].message}`); continue; }
    const obj = doc.toJS();
    if (obj) objects.push(obj);
  }
  check(objects.length > 0, overlay, "renders no objects");

  // ---- 1 + 2: schemas and types ------------------------------------------------------------
  objects.forEach((obj, i) => {
    const id = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
    const spec = KINDS[`${obj.apiVersion}/${obj.kind}`];
    if (!check(spec, overlay, `${id}: no schema known for ${obj.apiVersion} ${obj.kind}`)) return;
    const [modelModule, tsModule, tsType] = spec;
    const Model = toolsRequire(modelModule)[obj.kind];
    try {
      new Model(JSON.parse(JSON.stringify(obj))).validate();
      check(true, overlay, id);
    } catch (e) {
      check(false, overlay, `${id}: schema: ${String(e.message).split("\n").slice(0, 5).join("; ")}`);
    }
    if (!tsImports.has(tsModule)) tsImports.set(tsModule, new Set());
    tsImports.get(tsModule).add(tsType);
    const alias = `${tsType}_${tsModule.replace(/[^A-Za-z0-9]/g, "_")}`;
    tsDecls.push(`// ${overlay}: ${id}\nexport const ${overlay}_${i}: ${alias} = ${JSON.stringify(obj, null, 2)};\n`);
  });

  // ---- 3: invariants -------------------------------------------------------------------------
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const named = (kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const isProd = overlay === "prod", isDev = overlay === "dev";

  // No literal secrets anywhere in base or prod; dev may carry the emulator's sandbox key.
  const secrets = byKind("Secret");
  if (!isDev) {
    check(secrets.length === 0, overlay,
      `defines Secret objects (${secrets.map((s) => s.metadata.name).join(", ")}): reference Secrets by name, never commit them`);
  }
  for (const cm of byKind("ConfigMap")) {
    for (const [k, v] of Object.entries(cm.data || {})) {
      check(!SECRETISH.test(k) || /_FILE$/.test(k), overlay,
        `ConfigMap ${cm.metadata.name}: ${k} looks like a secret; mount it from a Secret (${k}_FILE)`);
      check(!URL_WITH_PASSWORD.test(v), overlay, `ConfigMap ${cm.metadata.name}: ${k} holds a URL with a password`);
      check(!DOJO_KEY.test(v), overlay, `ConfigMap ${cm.metadata.name}: ${k} holds a Dojo API key`);
    }
  }
  const configData = Object.assign({}, ...byKind("ConfigMap")
    .filter((c) => c.metadata.name.startsWith(`${APP}-config`)).map((c) => c.data || {}));

  // Every workload: restricted security context, resources, no literal secret env.
  const workloads = byKind("Deployment");
  for (const d of workloads) {
    const pod = d.spec.template.spec;
    const w = `Deployment ${d.metadata.name}`;
    const psc = pod.securityContext || {};
    check(psc.runAsNonRoot === true, overlay, `${w}: pod securityContext.runAsNonRoot must be true`);
    check(psc.runAsUser === undefined || psc.runAsUser > 0, overlay, `${w}: runAsUser must not be 0`);
    check(psc.seccompProfile && psc.seccompProfile.type === "RuntimeDefault", overlay,
      `${w}: pod seccompProfile must be RuntimeDefault`);
    check(pod.automountServiceAccountToken === false, overlay, `${w}: automountServiceAccountToken must be false`);
    check(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC, overlay, `${w}: must not use host namespaces`);
    for (const c of [...(pod.initContainers || []), ...pod.containers]) {
      const cw = `${w} container ${c.name}`;
      const sc = c.securityContext || {};
      check(sc.allowPrivilegeEscalation === false, overlay, `${cw}: allowPrivilegeEscalation must be false`);
      check(sc.readOnlyRootFilesystem === true, overlay, `${cw}: readOnlyRootFilesystem must be true`);
      check(sc.privileged !== true, overlay, `${cw}: must not be privileged`);
      check(sc.capabilities && (sc.capabilities.drop || []).includes("ALL") && !(sc.capabilities.add || []).length,
        overlay, `${cw}: capabilities must drop ALL and add none`);
      check(!sc.runAsUser || sc.runAsUser > 0, overlay, `${cw}: runAsUser must not be 0`);
      const r = c.resources || {};
      for (const k of ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]) {
        const [a, b] = k.split(".");
        check(r[a] && r[a][b] !== undefined, overlay, `${cw}: resources.${k} missing`);
      }
      check(/[:@]/.test(c.image.split("/").pop()) && !/:latest$/.test(c.image), overlay,
        `${cw}: image '${c.image}' needs a pinned tag or digest`);
      for (const e of c.env || []) {
        if (e.value === undefined) continue;
        check(!SECRETISH.test(e.name) || /_FILE$/.test(e.name), overlay,
          `${cw}: env ${e.name} has a literal value; take it from a Secret`);
        check(!URL_WITH_PASSWORD.test(e.value) && !DOJO_KEY.test(e.value), overlay,
          `${cw}: env ${e.name} holds a credential`);
      }
    }
  }

  // The gateway itself.
  const dep = named("Deployment", APP);
  if (check(dep, overlay, `Deployment ${APP} missing`)) {
    const pod = dep.spec.template.spec;
    const podLabels = dep.spec.template.metadata.labels;
    const c = pod.containers.find((x) => x.name === APP) || pod.containers[0];
    const ready = c.readinessProbe || {}, live = c.livenessProbe || {};
    // Probes on the plaintext health-only listener: kubelet cannot speak TLS to the gRPC port.
    check(ready.grpc && ready.grpc.port === 8081 && ready.grpc.service === "payments.v1.PaymentsService",
      overlay, "readinessProbe must be grpc on 8081 (the health listener) for service payments.v1.PaymentsService");
    check(live.grpc && live.grpc.port === 8081 && !live.grpc.service, overlay,
      "livenessProbe must be grpc on 8081 (the health listener) for the overall service (\"\")");
    const ports = Object.fromEntries((c.ports || []).map((p) => [p.name, p.containerPort]));
    check(ports.grpc === 50051 && ports.metrics === 9464 && ports.health === 8081, overlay,
      "container ports must be named grpc (50051), metrics (9464) and health (8081)");
    check(/:8081$/.test(configData.PAYMENTS_HEALTH_ADDR || ""), overlay,
      "PAYMENTS_HEALTH_ADDR must listen on the probes' port 8081");
    // The server's own rule (lib/config/dojo_base_url.cc): the API key never crosses a network in clear.
    const plainHost = /^http:\/\/(\[[^\]]*\]|[^\/:?#]*)/i.exec(configData.DOJO_BASE_URL || "");
    check(!plainHost || /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(plainHost[1]), overlay,
      `DOJO_BASE_URL ${configData.DOJO_BASE_URL}: plain http:// only to a loopback host (the server exits 2 otherwise)`);
    if (overlay !== "base") {
      check(["mtls", "tls", "off"].includes(configData.PAYMENTS_TLS), overlay,
        "PAYMENTS_TLS must be set (mtls, tls or off): the server refuses to start without it");
    }
    if (isProd) {
      check(configData.PAYMENTS_TLS === "mtls", overlay, "prod must require client certificates (PAYMENTS_TLS=mtls)");
      for (const k of ["PAYMENTS_TLS_CERT_FILE", "PAYMENTS_TLS_KEY_FILE", "PAYMENTS_TLS_CLIENT_CA_FILE"]) {
        const p = configData[k];
        check(p && (c.volumeMounts || []).some((m) => secretVolumesOf(pod).has(m.name) && !m.subPath &&
          p.startsWith(m.mountPath + "/")), overlay,
          `${k} must name a file in a Secret volume mounted as a directory (no subPath, so rotation reaches it)`);
      }
      const policy = configData.PAYMENTS_POLICY_FILE;
      check(policy && (c.volumeMounts || []).some((m) => !m.subPath && policy.startsWith(m.mountPath + "/") &&
        (pod.volumes || []).some((v) => v.name === m.name && v.configMap)), overlay,
        "prod PAYMENTS_POLICY_FILE must name a file in a ConfigMap volume mounted as a directory");
    }
    const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
    const upstream = seconds(configData.PAYMENTS_UPSTREAM_TIMEOUT, UPSTREAM_TIMEOUT_DEFAULT);
    const grace = seconds(configData.PAYMENTS_SHUTDOWN_GRACE, SHUTDOWN_GRACE_DEFAULT);
    check(pod.terminationGracePeriodSeconds > upstream + grace, overlay,
      `terminationGracePeriodSeconds (${pod.terminationGracePeriodSeconds}) must exceed upstream timeout + drain (${upstream + grace} s)`);
    check(!(c.lifecycle && c.lifecycle.preStop), overlay, "no preStop hook: the server drains on SIGTERM");
    check(c.envFrom && c.envFrom.some((e) => e.configMapRef && e.configMapRef.name.startsWith(`${APP}-config`)),
      overlay, `container must take its settings from ConfigMap ${APP}-config`);
    check(!configData.DOJO_API_KEY && !configData.DOJO_WEBHOOK_SECRETS && !env.DOJO_API_KEY && !env.DOJO_WEBHOOK_SECRETS,
      overlay, "Dojo key and webhook secrets must come from files (DOJO_API_KEY_FILE, DOJO_WEBHOOK_SECRETS_FILE)");
    const mounts = c.volumeMounts || [];
    const secretVolumes = new Set((pod.volumes || []).filter((v) => v.secret).map((v) => v.name));
    for (const k of ["DOJO_API_KEY_FILE", "DOJO_WEBHOOK_SECRETS_FILE"]) {
      const p = configData[k];
      check(p && mounts.some((m) => secretVolumes.has(m.name) && !m.subPath && p.startsWith(m.mountPath + "/")),
        overlay, `${k} must name a file in a Secret volume mounted as a directory (no subPath, so rotation reaches it)`);
    }
    check(serviceAccountOk(), overlay, `ServiceAccount ${pod.serviceAccountName} missing or mounts its token`);
    function serviceAccountOk() {
      const sa = named("ServiceAccount", pod.serviceAccountName || "default");
      return sa && sa.automountServiceAccountToken === false;
    }

    const svc = named("Service", APP);
    if (check(svc, overlay, `Service ${APP} missing`)) {
      const names = (svc.spec.ports || []).map((p) => p.name);
      check(names.includes("grpc") && names.includes("metrics"), overlay, "Service ports must be named grpc and metrics");
      check(matches(svc.spec.selector, podLabels), overlay, "Service selector does not select the gateway's pods");
    }
    const pdb = byKind("PodDisruptionBudget").find((p) => matches(p.spec.selector.matchLabels, podLabels));
    check(pdb, overlay, "no PodDisruptionBudget selects the gateway's pods");
    const np = byKind("NetworkPolicy").find((p) => matches(p.spec.podSelector.matchLabels, podLabels));
    if (check(np, overlay, "no NetworkPolicy selects the gateway's pods")) {
      check((np.spec.policyTypes || []).includes("Ingress") && (np.spec.policyTypes || []).includes("Egress"),
        overlay, "NetworkPolicy must restrict both Ingress and Egress");
      for (const rule of np.spec.ingress || []) {
        check(rule.from && rule.from.length > 0, overlay, "NetworkPolicy ingress rule without 'from' admits everyone");
        for (const f of rule.from || []) {
          check(f.podSelector && Object.keys(f.podSelector.matchLabels || {}).length > 0, overlay,
            "NetworkPolicy ingress peers must be selected by pod labels");
        }
        check((rule.ports || []).length > 0 && rule.ports.every((p) => ["grpc", "metrics", 50051, 9464].includes(p.port)),
          overlay, "NetworkPolicy ingress only to the grpc and metrics ports");
      }
      const allowedEgress = new Set([53, 5432, 443]);
      for (const rule of np.spec.egress || []) {
        check((rule.ports || []).length > 0 && rule.ports.every((p) => allowedEgress.has(p.port)), overlay,
          `NetworkPolicy egress only to ${[...allowedEgress].join(", ")} (got ${JSON.stringify(rule.ports)})`);
      }
    }
    const hpas = byKind("HorizontalPodAutoscaler").filter((h) => h.spec.scaleTargetRef.name === APP);
    if (isDev) {
      check(dep.spec.replicas === 1 && hpas.length === 0, overlay, "dev runs exactly one replica (SQLite) without an HPA");
      check(/^sqlite:/.test(configData.PAYMENTS_STORE || ""), overlay, "dev must use SQLite");
      // The emulator is a sidecar of the gateway's pod on loopback (the server refuses plain
      // http:// to any other host): a native sidecar (init container, restartPolicy Always) so it
      // starts before the gateway and stops after the drain.
      const upstream = /^http:\/\/127\.0\.0\.1:(\d+)$/.exec(configData.DOJO_BASE_URL || "");
      check(upstream, overlay, `dev must call the emulator sidecar at http://127.0.0.1:PORT (got ${configData.DOJO_BASE_URL})`);
      const emu = (pod.initContainers || []).find((x) => x.name === "dojo-emulator");
      if (check(emu && emu.restartPolicy === "Always", overlay,
        "dev needs the dojo-emulator sidecar in the gateway's pod (an init container with restartPolicy: Always)")) {
        const args = [...(emu.command || []), ...(emu.args || [])];
        const flag = (name) => { const a = args.find((x) => x.startsWith(`--${name}=`)); return a && a.slice(name.length + 3); };
        check(emu.image === c.image, overlay,
          `dev's emulator sidecar must run the gateway's image, same tag (${emu.image} vs ${c.image})`);
        check(args[0] === "/usr/local/bin/dojo-emulator", overlay,
          "dev's emulator sidecar must run /usr/local/bin/dojo-emulator (where the Dockerfile installs it)");
        const bind = flag("bind");
        check(bind === undefined || /^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(bind), overlay,
          `dev's emulator must listen on loopback only (--bind=${bind})`);
        check(upstream && flag("http-port") === upstream[1] && !flag("https-port"), overlay,
          `dev's emulator --http-port (${flag("http-port")}) must be DOJO_BASE_URL's port`);
        check(emu.startupProbe && emu.livenessProbe, overlay,
          "dev's emulator sidecar needs a startupProbe (the gateway starts after it) and a livenessProbe");
        check(!(emu.ports || []).length, overlay,
          "dev's emulator listens on loopback only: declare no containerPort (nothing outside the pod can reach it)");
      }
      check(!named("Deployment", "dojo-emulator") && !named("Service", "dojo-emulator"), overlay,
        "dev's emulator is a sidecar: no dojo-emulator Deployment or Service");
      const data = (pod.volumes || []).find((v) => v.name === "data");
      check(data && data.emptyDir && mounts.some((m) => m.name === "data" && configData.PAYMENTS_STORE.startsWith(`sqlite:${m.mountPath}/`)),
        overlay, "dev's SQLite file must live on the emptyDir");
    } else {
      check(hpas.length === 1 && hpas[0].apiVersion === "autoscaling/v2", overlay, "an autoscaling/v2 HPA must target the Deployment");
    }
    if (isProd) {
      check(dep.spec.replicas === 3, overlay, "prod runs 3 replicas");
      check(hpas[0] && hpas[0].spec.minReplicas >= 3, overlay, "prod HPA keeps at least 3 replicas");
      check(pdb && (pdb.spec.minAvailable >= 2 || pdb.spec.maxUnavailable === 1), overlay, "prod PDB keeps a quorum");
      const store = env.PAYMENTS_STORE;
      check(store && store.valueFrom && store.valueFrom.secretKeyRef && store.valueFrom.secretKeyRef.name, overlay,
        "prod PAYMENTS_STORE (the PostgreSQL URL) must come from a Secret");
      check(configData.DOJO_BASE_URL === "https://api.dojo.tech", overlay, "prod must call https://api.dojo.tech");
    }
  }

  // Monitoring.
  const sm = byKind("ServiceMonitor")[0];
  check(sm && sm.spec.endpoints.some((e) => e.port === "metrics"), overlay, "ServiceMonitor scraping the metrics port missing");
  const exprs = byKind("PrometheusRule").flatMap((r) => r.spec.groups.flatMap((g) => g.rules))
    .filter((r) => r.alert).map((r) => r.expr);
  for (const m of REQUIRED_ALERT_METRICS) {
    check(exprs.some((e) => e.includes(m)), overlay, `no alert on ${m}`);
  }
  check(exprs.some((e) => /http_client_request_duration_seconds_count\{[^}]*error_type!=""/.test(e)), overlay,
    "no alert on upstream failures (error_type != \"\")");
  // Every duplicate intent alerts, and those that may have been paid (kept, cancel_failed) are critical.
  const dupRules = byKind("PrometheusRule").flatMap((r) => r.spec.groups.flatMap((g) => g.rules))
    .filter((r) => r.alert && r.expr.includes("payments_duplicate_intents_total"));
  for (const action of ["canceled", "kept", "cancel_failed"]) {
    check(dupRules.some((r) => new RegExp(`action(=~?)"[^"]*\\b${action}\\b`).test(r.expr) && /> 0\s*$/.test(r.expr.trim())),
      overlay, `no alert on any duplicate intent with action ${action}`);
  }
  check(dupRules.some((r) => /kept/.test(r.expr) && /cancel_failed/.test(r.expr) && r.labels && r.labels.severity === "critical"),
    overlay, "duplicate intents kept or cancel_failed must alert as critical");
}

// ---- TypeScript module for the type check ----------------------------------------------------
const header = [...tsImports].map(([mod, types]) => [...types]
  .map((t) => `import type { ${t} as ${t}_${mod.replace(/[^A-Za-z0-9]/g, "_")} } from "${mod}";`).join("\n")).join("\n");
fs.writeFileSync(tsOut, `// Generated by validate_manifests.cjs: every rendered object, typed.\n${header}\n\n${tsDecls.join("\n")}`);

console.log(`validate_manifests: ${checks - failures} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
