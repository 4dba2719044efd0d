// A rollout's stages on a clock the test moves: advancing while the guards hold, rolling back on an error rate or a
// latency ratio above the guards (with the reason), and never advancing again after a rollback.
import { describe, expect, it } from "vitest";
import { type Outcome, OutcomeWindow } from "../../../src/routing/outcomes.js";
import { RolloutController } from "../../../src/routing/rollout.js";

function setup() {
  const clock = { ms: 0 };
  const now = () => clock.ms;
  const rollout = new RolloutController({
    steps: [0.05, 0.25, 0.5, 1],
    stageMs: 10_000,
    minRequests: 10,
    guards: { maxErrorRate: 0.1, maxTtftP99Ratio: 2, maxTpotP99Ratio: 2 },
    now,
  });
  const primary = new OutcomeWindow(60_000, now);
  const candidate = new OutcomeWindow(60_000, now);
  const feed = (window: OutcomeWindow, n: number, outcome: Outcome = { ok: true, ttftMs: 10, tpotMs: 5 }) => {
    for (let i = 0; i < n; i++) window.add(outcome);
  };
  const evaluate = () => rollout.evaluate(primary.stats(), candidate.stats());
  return { clock, rollout, primary, candidate, feed, evaluate };
}

describe("RolloutController", () => {
  it("advances a stage once it has lasted its time with enough requests and the guards holding", () => {
    const { clock, rollout, primary, candidate, feed, evaluate } = setup();
    feed(primary, 50);
    feed(candidate, 9);
    clock.ms = 20_000;
    expect(evaluate()).toBeNull();
    feed(candidate, 1);
    expect(evaluate()).toMatchObject({ kind: "advance", from: 0.05, to: 0.25 });
    expect(evaluate()).toBeNull();
    for (const to of [0.5, 1]) {
      clock.ms += 10_000;
      expect(evaluate()).toMatchObject({ kind: "advance", to });
    }
    expect(rollout.status).toEqual({ stage: 3, weight: 1, state: "complete", reason: null });
  });

  it("rolls back a stage on an error rate above the guard, says why, and stops advancing", () => {
    const { clock, rollout, primary, candidate, feed, evaluate } = setup();
    feed(primary, 50);
    feed(candidate, 10);
    clock.ms = 10_000;
    expect(evaluate()).toMatchObject({ kind: "advance", to: 0.25 });
    feed(candidate, 3, { ok: false, ttftMs: null, tpotMs: null });
    const change = evaluate();
    expect(change).toMatchObject({ kind: "rollback", from: 0.25, to: 0.05 });
    expect(change!.reason).toBe("candidate error rate 23.1% over 13 requests is above 10.0%");
    expect(rollout.status).toMatchObject({ stage: 0, weight: 0.05, state: "rolled_back", reason: change!.reason });
    candidate.clear();
    feed(candidate, 20);
    clock.ms = 100_000;
    expect(evaluate()).toBeNull();
    expect(rollout.weight).toBe(0.05);
  });

  it("rolls back from the first stage to no traffic at all, and judges latency against the primary's", () => {
    const { primary, candidate, feed, evaluate, rollout } = setup();
    feed(primary, 50, { ok: true, ttftMs: 10, tpotMs: 5 });
    feed(candidate, 10, { ok: true, ttftMs: 25, tpotMs: 5 });
    const change = evaluate();
    expect(change).toMatchObject({ kind: "rollback", from: 0.05, to: 0 });
    expect(change!.reason).toMatch(/^candidate p99 TTFT 25\.0 ms is 2\.50x the primary's 10\.0 ms \(at most 2x\)$/);
    expect(rollout.status).toMatchObject({ stage: -1, weight: 0 });
    expect(evaluate()).toBeNull();
  });
});

describe("OutcomeWindow", () => {
  it("forgets outcomes older than its window and gives the p99 of the successful ones", () => {
    const clock = { ms: 0 };
    const window = new OutcomeWindow(1000, () => clock.ms);
    for (let i = 1; i <= 100; i++) window.add({ ok: true, ttftMs: i, tpotMs: null });
    window.add({ ok: false, ttftMs: null, tpotMs: null });
    expect(window.stats()).toEqual({ count: 101, errorRate: 1 / 101, ttftP99Ms: 99, tpotP99Ms: null });
    clock.ms = 1001;
    window.add({ ok: true, ttftMs: 7, tpotMs: 3 });
    expect(window.stats()).toEqual({ count: 1, errorRate: 0, ttftP99Ms: 7, tpotP99Ms: 3 });
  });
});
