// The shapes loadtest/gpu/bench.ts writes and loadtest/gpu/report.ts reads: the serving benchmark's results, and the
// report that wraps them with the run's phases, test counts and machine (gpu-bench.json).
import type { Summary } from "../stats.js";
import type { WorkloadName } from "../workloads.js";

/** Loom started with nothing but the model: where its defaults put the layers and how large they made the KV cache. */
export interface DefaultsRun {
  /** Loom's "serving" log line: gpu_layers, devices, kv_tokens, kv_tokens_from, kv_layout, threads... */
  readonly serving: Readonly<Record<string, unknown>> | null;
  readonly concurrency: number;
  readonly summary: Summary;
}

/** One workload at one concurrency level, each server's run summarized. */
export interface LevelResult {
  readonly workload: WorkloadName;
  readonly concurrency: number;
  readonly loom: Summary;
  readonly llamaServer: Summary | null;
}

export interface BenchResult {
  readonly model: { readonly name: string; readonly path: string; readonly bytes: number };
  /** What both servers of the side-by-side share: KV cells in all, slots (max running), CPU threads. */
  readonly settings: {
    readonly kvTokens: number;
    readonly maxRunning: number;
    readonly threads: number;
    readonly maxTokens: number;
    readonly workloads: readonly WorkloadName[];
    readonly concurrency: readonly number[];
  };
  readonly defaults: DefaultsRun | { readonly error: string };
  /** The side-by-side Loom's "serving" log line, and each server's command-line flags. */
  readonly loomServing: Readonly<Record<string, unknown>> | null;
  readonly serverArgs: Readonly<Record<string, readonly string[]>>;
  readonly levels: readonly LevelResult[];
  /** Levels left out because the run's deadline had passed. */
  readonly skipped: readonly { readonly workload: WorkloadName; readonly concurrency: number }[];
  /** What failed: a server that did not start, a run that threw. */
  readonly errors: readonly string[];
}

export interface PhaseResult {
  readonly name: string;
  readonly seconds: number;
  readonly exitCode: number;
}

export interface TestCounts {
  readonly files: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** Full names of the failed tests. */
  readonly failures: readonly string[];
}

/** gpu-bench.json. */
export interface GpuBenchReport {
  readonly mode: "gpu" | "dry-run";
  readonly finishedAt: string;
  /** Machine and toolchain, as run.sh read them (GPU name and memory, driver, nvcc, cmake, cores). */
  readonly environment: Readonly<Record<string, string>>;
  readonly phases: readonly PhaseResult[];
  readonly totalSeconds: number;
  readonly tests: TestCounts | null;
  readonly bench: BenchResult | null;
}
