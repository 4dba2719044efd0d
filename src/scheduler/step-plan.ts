// StepPlan: which tokens of which sequences go into the next decode, and the KV ops to run first. Plain data.
import type { StepResult } from "../backend/types.js";
import type { FillerRow, KvOp } from "../kv/types.js";
import type { FinishReason, Sequence } from "./sequence.js";

export interface PlannedChunk {
  readonly seq: Sequence;
  /** First token index (and position) of the chunk: the sequence's numComputedTokens when planned. */
  readonly fromIndex: number;
  readonly numTokens: number;
  /** The chunk reaches the end of the known tokens, so its last row's logits are sampled. */
  readonly sample: boolean;
  /**
   * Draft tokens verified after the chunk (speculative decoding), at the positions after it, each row's logits
   * sampled; empty for a plain chunk. Not counted in numTokens.
   */
  readonly draft: readonly number[];
}

export interface StepPlan {
  readonly chunks: readonly PlannedChunk[];
  readonly kvOps: readonly KvOp[];
  /** Throwaway rows in idle slots between the chunks' slots (see StepShape and GapFiller), not counted in numTokens. */
  readonly fillers: readonly FillerRow[];
  /** The one adapter id (0: the base model) of every chunk; llama.cpp applies adapters to a whole decode. */
  readonly adapterId: number;
  /** Rows computed: every chunk's tokens and drafts. */
  readonly numTokens: number;
  /** Sequences sent back to the waiting queue by this plan (their blocks freed, to be recomputed). */
  readonly preempted: readonly Sequence[];
  /** Sequences retired while planning (aborts, timeouts), with no step of their own. */
  readonly finished: readonly Sequence[];
}

/** What applying a step's result produced, in order. */
export type SequenceEvent =
  | {
      readonly type: "token";
      readonly seq: Sequence;
      readonly token: number;
      readonly logprob: number | null;
      readonly topTokens: Int32Array | null;
      readonly topLogprobs: Float32Array | null;
    }
  | {
      readonly type: "finished";
      readonly seq: Sequence;
      readonly reason: FinishReason;
      readonly message: string | null;
    };

/** The log-probabilities of output row `row` of a step's result: nulls when the row's request asked for none. */
export function logprobsOfRow(
  result: StepResult,
  row: number,
): { logprob: number | null; topTokens: Int32Array | null; topLogprobs: Float32Array | null } {
  const logprob = result.sampledLogprobs[row]!;
  if (Number.isNaN(logprob)) return { logprob: null, topTokens: null, topLogprobs: null };
  let offset = 0;
  for (let j = 0; j < row; j++) offset += result.topCounts[j]!;
  const count = result.topCounts[row]!;
  return {
    logprob,
    topTokens: result.topTokens.slice(offset, offset + count),
    topLogprobs: result.topLogprobs.slice(offset, offset + count),
  };
}
