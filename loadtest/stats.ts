// Latency and throughput statistics as vLLM's serving benchmark reports them: percentiles (linear interpolation,
// numpy's default), means, throughput over the run's wall time, and goodput under an SLO.

export interface Distribution {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * The q-th percentile (0..100) of `values`, interpolating between the closest ranks; NaN for no values. A q between
 * 0 and 1 is refused: it is a quantile passed for a percent (0.5 for the median gave the minimum once, unnoticed).
 */
export function percentile(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 100)) throw new RangeError(`q must be in [0, 100], got ${q}`);
  if (q > 0 && q < 1) throw new RangeError(`q is a percent, 0..100: ${q} looks like a quantile (p50 is 50)`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function distribution(values: readonly number[]): Distribution {
  const mean = values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
  return {
    count: values.length,
    mean,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
  };
}

/** What one request measured; times in milliseconds from its own start. */
export interface RequestRecord {
  readonly index: number;
  readonly startMs: number;
  readonly ok: boolean;
  readonly error: string | null;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly ttftMs: number | null;
  readonly e2eMs: number;
  /** Gaps between successive content chunks. */
  readonly itlMs: readonly number[];
}

export interface Slo {
  readonly ttftMs: number;
  readonly tpotMs: number;
}

export interface Summary {
  readonly requests: number;
  readonly completed: number;
  readonly failed: number;
  readonly durationSeconds: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly requestsPerSecond: number;
  readonly outputTokensPerSecond: number;
  readonly totalTokensPerSecond: number;
  /** Completed requests per second that met the SLO. */
  readonly goodput: number;
  readonly slo: Slo;
  readonly ttftMs: Distribution;
  /** Time per output token after the first: (e2e - ttft) / (output tokens - 1). */
  readonly tpotMs: Distribution;
  readonly itlMs: Distribution;
  readonly e2eMs: Distribution;
}

/** Per-request time per output token; null when fewer than two tokens came. */
export function tpotOf(record: RequestRecord): number | null {
  if (record.ttftMs === null || record.outputTokens < 2) return null;
  return (record.e2eMs - record.ttftMs) / (record.outputTokens - 1);
}

export function meetsSlo(record: RequestRecord, slo: Slo): boolean {
  if (!record.ok || record.ttftMs === null || record.ttftMs > slo.ttftMs) return false;
  const tpot = tpotOf(record);
  return tpot === null || tpot <= slo.tpotMs;
}

export function summarize(records: readonly RequestRecord[], durationSeconds: number, slo: Slo): Summary {
  if (!(durationSeconds > 0)) throw new RangeError(`durationSeconds must be positive, got ${durationSeconds}`);
  const done = records.filter((r) => r.ok);
  const promptTokens = done.reduce((sum, r) => sum + r.promptTokens, 0);
  const outputTokens = done.reduce((sum, r) => sum + r.outputTokens, 0);
  return {
    requests: records.length,
    completed: done.length,
    failed: records.length - done.length,
    durationSeconds,
    promptTokens,
    outputTokens,
    requestsPerSecond: done.length / durationSeconds,
    outputTokensPerSecond: outputTokens / durationSeconds,
    totalTokensPerSecond: (promptTokens + outputTokens) / durationSeconds,
    goodput: done.filter((r) => meetsSlo(r, slo)).length / durationSeconds,
    slo,
    ttftMs: distribution(done.flatMap((r) => (r.ttftMs === null ? [] : [r.ttftMs]))),
    tpotMs: distribution(
      done.flatMap((r) => {
        const t = tpotOf(r);
        return t === null ? [] : [t];
      }),
    ),
    itlMs: distribution(done.flatMap((r) => r.itlMs)),
    e2eMs: distribution(done.map((r) => r.e2eMs)),
  };
}
