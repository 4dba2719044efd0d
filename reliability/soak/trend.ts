// The soak's verdict over its samples: after the warm-up, memory (RSS, V8 heap) and file descriptors must not trend
// upward (least-squares slope per 10 minutes under a limit) and the p99 latency of the last third of the run must not
// drift above the first third's. The RSS limit's default, 1 MB per 10 minutes, is issue 23's bar for a 60-minute run.
// Memory is judged on its floor: V8's heap (and the RSS with it) climbs tens of MB between major collections and
// drops back, a sawtooth whose phase would dominate any slope; the lowest value over a window spanning several
// collections is what the process retains, and a leak raises it.
import { linearRegression, quantile } from "simple-statistics";

/** One sampling interval of the soak. */
export interface Sample {
  /** Minutes since the load started, at the end of the interval. */
  readonly minute: number;
  /** The lowest RSS and V8 heap in use seen over the interval (polled every few seconds), MB. */
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly openFds: number;
  /** The server's event-loop delay p99 over the interval (prom-client's nodejs_eventloop_lag_p99_seconds), ms. */
  readonly eventLoopP99Ms: number;
  readonly kvBlocksUsed: number;
  readonly kvBlocksCached: number;
  readonly requests: number;
  readonly errors: number;
  /** Latency percentiles of the interval's timed requests, ms (null when none finished). */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface Limits {
  readonly warmupMinutes: number;
  /** Memory's floor is the lowest sample over this many minutes (several major collections). */
  readonly floorMinutes: number;
  /** Most RSS and heap growth allowed, MB per 10 minutes. */
  readonly memoryMbPer10Min: number;
  readonly fdsPer10Min: number;
  /** Most the last third's p99 may be over the first third's, as a ratio, plus `p99SlackMs`. */
  readonly p99Drift: number;
  readonly p99SlackMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  warmupMinutes: 5,
  floorMinutes: 5,
  memoryMbPer10Min: 1,
  fdsPer10Min: 1,
  p99Drift: 1.5,
  p99SlackMs: 20,
};

export interface Check {
  readonly name: string;
  readonly value: number;
  readonly limit: number;
  readonly unit: string;
  readonly ok: boolean;
  /** False for a figure reported but not judged (memory and p99 on a run too short to judge them). */
  readonly gated: boolean;
}

/**
 * Runs shorter than this report memory and p99 trends without failing on them: over a few minutes the allocator's
 * arenas, V8's old space and the prefix cache are still filling, and one slow interval on a shared machine moves a
 * p99; a leak and a plateau cannot be told apart. Neither can a descriptor slope: pooled connections come and go.
 * On a short run what is judged is that the descriptors are back at their idle count once the load stops (soak.ts).
 */
const MIN_TREND_MINUTES = 10;

/** Least-squares slope of `y` over the samples' minutes, per 10 minutes. */
function slopePer10Min(samples: readonly Sample[], y: (s: Sample) => number): number {
  if (samples.length < 2) return 0;
  return linearRegression(samples.map((s) => [s.minute, y(s)])).m * 10;
}

/** Each sample's `y` replaced by the lowest `y` over the `minutes` before it (itself included). */
export function floorOver(samples: readonly Sample[], minutes: number, y: (s: Sample) => number): number[] {
  return samples.map((s) =>
    Math.min(...samples.filter((t) => t.minute <= s.minute && t.minute > s.minute - minutes).map(y)),
  );
}

/** The p99 over the thirds' per-interval p99s (the median of them, so one slow interval is not a drift). */
function thirdP99(samples: readonly Sample[]): number | null {
  const values = samples.flatMap((s) => (s.p99Ms === null ? [] : [s.p99Ms]));
  return values.length === 0 ? null : quantile(values, 0.5);
}

/**
 * Each check of a run of `minutes`; it passes when every gated one is ok. Needs 3 samples after the warm-up to judge
 * anything.
 */
export function judge(samples: readonly Sample[], limits: Limits, minutes: number): Check[] {
  const steady = samples.filter((s) => s.minute > limits.warmupMinutes);
  if (steady.length < 3)
    return [{ name: "samples after the warm-up", value: steady.length, limit: 3, unit: "", ok: false, gated: true }];
  const long = minutes >= MIN_TREND_MINUTES;
  const slope = (name: string, values: readonly number[], limit: number, unit: string, gated = long): Check => {
    const value = slopePer10Min(steady, (s) => values[samples.indexOf(s)]!);
    return { name, value, limit, unit, ok: value <= limit, gated };
  };
  const floor = (y: (s: Sample) => number) => floorOver(samples, limits.floorMinutes, y);
  const third = Math.max(1, Math.floor(steady.length / 3));
  const first = thirdP99(steady.slice(0, third));
  const last = thirdP99(steady.slice(-third));
  const p99Limit = first === null ? 0 : first * limits.p99Drift + limits.p99SlackMs;
  return [
    slope(
      "RSS floor slope",
      floor((s) => s.rssMb),
      limits.memoryMbPer10Min,
      "MB/10 min",
    ),
    slope(
      "heap floor slope",
      floor((s) => s.heapUsedMb),
      limits.memoryMbPer10Min,
      "MB/10 min",
    ),
    slope(
      "descriptor slope",
      samples.map((s) => s.openFds),
      limits.fdsPer10Min,
      "fds/10 min",
    ),
    {
      name: "p99 of the last third",
      value: last ?? 0,
      limit: p99Limit,
      unit: "ms",
      ok: last !== null && last <= p99Limit,
      gated: long,
    },
  ];
}
