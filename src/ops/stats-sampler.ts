// StatsSampler: the dashboard's numbers, read from the same prom-client registry /metrics renders. Each sample()
// takes the cumulative counters and histogram buckets now and compares them with the oldest sample inside the
// window: rates are counter deltas over the elapsed time, latency percentiles come from bucket deltas (what
// Grafana computes with rate() and histogram_quantile() over the same series), gauges are read as they are.
import type { MetricObjectWithValues, MetricValue } from "prom-client";
import { type CumulativeBucket, histogramQuantile } from "./histogram-quantile.js";

/** The label that names a route variant once routing sets one; series without it are the model's own. */
const VARIANT_LABEL = "variant";

const COUNTERS = {
  generatedTokens: "loom:step_generation_tokens_total",
  requests: "vllm:request_success_total",
  prefixQueries: "vllm:prefix_cache_queries_total",
  prefixHits: "vllm:prefix_cache_hits_total",
} as const;
const GAUGES = {
  running: "vllm:num_requests_running",
  waiting: "vllm:num_requests_waiting",
  kvUsage: "vllm:kv_cache_usage_perc",
} as const;
const HISTOGRAMS = {
  ttft: "vllm:time_to_first_token_seconds",
  tpot: "vllm:request_time_per_output_token_seconds",
  itl: "vllm:inter_token_latency_seconds",
} as const;
const NAMES = [...Object.values(COUNTERS), ...Object.values(GAUGES), ...Object.values(HISTOGRAMS)];

/** Seconds; null when no request finished inside the window. */
export interface LatencyQuantiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** One model (or one route variant of it) over the window. Rates are per second; null: not measurable yet. */
interface SeriesStats {
  readonly model: string;
  readonly variant: string | null;
  /** Tokens sampled by engine steps per second, while requests run. */
  readonly outputTokensPerSecond: number | null;
  /** Requests finished per second, whatever their finish reason. */
  readonly requestsPerSecond: number | null;
  readonly ttftSeconds: LatencyQuantiles;
  readonly tpotSeconds: LatencyQuantiles;
  readonly itlSeconds: LatencyQuantiles;
  readonly numRunning: number | null;
  readonly numWaiting: number | null;
  /** Fraction of KV blocks held by running sequences, 0 to 1. */
  readonly kvCacheUsage: number | null;
  /** Fraction of prompt tokens looked up in the window that the prefix cache held. */
  readonly prefixCacheHitRate: number | null;
}

export interface StatsSample {
  /** Wall-clock time of the sample, Unix milliseconds. */
  readonly timeMs: number;
  /** Seconds between this sample and the one its rates and percentiles compare with; 0 for the first. */
  readonly windowSeconds: number;
  readonly series: readonly SeriesStats[];
}

/** Reads the named metrics in prom-client's JSON form (Metrics.read). */
export type ReadMetrics = (names: readonly string[]) => Promise<MetricObjectWithValues<MetricValue<string>>[]>;

export interface StatsSamplerOptions {
  readonly read: ReadMetrics;
  /** How far back rates and percentiles look, in milliseconds. */
  readonly windowMs?: number;
  readonly now?: () => number;
}

interface SeriesTotals {
  readonly model: string;
  readonly variant: string | null;
  readonly values: Map<string, number>;
  /** Histogram name to its cumulative count per bucket bound. */
  readonly buckets: Map<string, Map<number, number>>;
}

interface Snapshot {
  readonly timeMs: number;
  readonly series: Map<string, SeriesTotals>;
}

export class StatsSampler {
  readonly #read: ReadMetrics;
  readonly #windowMs: number;
  readonly #now: () => number;
  /** Snapshots from the newest one at least a window old up to the latest, oldest first. */
  #history: Snapshot[] = [];

