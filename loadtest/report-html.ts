// A self-contained HTML report: a summary table, latency CDFs (TTFT, end-to-end) and throughput against
// concurrency, drawn as inline SVG so the file opens in any browser with nothing to fetch.
import type { RunResult } from "./runner.js";

interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

function lineChart(title: string, xLabel: string, yLabel: string, series: readonly Series[]): string {
  const width = 560,
    height = 320,
    left = 60,
    right = 16,
    top = 28,
    bottom = 44;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return "";
  const xMax = Math.max(...all.map(([x]) => x)) || 1;
  const yMax = Math.max(...all.map(([, y]) => y)) || 1;
  const sx = (x: number) => left + (x / xMax) * (width - left - right);
  const sy = (y: number) => height - bottom - (y / yMax) * (height - top - bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${left}" x2="${width - right}" y1="${sy(t * yMax)}" y2="${sy(t * yMax)}" stroke="#eee"/><text x="${left - 6}" y="${sy(t * yMax) + 4}" text-anchor="end">${+(t * yMax).toPrecision(3)}</text><text x="${sx(t * xMax)}" y="${height - bottom + 16}" text-anchor="middle">${+(t * xMax).toPrecision(3)}</text>`,
    )
    .join("");
  const lines = series
    .map(
      (s, i) =>
        `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ")}"/>`,
    )
    .join("");
  const legend = series
    .map(
      (s, i) =>
        `<text x="${left + 8}" y="${top + 14 + i * 14}" fill="${COLORS[i % COLORS.length]}">${escapeHtml(s.name)}</text>`,
    )
    .join("");
  return `<svg width="${width}" height="${height}" font-family="sans-serif" font-size="11"><text x="${width / 2}" y="16" text-anchor="middle" font-size="13">${escapeHtml(title)}</text>${grid}<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#333"/><line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#333"/>${lines}${legend}<text x="${width / 2}" y="${height - 8}" text-anchor="middle">${escapeHtml(xLabel)}</text><text transform="translate(14 ${height / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(yLabel)}</text></svg>`;
}

function cdf(values: readonly number[]): [number, number][] {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.map((v, i) => [v, (i + 1) / sorted.length]);
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "-");

export function htmlReport(runs: readonly RunResult[], title = "Loom loadtest"): string {
  const rows = runs
    .map((r) => {
      const s = r.summary;
      return `<tr><td>${escapeHtml(r.label)}</td><td>${escapeHtml(r.url)}</td><td>${s.completed}/${s.requests}</td><td>${fmt(s.outputTokensPerSecond)}</td><td>${fmt(s.requestsPerSecond, 2)}</td><td>${fmt(s.goodput, 2)}</td><td>${fmt(s.ttftMs.p50, 0)}</td><td>${fmt(s.ttftMs.p99, 0)}</td><td>${fmt(s.tpotMs.p50)}</td><td>${fmt(s.itlMs.p99)}</td><td>${fmt(s.e2eMs.p50, 0)}</td><td>${fmt(s.e2eMs.p99, 0)}</td></tr>`;
    })
    .join("\n");
  const byServer = new Map<string, RunResult[]>();
  for (const r of runs)
    if (r.concurrency !== null)
      byServer.set(`${r.url} ${r.workload}`, [...(byServer.get(`${r.url} ${r.workload}`) ?? []), r]);
  const throughput = [...byServer].map(([name, rs]) => ({
    name,
    points: rs.map((r) => [r.concurrency!, r.summary.outputTokensPerSecond] as const).sort((a, b) => a[0] - b[0]),
  }));
  const ttft = runs.map((r) => ({
    name: `${r.label} ${r.url}`,
    points: cdf(r.records.flatMap((x) => (x.ttftMs === null ? [] : [x.ttftMs]))),
  }));
  const e2e = runs.map((r) => ({
    name: `${r.label} ${r.url}`,
    points: cdf(r.records.filter((x) => x.ok).map((x) => x.e2eMs)),
  }));
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,td:nth-child(2){text-align:left}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(runs[0]?.startedAt ?? "")}; model ${escapeHtml(runs[0]?.model ?? "")}; SLO: TTFT &le; ${runs[0]?.summary.slo.ttftMs ?? "-"} ms, TPOT &le; ${runs[0]?.summary.slo.tpotMs ?? "-"} ms.</p>
<table><tr><th>run</th><th>server</th><th>completed</th><th>output tok/s</th><th>req/s</th><th>goodput req/s</th><th>TTFT p50 ms</th><th>TTFT p99 ms</th><th>TPOT p50 ms</th><th>ITL p99 ms</th><th>E2E p50 ms</th><th>E2E p99 ms</th></tr>
${rows}</table>
${throughput.some((s) => s.points.length > 1) ? lineChart("Output tokens/s vs concurrency", "concurrency", "output tokens/s", throughput) : ""}
${lineChart("TTFT CDF", "ms", "fraction of requests", ttft)}
${lineChart("End-to-end latency CDF", "ms", "fraction of requests", e2e)}
</body></html>
`;
}
