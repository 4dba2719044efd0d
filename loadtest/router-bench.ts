// npm run bench:router: issue 20's measurements of `loom router`, side by side in one run.
// 1. Multi-tenant workload (8 tenants with long system prompts, Poisson arrivals): one replica alone, two replicas
//    behind the router with round-robin, two behind it with prefix affinity. Each scenario gets fresh replica
//    processes (empty caches); the prefix-cache hit ratio is read from the replicas' vllm:prefix_cache_* counters.
// 2. Router overhead: p50 of sequential requests (GET /v1/models, a one-token completion, and a POST the replica
//    answers 404 without compute), straight to a replica and through the router, interleaved.
// 3. Streaming throughput: output tokens/s of concurrent long streams, straight and through the router, in rounds
//    that alternate the two; with the CPU time the router and the replica spent on each.
// usage: npm run bench:router -- [--requests 160] [--rate 2] [--max-tokens 32] [--shared-words 600]
//        [--threads 1] [--kv-tokens 16384] [--overhead-samples 300] [--stream-rounds 6]
//        [--scenarios tenants,overhead] [--pin] [--dry-run]
// --pin: in the overhead and streaming runs, the replica gets cores 1.. to itself and the router, the relay and this
//        client share core 0, as where the router runs on machines of its own; without it they all share every core.
// --dry-run: the tiny model and a handful of requests, to check the script end to end in a few seconds.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_PATH } from "../models/ensure-default.js";
import { PRESETS } from "../models/presets.js";
import { synthModel } from "../models/synth-model.js";
import { summaryTable } from "./report-table.js";
import { runWorkload, type RunResult } from "./runner.js";
import { metricSum } from "./scrape.js";
import { cpuSeconds, pinProcess, root, type ServerProcess, startLoom, startServerProcess } from "./server-process.js";
import { percentile, summarize } from "./stats.js";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "160" },
    rate: { type: "string", default: "2" },
    "max-tokens": { type: "string", default: "32" },
    "shared-words": { type: "string", default: "600" },
    threads: { type: "string", default: "1" },
    "kv-tokens": { type: "string", default: "16384" },
    "overhead-samples": { type: "string", default: "300" },
    "stream-rounds": { type: "string", default: "6" },
    pin: { type: "boolean", default: false },
    scenarios: { type: "string", default: "tenants,overhead" },
    "dry-run": { type: "boolean", default: false },
  },
});
const dry = values["dry-run"]!;
const requests = dry ? 16 : Number(values.requests);
const rate = dry ? 20 : Number(values.rate);
const maxTokens = dry ? 4 : Number(values["max-tokens"]);
const sharedWords = dry ? 120 : Number(values["shared-words"]);
const overheadSamples = dry ? 10 : Number(values["overhead-samples"]);
const streamRounds = dry ? 2 : Number(values["stream-rounds"]);
const modelName = dry ? "tiny" : "smollm2-135m";
const modelPath = dry ? DEFAULT_MODEL_PATH : join(root, "models", "smollm2-135m.gguf");
const slo = { ttftMs: 2000, tpotMs: 200 };
const replicaArgs = [
  "--threads",
  values.threads!,
  "--kv-tokens",
  dry ? "2048" : values["kv-tokens"]!,
  "--served-model-name",
  modelName,
  "--log-level",
  "warn",
];

if (!existsSync(modelPath)) {
  console.error(`making ${modelPath} (about a minute)`);
  synthModel({ preset: PRESETS["smollm2-135m"], name: modelName, out: modelPath });
}

const running: ServerProcess[] = [];
let nextPort = 18180;

async function stopAll(): Promise<void> {
  await Promise.all(
    running.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.process.exitCode !== null) return resolve();
          s.process.once("exit", () => resolve());
          s.process.kill("SIGTERM");
        }),
    ),
  );
}

async function replicas(count: number): Promise<ServerProcess[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startLoom(modelPath, nextPort++, replicaArgs)));
  running.push(...started);
  return started;
}

