// npm run soak: a steady mixed load (reliability/soak/load.ts) on `loom serve` over stories260K and its LoRA adapter
// for N minutes, sampling the server each interval: RSS, V8 heap, open descriptors, event-loop delay p99, KV blocks,
// and the interval's p50/p99 latency. Writes reliability/results/soak-last.{json,html} (the page plots the samples
// with uPlot) and fails when memory or descriptors trend upward after the warm-up, p99 drifts, a request fails, a
// batch is lost, or a counter is not back at idle after the load.
// usage: npm run soak -- --minutes 60 [--interval 60] [--warmup 5] [--concurrency 4] [--redis]
//          [--memory-limit 1 (MB per 10 min)] [--p99-drift 1.5] [--scenarios chat,embedding,...]
// --scenarios: only these kinds of request (chat, chat-stream, completion, embedding, aborted-stream, adapter-load,
// batch), to find which one a memory trend comes from.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { quantile } from "simple-statistics";
import { startRedis } from "../../test/helpers/redis.js";
import { getOnce, metricSum, openFds, waitIdle } from "../common/counters.js";
import { STORIES, startStack } from "../common/stack.js";
import { MixedLoad } from "./load.js";
import { soakReport } from "./report.js";
import { DEFAULT_LIMITS, judge, type Sample } from "./trend.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "2" },
    interval: { type: "string" },
    warmup: { type: "string" },
    concurrency: { type: "string", default: "4" },
    redis: { type: "boolean", default: false },
    scenarios: { type: "string" },
    "memory-limit": { type: "string", default: String(DEFAULT_LIMITS.memoryMbPer10Min) },
    "p99-drift": { type: "string", default: String(DEFAULT_LIMITS.p99Drift) },
  },
});
const minutes = Number(values.minutes);
// A sample a minute on long runs; twelve samples at least on short ones.
const intervalSeconds = Number(values.interval ?? Math.min(60, Math.max(5, (minutes * 60) / 12)));
const limits = {
  ...DEFAULT_LIMITS,
  // The first fifth of a short run, five minutes of a long one: loading, caches and pools filling.
  warmupMinutes: Number(values.warmup ?? Math.min(DEFAULT_LIMITS.warmupMinutes, minutes / 5)),
  floorMinutes: Math.min(DEFAULT_LIMITS.floorMinutes, minutes / 4),
  memoryMbPer10Min: Number(values["memory-limit"]),
  p99Drift: Number(values["p99-drift"]),
};
const concurrency = Number(values.concurrency);
const MB = 1024 * 1024;

const redis = values.redis ? await startRedis() : null;
const server = await startStack({ model: STORIES, ...(redis ? { redisUrl: redis.url } : {}) });
let stopping = false;
void server.launched.exited.then((code) => {
  if (!stopping) console.log(`the server exited with code ${code}:\n${server.launched.stderr().slice(-6000)}`);
});
const baselineFds = openFds(server.pid).length;
console.log(`soak: ${minutes} min on ${server.url} (pid ${server.pid}), a sample every ${intervalSeconds} s`);

const only = values.scenarios?.split(",").map((name) => name.trim());
const load = new MixedLoad(server, { concurrency, batches: redis !== null, ...(only ? { only } : {}) });
const started = Date.now();
const running = load.run();
const samples: Sample[] = [];
const problems: string[] = [];
let errors = 0;
// RSS and heap every few seconds; each sample keeps the interval's lowest (see trend.ts on the floor).
const POLL_MS = 5000;
const polled: { rss: number; heap: number }[] = [];
const poller = setInterval(() => {
  getOnce(`${server.url}/metrics`).then(
    (text) =>
      polled.push({
        rss: metricSum(text, "process_resident_memory_bytes"),
        heap: metricSum(text, "nodejs_heap_size_used_bytes"),
      }),
    () => {}, // the server's exit is reported by the loop below
  );
}, POLL_MS);

