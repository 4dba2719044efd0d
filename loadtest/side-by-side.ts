// Servers measured side by side on one model: every workload and concurrency level runs on each server in turn,
// the order alternating from level to level, so machine noise and warmth fall on all of them alike.
import { runWorkload, type RunResult } from "./runner.js";
import type { ServerProcess } from "./server-process.js";
import type { WorkloadName } from "./workloads.js";

const SLO = { ttftMs: 1000, tpotMs: 100 };

export interface SideBySideOptions {
  readonly servers: readonly ServerProcess[];
  /** The model name every server answers to (--served-model-name, --alias). */
  readonly model: string;
  readonly workloads: readonly WorkloadName[];
  readonly concurrency: readonly number[];
  readonly rounds: number;
  readonly maxTokens: number;
  /** Requests of one run at a concurrency level; default: 4 per concurrent conversation, at least 8. */
  readonly requests?: (concurrency: number) => number;
  /** performance.now() in ms after which no further level starts; the levels left are listed as skipped. */
  readonly deadlineMs?: number;
  readonly onProgress?: (line: string) => void;
  /** Called as each run ends, with its labelled result. */
  readonly onRun?: (run: RunResult) => void;
  /** Called as each level ends, with every server's run of it: a caller can keep what is done if it is stopped. */
  readonly onLevel?: (level: Level) => void;
}

/** One workload at one concurrency level of one round: each server's run, by server name. */
export interface Level {
  readonly workload: WorkloadName;
  readonly concurrency: number;
  readonly round: number;
  readonly byServer: Readonly<Record<string, RunResult>>;
}

export interface SideBySideResult {
  /** Every run, labelled "SERVER WORKLOAD c=N", in the order they ran. */
  readonly runs: readonly RunResult[];
  readonly levels: readonly Level[];
  readonly skipped: readonly Omit<Level, "byServer">[];
}

/** Two short requests per server, so neither pays for first-request setup inside a measured run. */
export async function warmUp(servers: readonly ServerProcess[], model: string): Promise<void> {
  for (const s of servers) {
    await runWorkload({
      target: { url: s.url, model, endpoint: "chat", ignoreEos: true },
      workload: "uniform",
      concurrency: 2,
      requests: 2,
      workloadOptions: { seed: 99, maxTokens: 8 },
      slo: SLO,
    });
  }
}

/** Streaming chat completions with ignore_eos, closed loop at each concurrency level, servers alternating. */
export async function runSideBySide(options: SideBySideOptions): Promise<SideBySideResult> {
  const { servers, model, maxTokens } = options;
  const requests = options.requests ?? ((c: number) => Math.max(8, c * 4));
  const runs: RunResult[] = [];
  const levels: Level[] = [];
  const skipped: Omit<Level, "byServer">[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const workload of options.workloads) {
      for (const concurrency of options.concurrency) {
        if (options.deadlineMs !== undefined && performance.now() > options.deadlineMs) {
          skipped.push({ workload, concurrency, round });
          continue;
        }
        // Alternate which server goes first, so neither always runs on a machine the other just warmed or heated.
        const order = (round + concurrency) % 2 === 0 ? servers : [...servers].reverse();
        const byServer: Record<string, RunResult> = {};
        for (const s of order) {
          const run = await runWorkload({
            target: { url: s.url, model, endpoint: "chat", ignoreEos: true },
            workload,
            concurrency,
            requests: requests(concurrency),
            workloadOptions: { seed: round, maxTokens },
            slo: SLO,
            onProgress: (line) => options.onProgress?.(`[${s.name} ${workload} c=${concurrency}] ${line}`),
          });
          const labelled = { ...run, label: `${s.name} ${run.label}` };
          runs.push(labelled);
          byServer[s.name] = labelled;
          options.onRun?.(labelled);
        }
        const level = { workload, concurrency, round, byServer };
        levels.push(level);
        options.onLevel?.(level);
      }
    }
  }
  return { runs, levels, skipped };
}
