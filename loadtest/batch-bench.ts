// npm run bench:batch: the performance targets of the Batch API and the response cache, each measured side by side
// in one run against one Loom process (started here, in its own process):
//   interference  p99 TTFT of a steady interactive load (open loop, --rate) alone, then while a --lines batch runs
//                 (target: within 15% of alone)
//   throughput    output tokens/s of the batch with no interactive load, against the loadtest's best over
//                 --concurrency on the same requests (target: at least 90%)
//   cache         latency of response-cache hits to a deterministic request, bodies byte-identical (target: p99
//                 under 3 ms at the server: its Server-Timing; the client's round trip on loopback beside it)
// usage: npm run bench:batch -- [--scenarios interference,throughput,cache] [--lines 2000] [--max-tokens 64]
//        [--rate 2] [--requests 200] [--concurrency 8,16,32] [--batch-concurrency N] [--threads N]
//        [--cache-requests 2000] [--redis URL] [--out FILE.json] [--dry-run]
// --dry-run: models/tiny.gguf and a handful of requests, to check the script end to end in seconds.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PRESETS } from "../models/presets.js";
import { synthModel } from "../models/synth-model.js";
import { defaultThreads } from "../src/backend/llama/threads.js";
import { batchClient, batchOutputTokens, submitBatch, waitForBatch } from "./batch-client.js";
import { serverTimeMs } from "./scrape.js";
import { percentile } from "./stats.js";
import { runWorkload, type RunResult } from "./runner.js";
import { root, startLoom } from "./server-process.js";

const { values } = parseArgs({
  options: {
    scenarios: { type: "string", default: "interference,throughput,cache" },
    lines: { type: "string", default: "2000" },
    "max-tokens": { type: "string", default: "64" },
    rate: { type: "string", default: "2" },
    requests: { type: "string", default: "200" },
    concurrency: { type: "string", default: "8,16,32" },
    "batch-concurrency": { type: "string" },
    threads: { type: "string" },
    "cache-requests": { type: "string", default: "2000" },
    redis: { type: "string" },
    out: { type: "string" },
    "dry-run": { type: "boolean" },
  },
});
const dry = values["dry-run"] === true;
const num = (name: keyof typeof values, dryValue: number) => (dry ? dryValue : Number(values[name]));
const lines = num("lines", 16);
const maxTokens = num("max-tokens", 8);
const rate = num("rate", 4);
const requests = num("requests", 8);
const cacheRequests = num("cache-requests", 50);
const levels = dry ? [2, 4] : values.concurrency.split(",").map(Number);
const scenarios = new Set(values.scenarios.split(","));
const slo = { ttftMs: 1000, tpotMs: 100 };

const modelName = dry ? "tiny" : "smollm2-135m";
const modelPath = join(root, "models", `${modelName}.gguf`);
if (!existsSync(modelPath)) {
  console.error(`making ${modelPath}`);
  synthModel({ preset: PRESETS[modelName], name: modelName, out: modelPath });
}
const args = ["--threads", String(values.threads ?? defaultThreads()), "--kv-tokens", "32768", "--max-running", "32"];
args.push("--served-model-name", modelName, "--response-cache", "--log-level", "warn");
if (values["batch-concurrency"]) args.push("--batch-concurrency", values["batch-concurrency"]);
if (values.redis) args.push("--redis", values.redis);
const loom = await startLoom(modelPath, 18090, args);
const client = batchClient(loom.url);
const target = { url: loom.url, model: modelName, endpoint: "chat" as const, ignoreEos: true };
const report: Record<string, unknown> = { model: modelName, lines, maxTokens, loomArgs: args };
const print = (line: string) => console.log(line);

function interactive(workloadSeed: number, options: { rate?: number; concurrency?: number; requests: number }) {
  return runWorkload({
    target,
    workload: "uniform",
    workloadOptions: { seed: workloadSeed, maxTokens },
    slo,
    requests: options.requests,
    ...(options.rate === undefined ? { concurrency: options.concurrency! } : { rate: options.rate }),
  });
}