async function sample(): Promise<Sample> {
  const fds = openFds(server.pid).length;
  const text = await getOnce(`${server.url}/metrics`);
  const window = load.drain();
  errors += window.errors.length;
  for (const error of window.errors) if (problems.length < 20 && !problems.includes(error)) problems.push(error);
  const latencies = window.latenciesMs;
  const memory = polled.splice(0);
  memory.push({
    rss: metricSum(text, "process_resident_memory_bytes"),
    heap: metricSum(text, "nodejs_heap_size_used_bytes"),
  });
  const percentile = (q: number) => (latencies.length === 0 ? null : quantile(latencies, q));
  return {
    minute: (Date.now() - started) / 60_000,
    rssMb: Math.min(...memory.map((m) => m.rss)) / MB,
    heapUsedMb: Math.min(...memory.map((m) => m.heap)) / MB,
    openFds: fds,
    eventLoopP99Ms: metricSum(text, "nodejs_eventloop_lag_p99_seconds") * 1000,
    kvBlocksUsed: metricSum(text, "loom:kv_blocks", { state: "used" }),
    kvBlocksCached: metricSum(text, "loom:kv_blocks", { state: "cached" }),
    requests: Object.values(window.byScenario).reduce((a, b) => a + b, 0),
    errors: window.errors.length,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
  };
}

const round = (n: number | null) => (n === null ? "-" : n.toFixed(1));
while (Date.now() - started < minutes * 60_000 && server.launched.child.exitCode === null) {
  await new Promise((resolve) => setTimeout(resolve, intervalSeconds * 1000));
  const s = await sample();
  samples.push(s);
  console.log(
    `${s.minute.toFixed(1)} min: rss ${round(s.rssMb)} MB, heap ${round(s.heapUsedMb)} MB, ${s.openFds} fds, ` +
      `loop p99 ${round(s.eventLoopP99Ms)} ms, kv ${s.kvBlocksUsed} used/${s.kvBlocksCached} cached, ` +
      `${s.requests} requests (${s.errors} errors), p50 ${round(s.p50Ms)} ms, p99 ${round(s.p99Ms)} ms`,
  );
}
clearInterval(poller);
load.stop();
await running;
problems.push(...(await load.finish(120_000)));
const late = load.drain();
errors += late.errors.length;
problems.push(...late.errors.slice(0, 5));
if (server.launched.child.exitCode !== null) problems.push(`the server exited with ${server.launched.child.exitCode}`);
else problems.push(...(await waitIdle(server.url, server.pid, baselineFds)));
if (errors > 0) problems.push(`${errors} requests failed`);

const checks = judge(samples, limits, minutes);
const passed = problems.length === 0 && checks.every((c) => c.ok || !c.gated);
const summary = {
  started: new Date(started).toISOString(),
  minutes,
  intervalSeconds,
  concurrency,
  model: server.model.name,
  batches: redis !== null,
  scenarios: only ?? "all",
  requests: load.requests,
  errors,
  batchesCompleted: load.batchesCompleted,
  limits,
  checks,
  problems,
  passed,
};
const dir = join(import.meta.dirname, "..", "results");
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "soak-last.json"), JSON.stringify({ ...summary, samples }, null, 2));
writeFileSync(join(dir, "soak-last.html"), soakReport(samples, summary));
for (const c of checks)
  console.log(
    `${c.ok ? "ok  " : c.gated ? "FAIL" : "over (not judged: short run)"} ${c.name}: ${c.value.toFixed(2)} ${c.unit} (limit ${c.limit.toFixed(2)})`,
  );
for (const p of problems) console.log(`FAIL ${p}`);
console.log(
  `${load.requests} requests, ${errors} errors, ${load.batchesCompleted} batches; wrote ${dir}/soak-last.html`,
);
stopping = true;
await server.stop();
await redis?.close();
process.exit(passed ? 0 : 1);
