// npm run bench:deterministic: the throughput cost of --deterministic. Three variants on the same model and flags:
// the default, a stream per sequence (the layout --deterministic takes), and --deterministic, so the cost of
// batch-invariant steps shows apart from the layout's. Output tokens/s per variant and its ratio to the default.
// usage: npm run bench:deterministic -- [--model PATH] [--endpoint chat|completions] [--threads N]
//        [--concurrency 1,8,32] [--workloads uniform,shared-prefix] [--max-tokens 64] [--dry-run]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultThreads } from "../src/backend/llama/threads.js";
import { abTable, benchModel, runAb } from "./ab-bench.js";
import type { Endpoint } from "./client.js";
import { root } from "./server-process.js";
import type { WorkloadName } from "./workloads.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    endpoint: { type: "string", default: "chat" },
    threads: { type: "string" },
    concurrency: { type: "string", default: "1,8,32" },
    workloads: { type: "string", default: "uniform,shared-prefix" },
    "max-tokens": { type: "string", default: "64" },
    "kv-tokens": { type: "string", default: "32768" },
    "dry-run": { type: "boolean", default: false },
  },
});
const dry = values["dry-run"];
const modelPath = values.model ?? (dry ? join(root, "..", "shared", "models", "stories260K.gguf") : benchModel());
const result = await runAb({
  modelPath,
  modelName: "bench",
  endpoint: (dry ? "completions" : values.endpoint) as Endpoint,
  variants: [
    { name: "default", args: [] },
    { name: "per-sequence", args: ["--kv-layout", "per-sequence"] },
    { name: "deterministic", args: ["--deterministic"] },
  ],
  commonArgs: [
    "--threads",
    values.threads ?? String(defaultThreads()),
    "--kv-tokens",
    dry ? "4096" : values["kv-tokens"],
    "--max-running",
    "32",
  ],
  workloads: values.workloads.split(",") as WorkloadName[],
  concurrencies: (dry ? "1,2" : values.concurrency).split(",").map(Number),
  requests: (c) => (dry ? 2 : Math.max(8, c * 4)),
  workloadOptions: {
    maxTokens: dry ? 16 : Number(values["max-tokens"]),
    ...(dry ? { promptWords: 20, sharedWords: 40 } : {}),
  },
  textChecks: 0,
});
console.log(abTable(result));
const outDir = join(root, "loadtest", "results");
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "deterministic-bench.json"), `${JSON.stringify({ modelPath, ...result }, null, 2)}\n`);
console.error("wrote loadtest/results/deterministic-bench.json");
