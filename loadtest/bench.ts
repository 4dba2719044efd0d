// npm run bench: Loom against llama.cpp's llama-server on the same synthetic smollm2-135m model, machine, thread
// count and total KV context. Both servers stay up; runs alternate between them at every step, so machine noise
// falls on both alike. Without LLAMA_SERVER_BIN only Loom is measured.
// usage: [LLAMA_SERVER_BIN=/tmp/llama-peer/build/bin/llama-server] npm run bench -- [--threads N]
//        [--concurrency 1,8,32] [--workloads uniform,shared-prefix] [--max-tokens 64] [--rounds 1]
//        [--kv-layout unified|per-sequence]
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PRESETS } from "../models/presets.js";
import { synthModel } from "../models/synth-model.js";
import { defaultThreads } from "../src/backend/llama/threads.js";
import { htmlReport } from "./report-html.js";
import { summaryTable } from "./report-table.js";
import { root, startLlamaServer, startLoom, type ServerProcess } from "./server-process.js";
import { runSideBySide, warmUp } from "./side-by-side.js";
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
const modelPath = join(root, "models", "smollm2-135m.gguf");
const modelName = "smollm2-135m";

if (!existsSync(modelPath)) {
  console.error(`making ${modelPath} (about a minute)`);
  synthModel({ preset: PRESETS["smollm2-135m"], name: modelName, out: modelPath });
}
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
      await startLlamaServer(peer, modelPath, 18081, { threads, parallel: maxRunning, kvTokens, alias: modelName }),
    );
  }
  console.error(
    `threads ${threads}, KV context ${kvTokens} tokens, ${maxRunning} parallel sequences; servers: ${servers.map((s) => `${s.name} ${s.url}`).join(", ")}`,
  );
  await warmUp(servers, modelName);
  const { runs, levels } = await runSideBySide({
    servers,
    model: modelName,
    workloads: values.workloads.split(",") as WorkloadName[],
    concurrency: values.concurrency.split(",").map(Number),
    rounds: Number(values.rounds),
    maxTokens: Number(values["max-tokens"]),
    onProgress: (line) => process.stderr.write(`\r${line}   `),
    onRun: () => process.stderr.write("\n"),
  });
  console.log(summaryTable(runs));
  if (servers.length === 2) {
    console.log("\nLoom / llama-server            out tok/s ratio   TTFT p50 ratio (lower is better)");
    for (const { workload, concurrency, byServer } of levels) {
      const loom = byServer.loom!.summary;
      const other = byServer["llama-server"]!.summary;
      console.log(
        `${`${workload} c=${concurrency}`.padEnd(30)}${(loom.outputTokensPerSecond / other.outputTokensPerSecond).toFixed(2).padStart(17)}${(loom.ttftMs.p50 / other.ttftMs.p50).toFixed(2).padStart(17)}`,
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
