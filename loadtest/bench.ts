// npm run bench: Loom against llama.cpp's llama-server on the same synthetic smollm2-135m model, machine, thread
// count and total KV context. Both servers stay up; runs alternate between them at every step, so machine noise
// falls on both alike. Without LLAMA_SERVER_BIN only Loom is measured.
// usage: [LLAMA_SERVER_BIN=/tmp/llama-peer/build/bin/llama-server] npm run bench -- [--threads N]
//        [--concurrency 1,8,32] [--workloads uniform,shared-prefix] [--max-tokens 64] [--rounds 1]
//        [--kv-layout unified|per-sequence]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultThreads } from "../src/backend/llama/threads.js";
import { BENCH_MODEL_NAME, benchModel } from "./bench-model.js";
import { htmlReport } from "./report-html.js";
import { summaryTable } from "./report-table.js";
import { runWorkload, type RunResult } from "./runner.js";
import { root, type ServerProcess, startLlamaServer, startLoom } from "./server-process.js";
import type { WorkloadName } from "./workloads.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string" },
    concurrency: { type: "string", default: "1,8,32" },
    workloads: { type: "string", default: "uniform,shared-prefix" },
    "max-tokens": { type: "string", default: "64" },
    rounds: { type: "string", default: "1" },
    "kv-tokens": { type: "string", default: "32768" },
    "kv-layout": { type: "string", default: "unified" },
  },
});
const threads = Number(values.threads ?? defaultThreads());
const kvTokens = Number(values["kv-tokens"]);
const maxRunning = 32;
const modelPath = benchModel();
const modelName = BENCH_MODEL_NAME;
const servers: ServerProcess[] = [];
try {
  servers.push(
    await startLoom(modelPath, 18080, [
      "--threads",
      String(threads),
      "--kv-tokens",
      String(kvTokens),
      "--max-running",
      String(maxRunning),
      "--kv-layout",
      values["kv-layout"],
      "--served-model-name",
      modelName,
    ]),
  );
  const peer = process.env.LLAMA_SERVER_BIN;
  if (peer) {
    servers.push(
      await startLlamaServer(peer, modelPath, 18081, {
        threads,
        parallel: maxRunning,
        contextTokens: kvTokens,
        alias: modelName,
      }),
    );
  }
  console.error(
    `threads ${threads}, KV context ${kvTokens} tokens, ${maxRunning} parallel sequences; servers: ${servers.map((s) => `${s.name} ${s.url}`).join(", ")}`,
  );
  const maxTokens = Number(values["max-tokens"]);
  for (const s of servers) {
    await runWorkload({
      target: { url: s.url, model: modelName, endpoint: "chat", ignoreEos: true },
      workload: "uniform",
      concurrency: 2,
      requests: 2,
      workloadOptions: { seed: 99, maxTokens: 8 },
      slo: { ttftMs: 1000, tpotMs: 100 },
    });
  }
  const runs: RunResult[] = [];
  const pairs: { loom: RunResult; peer: RunResult | undefined }[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const workload of values.workloads.split(",") as WorkloadName[]) {
      for (const concurrency of values.concurrency.split(",").map(Number)) {
        // Alternate which server goes first, so neither always runs on a machine the other just warmed or heated.
        const order = (round + concurrency) % 2 === 0 ? servers : [...servers].reverse();
        const measured = new Map<string, RunResult>();
        for (const s of order) {
          const run = await runWorkload({
            target: { url: s.url, model: modelName, endpoint: "chat", ignoreEos: true },
            workload,
            concurrency,
            requests: Math.max(8, concurrency * 4),
            workloadOptions: { seed: round, maxTokens },
            slo: { ttftMs: 1000, tpotMs: 100 },
            onProgress: (line) => process.stderr.write(`\r[${s.name} ${workload} c=${concurrency}] ${line}   `),
          });
          process.stderr.write("\n");
          const labelled = { ...run, label: `${s.name} ${run.label}` };
          runs.push(labelled);
          measured.set(s.name, labelled);
        }
        pairs.push({ loom: measured.get("loom")!, peer: measured.get("llama-server") });
      }
    }
  }
  console.log(summaryTable(runs));
  if (servers.length === 2) {
    console.log("\nLoom / llama-server            out tok/s ratio   TTFT p50 ratio (lower is better)");
    for (const { loom, peer } of pairs) {
      console.log(
        `${`${loom.workload} c=${loom.concurrency}`.padEnd(30)}${(loom.summary.outputTokensPerSecond / peer!.summary.outputTokensPerSecond).toFixed(2).padStart(17)}${(loom.summary.ttftMs.p50 / peer!.summary.ttftMs.p50).toFixed(2).padStart(17)}`,
      );
    }
  }
  const outDir = join(root, "loadtest", "results");
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "bench.json"), `${JSON.stringify({ threads, kvTokens, maxRunning, runs }, null, 2)}\n`);
  writeFileSync(join(outDir, "bench.html"), htmlReport(runs, "Loom vs llama-server"));
  console.error(`wrote loadtest/results/bench.json and bench.html`);
} finally {
  for (const s of servers) s.process.kill("SIGTERM");
}
