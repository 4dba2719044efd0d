// Random workloads (fast-check) against a model of llama.cpp's cells, for both KV layouts: every plan stays within
// the budget and the running cap, every sequence's cells hold exactly its tokens (prefix copies included), the
// pool never overflows, outputs equal the solo computation, all blocks return at the end and retention stays in
// its budget; with a stream per sequence, every running sequence has a row in every step, in slot order. With
// speculative decoding (drafts right for a random number of tokens), the same holds: rejected drafts leave no cell.
import fc from "fast-check";
import { expect, it } from "vitest";
import { StreamKvManager } from "../../../src/kv/stream-kv-manager.js";
import type { KvAllocator } from "../../../src/kv/types.js";
import { Scheduler } from "../../../src/scheduler/scheduler.js";
import { packedSteps, slotRunSteps } from "../../../src/scheduler/step-shape.js";
import type { StepPlan } from "../../../src/scheduler/step-plan.js";
import type { Sequence } from "../../../src/scheduler/sequence.js";
import { CellPool } from "../../helpers/cell-pool.js";
import { Speculation } from "../../../src/scheduler/speculation.js";
import { EOS, makeSeq, nextToken, scriptedDrafter, simulateStep, tinyKv } from "../../helpers/scheduler.js";

const request = fc.record({
  sharedPrefix: fc.integer({ min: 0, max: 40 }),
  uniqueLength: fc.integer({ min: 1, max: 30 }),
  maxTokens: fc.integer({ min: 1, max: 12 }),
  priority: fc.integer({ min: 0, max: 2 }),
  arriveAtStep: fc.integer({ min: 0, max: 20 }),
  abortAtStep: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
  /** How many tokens of each draft are right, when the run speculates. */
  draftRight: fc.integer({ min: 0, max: 6 }),
});

type Request = typeof request extends fc.Arbitrary<infer R> ? R : never;
const backgroundPolicy = fc.option(
  fc.record({ stepTokens: fc.integer({ min: 1, max: 4 }), holdMs: fc.integer({ min: 0, max: 5 }) }),
  { nil: undefined },
);

/** Runs the requests to the end through a scheduler over `kv`, checking the shared invariants at every step. */
function runRequests(
  kv: KvAllocator,
  requests: Request[],
  {
    maxBatchTokens,
    maxRunning,
    maxLen,
    cells,
    onPlan,
    speculate,
    background,
  }: {
    maxBatchTokens: number;
    maxRunning: number;
    maxLen: number;
    cells: CellPool;
    onPlan: (plan: StepPlan, s: Scheduler) => void;
    speculate: boolean;
    /** Priority 2 is background, held to `stepTokens` while priority 0-1 work was about within `holdMs` steps. */
    background: { stepTokens: number; holdMs: number } | undefined;
  },
): void {
  const shape = kv instanceof StreamKvManager ? slotRunSteps(kv) : packedSteps;
  const right = new Map<Sequence, number>();
  const drafter = scriptedDrafter((seq) => right.get(seq) ?? 0);
  const speculation = new Speculation({ drafter, numSpeculativeTokens: 4, maxStepRows: 12 });
  const s = new Scheduler({
    kv,
    shape,
    maxBatchTokens,
    maxRunning,
    maxModelLen: maxLen,
    endOfGenerationTokens: [EOS],
    ...(speculate ? { speculation } : {}),
    ...(background ? { background: { priority: 2, ...background } } : {}),
  });
  const seqs: { seq: Sequence; abortAtStep: number | undefined; arriveAtStep: number }[] = [];
  requests.forEach((r, i) => {
    const tokens = [
      ...Array.from({ length: r.sharedPrefix }, (_, k) => 50 + k),
      ...Array.from({ length: r.uniqueLength }, (_, k) => 1000 * (i + 1) + k),
    ];
    if (tokens.length + 1 > maxLen - kv.blockSize) return;
    const seq = makeSeq(tokens, {
      priority: r.priority,
      arrivalMs: r.arriveAtStep,
      params: { maxTokens: r.maxTokens },
    });
    right.set(seq, r.draftRight);
    seqs.push({
      seq,
      abortAtStep: r.abortAtStep,
      arriveAtStep: r.arriveAtStep,
    });
  });
  for (let step = 0; step < 500; step++) {
    for (const entry of seqs) if (entry.arriveAtStep === step) s.add(entry.seq);
    for (const entry of seqs) if (entry.abortAtStep === step && entry.arriveAtStep <= step) s.abort(entry.seq, "abort");
    if (!s.hasWork && seqs.every((e) => e.arriveAtStep <= step)) break;
    const plan = s.plan(step);
    expect(plan.numTokens + plan.fillers.length).toBeLessThanOrEqual(maxBatchTokens);
    expect(plan.numTokens).toBe(plan.chunks.reduce((n, c) => n + c.numTokens + c.draft.length, 0));
    expect(s.stats().numRunning).toBeLessThanOrEqual(maxRunning);
    onPlan(plan, s);
    s.apply(plan, simulateStep(plan, cells));
  }
  expect(s.hasWork).toBe(false);
  for (const { seq } of seqs) {
    expect(seq.status).toBe("finished");
    if (seq.finishReason === "abort") continue;
    const expected = seq.tokens.slice(0, seq.numPromptTokens);
    while (expected.length < seq.tokens.length) expected.push(nextToken(expected));
    expect(seq.tokens).toEqual(expected);
    expect(seq.numOutputTokens).toBe(Math.min(seq.params.maxTokens, maxLen - seq.numPromptTokens));
  }
  for (const op of kv.takeOps()) cells.apply(op); // releases decided by the last apply run before the next step
  expect(kv.stats().numUsedBlocks).toBe(0);
}

