#!/usr/bin/env node
// Draws a Grafana dashboard JSON as a static HTML page (inline SVG), with every panel's queries
// evaluated by a real Prometheus over [START, END]. Layout (gridPos), titles, units, legends,
// stacking, the soft axis maximum and threshold lines come from the dashboard; the look follows
// Grafana's dark theme.
//
// Usage: render-dashboard.cjs DASHBOARD.json PROMETHEUS_URL START END OUT.html
"use strict";
const fs = require("fs");
const [dashFile, prom, start, end, out] = process.argv.slice(2);
const dash = JSON.parse(fs.readFileSync(dashFile, "utf8"));
const STEP = 2;
const vars = { "$__rate_interval": "15s", "$job": "payments-gateway", "$namespace": ".*" };
const subst = (e) => Object.entries(vars).reduce((s, [k, v]) => s.split(k).join(v), e);

async function query(expr) {
  const u = `${prom}/api/v1/query_range?query=${encodeURIComponent(subst(expr))}&start=${start}&end=${end}&step=${STEP}`;
  const r = await (await fetch(u)).json();
  if (r.status !== "success") throw new Error(`${expr}: ${r.error}`);
  return r.data.result;
}

const COLORS = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#705da0",
  "#37872d", "#fade2a", "#447ebc", "#c15c17", "#890f02", "#0a437c", "#6d1f62", "#584477"];
function fmt(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const n = (x, d = 2) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(d));
  switch (unit) {
    case "reqps": return `${n(v)} req/s`;
    case "ops": return `${n(v)} ops/s`;
    case "percentunit": return `${n(v * 100)}%`;
    case "s": return v < 1 ? `${n(v * 1000)} ms` : `${n(v)} s`;
    default: return n(v);
  }
}
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

const WIDTH = 1600, COL = (WIDTH - 16) / 24, ROW = 30, GAP = 8, TOP = 48;
const t0 = Number(start), t1 = Number(end);

