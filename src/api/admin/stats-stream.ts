// GET /loom/v1/stats/stream: the dashboard's numbers as server-sent events, one `stats` event per interval, each
// sampled from the registry /metrics renders (ops/stats-sampler). Every connection gets its own sampler, so a
// client may ask for its own interval and window (the memory check samples at 50 ms).
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { Metrics } from "../../ops/metrics.js";
import { type LatencyQuantiles, type StatsSample, StatsSampler } from "../../ops/stats-sampler.js";

export const StatsStreamQuery = z.object({
  interval_ms: z.coerce.number().int().min(50).max(60_000).default(1000),
  window_ms: z.coerce.number().int().min(50).max(600_000).default(5000),
});

const quantiles = (q: LatencyQuantiles) => ({ p50: q.p50, p95: q.p95, p99: q.p99 });

/** The wire shape of one sample: snake_case, seconds and per-second rates, null where not measurable yet. */
function wireSample(sample: StatsSample) {
  return {
    object: "stats.sample",
    timestamp_ms: sample.timeMs,
    window_seconds: sample.windowSeconds,
    series: sample.series.map((s) => ({
      model: s.model,
      variant: s.variant,
      output_tokens_per_second: s.outputTokensPerSecond,
      requests_per_second: s.requestsPerSecond,
      ttft_seconds: quantiles(s.ttftSeconds),
      tpot_seconds: quantiles(s.tpotSeconds),
      itl_seconds: quantiles(s.itlSeconds),
      num_requests_running: s.numRunning,
      num_requests_waiting: s.numWaiting,
      kv_cache_usage: s.kvCacheUsage,
      prefix_cache_hit_rate: s.prefixCacheHitRate,
    })),
  };
}

export function statsStreamRoutes(metrics: Metrics): Hono {
  return new Hono().get("/loom/v1/stats/stream", (c) => {
    const query = StatsStreamQuery.parse(c.req.query());
    const sampler = new StatsSampler({ read: (names) => metrics.read(names), windowMs: query.window_ms });
    return streamSSE(c, async (stream) => {
      // A steady cadence: the time a sample takes is not added to the interval; a slow client skips, never bursts.
      let dueMs = Date.now();
      while (!stream.aborted && !stream.closed) {
        const sample = await sampler.sample();
        await stream.writeSSE({ event: "stats", data: JSON.stringify(wireSample(sample)) });
        dueMs = Math.max(dueMs + query.interval_ms, Date.now());
        await stream.sleep(dueMs - Date.now());
      }
    });
  });
}
