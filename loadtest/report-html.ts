// A self-contained HTML report: a summary table, latency CDFs (TTFT, end-to-end) and throughput against
// concurrency (loadtest/html-chart.ts inlines the chart library, so the file opens with nothing to fetch).
import { chartsHtml, escapeHtml } from "./html-chart.js";
import type { RunResult } from "./runner.js";

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
  const charts = chartsHtml([
    ...(throughput.some((s) => s.points.length > 1)
      ? [
          {
            title: "Output tokens/s vs concurrency",
            xLabel: "concurrency",
            yLabel: "output tokens/s",
            series: throughput,
          },
        ]
      : []),
    { title: "TTFT CDF", xLabel: "ms", yLabel: "fraction of requests", series: ttft },
    { title: "End-to-end latency CDF", xLabel: "ms", yLabel: "fraction of requests", series: e2e },
  ]);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,td:nth-child(2){text-align:left}</style>${charts.head}</head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(runs[0]?.startedAt ?? "")}; model ${escapeHtml(runs[0]?.model ?? "")}; SLO: TTFT &le; ${runs[0]?.summary.slo.ttftMs ?? "-"} ms, TPOT &le; ${runs[0]?.summary.slo.tpotMs ?? "-"} ms.</p>
<table><tr><th>run</th><th>server</th><th>completed</th><th>output tok/s</th><th>req/s</th><th>goodput req/s</th><th>TTFT p50 ms</th><th>TTFT p99 ms</th><th>TPOT p50 ms</th><th>ITL p99 ms</th><th>E2E p50 ms</th><th>E2E p99 ms</th></tr>
${rows}</table>
${charts.body}
</body></html>
`;
}
