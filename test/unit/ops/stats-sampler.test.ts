// The dashboard's numbers from a real prom-client registry: rates and percentiles over the window, gauges as they
// are, one series per model and route variant.
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { histogramQuantile } from "../../../src/ops/histogram-quantile.js";
import { type ModelStatsSnapshot, Metrics } from "../../../src/ops/metrics.js";
import { StatsSampler } from "../../../src/ops/stats-sampler.js";

function engineStats(over: { generated: number; queries: number; hits: number; running: number }): ModelStatsSnapshot {
  return {
    numRunning: over.running,
    numWaiting: 1,
    numPreemptions: 0,
    numGeneratedTokens: over.generated,
    kvSpanCells: -1,
    lora: { maxLoras: 8, running: [], waiting: [] },
    cacheConfig: { layout: "unified", enablePrefixCaching: true },
    kv: {
      numBlocks: 100,
      blockSize: 16,
      numUsedBlocks: 25,
      numCachedBlocks: 5,
      numFreeBlocks: 70,
      prefixCacheQueries: over.queries,
      prefixCacheHits: over.hits,
    },
  };
}

const request = (ttftSeconds: number) => ({
  loraName: null,
  finishReason: "length",
  promptTokens: 10,
  outputTokens: 5,
  queueSeconds: 0,
  ttftSeconds,
  e2eSeconds: ttftSeconds + 0.4,
  interTokenSeconds: [0.1, 0.1, 0.1, 0.1],
});

describe("histogramQuantile", () => {
  it("interpolates inside the bucket that holds the rank, as Prometheus does", () => {
    const buckets = [
      { le: 0.1, count: 0 },
      { le: 0.2, count: 4 },
      { le: 0.4, count: 8 },
      { le: Number.POSITIVE_INFINITY, count: 8 },
    ];
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.2, 12);
    expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.15, 12);
    expect(histogramQuantile(0.75, buckets)).toBeCloseTo(0.3, 12);
  });

  it("answers null when empty, the highest finite bound for the +Inf bucket, 0 as the first lower bound", () => {
    expect(histogramQuantile(0.5, [{ le: Number.POSITIVE_INFINITY, count: 0 }])).toBeNull();
    const tail = [
      { le: 1, count: 1 },
      { le: Number.POSITIVE_INFINITY, count: 10 },
    ];
    expect(histogramQuantile(0.99, tail)).toBe(1);
    expect(histogramQuantile(0.05, tail)).toBeCloseTo(0.5, 12);
    expect(() => histogramQuantile(1.5, tail)).toThrow("q must lie in [0, 1], got 1.5");
  });
});

describe("StatsSampler", () => {
  it("turns counter and bucket deltas over the window into rates and percentiles", async () => {
    const metrics = new Metrics({ processMetrics: false });
    let stats = engineStats({ generated: 0, queries: 0, hits: 0, running: 0 });
    metrics.addModel("m", () => stats);
    let nowMs = 1_000_000;
    const sampler = new StatsSampler({ read: (names) => metrics.read(names), windowMs: 5000, now: () => nowMs });

    const first = await sampler.sample();
    expect(first.windowSeconds).toBe(0);
    expect(first.series).toEqual([
      expect.objectContaining({
        model: "m",
        variant: null,
        outputTokensPerSecond: null,
        requestsPerSecond: null,
        ttftSeconds: { p50: null, p95: null, p99: null },
        numRunning: 0,
        numWaiting: 1,
        kvCacheUsage: 0.25,
        prefixCacheHitRate: null,
      }),
    ]);

    // Four requests, every TTFT in the (0.02, 0.04] bucket; 100 tokens and 200 looked-up prompt tokens in 2 s.
    for (const ttft of [0.025, 0.03, 0.035, 0.039]) metrics.observeRequest("m", request(ttft));
    stats = engineStats({ generated: 100, queries: 200, hits: 50, running: 3 });
    nowMs += 2000;
    const [second] = (await sampler.sample()).series;
    expect(second).toMatchObject({ outputTokensPerSecond: 50, requestsPerSecond: 2, numRunning: 3 });
    expect(second!.prefixCacheHitRate).toBeCloseTo(0.25, 12);
    expect(second!.ttftSeconds.p50).toBeCloseTo(0.03, 12);
    expect(second!.ttftSeconds.p99).toBeCloseTo(0.0398, 12);
    // Every inter-token gap lies in (0.08, 0.1]; TPOT is (e2e - ttft) / 4 = 0.1 per request.
    expect(second!.itlSeconds.p50).toBeCloseTo(0.09, 12);
    expect(second!.tpotSeconds.p50).toBeCloseTo(0.09, 12);

    // Nothing new for 6 s: the window (the newest sample at least 5 s old) has moved past the requests.
    nowMs += 2000;
    await sampler.sample();
    nowMs += 4000;
    const later = await sampler.sample();
    expect(later.windowSeconds).toBe(6);
    expect(later.series[0]).toMatchObject({
      outputTokensPerSecond: 0,
      requestsPerSecond: 0,
      ttftSeconds: { p50: null, p95: null, p99: null },
      prefixCacheHitRate: null,
    });
  });

  it("keeps one series per model and route variant, sorted, and sums other labels within a series", async () => {
    const registry = new Registry();
    const labelNames = ["model_name", "variant", "finished_reason"];
    const finished = new Counter({ name: "vllm:request_success_total", help: "h", labelNames, registers: [registry] });
    const ttft = new Histogram({
      name: "vllm:time_to_first_token_seconds",
      help: "h",
      buckets: [0.1, 1],
      labelNames: ["model_name", "variant"],
      registers: [registry],
    });
    const read = async (names: readonly string[]) =>
      Promise.all(names.flatMap((n) => registry.getSingleMetric(n) ?? []).map((m) => m.get() as Promise<any>));
    let nowMs = 0;
    const sampler = new StatsSampler({ read, now: () => nowMs });
    finished.inc({ model_name: "m", variant: "b", finished_reason: "stop" }, 0);
    finished.inc({ model_name: "m", variant: "a", finished_reason: "stop" }, 0);
    await sampler.sample();
    finished.inc({ model_name: "m", variant: "a", finished_reason: "stop" }, 3);
    finished.inc({ model_name: "m", variant: "a", finished_reason: "length" }, 1);
    finished.inc({ model_name: "m", variant: "b", finished_reason: "stop" }, 2);
    ttft.observe({ model_name: "m", variant: "b" }, 0.5);
    nowMs = 1000;
    const { series } = await sampler.sample();
    expect(series.map((s) => [s.model, s.variant, s.requestsPerSecond, s.ttftSeconds.p50])).toEqual([
      ["m", "a", 4, null],
      ["m", "b", 2, 0.55],
    ]);
  });
});
