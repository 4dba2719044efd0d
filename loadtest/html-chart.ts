// Line charts for the self-contained HTML reports of loadtest/: uPlot (the dashboard's chart library) and its CSS
// are inlined with the data, so a report opens in any browser offline and has nothing to fetch.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** One line of a chart: [x, y] points in x order (each series may have its own x values). */
export interface ChartSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

/** A chart's title, axis labels and lines. */
export interface Chart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

/** Escapes text for HTML element content and attribute values. */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

// Runs in the page: series with different x values are aligned by uPlot.join (gaps spanned).
const DRAW = `for (const [i, chart] of CHARTS.entries()) {
  const el = document.getElementById("chart-" + i);
  const data = uPlot.join(chart.series.map((s) => [s.points.map((p) => p[0]), s.points.map((p) => p[1])]));
  new uPlot({
    title: chart.title, width: 640, height: 340, scales: { x: { time: false } },
    axes: [{ label: chart.xLabel }, { label: chart.yLabel }],
    series: [{ label: chart.xLabel }, ...chart.series.map((s, k) => ({ label: s.name, stroke: COLORS[k % COLORS.length],
      width: 2, spanGaps: true }))],
  }, data, el);
}`;

let library: { readonly js: string; readonly css: string } | null = null;
function uplot(): { readonly js: string; readonly css: string } {
  if (!library) {
    const require = createRequire(import.meta.url);
    const dist = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), "utf8");
    library = { js: dist("uPlot.iife.min.js"), css: dist("uPlot.min.css") };
  }
  return library;
}

/**
 * The `<head>` additions and the `<div>`s plus script for `charts` (charts without points are left out), to put in
 * a report's page. JSON is embedded with `<` escaped, so names cannot close the script element.
 */
export function chartsHtml(charts: readonly Chart[]): { readonly head: string; readonly body: string } {
  const drawn = charts.filter((c) => c.series.some((s) => s.points.length > 0));
  const { js, css } = uplot();
  const data = JSON.stringify(drawn).replace(/</g, "\\u003c");
  const divs = drawn.map((c, i) => `<div id="chart-${i}" class="chart" data-title="${escapeHtml(c.title)}"></div>`);
  return {
    head: `<style>${css}.chart{margin:16px 0}</style>`,
    body: `${divs.join("\n")}\n<script>${js}</script>\n<script>const CHARTS = ${data};
const COLORS = ${JSON.stringify(COLORS)};
${DRAW}</script>`,
  };
}