async function router(policy: string, upstream: readonly ServerProcess[]): Promise<ServerProcess> {
  const port = nextPort++;
  const args = ["router", ...upstream.flatMap((r) => ["--replica", r.url]), "--policy", policy, "--port", String(port)];
  const started = await startServerProcess(
    "router",
    process.execPath,
    [join(root, "bin", "loom.mjs"), ...args, "--log-level", "warn"],
    port,
  );
  running.push(started);
  return started;
}

/** Prefix-cache hits and queries summed over the replicas (vLLM's counters, in prompt tokens). */
async function prefixCounters(servers: readonly ServerProcess[]): Promise<{ hits: number; queries: number }> {
  let hits = 0;
  let queries = 0;
  for (const s of servers) {
    hits += await metricSum(s.url, "vllm:prefix_cache_hits_total");
    queries += await metricSum(s.url, "vllm:prefix_cache_queries_total");
  }
  return { hits, queries };
}

interface TenantScenario {
  readonly name: string;
  readonly run: RunResult;
  readonly hitRatio: number;
  /** The router's routing decisions by kind (prefix policy: affinity, affinity_overflow). */
  readonly decisions: Record<string, number>;
}

async function tenantScenario(name: string, count: number, policy: string | null): Promise<TenantScenario> {
  const upstream = await replicas(count);
  const front = policy === null ? upstream[0]! : await router(policy, upstream);
  const before = await prefixCounters(upstream);
  const run = await runWorkload({
    target: { url: front.url, model: modelName, endpoint: "chat", ignoreEos: true },
    workload: "multi-tenant",
    workloadOptions: { seed: 20, maxTokens, sharedWords, tenants: 8 },
    rate,
    requests,
    slo,
    onProgress: (line) => process.stderr.write(`\r[${name}] ${line}   `),
  });
  process.stderr.write("\n");
  const after = await prefixCounters(upstream);
  const decisions: Record<string, number> = {};
  for (const decision of policy === "prefix" ? ["affinity", "affinity_overflow"] : [])
    decisions[decision] = await metricSum(front.url, "loom:router_routing_decisions_total", { decision });
  await stopAll();
  const queries = after.queries - before.queries;
  const hitRatio = queries > 0 ? (after.hits - before.hits) / queries : 0;
  return { name, run: { ...run, label: name }, hitRatio, decisions };
}

/** p50 of `samples` sequential calls of `call` against each base URL, interleaved so drift falls on both. */
async function interleavedP50(urls: readonly string[], call: (url: string) => Promise<unknown>): Promise<number[]> {
  const times = urls.map(() => [] as number[]);
  for (let i = 0; i < overheadSamples; i++) {
    for (const [j, url] of urls.entries()) {
      const start = performance.now();
      await call(url);
      times[j]!.push(performance.now() - start);
    }
  }
  return times.map((t) => percentile(t, 50));
}

/** loadtest/tcp-relay.ts in front of `upstream`: the reference hop that parses nothing. */
async function tcpRelay(upstream: ServerProcess): Promise<ServerProcess> {
  const port = nextPort++;
  const args = ["--import", "tsx", join(root, "loadtest", "tcp-relay.ts"), "--port", String(port)];
  const started = await startServerProcess(
    "relay",
    process.execPath,
    [...args, "--to", new URL(upstream.url).host],
    port,
  );
  running.push(started);
  return started;
}

