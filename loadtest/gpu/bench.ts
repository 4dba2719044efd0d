// The serving half of npm run bench:gpu, run by loadtest/gpu/run.sh. First Loom with nothing but the model, to see
// what its defaults do on this machine (on a GPU: every layer offloaded, the KV cache sized from free device memory);
// then Loom and llama-server side by side on the same model with the same KV cells, slots and CPU threads, each
// with every layer on the GPU by its own default (Loom) or -ngl 99 (llama-server), runs alternating at every
// workload and concurrency level (loadtest/side-by-side.ts). Writes a BenchResult (results.ts) as JSON after every
// level, also when a server fails; on SIGTERM (run.sh's time limit) it exits with what it has, and the servers,
// started from this process, are stopped by its exit.
// usage: tsx loadtest/gpu/bench.ts --model FILE --out FILE [--llama-server BIN] [--concurrency 1,16,64]
//        [--workloads uniform,shared-prefix] [--max-tokens 64] [--kv-tokens N] [--threads N]
//        [--deadline EPOCH_SECONDS]   (--kv-tokens default: 2048 per slot; slots: the highest concurrency)
import { once } from "node:events";
import { statSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { defaultThreads } from "../../src/backend/llama/threads.js";
import { runWorkload } from "../runner.js";
import { type ServerProcess, startLlamaServer, startLoom } from "../server-process.js";
import { type Cell, runSideBySide, type Variant } from "../side-by-side.js";
import type { WorkloadName } from "../workloads.js";
import type { BenchResult, DefaultsRun, LevelResult } from "./results.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    out: { type: "string" },
    "llama-server": { type: "string" },
    concurrency: { type: "string", default: "1,16,64" },
    workloads: { type: "string", default: "uniform,shared-prefix" },
    "max-tokens": { type: "string", default: "64" },
    "kv-tokens": { type: "string" },
    threads: { type: "string" },
    deadline: { type: "string" },
  },
});
if (!values.model || !values.out) throw new RangeError("--model FILE and --out FILE are required");
const modelPath = values.model;
const modelName = basename(modelPath, ".gguf");
const concurrency = values.concurrency.split(",").map(Number);
const maxRunning = Math.max(...concurrency);
const threads = Number(values.threads ?? defaultThreads());
const kvTokens = Number(values["kv-tokens"] ?? maxRunning * 2048);
const deadlineMs =
  values.deadline === undefined ? undefined : performance.now() + (Number(values.deadline) * 1000 - Date.now());
const progress = (line: string) => process.stderr.write(`${line}\n`);

/** Loom's "serving" log line: the placement and sizes it chose. */
function servingLine(server: ServerProcess): Record<string, unknown> | null {
  for (const line of server.stderrTail().split("\n")) {
    if (!line.includes('"serving"')) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.event === "serving") return parsed;
    } catch {}
  }
  return null;
}

async function stop(server: ServerProcess): Promise<void> {
  if (server.process.exitCode !== null) return;
  server.process.kill("SIGTERM");
  await once(server.process, "exit");
}

async function defaultsRun(): Promise<DefaultsRun> {
  const loom = await startLoom(modelPath, 18090, ["--served-model-name", modelName]);
  try {
    const target = { url: loom.url, model: modelName, endpoint: "chat" as const, ignoreEos: true };
    const serving = servingLine(loom);
    progress(`loom with its defaults: ${JSON.stringify(serving)}`);
    const warmUp = { workload: "uniform" as const, concurrency: 2, requests: 2, slo: { ttftMs: 1000, tpotMs: 100 } };
    await runWorkload({ ...warmUp, target, workloadOptions: { seed: 99, maxTokens: 8 } });
    const level = Math.min(4, maxRunning);
    const run = await runWorkload({
      target,
      workload: "uniform",
      concurrency: level,
      requests: 2 * level,
      workloadOptions: { seed: 7, maxTokens: Number(values["max-tokens"]) },
      slo: { ttftMs: 1000, tpotMs: 100 },
    });
    return { serving, concurrency: level, summary: run.summary };
  } finally {
    await stop(loom);
  }
}

const errors: string[] = [];
const result: { -readonly [K in keyof BenchResult]: BenchResult[K] } = {
  model: { name: modelName, path: modelPath, bytes: statSync(modelPath).size },
  settings: {
    kvTokens,
    maxRunning,
    threads,
    maxTokens: Number(values["max-tokens"]),
    workloads: values.workloads.split(",") as WorkloadName[],
    concurrency,
  },
  defaults: { error: "not run" },
  loomServing: null,
  serverArgs: {},
  levels: [],
  skipped: [],
  errors,
};
const save = () => writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
const levelResult = ({ workload, concurrency: c, runs }: Cell): LevelResult => ({
  workload,
  concurrency: c,
  loom: runs.find((r) => r.variant === "loom")!.run.summary,
  llamaServer: runs.find((r) => r.variant === "llama-server")?.run.summary ?? null,
});
process.once("SIGTERM", () => {
  errors.push("stopped by SIGTERM (the run's time limit): the levels after the last one listed did not finish");
  save();
  process.exit(1);
});

const loomArgs = ["--served-model-name", modelName, "--kv-tokens", String(kvTokens)];
loomArgs.push("--max-running", String(maxRunning), "--threads", String(threads));
const loomVariant: Variant = {
  name: "loom",
  start: async (port) => {
    const server = await startLoom(modelPath, port, loomArgs);
    result.loomServing = servingLine(server);
    return server;
  },
};
// Loom offloads every layer by default where a GPU exists; llama-server is told the same.
const peerArgs = ["-ngl", "99"];
const peer = values["llama-server"];
const peerVariant: Variant | undefined =
  peer === undefined
    ? undefined
    : {
        name: "llama-server",
        start: (port) =>
          startLlamaServer(
            peer,
            modelPath,
            port,
            { threads, parallel: maxRunning, contextTokens: kvTokens, alias: modelName },
            peerArgs,
          ),
      };

/** The side-by-side of these variants, each level saved as it ends. */
async function sideBySide(variants: readonly Variant[]): Promise<void> {
  progress(`side by side: ${variants.map((v) => v.name).join(", ")}; ${JSON.stringify(result.settings)}`);
  const { skipped } = await runSideBySide({
    variants,
    modelName,
    endpoint: "chat",
    workloads: result.settings.workloads,
    concurrencies: concurrency,
    requests: (c) => Math.max(8, c * 4),
    workloadOptions: { maxTokens: result.settings.maxTokens },
    textChecks: 0,
    basePort: 18091,
    ...(deadlineMs === undefined ? {} : { deadlineMs }),
    onCell: (cell) => {
      result.levels = [...result.levels, levelResult(cell)];
      save();
    },
  });
  result.skipped = skipped;
}

try {
  result.defaults = await defaultsRun().catch((error: Error) => {
    errors.push(`Loom with its defaults: ${error.message}`);
    return { error: error.message };
  });
  result.serverArgs = { loom: loomArgs, ...(peerVariant ? { "llama-server": peerArgs } : {}) };
  try {
    await sideBySide(peerVariant ? [loomVariant, peerVariant] : [loomVariant]);
  } catch (error) {
    if (!peerVariant || result.levels.length > 0) throw error;
    // Loom's numbers on their own are still worth the GPU minutes when llama-server cannot start.
    errors.push(`side by side with llama-server: ${(error as Error).message}; Loom runs alone`);
    result.serverArgs = { loom: loomArgs };
    await sideBySide([loomVariant]);
  }
} catch (error) {
  errors.push((error as Error).message);
  process.exitCode = 1;
} finally {
  save();
}
