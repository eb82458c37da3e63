#!/usr/bin/env node
// Alerts and dashboards against the metrics the service exports.
//
// Usage: node check_metrics.cjs TOOLS_DIR METRICS_CC NAME=RENDERED.yaml... DASHBOARD.json...
//
// 1. Every metric that a PrometheusRule expression or a Grafana query (panel targets, template
//    variables) uses is registered in METRICS_CC (lib/metrics/metrics.cc; a histogram also as
//    _bucket, _count and _sum), or is Prometheus' own `up`.
// 2. Every label they match or group by is one the service sets (a string literal of METRICS_CC)
//    or one the scrape adds (job, namespace, pod, ...); every label value they match on, when it
//    is a plain word or an alternation of plain words, is a string literal of METRICS_CC.
// 3. The unsettled-operation threshold follows PAYMENTS_SETTLE_PERIOD: each rendered overlay's
//    ConfigMap sets it, and the alert on payments_unknown_operation_oldest_timestamp_seconds and every
//    dashboard threshold on that metric equal it in seconds.
// Prints one line per failed check and exits 1 if any failed.
"use strict";
const fs = require("fs");
const path = require("path");

const [toolsDir, metricsFile, ...inputs] = process.argv.slice(2);
if (!toolsDir || !metricsFile || inputs.length === 0) {
  console.error("usage: check_metrics.cjs TOOLS_DIR METRICS_CC NAME=RENDERED.yaml... DASHBOARD.json...");
  process.exit(2);
}
const toolsRequire = require("module").createRequire(path.resolve(toolsDir, "package.json"));
const YAML = toolsRequire("yaml");

const SCRAPE_LABELS = new Set(["job", "namespace", "pod", "instance", "service", "container", "endpoint", "le"]);
const EXTERNAL_METRICS = new Set(["up"]);
const OLDEST = "payments_unknown_operation_oldest_timestamp_seconds";
const KEYWORDS = new Set(["and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
  "group_right", "bool", "offset", "inf", "nan", "sum", "min", "max", "avg", "group", "stddev", "stdvar",
  "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"]);

// ---- what lib/metrics/metrics.cc registers ---------------------------------------------------
const source = fs.readFileSync(metricsFile, "utf8");
const exported = new Set();
for (const m of source.matchAll(/Build(Counter|Gauge|Histogram)\(\)\s*\.Name\("([^"]+)"\)/g)) {
  if (m[1] === "Histogram") for (const s of ["_bucket", "_count", "_sum"]) exported.add(m[2] + s);
  else exported.add(m[2]);
}
const literals = new Set([...source.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]));

let failures = 0;
let checked = 0;
function fail(what) {
  failures++;
  console.log(`FAIL ${what}`);
}
if (exported.size < 10) fail(`${metricsFile}: found only ${exported.size} metrics; has the way it registers them changed?`);

// ---- PromQL, as far as these checks need it --------------------------------------------------
// Metric names: identifiers left once strings, label matchers, ranges, grouping clauses, Grafana
// variables, numbers, keywords and function names are removed.
function metricNames(expr) {
  let e = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\{?\w+\}?/g, " ");
  const names = [];
  for (const m of e.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const before = e[m.index - 1] || " ";
    if (/[0-9.]/.test(before)) continue;  // 1e3, 5m, 0.5
    if (/^\s*\(/.test(e.slice(m.index + m[0].length))) continue;  // a function
    if (KEYWORDS.has(m[0])) continue;
    names.push(m[0]);
  }
  return names;
}
// Label names and the values matched on: [{name, op, value}].
function matchers(expr) {
  const out = [];
  for (const block of expr.matchAll(/\{([^}]*)\}/g)) {
    for (const m of block[1].matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      out.push({ name: m[1], op: m[2], value: m[3] });
    }
  }
  return out;
}
function groupingLabels(expr) {
  const out = [];
  for (const m of expr.matchAll(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    out.push(...m[2].split(",").map((s) => s.trim()).filter(Boolean));
  }
  return out;
}

function checkExpr(where, expr) {
  checked++;
  const names = metricNames(expr);
  if (names.length === 0) fail(`${where}: no metric found in ${expr}`);
  for (const n of names) {
    if (!exported.has(n) && !EXTERNAL_METRICS.has(n)) {
      fail(`${where}: metric ${n} is not exported by lib/metrics/metrics.cc`);
    }
  }
  for (const label of [...matchers(expr).map((m) => m.name), ...groupingLabels(expr)]) {
    if (!SCRAPE_LABELS.has(label) && !literals.has(label)) {
      fail(`${where}: label ${label} is not set by lib/metrics/metrics.cc`);
    }
  }
  for (const { name, op, value } of matchers(expr)) {
    if (SCRAPE_LABELS.has(name) || op === "!=" || op === "!~") continue;
    const words = op === "=~" ? value.split("|") : [value];
    if (!words.every((w) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(w))) continue;  // a pattern: not checked
    for (const w of words) {
      if (!literals.has(w)) fail(`${where}: label value ${name}="${w}" never appears in lib/metrics/metrics.cc`);
    }
  }
}

// Go/absl durations: 15m, 1h30m, 90s.
function seconds(d) {
  const unit = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  if (!/^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/.test(String(d))) return NaN;
  return [...String(d).matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)].reduce((t, m) => t + m[1] * unit[m[2]], 0);
}