it("keeps every invariant of the unified pool under random arrivals, sharing, preemption and aborts", () => {
  fc.assert(
    fc.property(
      fc.array(request, { minLength: 1, maxLength: 14 }),
      fc.integer({ min: 4, max: 24 }),
      fc.integer({ min: 8, max: 64 }),
      fc.integer({ min: 1, max: 6 }),
      fc.option(fc.integer({ min: 0, max: 64 }), { nil: undefined }),
      fc.boolean(),
      backgroundPolicy,
      (requests, numBlocks, maxBatchTokens, maxRunning, retainedTokens, speculate, background) => {
        const blockSize = 4;
        const kv = tinyKv(numBlocks, blockSize, 12, retainedTokens);
        const cells = new CellPool(numBlocks * blockSize);
        runRequests(kv, requests, {
          maxBatchTokens,
          maxRunning,
          maxLen: numBlocks * blockSize,
          cells,
          onPlan: () => expect(cells.used).toBeLessThanOrEqual(numBlocks * blockSize),
          speculate,
          background,
        });
        expect(kv.numBlocksInUse).toBe(0);
        const stats = kv.stats();
        expect(cells.used).toBe(stats.numCachedBlocks * blockSize);
        expect(stats.numCachedBlocks * blockSize).toBeLessThanOrEqual(retainedTokens ?? Infinity);
      },
    ),
    { numRuns: 300 },
  );
});

it("keeps every invariant of per-sequence streams, with every running sequence in every step in slot order", () => {
  fc.assert(
    fc.property(
      fc.array(request, { minLength: 1, maxLength: 14 }),
      fc.integer({ min: 4, max: 24 }),
      fc.integer({ min: 2, max: 64 }),
      fc.integer({ min: 1, max: 12 }),
      fc.boolean(),
      backgroundPolicy,
      (requests, blocksPerSlot, maxBatchTokens, maxRunning, speculate, background) => {
        const blockSize = 4;
        const kv = new StreamKvManager({ numSlots: maxRunning, cellsPerSlot: blocksPerSlot * blockSize, blockSize });
        const cells = new CellPool(maxRunning * blocksPerSlot * blockSize);
        runRequests(kv, requests, {
          maxBatchTokens,
          maxRunning,
          maxLen: blocksPerSlot * blockSize,
          cells,
          onPlan: (plan, s) => {
            const slots = plan.chunks.map((c) => c.seq.table!.slot);
            expect(slots).toEqual([...slots].sort((x, y) => x - y));
            // Background sequences held back by the cap are the only ones a step with room may leave out.
            if (maxBatchTokens >= maxRunning && !background) expect(plan.chunks.length).toBe(s.stats().numRunning);
          },
          speculate,
          background,
        });
        // Streams do not share cells: each holds its own copy of a prefix.
        let held = 0;
        for (let slot = 0; slot < maxRunning; slot++) held += cells.tokensOf(slot).length;
        expect(held).toBe(kv.stats().numCachedBlocks * blockSize);
      },
    ),
    { numRuns: 300 },
  );
});
