// A/B serving benchmark of Loom against itself: one server process per variant (the same model, threads and KV
// size; different flags), every workload and concurrency run on each variant in turn, alternating which goes
// first, so machine noise falls on all alike. Also reads each run's speculative-decoding counters from /metrics
// and checks that greedy text is the same on every variant.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PRESETS } from "../models/presets.js";
import { synthModel } from "../models/synth-model.js";
import { type Endpoint, streamRequest } from "./client.js";
import { runWorkload, type RunResult } from "./runner.js";
import { root, type ServerProcess, startLoom } from "./server-process.js";
import { conversation, type WorkloadName, type WorkloadOptions } from "./workloads.js";

export interface Variant {
  readonly name: string;
  readonly args: readonly string[];
}

export interface AbOptions {
  readonly modelPath: string;
  readonly modelName: string;
  readonly endpoint: Endpoint;
  readonly variants: readonly Variant[];
  /** Flags every variant gets (threads, KV size, ...). */
  readonly commonArgs: readonly string[];
  readonly workloads: readonly WorkloadName[];
  readonly concurrencies: readonly number[];
  readonly requests: (concurrency: number) => number;
  readonly workloadOptions: Omit<WorkloadOptions, "seed">;
  /** Conversations whose greedy text is compared across the variants, per workload. */
  readonly textChecks: number;
}

/** One variant's run of one cell, with the speculative-decoding counters it moved. */
export interface AbRun {
  readonly variant: string;
  readonly run: RunResult;
  readonly draftTokens: number;
  readonly acceptedTokens: number;
}

export interface AbCell {
  readonly workload: WorkloadName;
  readonly concurrency: number;
  readonly runs: readonly AbRun[];
}

export interface AbResult {
  readonly cells: readonly AbCell[];
  /** Per workload: conversations compared, and how many had the same greedy text on every variant. */
  readonly sameText: Readonly<Record<string, { compared: number; same: number }>>;
}

/** The benchmark model of npm run bench, made on first use: a synthetic model of SmolLM2-135M's shape. */
export function benchModel(): string {
  const path = join(root, "models", "smollm2-135m.gguf");
  if (!existsSync(path)) {
    console.error(`making ${path} (about a minute)`);
    synthModel({ preset: PRESETS["smollm2-135m"], name: "smollm2-135m", out: path });
  }
  return path;
}

async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

async function sameText(servers: readonly ServerProcess[], options: AbOptions, workload: WorkloadName) {
  let same = 0;
  for (let index = 0; index < options.textChecks; index++) {
    const { system, turns } = conversation(workload, index, { ...options.workloadOptions, seed: 1234 });
    const messages = [
      ...(system === null ? [] : [{ role: "system" as const, content: system }]),
      { role: "user" as const, content: turns[0]!.user },
    ];
    const texts = await Promise.all(
      servers.map((s) =>
        streamRequest(
          { url: s.url, model: options.modelName, endpoint: options.endpoint, ignoreEos: true },
          messages,
          turns[0]!.maxTokens,
        ).then((o) => o.text),
      ),
    );
    if (texts.every((t) => t === texts[0])) same++;
  }
  return { compared: options.textChecks, same };
}

export async function runAb(options: AbOptions): Promise<AbResult> {
  const servers: ServerProcess[] = [];
  try {
    for (const [i, variant] of options.variants.entries()) {
      const args = [...options.commonArgs, ...variant.args, "--served-model-name", options.modelName];
      const server = await startLoom(options.modelPath, 18090 + i, args);
      servers.push({ ...server, name: variant.name });
    }
    const target = (s: ServerProcess) => ({
      url: s.url,
      model: options.modelName,
      endpoint: options.endpoint,
      ignoreEos: true,
    });
    for (const s of servers) {
      await runWorkload({
        target: target(s),
        workload: "uniform",
        concurrency: 2,
        requests: 2,
        workloadOptions: { seed: 99, maxTokens: 8 },
        slo: { ttftMs: 1000, tpotMs: 100 },
      });
    }
    const cells: AbCell[] = [];
    for (const workload of options.workloads) {
      for (const concurrency of options.concurrencies) {
        const order = cells.length % 2 === 0 ? servers : [...servers].reverse();
        const runs: AbRun[] = [];
        for (const s of order) {
          const before = await Promise.all([
            counter(s.url, "vllm:spec_decode_num_draft_tokens_total"),
            counter(s.url, "vllm:spec_decode_num_accepted_tokens_total"),
          ]);
          const run = await runWorkload({
            target: target(s),
            workload,
            concurrency,
            requests: options.requests(concurrency),
            workloadOptions: { ...options.workloadOptions, seed: 7 },
            slo: { ttftMs: 1000, tpotMs: 100 },
            onProgress: (line) => process.stderr.write(`\r[${s.name} ${workload} c=${concurrency}] ${line}   `),
          });
          process.stderr.write("\n");
          const draftTokens = (await counter(s.url, "vllm:spec_decode_num_draft_tokens_total")) - before[0];
          const acceptedTokens = (await counter(s.url, "vllm:spec_decode_num_accepted_tokens_total")) - before[1];
          runs.push({ variant: s.name, run: { ...run, label: `${s.name} ${run.label}` }, draftTokens, acceptedTokens });
        }
        runs.sort(
          (a, b) => servers.findIndex((s) => s.name === a.variant) - servers.findIndex((s) => s.name === b.variant),
        );
        cells.push({ workload, concurrency, runs });
      }
    }
    const same: Record<string, { compared: number; same: number }> = {};
    for (const workload of options.workloads) same[workload] = await sameText(servers, options, workload);
    return { cells, sameText: same };
  } finally {
    for (const s of servers) s.process.kill("SIGTERM");
  }
}

/** One line per cell: each variant's output tokens/s, its ratio to the first variant, and its draft acceptance. */
export function abTable(result: AbResult): string {
  const lines: string[] = [];
  for (const cell of result.cells) {
    const base = cell.runs[0]!.run.summary.outputTokensPerSecond;
    const parts = cell.runs.map((r) => {
      const tps = r.run.summary.outputTokensPerSecond;
      const acceptance = r.draftTokens > 0 ? ` accept ${((100 * r.acceptedTokens) / r.draftTokens).toFixed(0)}%` : "";
      const failed = r.run.summary.requests - r.run.summary.completed;
      return `${r.variant} ${tps.toFixed(1)} tok/s (${(tps / base).toFixed(2)}x${acceptance}${failed > 0 ? `, ${failed} failed` : ""})`;
    });
    lines.push(`${`${cell.workload} c=${cell.concurrency}`.padEnd(20)}${parts.join("   ")}`);
  }
  for (const [workload, { compared, same }] of Object.entries(result.sameText))
    if (compared > 0) lines.push(`${workload}: greedy text the same on every variant for ${same}/${compared} prompts`);
  return lines.join("\n");
}