// ---- dashboards ------------------------------------------------------------------------------
const dashboards = [];
for (const file of inputs.filter((i) => i.endsWith(".json"))) {
  const d = JSON.parse(fs.readFileSync(file, "utf8"));
  const name = path.basename(file);
  const panels = (d.panels || []).flatMap((p) => [p, ...(p.panels || [])]);
  const thresholds = [];
  for (const p of panels) {
    for (const t of p.targets || []) {
      if (t.expr) checkExpr(`dashboard ${name} panel "${p.title}"`, t.expr);
    }
    if ((p.targets || []).some((t) => t.expr && metricNames(t.expr).includes(OLDEST))) {
      const steps = ((p.fieldConfig && p.fieldConfig.defaults.thresholds) || { steps: [] }).steps
        .filter((s) => s.value !== null && s.value !== undefined);
      thresholds.push({ panel: p.title, value: steps.length ? Math.max(...steps.map((s) => s.value)) : NaN });
    }
  }
  for (const v of (d.templating && d.templating.list) || []) {
    const q = typeof v.query === "object" ? v.query.query : v.query;
    if (v.type !== "query" || !q) continue;
    const lv = /^\s*label_values\((.*),\s*([A-Za-z_]\w*)\s*\)\s*$/.exec(q);
    checkExpr(`dashboard ${name} variable ${v.name}`, lv ? lv[1] : q);
    if (lv && !SCRAPE_LABELS.has(lv[2]) && !literals.has(lv[2])) {
      fail(`dashboard ${name} variable ${v.name}: label ${lv[2]} is not set by lib/metrics/metrics.cc`);
    }
  }
  if (thresholds.length === 0) fail(`dashboard ${name}: no panel shows ${OLDEST}`);
  dashboards.push({ name, thresholds });
}

// ---- rendered overlays: alerts and the settle period ------------------------------------------
for (const input of inputs.filter((i) => !i.endsWith(".json"))) {
  const eq = input.indexOf("=");
  const overlay = input.slice(0, eq);
  const objects = YAML.parseAllDocuments(fs.readFileSync(input.slice(eq + 1), "utf8"))
    .map((doc) => doc.toJS()).filter(Boolean);
  const rules = objects.filter((o) => o.kind === "PrometheusRule")
    .flatMap((r) => r.spec.groups.flatMap((g) => g.rules));
  for (const r of rules) checkExpr(`[${overlay}] ${r.alert ? "alert " + r.alert : "rule " + r.record}`, r.expr);

  const config = Object.assign({}, ...objects
    .filter((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("payments-gateway-config"))
    .map((c) => c.data || {}));
  const settle = seconds(config.PAYMENTS_SETTLE_PERIOD);
  if (!Number.isFinite(settle)) {
    fail(`[${overlay}] ConfigMap payments-gateway-config must set PAYMENTS_SETTLE_PERIOD ` +
      `(got ${JSON.stringify(config.PAYMENTS_SETTLE_PERIOD)}): the unsettled-operation alert and the dashboard follow it`);
    continue;
  }
  const oldest = rules.filter((r) => r.alert && metricNames(r.expr).includes(OLDEST));
  if (oldest.length === 0) fail(`[${overlay}] no alert on ${OLDEST}`);
  for (const r of oldest) {
    const m = /\)\s*>\s*(\d+(?:\.\d+)?)\s*$/.exec(r.expr.trim());
    const threshold = m ? Number(m[1]) : NaN;
    if (threshold !== settle) {
      fail(`[${overlay}] alert ${r.alert}: threshold ${m ? m[1] : "(none)"} must equal PAYMENTS_SETTLE_PERIOD ` +
        `(${config.PAYMENTS_SETTLE_PERIOD} = ${settle} s)`);
    }
  }
  for (const d of dashboards) {
    for (const t of d.thresholds) {
      if (t.value !== settle) {
        fail(`[${overlay}] dashboard ${d.name} panel "${t.panel}": threshold ${t.value} must equal ` +
          `PAYMENTS_SETTLE_PERIOD (${config.PAYMENTS_SETTLE_PERIOD} = ${settle} s)`);
      }
    }
  }
}

if (failures === 0) {
  console.log(`ok   metrics: ${checked} alert and dashboard queries use only what lib/metrics/metrics.cc ` +
    `exports (${exported.size} series names); the settle-period thresholds match PAYMENTS_SETTLE_PERIOD`);
}
process.exit(failures ? 1 : 0);
