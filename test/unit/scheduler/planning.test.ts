// The planner: budget, decode before prefill, chunked prefill, admission by blocks, retirement.
import { describe, expect, it } from "vitest";
import { StreamKvManager } from "../../../src/kv/stream-kv-manager.js";
import type { KvAllocator } from "../../../src/kv/types.js";
import { Scheduler } from "../../../src/scheduler/scheduler.js";
import { slotRunSteps } from "../../../src/scheduler/step-shape.js";
import { CellPool } from "../../helpers/cell-pool.js";
import { EOS, makeSeq, simulateStep, tinyKv } from "../../helpers/scheduler.js";

const prompt = (n: number, from = 100) => Array.from({ length: n }, (_, i) => from + i);
const scheduler = (kv: KvAllocator = tinyKv(), maxBatchTokens = 32, maxRunning = 8) =>
  new Scheduler({
    kv,
    ...(kv instanceof StreamKvManager ? { shape: slotRunSteps(kv) } : {}),
    maxBatchTokens,
    maxRunning,
    maxModelLen: 4096,
    endOfGenerationTokens: [EOS],
  });

describe("plan", () => {
  it("prefills a long prompt in chunks under the token budget, then decodes", () => {
    const s = scheduler(tinyKv(11, 16), 32);
    const seq = makeSeq(prompt(70));
    s.add(seq);
    const cells = new CellPool(11 * 16);
    const sizes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const plan = s.plan(i);
      sizes.push(...plan.chunks.map((c) => c.numTokens));
      expect(plan.numTokens).toBeLessThanOrEqual(32);
      s.apply(plan, simulateStep(plan, cells));
    }
    expect(sizes).toEqual([32, 32, 6, 1]);
    expect(seq.numOutputTokens).toBe(2);
  });

  it("decodes running sequences before prefilling and admitting", () => {
    const s = scheduler(tinyKv(40, 16), 20);
    const cells = new CellPool(40 * 16);
    const a = makeSeq(prompt(5));
    s.add(a);
    const first = s.plan(0);
    s.apply(first, simulateStep(first, cells));
    expect(a.numOutputTokens).toBe(1);
    const b = makeSeq(prompt(40, 300));
    s.add(b);
    const plan = s.plan(1);
    expect(plan.chunks.map((c) => [c.seq.seqId, c.numTokens])).toEqual([
      [a.seqId, 1],
      [b.seqId, 19],
    ]);
  });

  it("with a stream per sequence, gives every running and admissible sequence a row, in slot order, and the rest of the budget to prefills in arrival order", () => {
    const s = scheduler(new StreamKvManager({ numSlots: 4, cellsPerSlot: 64, blockSize: 4 }), 32, 4);
    const cells = new CellPool(4 * 64);
    const a = makeSeq(prompt(20));
    s.add(a);
    const first = s.plan(0);
    expect(first.chunks.map((c) => [c.seq.seqId, c.numTokens, c.sample])).toEqual([[a.seqId, 20, true]]);
    s.apply(first, simulateStep(first, cells));
    const [b, c, d] = [30, 30, 5].map((n, i) => makeSeq(prompt(n, 200 + 100 * i)));
    [b, c, d].forEach((q) => s.add(q!));
    const second = s.plan(1);
    expect(second.chunks.map((k) => [k.seq.seqId, k.seq.table!.slot, k.numTokens, k.sample])).toEqual([
      [a.seqId, 0, 1, true],
      [b!.seqId, 1, 29, false],
      [c!.seqId, 2, 1, false],
      [d!.seqId, 3, 1, false],
    ]);
    s.apply(second, simulateStep(second, cells));
    const third = s.plan(2);
    expect(third.chunks.map((k) => [k.seq.seqId, k.numTokens, k.sample])).toEqual([
      [a.seqId, 1, true],
      [b!.seqId, 1, true],
      [c!.seqId, 29, true],
      [d!.seqId, 1, false],
    ]);
    expect(third.numTokens).toBe(32);
  });

  it("with a stream per sequence, gives the rest of the budget to an older prompt before a newcomer in a lower slot", () => {
    const s = scheduler(new StreamKvManager({ numSlots: 3, cellsPerSlot: 64, blockSize: 4 }), 8, 3);
    const cells = new CellPool(3 * 64);
    const [a, b, c, d] = [
      [2, 2],
      [2, 50],
      [40, 1],
      [30, 1],
    ].map(([n, maxTokens], i) => makeSeq(prompt(n!, 100 * (i + 1)), { params: { maxTokens: maxTokens! } }));
    s.add(a!);
    s.add(b!);
    let plan = s.plan(0);
    s.apply(plan, simulateStep(plan, cells));
    s.add(c!);
    plan = s.plan(1);
    s.apply(plan, simulateStep(plan, cells));
    expect(a!.status).toBe("finished");
    s.add(d!); // takes a's slot 0, below c's slot 2
    plan = s.plan(2);
    expect(plan.chunks.map((k) => [k.seq.seqId, k.seq.table!.slot, k.numTokens])).toEqual([
      [d!.seqId, 0, 1],
      [b!.seqId, 1, 1],
      [c!.seqId, 2, 6],
    ]);
    s.apply(plan, simulateStep(plan, cells));
  });

  it("with a stream per sequence, fills the idle slot between two running ones out of the step's budget", () => {
    const s = scheduler(new StreamKvManager({ numSlots: 3, cellsPerSlot: 64, blockSize: 4 }), 3, 3);
    const cells = new CellPool(3 * 64);
    const [a, b, c] = [
      [2, 6],
      [2, 1],
      [9, 6],
    ].map(([n, maxTokens], i) => makeSeq(prompt(n!, 100 * (i + 1)), { params: { maxTokens: maxTokens! } }));
    s.add(a!);
    s.add(b!);
    let plan = s.plan(0);
    s.apply(plan, simulateStep(plan, cells));
    s.add(c!);
    for (let step = 1; b!.status !== "finished"; step++) {
      plan = s.plan(step);
      s.apply(plan, simulateStep(plan, cells));
    }
    plan = s.plan(9);
    // c is still prefilling, yet the filler takes the step's third row.
    expect(plan.chunks.map((k) => [k.seq.table!.slot, k.numTokens])).toEqual([
      [0, 1],
      [2, 1],
    ]);
    expect(plan.fillers).toEqual([{ slot: 1, position: 0 }]);
    s.apply(plan, simulateStep(plan, cells));
  });

  it("never exceeds the running cap and admits again when a sequence finishes", () => {
    const s = scheduler(tinyKv(40, 16), 64, 2);
    const cells = new CellPool(40 * 16);
    const seqs = [0, 1, 2].map((i) => makeSeq(prompt(4, 100 * (i + 1)), { params: { maxTokens: 2 } }));
    seqs.forEach((q) => s.add(q));
    let plan = s.plan(0);
    expect(plan.chunks.map((c) => c.seq)).toEqual([seqs[0], seqs[1]]);
    s.apply(plan, simulateStep(plan, cells));
    plan = s.plan(1);
    const events = s.apply(plan, simulateStep(plan, cells));
    expect(events.filter((e) => e.type === "finished").map((e) => e.seq)).toEqual([seqs[0], seqs[1]]);
    plan = s.plan(2);
    expect(plan.chunks.map((c) => c.seq)).toEqual([seqs[2]]);
    expect(plan.kvOps.filter((op) => op.kind === "remove").length).toBeGreaterThan(0);
  });

  it("blocks admission while blocks are short and resumes when they return", () => {
    const kv = tinyKv(6, 16);
    const s = scheduler(kv, 128);
    const cells = new CellPool(6 * 16);
    const a = makeSeq(prompt(60), { params: { maxTokens: 1 } });
    const b = makeSeq(prompt(40, 500));
    s.add(a);
    s.add(b);
    let plan = s.plan(0);
    expect(plan.chunks.map((c) => c.seq)).toEqual([a]);
    const events = s.apply(plan, simulateStep(plan, cells));
    expect(events.at(-1)).toMatchObject({ type: "finished", seq: a, reason: "length" });
    plan = s.plan(1);
    expect(plan.chunks.map((c) => c.seq)).toEqual([b]);
  });

  it("stops at an end-of-generation token unless ignore_eos, and at stop token ids", () => {
    const s = scheduler();
    const seq = makeSeq(prompt(3), { params: { ignoreEos: false, stopTokenIds: [77] } });
    s.add(seq);
    const plan = s.plan(0);
    const result = {
      tokens: Int32Array.of(EOS),
      sampledLogprobs: Float32Array.of(NaN),
      topCounts: Int32Array.of(0),
      topTokens: new Int32Array(0),
      topLogprobs: new Float32Array(0),
      errors: [],
      decodeMs: 0,
      sampleMs: 0,
      kvSpanCells: -1,
    };
    expect(s.apply(plan, result)).toEqual([{ type: "finished", seq, reason: "stop", message: null }]);
    const other = makeSeq(prompt(3), { params: { ignoreEos: true } });
    s.add(other);
    const plan2 = s.plan(1);
    expect(s.apply(plan2, result).map((e) => e.type)).toEqual(["token"]);
  });

  it("fails only the sequence whose row failed", () => {
    const s = scheduler();
    const [a, b] = [makeSeq(prompt(3)), makeSeq(prompt(3, 200))];
    s.add(a!);
    s.add(b!);
    const plan = s.plan(0);
    const events = s.apply(plan, {
      tokens: Int32Array.of(-1, 50),
      sampledLogprobs: Float32Array.of(NaN, NaN),
      topCounts: Int32Array.of(0, 0),
      topTokens: new Int32Array(0),
      topLogprobs: new Float32Array(0),
      errors: [{ outputIndex: 0, code: "LOOM_SAMPLING_FAILED", message: "boom" }],
      decodeMs: 0,
      sampleMs: 0,
      kvSpanCells: -1,
    });
    expect(events).toEqual([
      { type: "finished", seq: a, reason: "error", message: "boom" },
      { type: "token", seq: b, token: 50, logprob: null, topTokens: null, topLogprobs: null },
    ]);
    expect(s.stats()).toMatchObject({ numRunning: 1 });
  });

  it("refuses a sequence that cannot fit the pool or the model length", () => {
    const s = new Scheduler({
      kv: tinyKv(4, 16),
      maxBatchTokens: 64,
      maxRunning: 4,
      maxModelLen: 100,
      endOfGenerationTokens: [EOS],
    });
    expect(() => s.add(makeSeq(prompt(100)))).toThrow(/no room to generate/);
    expect(() => s.add(makeSeq(prompt(64)))).toThrow(/does not fit in the KV pool/);
  });
});
