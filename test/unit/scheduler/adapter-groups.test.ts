// Adapter groups: one adapter id per step, the larger ready group first, and no group starving.
import { describe, expect, it } from "vitest";
import { ADAPTER_TURN_STEPS, chooseAdapterGroup } from "../../../src/scheduler/adapter-rotation.js";
import { Scheduler } from "../../../src/scheduler/scheduler.js";
import { CellPool } from "../../helpers/cell-pool.js";
import { EOS, makeSeq, simulateStep, tinyKv } from "../../helpers/scheduler.js";

describe("chooseAdapterGroup", () => {
  it("serves the least recently served group, the larger one on a tie, for turns of a few steps", () => {
    const groups = [
      { adapterId: 0, numReady: 6, lastServedMs: 1000 },
      { adapterId: 3, numReady: 2, lastServedMs: 900 },
      { adapterId: 4, numReady: 5, lastServedMs: 900 },
    ];
    expect(chooseAdapterGroup(groups)).toBe(4);
    expect(chooseAdapterGroup(groups, { adapterId: 0, numSteps: ADAPTER_TURN_STEPS - 1 })).toBe(0);
    expect(chooseAdapterGroup(groups, { adapterId: 0, numSteps: ADAPTER_TURN_STEPS })).toBe(4);
    expect(
      chooseAdapterGroup(
        [
          { adapterId: 0, numReady: 0, lastServedMs: 0 },
          { adapterId: 2, numReady: 1, lastServedMs: 5 },
        ],
        { adapterId: 0, numSteps: 1 },
      ),
    ).toBe(2);
    expect(chooseAdapterGroup([{ adapterId: 5, numReady: 0, lastServedMs: 0 }])).toBeNull();
  });
});

describe("scheduler with adapters", () => {
  it("forms every step from one adapter group, and small groups finish while a large one keeps running", () => {
    const s = new Scheduler({
      kv: tinyKv(512, 16),
      maxBatchTokens: 64,
      maxRunning: 16,
      maxModelLen: 4096,
      endOfGenerationTokens: [EOS],
    });
    const cells = new CellPool(512 * 16);
    const base = Array.from({ length: 6 }, (_, i) =>
      makeSeq([100 + i, 200, 300], { adapterId: 0, params: { maxTokens: 1000 } }),
    );
    const small = [
      makeSeq([110, 200, 300], { adapterId: 1, params: { maxTokens: 12 } }),
      makeSeq([111, 200, 300], { adapterId: 1, params: { maxTokens: 12 } }),
      makeSeq([120, 200, 300], { adapterId: 2, params: { maxTokens: 12 } }),
    ];
    for (const seq of [...base, ...small]) s.add(seq);
    const served = new Set<number>();
    let step = 0;
    for (; step < 1000 && small.some((q) => q.status !== "finished"); step++) {
      const plan = s.plan(step * 20);
      expect(new Set(plan.chunks.map((c) => c.seq.adapterId))).toEqual(new Set([plan.adapterId]));
      served.add(plan.adapterId);
      s.apply(plan, simulateStep(plan, cells));
    }
    expect([...served].sort()).toEqual([0, 1, 2]);
    expect(small.every((q) => q.finishReason === "length" && q.numOutputTokens === 12)).toBe(true);
    expect(base.every((q) => q.status === "running")).toBe(true);
    // Turns rotate over three groups: each small sequence gets ADAPTER_TURN_STEPS tokens every 3 turns.
    expect(step).toBeLessThanOrEqual(3 * 12 + 2 * ADAPTER_TURN_STEPS + 3);
    expect(step).toBeGreaterThanOrEqual(12 + 2 * ADAPTER_TURN_STEPS);
  });

  it("runs another group when the chosen one waits for blocks, instead of planning an empty step", () => {
    const s = new Scheduler({
      kv: tinyKv(4, 16),
      maxBatchTokens: 64,
      maxRunning: 16,
      maxModelLen: 4096,
      endOfGenerationTokens: [EOS],
    });
    const cells = new CellPool(4 * 16);
    const big = makeSeq(
      Array.from({ length: 40 }, (_, i) => 100 + i),
      { adapterId: 0, params: { maxTokens: 20 } },
    );
    s.add(big);
    const first = s.plan(0);
    s.apply(first, simulateStep(first, cells));
    const waiting = Array.from({ length: 3 }, (_, i) =>
      makeSeq(
        Array.from({ length: 30 }, (_, k) => 300 + i + k),
        { adapterId: 7, params: { maxTokens: 4 } },
      ),
    );
    for (const seq of waiting) s.add(seq);
    for (let step = 1; step < 200 && s.hasWork; step++) {
      const plan = s.plan(step * 1000);
      expect(plan.chunks.length).toBeGreaterThan(0);
      s.apply(plan, simulateStep(plan, cells));
    }
    expect([big, ...waiting].every((q) => q.status === "finished" && q.finishReason === "length")).toBe(true);
  });
});
