// Adapter groups: one adapter id per step, the larger ready group first, and no group starving.
import { describe, expect, it } from "vitest";
import { ADAPTER_AGING_MS, chooseAdapterGroup } from "../../../src/scheduler/adapter-rotation.js";
import { Scheduler } from "../../../src/scheduler/scheduler.js";
import { CellPool } from "../../helpers/cell-pool.js";
import { EOS, makeSeq, simulateStep, tinyKv } from "../../helpers/scheduler.js";

describe("chooseAdapterGroup", () => {
  it("prefers the larger group when both were just served, and an unserved group as it ages", () => {
    expect(chooseAdapterGroup([{ adapterId: 0, numReady: 6, lastServedMs: 1000 }, { adapterId: 3, numReady: 2, lastServedMs: 1000 }], 1000)).toBe(0);
    // 2 * (1 + t/aging) > 6 * 1 once t > 2 * aging
    expect(chooseAdapterGroup([{ adapterId: 0, numReady: 6, lastServedMs: 1000 }, { adapterId: 3, numReady: 2, lastServedMs: 1000 - 2 * ADAPTER_AGING_MS - 1 }], 1000)).toBe(3);
    expect(chooseAdapterGroup([{ adapterId: 5, numReady: 0, lastServedMs: 0 }], 1000)).toBeNull();
  });
});

describe("scheduler with adapters", () => {
  it("forms every step from one adapter group and serves every group to the end", () => {
    const s = new Scheduler({ kv: tinyKv(64, 16), maxBatchTokens: 64, maxRunning: 16, maxModelLen: 4096, endOfGenerationTokens: [EOS] });
    const cells = new CellPool(64 * 16);
    const seqs = [
      ...Array.from({ length: 6 }, (_, i) => makeSeq([100 + i, 200, 300], { adapterId: 0, params: { maxTokens: 12 } })),
      ...Array.from({ length: 2 }, (_, i) => makeSeq([110 + i, 200, 300], { adapterId: 1, params: { maxTokens: 12 } })),
      makeSeq([120, 200, 300], { adapterId: 2, params: { maxTokens: 12 } }),
    ];
    for (const seq of seqs) s.add(seq);
    const served = new Set<number>();
    const lastServedStep = new Map<number, number>();
    const hasWork = (adapterId: number) => seqs.some((q) => q.adapterId === adapterId && q.status !== "finished");
    let longestWait = 0;
    for (let step = 0; step < 400 && s.hasWork; step++) {
      const plan = s.plan(step * 20);
      if (plan.chunks.length === 0) continue;
      expect(new Set(plan.chunks.map((c) => c.seq.adapterId))).toEqual(new Set([plan.adapterId]));
      served.add(plan.adapterId);
      for (const [id, at] of lastServedStep) if (id !== plan.adapterId && hasWork(id)) longestWait = Math.max(longestWait, step - at);
      lastServedStep.set(plan.adapterId, step);
      s.apply(plan, simulateStep(plan, cells));
    }
    expect(s.hasWork).toBe(false);
    expect([...served].sort()).toEqual([0, 1, 2]);
    expect(seqs.every((q) => q.finishReason === "length" && q.numOutputTokens === 12)).toBe(true);
    // The lone adapter-2 sequence outweighs six running base sequences after about 6 * 1.2 aging periods (36 steps).
    expect(longestWait).toBeGreaterThan(1);
    expect(longestWait).toBeLessThanOrEqual(40);
  });
});
