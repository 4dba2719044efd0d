// npm run bench:deterministic: the throughput cost of --deterministic, side by side with the default on the same
// model, machine and flags, at concurrency 1, 8 and 32. Output tokens/s per variant and its ratio to the default;
// --also-per-sequence adds --kv-layout per-sequence, so the cost of batch-invariant steps shows apart from the
// layout's where the default takes the unified pool (it takes a stream per sequence at the default 32768 KV tokens).
// usage: npm run bench:deterministic -- [--model PATH] [--concurrency 1,8,32] [--workloads uniform,shared-prefix]
//        [--max-tokens 64] [--kv-tokens 32768] [--threads N] [--endpoint chat|completions] [--also-per-sequence]
//        [--dry-run]
// --dry-run: the same steps on stories260K in seconds.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultThreads } from "../src/backend/llama/threads.js";
import { benchModel } from "./bench-model.js";
import type { Endpoint } from "./client.js";
import { summaryTable } from "./report-table.js";
import { root, startLoom } from "./server-process.js";
import { runSideBySide, sideBySideTable, type Variant } from "./side-by-side.js";
import type { WorkloadName } from "./workloads.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    concurrency: { type: "string", default: "1,8,32" },
    workloads: { type: "string", default: "uniform,shared-prefix" },
    "max-tokens": { type: "string", default: "64" },
    "kv-tokens": { type: "string", default: "32768" },
    threads: { type: "string" },
    endpoint: { type: "string", default: "chat" },
    "also-per-sequence": { type: "boolean", default: false },
    "dry-run": { type: "boolean", default: false },
  },
});
const dry = values["dry-run"];
const modelPath = values.model ?? (dry ? join(root, "..", "shared", "models", "stories260K.gguf") : benchModel());
const modelName = "bench";
const common = [
  "--threads",
  values.threads ?? (dry ? "1" : String(defaultThreads())),
  "--served-model-name",
  modelName,
];
common.push("--kv-tokens", dry ? "4096" : values["kv-tokens"], "--max-running", dry ? "4" : "32");
const loom = (name: string, args: readonly string[] = []): Variant => ({
  name,
  start: (port) => startLoom(modelPath, port, [...common, ...args]),
});
const variants = [
  loom("default"),
  ...(values["also-per-sequence"] ? [loom("per-sequence", ["--kv-layout", "per-sequence"])] : []),
  loom("deterministic", ["--deterministic"]),
];
const result = await runSideBySide({
  variants,
  modelName,
  // stories260K has no chat template of its own.
  endpoint: (dry ? "completions" : values.endpoint) as Endpoint,
  workloads: values.workloads.split(",") as WorkloadName[],
  concurrencies: (dry ? "1,2" : values.concurrency).split(",").map(Number),
  requests: (c) => (dry ? c : Math.max(8, c * 4)),
  workloadOptions: dry
    ? { maxTokens: 8, promptWords: 12, sharedWords: 24 }
    : { maxTokens: Number(values["max-tokens"]) },
  textChecks: 0,
  basePort: 18110,
});
console.log(summaryTable(result.cells.flatMap((cell) => cell.runs.map((r) => r.run))));
console.log(`\n${sideBySideTable(result, variants)}`);
const outDir = join(root, "loadtest", "results");
mkdirSync(outDir, { recursive: true });
const report = { modelPath, variants: variants.map((v) => v.name), ...result };
writeFileSync(join(outDir, "deterministic-bench.json"), `${JSON.stringify(report, null, 2)}\n`);
console.error("wrote loadtest/results/deterministic-bench.json");