function timeseries(p, series, w, h) {
  const stacked = p.fieldConfig.defaults.custom && p.fieldConfig.defaults.custom.stacking.mode === "normal";
  const unit = p.fieldConfig.defaults.unit;
  const legendRows = Math.min(series.length, Math.max(1, Math.floor((h - 120) / 16 / 2)) * 2);
  const plotL = 64, plotT = 8, plotR = w - 12, plotB = h - 34 - 22 - Math.ceil(legendRows / 2) * 16;
  const times = [];
  for (let t = t0; t <= t1; t += STEP) times.push(t);
  const grid = series.map((s) => { const m = new Map(s.values.map(([t, v]) => [Math.round(t), Number(v)])); return times.map((t) => (m.has(t) ? m.get(t) : null)); });
  // Stacking as in Grafana: each series sits on the sum of all series before it, a missing point
  // counting as 0 (a series that starts late must not drop the ones above it to the floor).
  const bases = grid.map(() => times.map(() => 0));
  if (stacked) {
    const sum = times.map(() => 0);
    grid.forEach((g, si) => {
      bases[si] = sum.slice();
      grid[si] = g.map((v, j) => (v === null || !Number.isFinite(v) ? v : (sum[j] += v)));
    });
  }
  const custom = p.fieldConfig.defaults.custom || {};
  let max = 0;
  grid.forEach((g) => g.forEach((v) => { if (v !== null && Number.isFinite(v)) max = Math.max(max, v); }));
  max = max > 0 ? max * 1.1 : 1;
  // As Grafana: the axis reaches at least its soft maximum.
  if (Number.isFinite(custom.axisSoftMax)) max = Math.max(max, custom.axisSoftMax);
  const x = (i) => plotL + (i / (times.length - 1)) * (plotR - plotL);
  const y = (v) => plotB - (v / max) * (plotB - plotT);
  let svg = "";
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4, yy = y(v);
    svg += `<line x1="${plotL}" x2="${plotR}" y1="${yy}" y2="${yy}" stroke="#2c3235"/>`;
    svg += `<text x="${plotL - 6}" y="${yy + 4}" text-anchor="end" class="ax">${esc(fmt(v, unit))}</text>`;
  }
  for (let k = 0; k <= 4; k++) {
    const i = Math.round((k * (times.length - 1)) / 4), d = new Date(times[i] * 1000);
    svg += `<text x="${x(i)}" y="${plotB + 16}" text-anchor="${k === 0 ? "start" : k === 4 ? "end" : "middle"}" class="ax">${d.toISOString().slice(11, 19)}</text>`;
  }
  // Threshold lines (thresholdsStyle "line" or "dashed"), in the step's colour.
  const style = (custom.thresholdsStyle || {}).mode || "off";
  if (style !== "off" && p.fieldConfig.defaults.thresholds) {
    for (const step of p.fieldConfig.defaults.thresholds.steps) {
      if (step.value === null || step.value > max) continue;
      const yy = y(step.value).toFixed(1);
      const col = { red: "#f2495c", green: "#73bf69", yellow: "#fade2a", orange: "#ff780a" }[step.color] || step.color;
      svg += `<line x1="${plotL}" x2="${plotR}" y1="${yy}" y2="${yy}" stroke="${col}" stroke-width="1.5"${style.includes("dashed") ? ' stroke-dasharray="6,4"' : ""}/>`;
      svg += `<text x="${plotR - 4}" y="${Number(yy) - 4}" text-anchor="end" class="ax" style="fill:${col}">${esc(fmt(step.value, unit))}</text>`;
    }
  }
  grid.forEach((g, si) => {
    const c = COLORS[si % COLORS.length];
    let d = "", area = "", open = false;
    g.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) { open = false; return; }
      d += `${open ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      open = true;
    });
    if (stacked) {
      const below = bases[si];
      const pts = g.map((v, i) => (v === null ? null : [x(i), y(v)])).filter(Boolean);
      const back = below.map((v, i) => (g[i] === null ? null : [x(i), y(v || 0)])).filter(Boolean).reverse();
      if (pts.length) area = `<path d="M${pts.concat(back).map((q) => q.map((z) => z.toFixed(1)).join(",")).join("L")}Z" fill="${c}" fill-opacity="0.25"/>`;
    }
    svg += `${area}<path d="${d}" fill="none" stroke="${c}" stroke-width="1.5"/>`;
  });
  let legend = "";
  series.slice(0, legendRows).forEach((s, si) => {
    const last = s.values.length ? Number(s.values[s.values.length - 1][1]) : null;
    const col = si % 2, row = Math.floor(si / 2);
    const lx = 12 + col * (w / 2), ly = plotB + 34 + row * 16;
    legend += `<rect x="${lx}" y="${ly - 8}" width="12" height="3" fill="${COLORS[si % COLORS.length]}"/>`;
    legend += `<text x="${lx + 18}" y="${ly - 3}" class="lg">${esc(s.name.slice(0, 58))} <tspan class="lv">${esc(fmt(last, unit))}</tspan></text>`;
  });
  if (series.length > legendRows) legend += `<text x="${w - 12}" y="${h - 34}" text-anchor="end" class="ax">+${series.length - legendRows} more</text>`;
  return svg + legend;
}

function stat(p, series, w, h) {
  const unit = p.fieldConfig.defaults.unit;
  const s = series[0];
  const vals = s ? s.values.map(([, v]) => Number(v)).filter(Number.isFinite) : [];
  const last = vals.length ? vals[vals.length - 1] : null;
  let spark = "";
  if (vals.length > 1) {
    const max = Math.max(...vals) || 1;
    const pts = vals.map((v, i) => `${((i / (vals.length - 1)) * w).toFixed(1)},${(h - 34 - (v / max) * (h - 80)).toFixed(1)}`);
    spark = `<path d="M0,${h - 34}L${pts.join("L")}L${w},${h - 34}Z" fill="#73bf69" fill-opacity="0.15"/><path d="M${pts.join("L")}" fill="none" stroke="#73bf69" stroke-opacity="0.6"/>`;
  }
  return `${spark}<text x="${w / 2}" y="${(h - 34) / 2 + 18}" text-anchor="middle" class="big">${esc(fmt(last, unit))}</text>`;
}

(async () => {
  const panels = [];
  let maxY = 0;
  for (const p of dash.panels) {
    const { x, y, w, h } = p.gridPos;
    maxY = Math.max(maxY, y + h);
    const px = 8 + x * COL, py = TOP + y * ROW, pw = w * COL - GAP, ph = h * ROW - GAP;
    if (p.type === "row") {
      panels.push(`<div class="row" style="left:${px}px;top:${py}px;width:${pw}px">⌄ ${esc(p.title)}</div>`);
      continue;
    }
    const series = [];
    for (const t of p.targets) {
      for (const r of await query(t.expr)) {
        const name = (t.legendFormat || "").replace(/\{\{\s*(\w+)\s*\}\}/g, (_, l) => r.metric[l] || "").replace(/\s+/g, " ").trim() || JSON.stringify(r.metric);
        if (r.values.some(([, v]) => Number.isFinite(Number(v)))) series.push({ name, values: r.values });
      }
    }
    series.sort((a, b) => a.name.localeCompare(b.name));
    const bodyH = ph - 34;
    let inner;
    if (!series.length) inner = `<text x="${pw / 2}" y="${bodyH / 2}" text-anchor="middle" class="nodata">No data</text>`;
    else inner = p.type === "stat" ? stat(p, series, pw, ph) : timeseries(p, series, pw, ph);
    panels.push(`<div class="panel" style="left:${px}px;top:${py}px;width:${pw}px;height:${ph}px">
      <div class="title">${esc(p.title)}</div><svg width="${pw}" height="${bodyH}">${inner}</svg></div>`);
  }
  const range = `${new Date(t0 * 1000).toISOString().slice(0, 19).replace("T", " ")} to ${new Date(t1 * 1000).toISOString().slice(11, 19)} UTC`;
  fs.writeFileSync(out, `<!doctype html><html><head><meta charset="utf-8"><style>
    body{margin:0;background:#111217;color:#ccccdc;font-family:"DejaVu Sans",sans-serif;width:${WIDTH}px;height:${TOP + maxY * ROW + 8}px;position:relative;overflow:hidden}
    .bar{position:absolute;left:16px;top:12px;font-size:18px;color:#d8d9da}.bar small{color:#8e8e8e;font-size:12px;margin-left:16px}
    .panel{position:absolute;background:#181b1f;border:1px solid #2c3235;border-radius:3px;box-sizing:border-box;overflow:hidden}
    .title{font-size:13px;font-weight:600;padding:7px 10px 5px;color:#d8d9da;height:22px;white-space:nowrap}
    .row{position:absolute;font-size:15px;font-weight:600;color:#d8d9da;height:24px;line-height:24px}
    .ax{fill:#8e8e8e;font-size:10px}.lg{fill:#ccccdc;font-size:11px}.lv{fill:#8e8e8e}
    .big{fill:#73bf69;font-size:34px;font-weight:600}.nodata{fill:#6e6e6e;font-size:14px}
  </style></head><body><div class="bar">Dashboards / ${esc(dash.title)}<small>namespace: All · ${esc(range)} · rendered from a real run (Prometheus scrape of payments-server against dojo-emulator)</small></div>
  ${panels.join("\n")}</body></html>`);
})().catch((e) => { console.error(e); process.exit(1); });