async function overheadAndStreaming() {
  const [replica] = await replicas(1);
  const front = await router("round-robin", [replica!]);
  const relay = await tcpRelay(replica!);
  if (values.pin) {
    const cores = availableParallelism();
    if (cores < 2) throw new Error("--pin needs at least two cores");
    pinProcess(replica!.process.pid!, `1-${cores - 1}`);
    for (const pid of [front.process.pid!, relay.process.pid!, process.pid]) pinProcess(pid, "0");
  }
  const urls = [replica!.url, front.url, relay.url];
  const models = await interleavedP50(urls, (url) => fetch(`${url}/v1/models`).then((r) => r.text()));
  const complete = (model: string) => (url: string) =>
    fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, prompt: "hello", max_tokens: 1 }),
    }).then((r) => r.text());
  const oneToken = await interleavedP50(urls, complete(modelName));
  // The same POST for a model the replica does not serve: its 404 takes no compute, so this is the hop's own path.
  const hopCpu = { router: cpuSeconds(front), relay: cpuSeconds(relay) };
  const notFound = await interleavedP50(urls, complete("no-such-model"));
  const perRequestCpuMs = {
    router: ((cpuSeconds(front) - hopCpu.router) * 1000) / overheadSamples,
    relay: ((cpuSeconds(relay) - hopCpu.relay) * 1000) / overheadSamples,
  };
  // Rounds alternate which arm goes first (ABBA), so drift over the minutes of the run falls on both arms alike.
  const arms = [
    { label: "direct", url: replica!.url, runs: [] as RunResult[], cpu: { proxy: 0, replica: 0 } },
    { label: "router", url: front.url, runs: [] as RunResult[], cpu: { proxy: 0, replica: 0 } },
    { label: "relay", url: relay.url, runs: [] as RunResult[], cpu: { proxy: 0, replica: 0 } },
  ];
  for (let round = 0; round < streamRounds; round++) {
    for (const arm of round % 2 === 0 ? arms : [...arms].reverse()) {
      const proxies = () => cpuSeconds(front) + cpuSeconds(relay);
      const cpuBefore = { proxy: proxies(), replica: cpuSeconds(replica!) };
      const run = await runWorkload({
        target: { url: arm.url, model: modelName, endpoint: "completions", ignoreEos: true },
        workload: "uniform",
        workloadOptions: { seed: 21 + round, maxTokens: dry ? 8 : 256, promptWords: 16 },
        concurrency: 4,
        requests: dry ? 4 : 8,
        slo,
      });
      arm.runs.push(run);
      arm.cpu.proxy += proxies() - cpuBefore.proxy;
      arm.cpu.replica += cpuSeconds(replica!) - cpuBefore.replica;
      process.stderr.write(`\r[streaming] round ${round + 1}/${streamRounds} ${arm.label}   `);
    }
  }
  process.stderr.write("\n");
  const streams: RunResult[] = arms.map(({ label, runs }) => {
    const records = runs.flatMap((run) => run.records);
    const seconds = runs.reduce((sum, run) => sum + run.summary.durationSeconds, 0);
    return { ...runs[0]!, label: `stream ${label}`, records, summary: summarize(records, seconds, slo) };
  });
  const cpu = arms.map(({ label, cpu }, i) => ({
    arm: label,
    proxyCpuSeconds: cpu.proxy,
    replicaCpuSeconds: cpu.replica,
    outputTokens: streams[i]!.records.reduce((sum, r) => sum + r.outputTokens, 0),
  }));
  await stopAll();
  return { models, oneToken, notFound, perRequestCpuMs, streams, cpu };
}