try {
  if (scenarios.has("interference")) {
    const alone = await interactive(1, { rate, requests });
    const created = await submitBatch(client, { model: modelName, workload: "uniform", seed: 2, lines, maxTokens });
    await waitForBatch(client, created.id, (b) => b.status !== "validating");
    const withBatch = await interactive(1, { rate, requests });
    const batch = await client.batches.retrieve(created.id);
    const overlapped = batch.status === "in_progress";
    if (overlapped) await client.batches.cancel(created.id);
    await waitForBatch(client, created.id);
    const ratio = withBatch.summary.ttftMs.p99 / alone.summary.ttftMs.p99;
    // What the batch got done meanwhile: it fills spare capacity, so it must still make progress.
    const linesMeanwhile = batch.request_counts?.completed ?? 0;
    report.interference = { alone: alone.summary, withBatch: withBatch.summary, ratio, overlapped, linesMeanwhile };
    print(
      `interference: p99 TTFT ${alone.summary.ttftMs.p99.toFixed(1)} ms alone, ` +
        `${withBatch.summary.ttftMs.p99.toFixed(1)} ms beside the batch: x${ratio.toFixed(3)} (target <= 1.15); ` +
        `p50 ${alone.summary.ttftMs.p50.toFixed(1)} / ${withBatch.summary.ttftMs.p50.toFixed(1)} ms, ` +
        `TPOT p50 ${alone.summary.tpotMs.p50.toFixed(1)} / ${withBatch.summary.tpotMs.p50.toFixed(1)} ms; ` +
        `${linesMeanwhile} batch lines completed meanwhile` +
        (overlapped ? "" : "  WARNING: the batch ended before the interactive run; use more --lines"),
    );
  }
  if (scenarios.has("throughput")) {
    const runs: RunResult[] = [];
    for (const concurrency of levels)
      runs.push(await interactive(3, { concurrency, requests: Math.min(lines, Math.max(64, concurrency * 8)) }));
    const best = runs.reduce((a, b) => (b.summary.outputTokensPerSecond > a.summary.outputTokensPerSecond ? b : a));
    const created = await submitBatch(client, { model: modelName, workload: "uniform", seed: 3, lines, maxTokens });
    const { batch, seconds } = await waitForBatch(client, created.id);
    const batchTps = (await batchOutputTokens(client, batch)) / seconds;
    const ratio = batchTps / best.summary.outputTokensPerSecond;
    report.throughput = {
      loadtest: runs.map((r) => ({
        concurrency: r.concurrency,
        outputTokensPerSecond: r.summary.outputTokensPerSecond,
      })),
      batch: { status: batch.status, seconds, outputTokensPerSecond: batchTps, requestCounts: batch.request_counts },
      ratio,
    };
    print(
      `throughput: batch ${batchTps.toFixed(1)} tok/s, loadtest best ${best.summary.outputTokensPerSecond.toFixed(1)} ` +
        `tok/s at concurrency ${best.concurrency}: x${ratio.toFixed(3)} (target >= 0.90)`,
    );
  }
  if (scenarios.has("cache")) {
    const body = JSON.stringify({
      model: modelName,
      messages: [{ role: "user", content: "cached" }],
      max_tokens: maxTokens,
      temperature: 0,
    });
    const post = () =>
      fetch(`${loom.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const first = await (await post()).text();
    const latencies: number[] = [];
    const inServer: number[] = [];
    let identical = 0;
    for (let i = 0; i < cacheRequests; i++) {
      const started = performance.now();
      const response = await post();
      const text = await response.text();
      latencies.push(performance.now() - started);
      inServer.push(serverTimeMs(response));
      if (text === first && response.headers.get("x-loom-cache") === "hit") identical++;
    }
    const p99 = percentile(inServer, 99);
    report.cache = {
      requests: cacheRequests,
      identical,
      server: { p50Ms: percentile(inServer, 50), p99Ms: p99 },
      client: { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) },
    };
    print(
      `cache: ${identical}/${cacheRequests} hits byte-identical; in the server (Server-Timing) p50 ` +
        `${percentile(inServer, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (target < 3 ms); at the client p50 ` +
        `${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`,
    );
  }
} finally {
  loom.process.kill("SIGTERM");
}
if (values.out) writeFileSync(values.out, JSON.stringify(report, null, 2));
