// The loadtest's statistics on inputs whose answers are known by hand.
import { describe, expect, it } from "vitest";
import { distribution, meetsSlo, percentile, summarize, tpotOf, type RequestRecord } from "../../../loadtest/stats.js";
import { conversation } from "../../../loadtest/workloads.js";

const record = (over: Partial<RequestRecord>): RequestRecord => ({
  index: 0,
  startMs: 0,
  ok: true,
  error: null,
  promptTokens: 10,
  outputTokens: 11,
  ttftMs: 100,
  e2eMs: 600,
  itlMs: [50, 50],
  ...over,
});

describe("percentile", () => {
  it("interpolates between closest ranks as numpy does", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 0, 20], 50)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5], 90)).toBeCloseTo(4.6, 10);
    expect(() => percentile([1, 2, 3], 0.5)).toThrow(/looks like a quantile/);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it("summarizes a distribution", () => {
    expect(distribution([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual({
      count: 10,
      mean: 5.5,
      p50: 5.5,
      p90: 9.1,
      p95: 9.549999999999999,
      p99: 9.91,
      max: 10,
    });
  });
});

describe("summarize", () => {
  it("computes throughput over the wall time and goodput under the SLO", () => {
    const records = [
      record({ index: 0 }), // tpot (600-100)/10 = 50 ms: meets a 1000/100 SLO
      record({ index: 1, ttftMs: 1500, e2eMs: 2000 }), // TTFT misses
      record({ index: 2, e2eMs: 2100 }), // tpot 200 ms misses
      record({ index: 3, ok: false, error: "HTTP 500", outputTokens: 0, ttftMs: null, itlMs: [] }),
    ];
    const s = summarize(records, 2, { ttftMs: 1000, tpotMs: 100 });
    expect(s).toMatchObject({
      requests: 4,
      completed: 3,
      failed: 1,
      promptTokens: 30,
      outputTokens: 33,
      requestsPerSecond: 1.5,
      outputTokensPerSecond: 16.5,
      totalTokensPerSecond: 31.5,
      goodput: 0.5,
    });
    expect(s.ttftMs.p50).toBe(100);
    expect(s.tpotMs.max).toBe(200);
    expect(s.itlMs.count).toBe(6);
    expect(tpotOf(record({ outputTokens: 1 }))).toBeNull();
    expect(meetsSlo(record({ outputTokens: 1, e2eMs: 5000 }), { ttftMs: 1000, tpotMs: 1 })).toBe(true);
  });
});

describe("workloads", () => {
  it("are deterministic for a seed and share the system prompt in shared-prefix", () => {
    const a = conversation("shared-prefix", 3, { seed: 1, maxTokens: 8 });
    expect(conversation("shared-prefix", 3, { seed: 1, maxTokens: 8 })).toEqual(a);
    const b = conversation("shared-prefix", 4, { seed: 1, maxTokens: 8 });
    expect(b.system).toBe(a.system);
    expect(b.turns[0]!.user).not.toBe(a.turns[0]!.user);
    expect(a.system!.split(" ")).toHaveLength(440);
    expect(conversation("multi-turn", 0, { seed: 1, maxTokens: 8 }).turns).toHaveLength(4);
    const mixed = Array.from({ length: 50 }, (_, i) => conversation("mixed", i, { seed: 2, maxTokens: 64 }).turns[0]!);
    expect(mixed.every((t) => t.maxTokens >= 8 && t.maxTokens <= 128)).toBe(true);
    expect(new Set(mixed.map((t) => t.maxTokens)).size).toBeGreaterThan(10);
  });

  it("copy: the prompt holds a passage twice and ends with its opening words, for prompt lookup to find", () => {
    const options = { seed: 3, maxTokens: 16, promptWords: 40 };
    const { system, turns } = conversation("copy", 5, options);
    expect(system).toBeNull();
    expect(turns).toHaveLength(1);
    const [instruction, first, second, opening] = turns[0]!.user.split("\n\n");
    expect(instruction).toMatch(/^Repeat/);
    expect(first!.split(" ")).toHaveLength(40);
    expect(second).toBe(first);
    expect(opening).toBe(first!.split(" ").slice(0, 8).join(" "));
    expect(conversation("copy", 5, options)).toEqual({ system, turns });
    expect(conversation("copy", 6, options).turns[0]!.user).not.toBe(turns[0]!.user);
  });
});
