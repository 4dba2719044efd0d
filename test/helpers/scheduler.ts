// Builders for scheduler tests: sequences, a tiny KV manager, and a simulated step against a CellPool.
import type { SequenceSampler, StepResult } from "../../src/backend/types.js";
import { KvManager } from "../../src/kv/kv-manager.js";
import { samplingParams, type SamplingParams } from "../../src/sampling-params.js";
import { Sequence } from "../../src/scheduler/sequence.js";
import type { Drafter } from "../../src/scheduler/speculation.js";
import type { StepPlan } from "../../src/scheduler/step-plan.js";
import type { CellPool } from "./cell-pool.js";

export const EOS = 2;
const noSampler: SequenceSampler = { dispose: () => undefined };
let nextSeqId = 0;

export function makeSeq(
  promptTokens: ArrayLike<number>,
  options: {
    params?: Partial<SamplingParams>;
    priority?: number;
    arrivalMs?: number;
    requestId?: string;
    adapterId?: number;
  } = {},
): Sequence {
  const seqId = nextSeqId++;
  return new Sequence({
    seqId,
    requestId: options.requestId ?? `req-${seqId}`,
    index: 0,
    promptTokens,
    params: samplingParams({ maxTokens: 8, ignoreEos: true, ...options.params }),
    sampler: noSampler,
    priority: options.priority ?? 0,
    arrivalMs: options.arrivalMs ?? seqId,
    ...(options.adapterId === undefined ? {} : { adapterId: options.adapterId }),
  });
}

export function tinyKv(numBlocks = 11, blockSize = 16, numSlots = 32, retainedTokens = Infinity): KvManager {
  return new KvManager({ numBlocks, blockSize, numSlots, watermarkBlocks: 0, retainedTokens });
}

/** A deterministic stand-in for the model: the next token depends on the whole sequence, like a real one. */
export function nextToken(tokens: readonly number[]): number {
  let h = 17;
  for (const t of tokens) h = (Math.imul(h, 31) + t) >>> 0;
  return 10 + (h % 200);
}

/**
 * Runs a plan against the cell pool as the backend would, checks every invariant, and returns the result. A verify
 * chunk's rows are sampled in order until a sampled token differs from the draft after it (token -1 beyond), as the
 * native step does.
 */
export function simulateStep(plan: StepPlan, cells: CellPool): StepResult {
  for (const op of plan.kvOps) cells.apply(op);
  for (const filler of plan.fillers) cells.decode(filler.slot, filler.position, -1);
  const tokens: number[] = [];
  for (const chunk of plan.chunks) {
    const slot = chunk.seq.table!.slot;
    const rows = [...chunk.seq.tokens.slice(chunk.fromIndex, chunk.fromIndex + chunk.numTokens), ...chunk.draft];
    rows.forEach((token, k) => cells.decode(slot, chunk.fromIndex + k, token));
    const held = cells.tokensOf(slot);
    const expected = [...chunk.seq.tokens.slice(0, chunk.fromIndex + chunk.numTokens), ...chunk.draft];
    if (held.join() !== expected.join())
      throw new Error(`slot ${slot} holds [${held}] but sequence ${chunk.seq.seqId} is [${expected}]`);
    if (!chunk.sample) continue;
    let rejected = false;
    for (let d = 0; d <= chunk.draft.length; d++) {
      const token: number = rejected ? -1 : nextToken(expected.slice(0, chunk.fromIndex + chunk.numTokens + d));
      tokens.push(token);
      rejected ||= d < chunk.draft.length && token !== chunk.draft[d];
    }
  }
  const n = tokens.length;
  return {
    tokens: Int32Array.from(tokens),
    sampledLogprobs: new Float32Array(n).fill(NaN),
    topCounts: new Int32Array(n),
    topTokens: new Int32Array(0),
    topLogprobs: new Float32Array(0),
    errors: [],
    decodeMs: 0,
    sampleMs: 0,
    kvSpanCells: -1,
  };
}

/**
 * A drafter for tests: proposes the model's true continuation (nextToken) for its first `numRight` tokens, then
 * wrong tokens; with `numRight` a function of the sequence, each sequence can be right for its own share.
 */
export function scriptedDrafter(numRight: number | ((seq: Sequence) => number)): Drafter & { calls: number } {
  const drafter = {
    calls: 0,
    propose(seq: Sequence, maxTokens: number): number[] {
      drafter.calls++;
      const right = typeof numRight === "number" ? numRight : numRight(seq);
      const tokens = [...seq.tokens];
      const draft: number[] = [];
      for (let i = 0; i < maxTokens; i++) {
        const token = i < right ? nextToken(tokens) : 7;
        draft.push(token);
        tokens.push(token);
      }
      return draft;
    },
  };
  return drafter;
}
