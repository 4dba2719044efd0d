// Servers measured side by side in one run: Loom under different flags and peers such as llama-server, all up at
// once on the same model and machine. Every workload and concurrency runs on each variant in turn, alternating which
// goes first, so machine noise falls on all alike. A run also records the speculative-decoding counters it moved
// (vLLM's names on Loom, llama-server's own), and the greedy text of the variants that must agree is compared.
import { type Endpoint, streamRequest, type Target } from "./client.js";
import { type RunResult, runWorkload } from "./runner.js";
import { metricSum } from "./scrape.js";
import type { ServerProcess } from "./server-process.js";
import { conversation, type WorkloadName, type WorkloadOptions } from "./workloads.js";

export interface Variant {
  readonly name: string;
  /** Starts the variant's server on `port`; it is stopped with SIGTERM at the end. */
  readonly start: (port: number) => Promise<ServerProcess>;
  /** The variant whose output tokens/s this one's is divided by; the first variant when absent. */
  readonly baseline?: string;
  /** Whether its greedy text must equal that of the other variants marked so (the same model and arithmetic). */
  readonly sameText?: boolean;
}

export interface SideBySideOptions {
  readonly variants: readonly Variant[];
  /** The model name every variant serves under (--served-model-name, llama-server's --alias). */
  readonly modelName: string;
  readonly endpoint: Endpoint;
  readonly workloads: readonly WorkloadName[];
  readonly concurrencies: readonly number[];
  /** Requests per run at a concurrency. */
  readonly requests: (concurrency: number) => number;
  readonly workloadOptions: Omit<WorkloadOptions, "seed">;
  /** Conversations per workload whose greedy text is compared across the sameText variants (0: none). */
  readonly textChecks: number;
  /** Variant i listens on basePort + i. */
  readonly basePort: number;
  /** performance.now() in ms after which no further cell starts; the cells left are listed as skipped. */
  readonly deadlineMs?: number;
  /** Called as each cell ends: a caller can keep what is done if it is stopped. */
  readonly onCell?: (cell: Cell) => void;
}

/** One variant's run of one cell, with the draft tokens it verified and accepted (0 and 0 without speculation). */
export interface VariantRun {
  readonly variant: string;
  readonly run: RunResult;
  readonly draftTokens: number;
  readonly acceptedTokens: number;
}

export interface Cell {
  readonly workload: WorkloadName;
  readonly concurrency: number;
  /** In the order of the variants. */
  readonly runs: readonly VariantRun[];
}

export interface TextCheck {
  readonly compared: number;
  /** Conversations whose greedy text was the same on every sameText variant. */
  readonly same: number;
}

export interface SideBySideResult {
  readonly cells: readonly Cell[];
  /** Cells not run because the deadline had passed. */
  readonly skipped: readonly { readonly workload: WorkloadName; readonly concurrency: number }[];
  /** Per workload, when textChecks > 0 and at least two variants are sameText. */
  readonly sameText: Readonly<Partial<Record<WorkloadName, TextCheck>>>;
}

const SLO = { ttftMs: 1000, tpotMs: 100 };
const MEASURED_SEED = 7;
// Draft and accepted token counters: vLLM's names (Loom) and llama-server's (its --metrics).
const DRAFT_COUNTERS = ["vllm:spec_decode_num_draft_tokens_total", "llamacpp:spec_decode_num_draft_tokens_total"];
const ACCEPTED_COUNTERS = [
  "vllm:spec_decode_num_accepted_tokens_total",
  "llamacpp:spec_decode_num_accepted_tokens_total",
];

async function counters(url: string): Promise<{ draft: number; accepted: number }> {
  const sum = async (names: readonly string[]) =>
    (await Promise.all(names.map((name) => metricSum(url, name)))).reduce((a, b) => a + b, 0);
  return { draft: await sum(DRAFT_COUNTERS), accepted: await sum(ACCEPTED_COUNTERS) };
}

async function measure(
  server: ServerProcess,
  target: Target,
  options: SideBySideOptions,
  workload: WorkloadName,
  concurrency: number,
): Promise<VariantRun> {
  const before = await counters(server.url);
  const run = await runWorkload({
    target,
    workload,
    concurrency,
    requests: options.requests(concurrency),
    workloadOptions: { ...options.workloadOptions, seed: MEASURED_SEED },
    slo: SLO,
    onProgress: (line) => process.stderr.write(`\r[${server.name} ${workload} c=${concurrency}] ${line}   `),
  });
  process.stderr.write("\n");
  const after = await counters(server.url);
  return {
    variant: server.name,
    run: { ...run, label: `${server.name} ${run.label}` },
    draftTokens: after.draft - before.draft,
    acceptedTokens: after.accepted - before.accepted,
  };
}

