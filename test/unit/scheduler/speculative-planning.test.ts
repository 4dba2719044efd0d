// Verify chunks in the plan: drafts after a decode row, never in a step that prefills, within the step's rows and
// the sequence's room; accepted drafts become tokens, rejected ones lose their cells and blocks.
import { describe, expect, it } from "vitest";
import { StreamKvManager } from "../../../src/kv/stream-kv-manager.js";
import type { KvAllocator } from "../../../src/kv/types.js";
import { Scheduler } from "../../../src/scheduler/scheduler.js";
import type { Drafter } from "../../../src/scheduler/speculation.js";
import { Speculation } from "../../../src/scheduler/speculation.js";
import { slotRunSteps } from "../../../src/scheduler/step-shape.js";
import { CellPool } from "../../helpers/cell-pool.js";
import { EOS, makeSeq, nextToken, scriptedDrafter, simulateStep, tinyKv } from "../../helpers/scheduler.js";

const prompt = (n: number, from = 100) => Array.from({ length: n }, (_, i) => from + i);

function speculative(drafter: Drafter, kv: KvAllocator = tinyKv(20, 4), { maxStepRows = 8, maxBatchTokens = 32 } = {}) {
  return new Scheduler({
    kv,
    ...(kv instanceof StreamKvManager ? { shape: slotRunSteps(kv) } : {}),
    maxBatchTokens,
    maxRunning: 8,
    maxModelLen: 64,
    endOfGenerationTokens: [EOS],
    speculation: new Speculation({ drafter, numSpeculativeTokens: 5, maxStepRows }),
  });
}

/** The solo greedy continuation of `tokens` under the test model. */
const continuation = (tokens: readonly number[], n: number) => {
  const out = [...tokens];
  while (out.length < tokens.length + n) out.push(nextToken(out));
  return out.slice(tokens.length);
};

