// The soak's HTML report: one self-contained page (uPlot, the dashboard's chart library, inlined from node_modules)
// with the samples plotted (memory, descriptors and KV blocks, latencies and event-loop delay) and the verdict table.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Check, Sample } from "./trend.js";

export interface SoakSummary {
  readonly started: string;
  readonly minutes: number;
  readonly intervalSeconds: number;
  readonly concurrency: number;
  readonly model: string;
  readonly batches: boolean;
  readonly requests: number;
  readonly errors: number;
  readonly batchesCompleted: number;
  readonly checks: readonly Check[];
  readonly problems: readonly string[];
  readonly passed: boolean;
}

const require = createRequire(import.meta.url);
const asset = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), "utf8");

/** Plots drawn by the page: a title and the sample fields on it (with their axis unit). */
const PLOTS = [
  { title: "Memory (MB)", series: ["rssMb", "heapUsedMb"] },
  { title: "File descriptors and KV blocks", series: ["openFds", "kvBlocksUsed", "kvBlocksCached"] },
  { title: "Latency (ms)", series: ["p50Ms", "p99Ms", "eventLoopP99Ms"] },
  { title: "Requests per interval", series: ["requests", "errors"] },
] as const;

const escapeHtml = (text: string) => text.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);

/** The page for `samples` and `summary`. */
export function soakReport(samples: readonly Sample[], summary: SoakSummary): string {
  const rows = summary.checks
    .map(
      (c) =>
        `<tr><td>${c.name}</td><td>${c.value.toFixed(2)} ${c.unit}</td><td>${c.limit.toFixed(2)}</td>` +
        `<td>${c.ok ? "ok" : c.gated ? "FAIL" : "over (not judged: short run)"}</td></tr>`,
    )
    .join("");
  const problems = summary.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join("");
  // The data goes in as JSON; `<` is escaped so no value can close the script element.
  const data = JSON.stringify({ samples, plots: PLOTS }).replace(/</g, "\\u003c");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Loom soak ${summary.started}</title>
<style>${asset("uPlot.min.css")}
body{font:14px system-ui,sans-serif;margin:24px}td,th{padding:2px 10px;text-align:left}.plot{margin:16px 0}</style>
</head><body>
<h1>Loom soak: ${summary.passed ? "passed" : "FAILED"}</h1>
<p>${summary.minutes} minutes from ${summary.started}, ${summary.concurrency} clients, model ${escapeHtml(summary.model)},
batches ${summary.batches ? "on" : "off"}; ${summary.requests} requests, ${summary.errors} errors,
${summary.batchesCompleted} batches completed; a sample every ${summary.intervalSeconds} s.</p>
<table><tr><th>check</th><th>value</th><th>limit</th><th></th></tr>${rows}</table>
${problems ? `<h2>Problems</h2><ul>${problems}</ul>` : ""}
<div id="plots"></div>
<script>${asset("uPlot.iife.min.js")}</script>
<script>
const { samples, plots } = ${data};
const colors = ["#1f77b4", "#d62728", "#2ca02c"];
for (const plot of plots) {
  const element = document.createElement("div");
  element.className = "plot";
  document.getElementById("plots").append(element);
  const x = samples.map((s) => s.minute);
  const series = plot.series.map((name, i) => ({ label: name, stroke: colors[i], width: 2 }));
  const data = [x, ...plot.series.map((name) => samples.map((s) => s[name]))];
  const axes = [{ label: "minutes" }, {}];
  const options = { title: plot.title, width: 900, height: 260, scales: { x: { time: false } }, axes };
  new uPlot({ ...options, series: [{}, ...series] }, data, element);
}
</script>
</body></html>
`;
}
