// npm run bench:ui-memory: does the dashboard hold up when left open for hours? Loom runs in its own process under a
// light load; a headless Chromium opens the dashboard with the stats stream sampling every 50 ms instead of every
// second, so each minute brings 20 minutes' worth of points (6 minutes: 2 hours). Every --every seconds the script
// forces a garbage collection over the DevTools protocol and reads the page's JS heap, DOM nodes and listeners;
// the heap must level off once the charts' rings are full (600 points) rather than grow with the points received.
// usage: npm run bench:ui-memory -- [--minutes 6] [--interval-ms 50] [--every 20]     (dry run: --minutes 0.3)
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_PATH } from "../models/ensure-default.js";
import { launchBrowser } from "../test/helpers/browser.js";
import { root, startLoom } from "./server-process.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "6" },
    "interval-ms": { type: "string", default: "50" },
    every: { type: "string", default: "20" },
  },
});
const minutes = Number(values.minutes);
const intervalMs = Number(values["interval-ms"]);
const everySeconds = Number(values.every);

const loom = await startLoom(DEFAULT_MODEL_PATH, 18093, ["--threads", "1", "--log-level", "warn"]);

// A light load, so the numbers move: one short completion at a time, a pause between them.
let loading = true;
const load = (async () => {
  while (loading) {
    const response = await fetch(`${loom.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 16 }),
    });
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
})();

interface Reading {
  readonly seconds: number;
  /** Samples the page has received: the seconds of open time they stand for at the default interval. */
  readonly samplesReceived: number;
  readonly chartPoints: number;
  readonly jsHeapUsedMiB: number;
  readonly domNodes: number;
  readonly listeners: number;
}

const browser = await launchBrowser();
const page = await browser.context.newPage();
const cdp = await browser.context.newCDPSession(page);
await cdp.send("Performance.enable");
const started = Date.now();
await page.goto(`${loom.url}/#/?interval_ms=${intervalMs}`);
await page.waitForSelector("figure.chart canvas");

async function read(): Promise<Reading> {
  await cdp.send("HeapProfiler.collectGarbage");
  const { metrics } = await cdp.send("Performance.getMetrics");
  const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? Number.NaN;
  const chartPoints = Number(await page.locator("figure.chart").first().getAttribute("data-points"));
  const samplesReceived = Number(await page.locator("section[data-samples]").getAttribute("data-samples"));
  return {
    seconds: Math.round((Date.now() - started) / 1000),
    samplesReceived,
    chartPoints,
    jsHeapUsedMiB: Number((metric("JSHeapUsedSize") / 2 ** 20).toFixed(2)),
    domNodes: metric("Nodes"),
    listeners: metric("JSEventListeners"),
  };
}

const readings: Reading[] = [];
const endAt = started + minutes * 60_000;
for (;;) {
  const reading = await read();
  readings.push(reading);
  console.log(
    `${String(reading.seconds).padStart(5)} s  ~${(reading.samplesReceived / 3600).toFixed(2)} h of points  ` +
      `chart points ${reading.chartPoints}  heap ${reading.jsHeapUsedMiB} MiB  nodes ${reading.domNodes}  ` +
      `listeners ${reading.listeners}`,
  );
  if (Date.now() >= endAt) break;
  await new Promise((resolve) => setTimeout(resolve, Math.min(everySeconds * 1000, endAt - Date.now())));
}

loading = false;
await load;
await browser.close();
loom.process.kill("SIGTERM");

// Growth after the rings filled is what matters: before that the page is still taking in its first 600 points.
const full = readings.filter((r) => r.chartPoints >= 600);
if (full.length > 1) {
  const heaps = full.map((r) => r.jsHeapUsedMiB);
  const nodes = full.map((r) => r.domNodes);
  console.log(
    `after the rings filled (${full[0]!.seconds} s to ${full.at(-1)!.seconds} s, ${full.length} readings): ` +
      `JS heap first ${heaps[0]} / min ${Math.min(...heaps)} / max ${Math.max(...heaps)} / last ${heaps.at(-1)} MiB; ` +
      `DOM nodes ${Math.min(...nodes)} to ${Math.max(...nodes)}`,
  );
}
const dir = join(root, "loadtest", "results");
mkdirSync(dir, { recursive: true });
const out = join(dir, `ui-memory-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(out, JSON.stringify({ minutes, intervalMs, readings }, null, 2));
console.log(`wrote ${out}`);
