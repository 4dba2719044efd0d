// The serving half of npm run bench:gpu, run by loadtest/gpu/run.sh. First Loom with nothing but the model, to see
// what its defaults do on this machine (on a GPU: every layer offloaded, the KV cache sized from free device memory);
// then Loom and llama-server side by side on the same model with the same KV cells, slots and CPU threads, each
// with every layer on the GPU by its own default (Loom) or -ngl 99 (llama-server), runs alternating at every
// workload and concurrency level. Writes a BenchResult (results.ts) as JSON after every level, also when a server
// fails; on SIGTERM (run.sh's time limit) it stops the servers and exits with what it has.
// usage: tsx loadtest/gpu/bench.ts --model FILE --out FILE [--llama-server BIN] [--concurrency 1,16,64]
//        [--workloads uniform,shared-prefix] [--max-tokens 64] [--rounds 1] [--kv-tokens N] [--threads N]
//        [--deadline EPOCH_SECONDS]   (--kv-tokens default: 2048 per slot; slots: the highest concurrency)
import { once } from "node:events";
import { statSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { defaultThreads } from "../../src/backend/llama/threads.js";
import { runWorkload } from "../runner.js";
import { type ServerProcess, startLlamaServer, startLoom } from "../server-process.js";
import { type Level, runSideBySide, warmUp } from "../side-by-side.js";
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
    rounds: { type: "string", default: "1" },
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

/** The servers running now: the ones a SIGTERM stops before the process exits. */
const running = new Set<ServerProcess>();

async function started(server: Promise<ServerProcess>): Promise<ServerProcess> {
  const s = await server;
  running.add(s);
  return s;
}

async function stop(servers: readonly ServerProcess[]): Promise<void> {
  await Promise.all(
    servers.map(async (s) => {
      if (s.process.exitCode !== null) return;
      s.process.kill("SIGTERM");
      await once(s.process, "exit");
      running.delete(s);
    }),
  );
}

async function defaultsRun(): Promise<DefaultsRun> {
  const loom = await started(startLoom(modelPath, 18090, ["--served-model-name", modelName]));
  try {
    const serving = servingLine(loom);
    progress(`loom with its defaults: ${JSON.stringify(serving)}`);
    await warmUp([loom], modelName);
    const level = Math.min(4, maxRunning);
    const run = await runWorkload({
      target: { url: loom.url, model: modelName, endpoint: "chat", ignoreEos: true },
      workload: "uniform",
      concurrency: level,
      requests: 2 * level,
      workloadOptions: { seed: 7, maxTokens: Number(values["max-tokens"]) },
      slo: { ttftMs: 1000, tpotMs: 100 },
    });
    return { serving, concurrency: level, summary: run.summary };
  } finally {
    await stop([loom]);
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
    rounds: Number(values.rounds),
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
const levelResult = ({ workload, concurrency: c, round, byServer }: Level): LevelResult => ({
  workload,
  concurrency: c,
  round,
  loom: byServer.loom!.summary,
  llamaServer: byServer["llama-server"]?.summary ?? null,
});
process.once("SIGTERM", () => {
  errors.push("stopped by SIGTERM (the run's time limit): the levels after the last one listed did not finish");
  save();
  for (const s of running) s.process.kill("SIGKILL");
  process.exit(1);
});

try {
  result.defaults = await defaultsRun().catch((error: Error) => {
    errors.push(`Loom with its defaults: ${error.message}`);
    return { error: error.message };
  });
  const loomArgs = ["--served-model-name", modelName, "--kv-tokens", String(kvTokens)];
  loomArgs.push("--max-running", String(maxRunning), "--threads", String(threads));
  const servers = [await started(startLoom(modelPath, 18091, loomArgs))];
  result.serverArgs = { loom: loomArgs };
  result.loomServing = servingLine(servers[0]!);
  try {
    if (values["llama-server"]) {
      // Loom offloads every layer by default where a GPU exists; llama-server is told the same.
      const extraArgs = ["-ngl", "99"];
      const peer = { threads, parallel: maxRunning, kvTokens, alias: modelName, extraArgs };
      await started(startLlamaServer(values["llama-server"], modelPath, 18092, peer)).then(
        (server) => {
          servers.push(server);
          result.serverArgs = { ...result.serverArgs, "llama-server": extraArgs };
        },
        (error: Error) => errors.push(`llama-server did not start, Loom runs alone: ${error.message}`),
      );
    }
    progress(`side by side: ${servers.map((s) => s.name).join(", ")}; ${JSON.stringify(result.settings)}`);
    await warmUp(servers, modelName);
    const sideBySide = await runSideBySide({
      servers,
      model: modelName,
      workloads: result.settings.workloads,
      concurrency,
      rounds: result.settings.rounds,
      maxTokens: result.settings.maxTokens,
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
      onLevel: (level) => {
        result.levels = [...result.levels, levelResult(level)];
        save();
      },
      onRun: ({ label, summary: s }) =>
        progress(
          `${label}: ${s.completed}/${s.requests} done, ` +
            `${s.outputTokensPerSecond.toFixed(1)} out tok/s, TTFT p50 ${s.ttftMs.p50.toFixed(0)} ms`,
        ),
    });
    result.skipped = sideBySide.skipped;
  } finally {
    await stop(servers);
  }
} catch (error) {
  errors.push((error as Error).message);
  process.exitCode = 1;
} finally {
  save();
}
