// Random workloads (fast-check) against a model of llama.cpp's cells: every plan stays within the budget and the
// running cap, every sequence's cells hold exactly its tokens (prefix copies included), the pool never
// overflows, outputs equal the solo computation, all blocks return at the end and retention stays in its budget.
import fc from "fast-check";
import { expect, it } from "vitest";
import { Scheduler } from "../../../src/scheduler/scheduler.js";
import type { Sequence } from "../../../src/scheduler/sequence.js";
import { CellPool } from "../../helpers/cell-pool.js";
import { EOS, makeSeq, nextToken, simulateStep, tinyKv } from "../../helpers/scheduler.js";

const request = fc.record({
  sharedPrefix: fc.integer({ min: 0, max: 40 }),
  uniqueLength: fc.integer({ min: 1, max: 30 }),
  maxTokens: fc.integer({ min: 1, max: 12 }),
  priority: fc.integer({ min: 0, max: 2 }),
  arriveAtStep: fc.integer({ min: 0, max: 20 }),
  abortAtStep: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
});

it("keeps every invariant under random arrivals, sharing, preemption and aborts", () => {
  fc.assert(
    fc.property(fc.array(request, { minLength: 1, maxLength: 14 }), fc.integer({ min: 4, max: 24 }), fc.integer({ min: 8, max: 64 }), fc.integer({ min: 1, max: 6 }), fc.option(fc.integer({ min: 0, max: 64 }), { nil: undefined }), (requests, numBlocks, maxBatchTokens, maxRunning, retainedTokens) => {
      const blockSize = 4;
      const kv = tinyKv(numBlocks, blockSize, 12, retainedTokens);
      const s = new Scheduler({ kv, maxBatchTokens, maxRunning, maxModelLen: numBlocks * blockSize, endOfGenerationTokens: [EOS] });
      const cells = new CellPool(numBlocks * blockSize);
      const seqs: { seq: Sequence; abortAtStep: number | undefined; arriveAtStep: number }[] = [];
      requests.forEach((r, i) => {
        const tokens = [...Array.from({ length: r.sharedPrefix }, (_, k) => 50 + k), ...Array.from({ length: r.uniqueLength }, (_, k) => 1000 * (i + 1) + k)];
        if (tokens.length + 1 > numBlocks * blockSize - blockSize) return;
        seqs.push({ seq: makeSeq(tokens, { priority: r.priority, arrivalMs: r.arriveAtStep, params: { maxTokens: r.maxTokens } }), abortAtStep: r.abortAtStep, arriveAtStep: r.arriveAtStep });
      });
      for (let step = 0; step < 500; step++) {
        for (const entry of seqs) if (entry.arriveAtStep === step) s.add(entry.seq);
        for (const entry of seqs) if (entry.abortAtStep === step && entry.arriveAtStep <= step) s.abort(entry.seq, "abort");
        if (!s.hasWork && seqs.every((e) => e.arriveAtStep <= step)) break;
        const plan = s.plan(step);
        expect(plan.numTokens).toBeLessThanOrEqual(maxBatchTokens);
        expect(plan.numTokens).toBe(plan.chunks.reduce((n, c) => n + c.numTokens, 0));
        expect(s.stats().numRunning).toBeLessThanOrEqual(maxRunning);
        s.apply(plan, simulateStep(plan, cells));
        expect(cells.used).toBeLessThanOrEqual(numBlocks * blockSize);
      }
      expect(s.hasWork).toBe(false);
      for (const { seq } of seqs) {
        expect(seq.status).toBe("finished");
        if (seq.finishReason === "abort") continue;
        const expected = seq.tokens.slice(0, seq.numPromptTokens);
        while (expected.length < seq.tokens.length) expected.push(nextToken(expected));
        expect(seq.tokens).toEqual(expected);
        expect(seq.numOutputTokens).toBe(Math.min(seq.params.maxTokens, numBlocks * blockSize - seq.numPromptTokens));
      }
      expect(kv.numBlocksInUse).toBe(0);
      for (const op of kv.takeOps()) cells.apply(op); // releases decided by the last apply run before the next step
      const stats = kv.stats();
      expect(stats.numUsedBlocks).toBe(0);
      expect(cells.used).toBe(stats.numCachedBlocks * blockSize);
      expect(stats.numCachedBlocks * blockSize).toBeLessThanOrEqual(retainedTokens ?? Infinity);
    }),
    { numRuns: 300 },
  );
});
