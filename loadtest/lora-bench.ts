// npm run bench:lora: the cost of serving LoRA adapters on the smollm2-135m synthetic model. (1) Output tokens/s
// at concurrency 32 with traffic spread evenly over 4 adapters, against the base model alone, alternating the
// two; (2) p99 inter-token latency of running requests while adapters are loaded and unloaded at run time,
// against the same load with no loading.
// usage: npm run bench:lora -- [--threads N] [--rounds 2] [--max-tokens 64]
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PRESETS } from "../models/presets.js";
import { synthLora } from "../models/synth-lora.js";
import { synthModel } from "../models/synth-model.js";
import { defaultThreads } from "../src/backend/llama/threads.js";
import { summaryTable } from "./report-table.js";
import { runWorkload, type RunResult } from "./runner.js";
import { root, startLoom } from "./server-process.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string" },
    rounds: { type: "string", default: "2" },
    "max-tokens": { type: "string", default: "64" },
  },
});
const threads = Number(values.threads ?? defaultThreads());
const modelName = "smollm2-135m";
const modelPath = join(root, "models", `${modelName}.gguf`);
const loraDir = join(root, "models", "loras");
const adapters = ["a1", "a2", "a3", "a4"];

if (!existsSync(modelPath)) synthModel({ preset: PRESETS[modelName], name: modelName, out: modelPath });
mkdirSync(loraDir, { recursive: true });
adapters.forEach((name, i) => {
  const out = join(loraDir, `${name}.gguf`);
  if (!existsSync(out)) synthLora({ base: modelPath, out, seed: 100 + i });
});

const { url, process: child } = await startLoom(modelPath, 18082, [
  "--threads",
  String(threads),
  "--kv-tokens",
  "32768",
  "--max-running",
  "32",
  "--log-level",
  "warn",
  "--lora-dir",
  loraDir,
  ...adapters.flatMap((name) => ["--lora", `${name}=${join(loraDir, `${name}.gguf`)}`]),
]);

const target = { url, model: modelName, endpoint: "chat" as const, ignoreEos: true };
const slo = { ttftMs: 1000, tpotMs: 100 };
const maxTokens = Number(values["max-tokens"]);
const runs: RunResult[] = [];
const throughput = { base: [] as number[], adapters: [] as number[] };
await runWorkload({
  target,
  workload: "uniform",
  concurrency: 4,
  requests: 4,
  workloadOptions: { seed: 9, maxTokens: 8 },
  slo,
  models: adapters,
});
for (let round = 0; round < Number(values.rounds); round++) {
  for (const kind of round % 2 === 0 ? (["base", "adapters"] as const) : (["adapters", "base"] as const)) {
    const run = await runWorkload({
      target,
      workload: "uniform",
      concurrency: 32,
      requests: 128,
      workloadOptions: { seed: round, maxTokens },
      slo,
      ...(kind === "adapters" ? { models: adapters } : {}),
      onProgress: (line) => process.stderr.write(`\r[${kind} c=32] ${line}   `),
    });
    process.stderr.write("\n");
    runs.push({ ...run, label: `${kind} c=32` });
    throughput[kind].push(run.summary.outputTokensPerSecond);
  }
}

// Running requests' inter-token latency with adapters loaded and unloaded beside them, against none.
const itl = { quiet: [] as number[], loading: [] as number[] };
let loads = 0;
for (let round = 0; round < Number(values.rounds); round++) {
  for (const kind of round % 2 === 0 ? (["quiet", "loading"] as const) : (["loading", "quiet"] as const)) {
    let stop = false;
    const churn = (async () => {
      while (kind === "loading" && !stop) {
        const post = (path: string, body: unknown) =>
          fetch(`${url}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
        await post("/v1/load_lora_adapter", { lora_name: "hot", lora_path: join(loraDir, "a1.gguf") });
        await post("/v1/unload_lora_adapter", { lora_name: "hot" });
        loads++;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const run = await runWorkload({
      target,
      workload: "uniform",
      concurrency: 8,
      requests: 32,
      workloadOptions: { seed: 50 + round, maxTokens: 128 },
      slo,
    });
    stop = true;
    await churn;
    runs.push({ ...run, label: `${kind} c=8` });
    itl[kind].push(run.summary.itlMs.p99);
  }
}
child.kill("SIGTERM");

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(summaryTable(runs));
console.log(
  `\n4 adapters / base model, output tok/s at c=32: ${(mean(throughput.adapters) / mean(throughput.base)).toFixed(2)} (${mean(throughput.adapters).toFixed(1)} / ${mean(throughput.base).toFixed(1)})`,
);
console.log(
  `p99 ITL while loading adapters / quiet, c=8: ${(mean(itl.loading) / mean(itl.quiet)).toFixed(2)} (${mean(itl.loading).toFixed(1)} ms / ${mean(itl.quiet).toFixed(1)} ms; ${loads} load+unload cycles)`,
);
mkdirSync(join(root, "loadtest", "results"), { recursive: true });
writeFileSync(
  join(root, "loadtest", "results", "lora-bench.json"),
  `${JSON.stringify({ threads, throughput, itl, loads, runs }, null, 2)}\n`,
);