describe("verify chunks", () => {
  it("verify drafts after a decode row; an accepted draft yields its tokens and the bonus token in one step", () => {
    const s = speculative(scriptedDrafter(Number.POSITIVE_INFINITY));
    const cells = new CellPool(80);
    const seq = makeSeq(prompt(6), { params: { maxTokens: 20 } });
    s.add(seq);
    const prefill = s.plan(0);
    expect(prefill.chunks.map((c) => c.draft)).toEqual([[]]);
    s.apply(prefill, simulateStep(prefill, cells));
    const verify = s.plan(1);
    // A new sequence starts at acceptance 0.7: three draft tokens are worth verifying.
    expect(verify.chunks.map((c) => [c.numTokens, c.draft.length, c.sample])).toEqual([[1, 3, true]]);
    expect(verify.numTokens).toBe(4);
    const events = s.apply(verify, simulateStep(verify, cells));
    expect(events.map((e) => e.type)).toEqual(["token", "token", "token", "token"]);
    expect(seq.outputTokens).toEqual(continuation(prompt(6), 5));
    expect(seq.numComputedTokens).toBe(10);
    expect(s.stats().specDecode).toEqual({
      numDrafts: 1,
      numDraftTokens: 3,
      numAcceptedTokens: 3,
      numAcceptedPerPosition: [1, 1, 1, 0, 0],
    });
  });

  it("rolls back a rejected draft: its cells are removed before the next step and its blocks return", () => {
    const kv = tinyKv(20, 4);
    const s = speculative(scriptedDrafter(1), kv);
    const cells = new CellPool(80);
    const seq = makeSeq(prompt(6), { params: { maxTokens: 20 } });
    s.add(seq);
    const prefill = s.plan(0);
    s.apply(prefill, simulateStep(prefill, cells));
    const verify = s.plan(1);
    expect(verify.chunks[0]!.draft.length).toBe(3);
    expect(kv.stats().numUsedBlocks).toBe(3); // positions 0..9
    s.apply(verify, simulateStep(verify, cells));
    // One draft accepted: the last token, the draft and the correction are new; cells of positions 8.. are stale.
    expect(seq.outputTokens).toEqual(continuation(prompt(6), 3));
    expect(seq.numComputedTokens).toBe(8);
    expect(kv.stats().numUsedBlocks).toBe(2);
    const next = s.plan(2);
    expect(next.kvOps).toContainEqual({ kind: "remove", slot: seq.table!.slot, fromPos: 8, toPos: -1 });
    s.apply(next, simulateStep(next, cells)); // the cell pool throws if a stale cell were left at position 8
    expect(seq.tokens.slice(6)).toEqual(continuation(prompt(6), seq.numOutputTokens));
  });

  it("adds no drafts to a step that prefills, and gives drafts only the rows below maxStepRows, in order", () => {
    const drafter = scriptedDrafter(Number.POSITIVE_INFINITY);
    const s = speculative(drafter, tinyKv(40, 4), { maxStepRows: 5 });
    const cells = new CellPool(160);
    const [a, b, c] = [0, 1, 2].map((i) => makeSeq(prompt(5, 100 * (i + 1)), { params: { maxTokens: 30 } }));
    for (const seq of [a!, b!, c!]) s.add(seq);
    const first = s.plan(0);
    s.apply(first, simulateStep(first, cells));
    const late = makeSeq(prompt(9, 900));
    s.add(late);
    const withPrefill = s.plan(1);
    expect(withPrefill.chunks.map((ch) => ch.draft.length)).toEqual([0, 0, 0, 0]);
    s.apply(withPrefill, simulateStep(withPrefill, cells));
    s.abort(late, "abort");
    const decoding = s.plan(2);
    // Three decode rows leave two draft rows under maxStepRows 5: all to the oldest sequence.
    expect(decoding.chunks.map((ch) => [ch.seq.seqId, ch.draft.length])).toEqual([
      [b!.seqId, 0],
      [c!.seqId, 0],
      [a!.seqId, 2],
    ]);
  });

  it("drafts no further than the sequence's output room", () => {
    const s = speculative(scriptedDrafter(Number.POSITIVE_INFINITY));
    const cells = new CellPool(80);
    const seq = makeSeq(prompt(6), { params: { maxTokens: 3 } });
    s.add(seq);
    const prefill = s.plan(0);
    s.apply(prefill, simulateStep(prefill, cells));
    const verify = s.plan(1);
    expect(verify.chunks[0]!.draft.length).toBe(1); // 2 tokens left: one draft plus the bonus token
    const events = s.apply(verify, simulateStep(verify, cells));
    expect(events.map((e) => e.type)).toEqual(["token", "token", "finished"]);
    expect(seq.finishReason).toBe("length");
    expect(seq.outputTokens).toEqual(continuation(prompt(6), 3));
  });

  it("stops taking a verified draft at an end-of-generation token", () => {
    const eosAfterOne: Drafter = { propose: (seq) => [nextToken(seq.tokens), EOS, 50] };
    const s = new Scheduler({
      kv: tinyKv(20, 4),
      maxBatchTokens: 32,
      maxRunning: 4,
      maxModelLen: 64,
      endOfGenerationTokens: [EOS],
      speculation: new Speculation({ drafter: eosAfterOne, numSpeculativeTokens: 5, maxStepRows: 8 }),
    });
    const seq = makeSeq(prompt(6), { params: { maxTokens: 20, ignoreEos: false } });
    s.add(seq);
    const cells = new CellPool(80);
    const prefill = s.plan(0);
    s.apply(prefill, simulateStep(prefill, cells));
    const verify = s.plan(1);
    const result = simulateStep(verify, cells);
    // The model agrees with both draft tokens: it samples EOS at the second row.
    result.tokens.set([verify.chunks[0]!.draft[0]!, EOS, 50]);
    const events = s.apply(verify, result);
    expect(events.map((e) => (e.type === "finished" ? e.reason : e.type))).toEqual(["token", "stop"]);
    expect(s.stats().numRunning).toBe(0);
  });

  it("orders plain decode rows before verify chunks in a unified pool", () => {
    const s = speculative(scriptedDrafter(Number.POSITIVE_INFINITY));
    const cells = new CellPool(80);
    const a = makeSeq(prompt(5), { params: { maxTokens: 20 } });
    const b = makeSeq(prompt(5, 300), { params: { maxTokens: 20, speculative: false } });
    s.add(a);
    s.add(b);
    const first = s.plan(0);
    s.apply(first, simulateStep(first, cells));
    const plan = s.plan(1);
    expect(plan.chunks.map((c) => [c.seq.seqId, c.numTokens + c.draft.length])).toEqual([
      [b.seqId, 1],
      [a.seqId, 4],
    ]);
  });

  it("rolls back a stream's drafts with a stream per sequence", () => {
    const kv = new StreamKvManager({ numSlots: 2, cellsPerSlot: 32, blockSize: 4 });
    const s = speculative(scriptedDrafter(2), kv);
    const cells = new CellPool(64);
    const seq = makeSeq(prompt(6), { params: { maxTokens: 20 } });
    s.add(seq);
    for (let step = 0; step < 6; step++) {
      const plan = s.plan(step);
      s.apply(plan, simulateStep(plan, cells));
    }
    expect(seq.tokens.slice(6)).toEqual(continuation(prompt(6), seq.numOutputTokens));
    expect(kv.stats().numUsedBlocks).toBe(Math.ceil(seq.numComputedTokens / 4));
  });
});
