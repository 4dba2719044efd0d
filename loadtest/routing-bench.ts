// npm run bench:routing: issue 18's two measurements, side by side in one run, each against a Loom process started
// from a config file (the routes under test beside a plain route to the same model).
// 1. Shadow overhead: a steady open-loop load below saturation on a route to the primary, and on one that also
//    shadows 10% of its requests to a second copy of the model; blocks alternate so drift falls on both. Claim: the
//    primary's p99 TTFT with shadowing is at most 2% above it without.
// 2. Cascade savings: the same workload through a route to the slow model alone, and through a cascade from a fast
//    model to the slow one. The cascade's threshold is calibrated on the fast model first (its confidence on other
//    prompts of the same workload) so that it is confident on about `--confident` of the requests. Claim: the
//    cascade saves at least 50% of the slow model's generated tokens (vllm:generation_tokens_total).
// usage: npm run bench:routing -- [--rate 2] [--requests 200] [--max-tokens 64] [--threads 1] [--confident 0.75]
//        [--only shadow|cascade] [--dry-run]
// --dry-run: the tiny models and a handful of requests, to check the script end to end in seconds.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_PATH } from "../models/ensure-default.js";
import { PRESETS } from "../models/presets.js";
import { synthModel } from "../models/synth-model.js";
import { summaryTable } from "./report-table.js";
import { type RunResult, runWorkload } from "./runner.js";
import { metricSum } from "./scrape.js";
import { root, type ServerProcess, startServerProcess } from "./server-process.js";
import { percentile } from "./stats.js";
import { conversation } from "./workloads.js";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "2" },
    requests: { type: "string", default: "200" },
    "max-tokens": { type: "string", default: "64" },
    threads: { type: "string", default: "1" },
    confident: { type: "string", default: "0.75" },
    only: { type: "string" },
    "dry-run": { type: "boolean", default: false },
  },
});
const dry = values["dry-run"]!;
const rate = dry ? 10 : Number(values.rate);
const requests = dry ? 8 : Number(values.requests);
const maxTokens = dry ? 4 : Number(values["max-tokens"]);
const confident = Number(values.confident);
const slo = { ttftMs: 2000, tpotMs: 200 };
const PREFIX_TOKENS = dry ? 2 : 8;
const fastModel = join(root, "..", "shared", "models", "stories260K.gguf");
const slowModel = dry ? DEFAULT_MODEL_PATH : join(root, "models", "smollm2-135m.gguf");
if (!existsSync(slowModel)) {
  console.error(`making ${slowModel} (about a minute)`);
  synthModel({ preset: PRESETS["smollm2-135m"], name: "smollm2-135m", out: slowModel });
}
if (!existsSync(fastModel)) throw new Error(`${fastModel} is missing: ../shared/models must sit beside the checkout`);

let nextPort = 18280;
const running: ServerProcess[] = [];

async function startFromConfig(yaml: string): Promise<ServerProcess> {
  const path = join(mkdtempSync(join(tmpdir(), "loom-bench-")), "loom.yaml");
  writeFileSync(path, yaml);
  const port = nextPort++;
  const args = ["serve", "--config", path, "--port", String(port), "--threads", values.threads!, "--log-level", "warn"];
  const server = await startServerProcess("loom", process.execPath, [join(root, "bin", "loom.mjs"), ...args], port);
  running.push(server);
  return server;
}

async function stop(server: ServerProcess): Promise<void> {
  await new Promise<void>((resolve) => {
    if (server.process.exitCode !== null) return resolve();
    server.process.once("exit", () => resolve());
    server.process.kill("SIGTERM");
  });
}

const workload = { seed: 18, maxTokens, promptWords: dry ? 8 : 48 };

async function run(url: string, model: string, label: string, seed = workload.seed): Promise<RunResult> {
  const result = await runWorkload({
    target: { url, model, endpoint: "chat", ignoreEos: false },
    workload: "uniform",
    workloadOptions: { ...workload, seed },
    rate,
    requests,
    slo,
    onProgress: (line) => process.stderr.write(`\r[${label}] ${line}   `),
  });
  process.stderr.write("\n");
  return { ...result, label };
}

