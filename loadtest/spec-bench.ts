// npm run bench:spec: speculative decoding against none, on the same model, machine and flags. Prompt lookup on a
// workload whose output copies the prompt and on one with nothing to copy, at low and high concurrency; with
// --draft-model, a draft model too. Reports output tokens/s per variant, its ratio to no speculation, the share of
// draft tokens accepted, and whether greedy text is the same. Targets (issue 22): copy c=1 >= 1.8x, uniform c=1
// >= 0.97x, c=32 >= 1.0x, identical greedy text.
// usage: npm run bench:spec -- [--model PATH] [--endpoint completions|chat] [--threads N] [--concurrency 1,32]
//        [--workloads copy,uniform] [--max-tokens 128] [--draft-model PATH] [--num-speculative-tokens K] [--dry-run]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultThreads } from "../src/backend/llama/threads.js";
import { abTable, benchModel, runAb, type Variant } from "./ab-bench.js";
import type { Endpoint } from "./client.js";
import { root } from "./server-process.js";
import type { WorkloadName } from "./workloads.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    endpoint: { type: "string", default: "completions" },
    threads: { type: "string" },
    concurrency: { type: "string", default: "1,32" },
    workloads: { type: "string", default: "copy,uniform" },
    "max-tokens": { type: "string", default: "128" },
    "kv-tokens": { type: "string", default: "32768" },
    "draft-model": { type: "string" },
    "num-speculative-tokens": { type: "string", default: "5" },
    "dry-run": { type: "boolean", default: false },
  },
});
const dry = values["dry-run"];
const modelPath = values.model ?? (dry ? join(root, "..", "shared", "models", "stories260K.gguf") : benchModel());
const k = ["--num-speculative-tokens", values["num-speculative-tokens"]];
const variants: Variant[] = [
  { name: "off", args: [] },
  { name: "ngram", args: ["--speculative", "ngram", ...k] },
  ...(values["draft-model"]
    ? [{ name: "draft", args: ["--speculative", "draft", "--draft-model", values["draft-model"], ...k] }]
    : []),
];
const result = await runAb({
  modelPath,
  modelName: "bench",
  endpoint: values.endpoint as Endpoint,
  variants,
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
  workloadOptions: { maxTokens: dry ? 16 : Number(values["max-tokens"]), ...(dry ? { promptWords: 20 } : {}) },
  textChecks: dry ? 1 : 4,
});
console.log(abTable(result));
const outDir = join(root, "loadtest", "results");
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "spec-bench.json"), `${JSON.stringify({ modelPath, variants, ...result }, null, 2)}\n`);
console.error("wrote loadtest/results/spec-bench.json");
