// Preemption by recompute, abort at step boundaries, and the invariant that every block comes back.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../../src/scheduler/scheduler.js";
import { CellPool } from "../../helpers/cell-pool.js";
import { EOS, makeSeq, nextToken, simulateStep, tinyKv } from "../../helpers/scheduler.js";

const prompt = (n: number, from = 100) => Array.from({ length: n }, (_, i) => from + i);

describe("preemption", () => {
  it("preempts the newest lowest-priority sequence, which later recomputes to the same output", () => {
    const kv = tinyKv(4, 4, 8);
    const s = new Scheduler({ kv, maxBatchTokens: 64, maxRunning: 4, maxModelLen: 64, endOfGenerationTokens: [EOS] });
    const cells = new CellPool(16);
    const old = makeSeq(prompt(6), { params: { maxTokens: 6 }, arrivalMs: 0 });
    const young = makeSeq(prompt(6, 300), { params: { maxTokens: 6 }, arrivalMs: 1 });
    s.add(old);
    s.add(young);
    const preempted = [];
    for (let t = 0; s.hasWork && t < 50; t++) {
      const plan = s.plan(t);
      preempted.push(...plan.preempted);
      s.apply(plan, simulateStep(plan, cells));
    }
    expect(preempted[0]).toBe(young);
    expect(young.numPreemptions).toBeGreaterThan(0);
    expect(old.numPreemptions).toBe(0);
    for (const seq of [old, young]) {
      const expected = [...seq.tokens.slice(0, seq.numPromptTokens)];
      while (expected.length < seq.numPromptTokens + 6) expected.push(nextToken(expected));
      expect(seq.tokens).toEqual(expected);
      expect(seq.finishReason).toBe("length");
    }
    expect(kv.numBlocksInUse).toBe(0);
    expect(s.stats().numPreemptions).toBe(preempted.length);
  });

  it("re-queues preempted sequences ahead of later arrivals", () => {
    const s = new Scheduler({
      kv: tinyKv(3, 4, 8),
      maxBatchTokens: 64,
      maxRunning: 4,
      maxModelLen: 64,
      endOfGenerationTokens: [EOS],
    });
    const cells = new CellPool(12);
    const a = makeSeq(prompt(4), { params: { maxTokens: 5 }, arrivalMs: 0 });
    const b = makeSeq(prompt(4, 200), { params: { maxTokens: 5 }, arrivalMs: 1 });
    s.add(a);
    s.add(b);
    let plan = s.plan(0);
    s.apply(plan, simulateStep(plan, cells));
    plan = s.plan(1);
    expect(plan.preempted).toEqual([b]);
    const c = makeSeq(prompt(4, 400), { arrivalMs: 0.5 });
    s.add(c);
    s.apply(plan, simulateStep(plan, cells));
    while (a.status !== "finished") {
      plan = s.plan(2);
      s.apply(plan, simulateStep(plan, cells));
    }
    plan = s.plan(3);
    expect(plan.chunks[0]!.seq).toBe(b);
  });
});

describe("abort", () => {
  it("retires an aborted sequence at the next plan, mid-prefill, and returns its blocks", () => {
    const kv = tinyKv(20, 16);
    const s = new Scheduler({ kv, maxBatchTokens: 16, maxRunning: 4, maxModelLen: 4096, endOfGenerationTokens: [EOS] });
    const cells = new CellPool(320);
    const seq = makeSeq(prompt(200));
    s.add(seq);
    let plan = s.plan(0);
    s.apply(plan, simulateStep(plan, cells));
    expect(s.abort(seq, "abort")).toEqual([]);
    expect(kv.numBlocksInUse).toBeGreaterThan(0);
    plan = s.plan(1);
    expect(plan.finished).toEqual([seq]);
    expect(plan.chunks).toEqual([]);
    expect(seq).toMatchObject({ status: "finished", finishReason: "abort" });
    expect(kv.numBlocksInUse).toBe(0);
    // Its one full computed block stays as prefix cache (parked), evictable; every other cell is gone.
    for (const op of plan.kvOps) cells.apply(op);
    expect(kv.stats()).toMatchObject({ numCachedBlocks: 1, numParkedSlots: 1 });
    expect(cells.used).toBe(16);
  });

  it("ends a waiting sequence at once", () => {
    const s = new Scheduler({
      kv: tinyKv(),
      maxBatchTokens: 16,
      maxRunning: 4,
      maxModelLen: 4096,
      endOfGenerationTokens: [EOS],
    });
    const seq = makeSeq(prompt(4));
    s.add(seq);
    expect(s.abort(seq, "timeout", "too slow")).toEqual([
      { type: "finished", seq, reason: "timeout", message: "too slow" },
    ]);
    expect(s.hasWork).toBe(false);
  });
});

describe("starvation", () => {
  it("a low-priority request is admitted under a steady stream of high-priority arrivals", () => {
    const s = new Scheduler({
      kv: tinyKv(40, 16),
      maxBatchTokens: 64,
      maxRunning: 1,
      maxModelLen: 4096,
      endOfGenerationTokens: [EOS],
      agingMs: 100,
    });
    const cells = new CellPool(640);
    const low = makeSeq(prompt(4), { priority: 5, arrivalMs: 0, params: { maxTokens: 1 } });
    s.add(low);
    let admittedAt = -1;
    for (let now = 0; now < 2000 && admittedAt < 0; now += 10) {
      s.add(makeSeq(prompt(4, 1000 + now), { priority: 0, arrivalMs: now, params: { maxTokens: 1 } }));
      const plan = s.plan(now);
      if (plan.chunks.some((c) => c.seq === low)) admittedAt = now;
      s.apply(plan, simulateStep(plan, cells));
    }
    expect(admittedAt).toBeGreaterThan(0);
    expect(admittedAt).toBeLessThanOrEqual(600);
  });
});