async function shadowOverhead() {
  // No prefix cache: each pair of blocks sends the same prompts, and the second must not find them cached.
  const server = await startFromConfig(`
kv_tokens: ${dry ? 2048 : 16384}
prefix_caching: false
models:
  - { name: primary, path: ${JSON.stringify(slowModel)} }
  - { name: primary, path: ${JSON.stringify(slowModel)}, version: 2 }
routes:
  - { name: plain, target: primary@1 }
  - { name: shadowed, target: primary@1, shadow: { target: primary@2, sample: 0.1 } }
`);
  const blocks: { label: string; run: RunResult }[] = [];
  for (let block = 0; block < 4; block++) {
    const label = block % 2 === 0 ? "plain" : "shadowed";
    const seed = workload.seed + Math.floor(block / 2);
    blocks.push({ label, run: await run(server.url, label, `${label} #${block}`, seed) });
  }
  const ttfts = (label: string) =>
    blocks
      .filter((b) => b.label === label)
      .flatMap((b) => b.run.records.flatMap((r) => (r.ttftMs === null ? [] : [r.ttftMs])));
  const shadows = {
    completed: await metricSum(server.url, "loom:shadow_requests_total", { outcome: "completed" }),
    skipped: await metricSum(server.url, "loom:shadow_requests_total", { outcome: "skipped" }),
    dropped: await metricSum(server.url, "loom:shadow_requests_total", { outcome: "dropped" }),
  };
  await stop(server);
  const plain = percentile(ttfts("plain"), 99);
  const shadowed = percentile(ttfts("shadowed"), 99);
  return { runs: blocks.map((b) => b.run), plain, shadowed, shadows };
}

/** The fast model's confidence (10th percentile of its first tokens' probabilities) on calibration prompts. */
async function calibrate(url: string): Promise<number> {
  const confidences: number[] = [];
  for (let i = 0; i < (dry ? 6 : 60); i++) {
    const { turns } = conversation("uniform", i, { ...workload, seed: workload.seed + 1000 });
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "fast",
        messages: [{ role: "user", content: turns[0]!.user }],
        max_tokens: PREFIX_TOKENS,
        temperature: 0,
        logprobs: true,
      }),
    });
    const body = (await response.json()) as { choices: { logprobs: { content: { logprob: number }[] } | null }[] };
    const probabilities = (body.choices[0]!.logprobs?.content ?? [])
      .map((t) => Math.exp(t.logprob))
      .sort((a, b) => a - b);
    if (probabilities.length > 0)
      confidences.push(probabilities[Math.max(1, Math.ceil(0.1 * probabilities.length)) - 1]!);
  }
  // Confident on about `confident` of them: the threshold sits at the (1 - confident) quantile.
  return percentile(confidences, (1 - confident) * 100);
}

async function cascadeSavings() {
  const models = `
kv_tokens: ${dry ? 2048 : 16384}
models:
  - { name: fast, path: ${JSON.stringify(fastModel)} }
  - { name: slow, path: ${JSON.stringify(slowModel)} }
`;
  const calibration = await startFromConfig(models);
  const threshold = await calibrate(calibration.url);
  await stop(calibration);
  const server = await startFromConfig(`${models}
routes:
  - { name: slow-only, target: slow@1 }
  - name: cascade
    cascade: { targets: [fast@1, slow@1], min_confidence: ${threshold}, stream_prefix_tokens: ${PREFIX_TOKENS} }
`);
  const slowTokens = () => metricSum(server.url, "vllm:generation_tokens_total", { model_name: "slow@1" });
  const before = await slowTokens();
  const alone = await run(server.url, "slow-only", "slow only");
  const middle = await slowTokens();
  const cascade = await run(server.url, "cascade", "cascade");
  const after = await slowTokens();
  const escalations = await metricSum(server.url, "loom:cascade_escalations_total", { route: "cascade" });
  await stop(server);
  return { runs: [alone, cascade], threshold, slowAlone: middle - before, slowCascade: after - middle, escalations };
}

try {
  const results: RunResult[] = [];
  const lines: string[] = [];
  if (values.only !== "cascade") {
    const s = await shadowOverhead();
    results.push(...s.runs);
    const added = (s.shadowed / s.plain - 1) * 100;
    lines.push(
      `shadow 10%: primary p99 TTFT ${s.plain.toFixed(1)} ms plain, ${s.shadowed.toFixed(1)} ms shadowed ` +
        `(${added >= 0 ? "+" : ""}${added.toFixed(1)}%; claim <= +2%: ${added <= 2 ? "met" : "NOT met"}); shadows ` +
        `completed ${s.shadows.completed}, skipped ${s.shadows.skipped}, dropped ${s.shadows.dropped}`,
    );
  }
  if (values.only !== "shadow") {
    const c = await cascadeSavings();
    results.push(...c.runs);
    const saved = (1 - c.slowCascade / c.slowAlone) * 100;
    lines.push(
      `cascade (threshold ${c.threshold.toFixed(3)}, ${c.escalations} of ${requests} escalated): slow model ` +
        `${c.slowAlone} tokens alone, ${c.slowCascade} behind the cascade, ${saved.toFixed(1)}% saved ` +
        `(claim >= 50%: ${saved >= 50 ? "met" : "NOT met"})`,
    );
  }
  console.log(summaryTable(results));
  for (const line of lines) console.log(line);
} finally {
  await Promise.all(running.map(stop));
}
