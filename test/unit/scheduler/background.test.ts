// Background sequences (batch lines, shadows) fill spare capacity: while foreground work is about they share a few
// tokens of a step; after the hold they take what they like; a foreground turn elsewhere holds them back too.
import { describe, expect, it } from "vitest";
import type { BackgroundPolicy } from "../../../src/scheduler/background.js";
import { Scheduler } from "../../../src/scheduler/scheduler.js";
import type { StepPlan } from "../../../src/scheduler/step-plan.js";
import { CellPool } from "../../helpers/cell-pool.js";
import { EOS, makeSeq, simulateStep, tinyKv } from "../../helpers/scheduler.js";

const BACKGROUND = 10;
const prompt = (n: number, from = 100) => Array.from({ length: n }, (_, i) => from + i);
const policy = (extra: Partial<BackgroundPolicy> = {}): BackgroundPolicy => ({
  priority: BACKGROUND,
  stepTokens: 4,
  holdMs: 1000,
  ...extra,
});
const scheduler = (background?: BackgroundPolicy) =>
  new Scheduler({
    kv: tinyKv(64, 16),
    maxBatchTokens: 64,
    maxRunning: 16,
    maxModelLen: 4096,
    endOfGenerationTokens: [EOS],
    ...(background ? { background } : {}),
  });
const tokensOf = (plan: StepPlan, priority: number) =>
  plan.chunks.filter((c) => c.seq.priority === priority).reduce((n, c) => n + c.numTokens + c.draft.length, 0);

describe("background sequences", () => {
  it("take the whole budget when no foreground work is about", () => {
    const s = scheduler(policy());
    for (let i = 0; i < 3; i++) s.add(makeSeq(prompt(30, 100 + 40 * i), { priority: BACKGROUND }));
    expect(s.plan(0).numTokens).toBe(64);
  });

  it("share stepTokens of a step while a foreground sequence waits or runs, and the foreground one is admitted first", () => {
    const s = scheduler(policy());
    const cells = new CellPool(64 * 16);
    const batch = Array.from({ length: 6 }, (_, i) => makeSeq(prompt(8, 100 + 10 * i), { priority: BACKGROUND }));
    for (const seq of batch) s.add(seq);
    let plan = s.plan(0);
    s.apply(plan, simulateStep(plan, cells));
    expect(batch.every((seq) => seq.numOutputTokens === 1)).toBe(true);
    const interactive = makeSeq(prompt(40, 500), { priority: 0, arrivalMs: 1 });
    s.add(interactive);
    plan = s.plan(1);
    expect(tokensOf(plan, 0)).toBe(40);
    expect(tokensOf(plan, BACKGROUND)).toBe(4);
    s.apply(plan, simulateStep(plan, cells));
    plan = s.plan(2);
    expect(tokensOf(plan, 0)).toBe(1);
    expect(tokensOf(plan, BACKGROUND)).toBe(4);
    // The four rows go to the background sequences in admission order: the oldest finish first.
    expect(plan.chunks.filter((c) => c.seq.priority === BACKGROUND).map((c) => c.seq)).toEqual(batch.slice(0, 4));
  });

  it("stay held back for holdMs after the last foreground sequence, then take the budget again", () => {
    const s = scheduler(policy({ holdMs: 1000 }));
    const cells = new CellPool(64 * 16);
    const interactive = makeSeq(prompt(4), { priority: 0, params: { maxTokens: 1 } });
    s.add(interactive);
    const plan = s.plan(0);
    s.apply(plan, simulateStep(plan, cells));
    for (let i = 0; i < 3; i++) s.add(makeSeq(prompt(30, 200 + 40 * i), { priority: BACKGROUND }));
    expect(tokensOf(s.plan(999), BACKGROUND)).toBe(4);
    expect(tokensOf(s.plan(1000), BACKGROUND)).toBeGreaterThan(4);
  });

  it("are held back while foreground work is here even with no hold after it", () => {
    const s = scheduler(policy({ holdMs: 0 }));
    s.add(makeSeq(prompt(4, 900), { priority: 0 }));
    for (let i = 0; i < 3; i++) s.add(makeSeq(prompt(30, 200 + 40 * i), { priority: BACKGROUND }));
    expect(tokensOf(s.plan(0), BACKGROUND)).toBe(4);
  });

  it("are held back by a foreground turn at the compute they share with another engine", () => {
    let elsewhereMs = Number.NEGATIVE_INFINITY;
    const s = scheduler(policy({ stepTokens: 1, foregroundElsewhereMs: () => elsewhereMs }));
    const shadow = makeSeq(prompt(30), { priority: 1000 });
    s.add(shadow);
    elsewhereMs = 500;
    const held = s.plan(600);
    expect(held.numTokens).toBe(1);
    s.apply(held, simulateStep(held, new CellPool(64 * 16)));
    expect(s.plan(1500).numTokens).toBe(29);
  });

  it("without a policy are planned like every other sequence", () => {
    const s = scheduler();
    s.add(makeSeq(prompt(4, 900), { priority: 0 }));
    s.add(makeSeq(prompt(30), { priority: BACKGROUND }));
    expect(s.plan(0).numTokens).toBe(34);
  });

  it("refuse a stepTokens that would stall them or is not whole", () => {
    expect(() => scheduler(policy({ stepTokens: 0 }))).toThrow(RangeError);
    expect(() => scheduler(policy({ stepTokens: 1.5 }))).toThrow(RangeError);
  });
});