  constructor({ read, windowMs = 5000, now = Date.now }: StatsSamplerOptions) {
    if (!(Number.isFinite(windowMs) && windowMs > 0))
      throw new RangeError(`windowMs must be a positive number, got ${windowMs}`);
    this.#read = read;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Reads the registry and returns one sample per model and variant, sorted by model then variant. */
  async sample(): Promise<StatsSample> {
    const current = snapshot(this.#now(), await this.#read(NAMES));
    this.#history.push(current);
    while (this.#history.length > 2 && this.#history[1]!.timeMs <= current.timeMs - this.#windowMs)
      this.#history.shift();
    const base = this.#history.length > 1 ? this.#history[0]! : null;
    const seconds = base ? (current.timeMs - base.timeMs) / 1000 : 0;
    const series = [...current.series.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, totals]) => seriesStats(totals, base?.series.get(key) ?? null, seconds));
    return { timeMs: current.timeMs, windowSeconds: seconds, series };
  }
}

function snapshot(timeMs: number, metrics: readonly MetricObjectWithValues<MetricValue<string>>[]): Snapshot {
  const series = new Map<string, SeriesTotals>();
  for (const metric of metrics) {
    for (const value of metric.values) {
      const { model_name: model, [VARIANT_LABEL]: variant, le } = value.labels;
      if (model === undefined) continue;
      const key = `${model}\u0000${variant ?? ""}`;
      let totals = series.get(key);
      if (!totals) {
        totals = {
          model: String(model),
          variant: variant === undefined ? null : String(variant),
          values: new Map(),
          buckets: new Map(),
        };
        series.set(key, totals);
      }
      // Histogram values name their series (`_bucket`, `_sum`, `_count`); counters' and gauges' do not.
      const valueName = (value as { metricName?: string }).metricName;
      if (valueName !== undefined) {
        if (valueName !== `${metric.name}_bucket`) continue;
        const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
        let buckets = totals.buckets.get(metric.name);
        if (!buckets) totals.buckets.set(metric.name, (buckets = new Map()));
        buckets.set(bound, (buckets.get(bound) ?? 0) + value.value);
      } else {
        // Counters with more labels (finish reason) are summed per series; gauges have one value per series.
        totals.values.set(metric.name, (totals.values.get(metric.name) ?? 0) + value.value);
      }
    }
  }
  return { timeMs, series };
}

function seriesStats(now: SeriesTotals, base: SeriesTotals | null, seconds: number): SeriesStats {
  const delta = (name: string): number | null => {
    if (seconds <= 0) return null;
    const d = (now.values.get(name) ?? 0) - (base?.values.get(name) ?? 0);
    return d >= 0 ? d : null;
  };
  const rate = (name: string): number | null => {
    const d = delta(name);
    return d === null ? null : d / seconds;
  };
  const queries = delta(COUNTERS.prefixQueries);
  const hits = delta(COUNTERS.prefixHits);
  return {
    model: now.model,
    variant: now.variant,
    outputTokensPerSecond: rate(COUNTERS.generatedTokens),
    requestsPerSecond: rate(COUNTERS.requests),
    ttftSeconds: quantiles(now, base, HISTOGRAMS.ttft, seconds),
    tpotSeconds: quantiles(now, base, HISTOGRAMS.tpot, seconds),
    itlSeconds: quantiles(now, base, HISTOGRAMS.itl, seconds),
    numRunning: now.values.get(GAUGES.running) ?? null,
    numWaiting: now.values.get(GAUGES.waiting) ?? null,
    kvCacheUsage: now.values.get(GAUGES.kvUsage) ?? null,
    prefixCacheHitRate: queries && hits !== null ? hits / queries : null,
  };
}

const NO_QUANTILES: LatencyQuantiles = { p50: null, p95: null, p99: null };

function quantiles(now: SeriesTotals, base: SeriesTotals | null, name: string, seconds: number): LatencyQuantiles {
  const current = now.buckets.get(name);
  if (!current || seconds <= 0) return NO_QUANTILES;
  const before = base?.buckets.get(name);
  const buckets: CumulativeBucket[] = [...current.entries()]
    .map(([le, count]) => ({ le, count: count - (before?.get(le) ?? 0) }))
    .sort((a, b) => a.le - b.le);
  if (buckets.some((b) => b.count < 0)) return NO_QUANTILES;
  return {
    p50: histogramQuantile(0.5, buckets),
    p95: histogramQuantile(0.95, buckets),
    p99: histogramQuantile(0.99, buckets),
  };
}
