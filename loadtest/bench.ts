// npm run bench: Loom against llama.cpp's llama-server on the same synthetic smollm2-135m model, machine, thread
// count, total KV context and parallel sequences, side by side in one run (loadtest/side-by-side.ts: every cell on
// each server in turn, the order alternating). Loom runs with its defaults unless --loom says otherwise; several
// --loom variants compare flags, and --baseline DIR adds each variant again from another checkout (a build before a
// change: `git worktree add DIR REV && (cd DIR && npm ci)`), so a change is judged before against after in one run.
// Without LLAMA_SERVER_BIN llama-server is left out.
// usage: [LLAMA_SERVER_BIN=/tmp/llama-peer/build/bin/llama-server] npm run bench -- [--threads N]
//        [--concurrency 1,8,32] [--workloads uniform,shared-prefix] [--max-tokens 64] [--kv-tokens 32768]
//        [--loom NAME[=FLAGS]]... [--baseline DIR] [--dry-run]
//   e.g. --loom loom --loom unified="--kv-layout unified" --baseline /work/loom-before
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_PATH } from "../models/ensure-default.js";
import { defaultThreads } from "../src/backend/llama/threads.js";
import { BENCH_MODEL_NAME, benchModel } from "./bench-model.js";
import { htmlReport } from "./report-html.js";
import { summaryTable } from "./report-table.js";
import { root, startLlamaServer, startLoom } from "./server-process.js";
import { runSideBySide, type SideBySideResult, type Variant } from "./side-by-side.js";
import type { WorkloadName } from "./workloads.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string" },
    concurrency: { type: "string", default: "1,8,32" },
    workloads: { type: "string", default: "uniform,shared-prefix" },
    "max-tokens": { type: "string", default: "64" },
    "kv-tokens": { type: "string", default: "32768" },
    loom: { type: "string", multiple: true, default: ["loom"] },
    baseline: { type: "string" },
    "dry-run": { type: "boolean", default: false },
  },
});
const dry = values["dry-run"];
const threads = Number(values.threads ?? (dry ? 1 : defaultThreads()));
const kvTokens = dry ? 4096 : Number(values["kv-tokens"]);
const maxRunning = dry ? 4 : 32;
const modelPath = dry ? DEFAULT_MODEL_PATH : benchModel();
const modelName = BENCH_MODEL_NAME;
const shape = ["--threads", String(threads), "--kv-tokens", String(kvTokens), "--max-running", String(maxRunning)];
shape.push("--served-model-name", modelName);

/** `NAME` or `NAME=FLAGS` (FLAGS split on spaces). */
function loomVariant(spec: string, checkout?: string): Variant {
  const [name, flags = ""] = spec.split(/=(.*)/s) as [string, string?];
  const args = flags.split(" ").filter((a) => a.length > 0);
  return checkout === undefined
    ? { name, start: (port) => startLoom(modelPath, port, [...shape, ...args]) }
    : { name: `${name}-before`, start: (port) => startLoom(modelPath, port, [...shape, ...args], checkout) };
}
const peerBin = process.env.LLAMA_SERVER_BIN;
const baseline = values.baseline === undefined ? undefined : resolve(values.baseline);
const variants: Variant[] = [
  ...values.loom.map((spec) => loomVariant(spec)),
  ...(baseline ? values.loom.map((spec) => loomVariant(spec, baseline)) : []),
  ...(peerBin
    ? [
        {
          name: "llama-server",
          start: (port: number) =>
            startLlamaServer(peerBin, modelPath, port, {
              threads,
              parallel: maxRunning,
              contextTokens: kvTokens,
              alias: modelName,
            }),
        },
      ]
    : []),
];
console.error(`threads ${threads}, KV ${kvTokens} tokens, ${maxRunning} parallel; ${variants.map((v) => v.name)}`);
const result = await runSideBySide({
  variants,
  modelName,
  endpoint: "chat",
  workloads: values.workloads.split(",") as WorkloadName[],
  concurrencies: (dry ? "1,2" : values.concurrency).split(",").map(Number),
  requests: (c) => (dry ? c : Math.max(8, c * 4)),
  workloadOptions: dry ? { maxTokens: 8, promptWords: 12 } : { maxTokens: Number(values["max-tokens"]) },
  textChecks: 0,
  basePort: 18080,
});
const runs = result.cells.flatMap((cell) => cell.runs.map((r) => r.run));
console.log(summaryTable(runs));
console.log(`\n${ratioTable(result)}`);
const outDir = join(root, "loadtest", "results");
mkdirSync(outDir, { recursive: true });
const report = { threads, kvTokens, maxRunning, variants: variants.map((v) => v.name), baseline, ...result };
writeFileSync(join(outDir, "bench.json"), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(outDir, "bench.html"), htmlReport(runs, "Loom side by side"));
console.error("wrote loadtest/results/bench.json and bench.html");

/**
 * Per cell, each Loom variant's output tokens/s and TTFT p50 against llama-server's and against its own build
 * before the change (ratios of tokens/s: higher is better; of TTFT: lower is better).
 */
function ratioTable({ cells }: SideBySideResult): string {
  const lines = [
    "cell                variant            tok/s  TTFT p50   /llama-server tok/s, TTFT   /before tok/s, TTFT",
  ];
  for (const cell of cells) {
    const of = (name: string) => cell.runs.find((r) => r.variant === name)?.run.summary;
    const peer = of("llama-server");
    for (const spec of values.loom) {
      const name = spec.split("=")[0]!;
      const own = of(name)!;
      const before = of(`${name}-before`);
      const vs = (other: typeof own | undefined) =>
        other
          ? `${(own.outputTokensPerSecond / other.outputTokensPerSecond).toFixed(2)}, ${(own.ttftMs.p50 / other.ttftMs.p50).toFixed(2)}`
          : "-";
      const label = `${cell.workload} c=${cell.concurrency}`.padEnd(20) + name.padEnd(16);
      const figures = `${own.outputTokensPerSecond.toFixed(1).padStart(8)}${own.ttftMs.p50.toFixed(0).padStart(10)}`;
      lines.push(`${label}${figures}${vs(peer).padStart(28)}${vs(before).padStart(22)}`);
    }
  }
  return lines.join("\n");
}