/** The greedy text of the measured workload's first conversations, one at a time on every checked server. */
async function checkText(
  checked: readonly { server: ServerProcess; target: Target }[],
  options: SideBySideOptions,
  workload: WorkloadName,
): Promise<TextCheck> {
  let same = 0;
  for (let index = 0; index < options.textChecks; index++) {
    const { system, turns } = conversation(workload, index, { ...options.workloadOptions, seed: MEASURED_SEED });
    const messages = [
      ...(system === null ? [] : [{ role: "system" as const, content: system }]),
      { role: "user" as const, content: turns[0]!.user },
    ];
    const texts: string[] = [];
    for (const { target } of checked) texts.push((await streamRequest(target, messages, turns[0]!.maxTokens)).text);
    if (texts.every((text) => text === texts[0])) same++;
    else console.error(`${workload} #${index}: greedy text differs between ${checked.map((c) => c.server.name)}`);
  }
  return { compared: options.textChecks, same };
}

/** Starts every variant, measures every cell on each, checks text, and stops them all (also on failure). */
export async function runSideBySide(options: SideBySideOptions): Promise<SideBySideResult> {
  const servers: ServerProcess[] = [];
  try {
    for (const [i, variant] of options.variants.entries())
      servers.push({ ...(await variant.start(options.basePort + i)), name: variant.name });
    const targets = servers.map(
      (s): Target => ({
        url: s.url,
        model: options.modelName,
        endpoint: options.endpoint,
        ignoreEos: true,
      }),
    );
    const warmUp = { workload: "uniform" as const, concurrency: 2, requests: 2, slo: SLO };
    for (const target of targets) await runWorkload({ ...warmUp, target, workloadOptions: { seed: 99, maxTokens: 8 } });
    const cells: Cell[] = [];
    const skipped: { workload: WorkloadName; concurrency: number }[] = [];
    for (const workload of options.workloads) {
      for (const concurrency of options.concurrencies) {
        if (options.deadlineMs !== undefined && performance.now() > options.deadlineMs) {
          skipped.push({ workload, concurrency });
          continue;
        }
        // Alternate which variant goes first, so none always runs on a machine another just warmed or heated.
        const order = servers.map((_, i) => i);
        if (cells.length % 2 === 1) order.reverse();
        const runs: VariantRun[] = [];
        for (const i of order) runs[i] = await measure(servers[i]!, targets[i]!, options, workload, concurrency);
        cells.push({ workload, concurrency, runs });
        options.onCell?.(cells.at(-1)!);
      }
    }
    const checked = options.variants.flatMap((v, i) =>
      v.sameText ? [{ server: servers[i]!, target: targets[i]! }] : [],
    );
    const sameText: Partial<Record<WorkloadName, TextCheck>> = {};
    if (checked.length >= 2 && options.textChecks > 0)
      for (const workload of options.workloads) sameText[workload] = await checkText(checked, options, workload);
    return { cells, skipped, sameText };
  } finally {
    for (const s of servers) s.process.kill("SIGTERM");
  }
}

/** Whether every compared conversation gave the same greedy text. */
export function textAgrees(result: SideBySideResult): boolean {
  return Object.values(result.sameText).every((check) => check.same === check.compared);
}

/**
 * One line per cell: each variant's output tokens/s, its ratio to its baseline's, the share of its draft tokens
 * accepted, and failed requests; then the text checks.
 */
export function sideBySideTable(result: SideBySideResult, variants: readonly Variant[]): string {
  const lines: string[] = [];
  for (const cell of result.cells) {
    const tps = (name: string) => cell.runs.find((r) => r.variant === name)!.run.summary.outputTokensPerSecond;
    const parts = cell.runs.map((r, i) => {
      const own = r.run.summary.outputTokensPerSecond;
      const ratio = own / tps(variants[i]!.baseline ?? variants[0]!.name);
      const notes = [`${ratio.toFixed(2)}x`];
      if (r.draftTokens > 0) notes.push(`accept ${((100 * r.acceptedTokens) / r.draftTokens).toFixed(0)}%`);
      if (r.run.summary.failed > 0) notes.push(`${r.run.summary.failed} failed`);
      return `${r.variant} ${own.toFixed(1)} tok/s (${notes.join(", ")})`;
    });
    lines.push(`${`${cell.workload} c=${cell.concurrency}`.padEnd(18)}${parts.join("   ")}`);
  }
  for (const [workload, check] of Object.entries(result.sameText))
    lines.push(
      `${workload}: greedy text the same on every checked variant for ${check.same}/${check.compared} prompts`,
    );
  return lines.join("\n");
}