const scenarios = new Set(values.scenarios!.split(","));
try {
  console.error(
    `router bench: ${modelName}, ${requests} requests at ${rate}/s, ${values.threads} thread(s) per replica${values.pin ? ", pinned" : ""}`,
  );
  const tenants = scenarios.has("tenants")
    ? [
        await tenantScenario("1 replica", 1, null),
        await tenantScenario("2 replicas round-robin", 2, "round-robin"),
        await tenantScenario("2 replicas prefix", 2, "prefix"),
      ]
    : [];
  const overhead = scenarios.has("overhead") ? await overheadAndStreaming() : null;
  console.log(summaryTable([...tenants.map((t) => t.run), ...(overhead?.streams ?? [])]));
  const lines: string[] = [];
  const checks: Record<string, unknown> = { pinned: values.pin };
  const [single, roundRobin, prefix] = tenants;
  if (single && roundRobin && prefix) {
    lines.push("", "multi-tenant (8 system prompts)   hit ratio   TTFT p50 ms   out tok/s   failed");
    for (const t of tenants)
      lines.push(
        t.name.padEnd(34) +
          t.hitRatio.toFixed(3).padStart(9) +
          t.run.summary.ttftMs.p50.toFixed(1).padStart(14) +
          t.run.summary.outputTokensPerSecond.toFixed(1).padStart(12) +
          String(t.run.summary.failed).padStart(9),
      );
    const hitRatio = single.hitRatio > 0 ? prefix.hitRatio / single.hitRatio : Number.NaN;
    const ttft = prefix.run.summary.ttftMs.p50 / roundRobin.run.summary.ttftMs.p50;
    const tokens = prefix.run.summary.outputTokensPerSecond / roundRobin.run.summary.outputTokensPerSecond;
    Object.assign(checks, { prefixHitRatioVsSingle: hitRatio, prefixVsRoundRobinTtftP50: ttft });
    Object.assign(checks, { prefixVsRoundRobinThroughput: tokens, prefixDecisions: prefix.decisions });
    lines.push(
      "",
      `prefix hit ratio / one replica's:     ${hitRatio.toFixed(3)}  (goal >= 0.9)`,
      `prefix / round-robin TTFT p50:              ${ttft.toFixed(3)}  (goal < 1)`,
      `prefix / round-robin output tok/s:          ${tokens.toFixed(3)}  (goal > 1)`,
      `prefix routing decisions:                   ${JSON.stringify(prefix.decisions)}`,
    );
  }
  if (overhead) {
    const { models, oneToken, notFound, perRequestCpuMs, streams, cpu } = overhead;
    const [direct, routed, relayed] = streams;
    const added = (times: number[], i: number) => times[i]! - times[0]!;
    const overheadMs = {
      models: added(models, 1),
      oneTokenCompletion: added(oneToken, 1),
      notFoundPost: added(notFound, 1),
    };
    const relayOverheadMs = {
      models: added(models, 2),
      oneTokenCompletion: added(oneToken, 2),
      notFoundPost: added(notFound, 2),
    };
    const ratio = (run: RunResult) => run.summary.outputTokensPerSecond / direct!.summary.outputTokensPerSecond;
    const streaming = ratio(routed!);
    Object.assign(checks, { routerOverheadP50Ms: overheadMs, routedStreamingThroughputRatio: streaming });
    Object.assign(checks, { relayOverheadP50Ms: relayOverheadMs, relayedStreamingThroughputRatio: ratio(relayed!) });
    Object.assign(checks, { hopCpuMsPerRequest: perRequestCpuMs });
    const ms = (x: number) => `${x.toFixed(3)} ms`;
    lines.push(
      "                                            router      TCP relay (reference)",
      `overhead p50, GET /v1/models:        ${ms(overheadMs.models).padStart(12)} ${ms(relayOverheadMs.models).padStart(12)}  (goal < 1 ms)`,
      `overhead p50, 1-token completion:    ${ms(overheadMs.oneTokenCompletion).padStart(12)} ${ms(relayOverheadMs.oneTokenCompletion).padStart(12)}`,
      `overhead p50, POST answered 404:     ${ms(overheadMs.notFoundPost).padStart(12)} ${ms(relayOverheadMs.notFoundPost).padStart(12)}  (no compute)`,
      `CPU per request of that POST:        ${ms(perRequestCpuMs.router).padStart(12)} ${ms(perRequestCpuMs.relay).padStart(12)}`,
      `streaming output tok/s / direct:     ${streaming.toFixed(3).padStart(12)} ${ratio(relayed!).toFixed(3).padStart(12)}  (goal >= 0.95)`,
      ...cpu.map(
        (c) =>
          `CPU ms per output token, ${c.arm.padEnd(6)} arm: proxy ${((1000 * c.proxyCpuSeconds) / c.outputTokens).toFixed(3)}, replica ${((1000 * c.replicaCpuSeconds) / c.outputTokens).toFixed(3)}`,
      ),
    );
    Object.assign(checks, { streamingCpu: cpu });
  }
  console.log(lines.join("\n"));
  const outDir = join(root, "loadtest", "results");
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, dry ? "router-bench-dry-run.json" : "router-bench.json");
  const runs = {
    tenants,
    streams: overhead?.streams ?? [],
    overheadP50Ms: overhead && { models: overhead.models, oneToken: overhead.oneToken },
  };
  writeFileSync(file, `${JSON.stringify({ model: modelName, requests, rate, checks, runs }, null, 2)}\n`);
  console.error(`wrote ${file}`);
} finally {
  await stopAll();
}
