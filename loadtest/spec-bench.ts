// npm run bench:spec: speculative decoding against none, side by side on the same model, machine and flags. Prompt
// lookup (and a draft model with --draft-model) on a workload whose output copies the prompt and on one with nothing
// to copy, at low and high concurrency; with LLAMA_SERVER_BIN, llama-server with and without its own speculative
// decoding too. Reports output tokens/s per variant, its ratio to the same server without speculation, the share of
// draft tokens accepted, and whether Loom's greedy text is the same with and without speculation (exit code 1 if
// not). Targets (issue 22): copy c=1 >= 1.8x, uniform c=1 >= 0.97x, c=32 >= 1.0x, identical greedy text.
// usage: [LLAMA_SERVER_BIN=/tmp/llama-peer/build/bin/llama-server] npm run bench:spec -- [--model PATH]
//        [--draft-model PATH] [--num-speculative-tokens 5] [--ngram-size 3] [--concurrency 1,32]
//        [--workloads copy,uniform] [--max-tokens 128] [--threads N] [--endpoint completions|chat] [--dry-run]
// --dry-run: the same steps on stories260K in seconds (the model as its own draft model when none is given).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultThreads } from "../src/backend/llama/threads.js";
import { benchModel } from "./bench-model.js";
import type { Endpoint } from "./client.js";
import { summaryTable } from "./report-table.js";
import { root, startLlamaServer, startLoom } from "./server-process.js";
import { runSideBySide, sideBySideTable, textAgrees, type Variant } from "./side-by-side.js";
import type { WorkloadName } from "./workloads.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    "draft-model": { type: "string" },
    "num-speculative-tokens": { type: "string", default: "5" },
    "ngram-size": { type: "string", default: "3" },
    concurrency: { type: "string", default: "1,32" },
    workloads: { type: "string", default: "copy,uniform" },
    "max-tokens": { type: "string", default: "128" },
    threads: { type: "string" },
    endpoint: { type: "string", default: "completions" },
    "kv-tokens": { type: "string", default: "32768" },
    "dry-run": { type: "boolean", default: false },
  },
});
const dry = values["dry-run"];
const stories = join(root, "..", "shared", "models", "stories260K.gguf");
const modelPath = values.model ?? (dry ? stories : benchModel());
const draftModel = values["draft-model"] ?? (dry ? modelPath : undefined);
const k = values["num-speculative-tokens"];
const modelName = "bench";
const shape = {
  threads: Number(values.threads ?? (dry ? 1 : defaultThreads())),
  parallel: dry ? 4 : 32,
  contextTokens: dry ? 4096 : Number(values["kv-tokens"]),
  alias: modelName,
};
const loomArgs = ["--threads", String(shape.threads), "--kv-tokens", String(shape.contextTokens)];
loomArgs.push("--max-running", String(shape.parallel), "--served-model-name", modelName);
const loom = (name: string, args: readonly string[] = []): Variant => ({
  name,
  start: (port) => startLoom(modelPath, port, [...loomArgs, ...args]),
  baseline: "loom",
  sameText: true,
});
const peerBin = process.env.LLAMA_SERVER_BIN;
const peer = (name: string, args: readonly string[] = []): Variant => ({
  name,
  start: (port) => startLlamaServer(peerBin!, modelPath, port, shape, args),
  baseline: "llama-server",
});
// llama.cpp's prompt lookup: the K tokens after the latest earlier match of the last n tokens (n: --ngram-size; Loom
// tries 4 down to 2).
const peerNgram = ["--spec-type", "ngram-simple", "--spec-ngram-simple-size-n", values["ngram-size"]];
peerNgram.push("--spec-ngram-simple-size-m", k);
const variants: Variant[] = [
  loom("loom"),
  loom("loom-ngram", ["--speculative", "ngram", "--num-speculative-tokens", k]),
  ...(draftModel
    ? [loom("loom-draft", ["--speculative", "draft", "--draft-model", draftModel, "--num-speculative-tokens", k])]
    : []),
  ...(peerBin ? [peer("llama-server"), peer("llama-server-ngram", peerNgram)] : []),
  ...(peerBin && draftModel
    ? [peer("llama-server-draft", ["--spec-type", "draft-simple", "-md", draftModel, "--spec-draft-n-max", k])]
    : []),
];
console.error(`threads ${shape.threads}, KV ${shape.contextTokens} tokens, ${shape.parallel} parallel; ${modelPath}`);
const result = await runSideBySide({
  variants,
  modelName,
  endpoint: values.endpoint as Endpoint,
  workloads: values.workloads.split(",") as WorkloadName[],
  concurrencies: (dry ? "1,2" : values.concurrency).split(",").map(Number),
  requests: (c) => (dry ? c : Math.max(8, c * 4)),
  workloadOptions: dry ? { maxTokens: 8, promptWords: 12 } : { maxTokens: Number(values["max-tokens"]) },
  textChecks: dry ? 1 : 4,
  basePort: 18100,
});
console.log(summaryTable(result.cells.flatMap((cell) => cell.runs.map((r) => r.run))));
console.log(`\n${sideBySideTable(result, variants)}`);
const outDir = join(root, "loadtest", "results");
mkdirSync(outDir, { recursive: true });
const report = { modelPath, draftModel: draftModel ?? null, shape, variants: variants.map((v) => v.name), ...result };
writeFileSync(join(outDir, "spec-bench.json"), `${JSON.stringify(report, null, 2)}\n`);
console.error("wrote loadtest/results/spec-bench.json");
if (!textAgrees(result)) {
  console.error("greedy text differs with speculative decoding");
  process.exitCode = 1;
}
