// Applying a step's result: each planned sequence advances by what the step computed, the tokens sampled for it
// join it (a verify chunk's accepted drafts too, its rejected ones' KV rolled back), and a sequence ends on a stop
// token, on its length, or on a failed row. The scheduler's other half: plan() decides, applyStep() records.
import type { StepResult } from "../backend/types.js";
import type { KvAllocator } from "../kv/types.js";
import type { FinishReason, Sequence } from "./sequence.js";
import type { Speculation } from "./speculation.js";
import { logprobsOfRow, type SequenceEvent, type StepPlan } from "./step-plan.js";

/** What applying a result needs of the scheduler. */
export interface StepOutcomes {
  readonly kv: KvAllocator;
  readonly speculation: Speculation | null;
  readonly endOfGeneration: ReadonlySet<number>;
  readonly maxModelLen: number;
  /** The scheduler's one release path. */
  readonly finish: (seq: Sequence, reason: FinishReason, message: string | null) => void;
}

/** The events of a step's result, in chunk order; output row j of the result is the j-th sampled row of the plan. */
export function applyStep(plan: StepPlan, result: StepResult, outcomes: StepOutcomes): SequenceEvent[] {
  const { kv } = outcomes;
  const events: SequenceEvent[] = [];
  let outputIndex = 0;
  for (const chunk of plan.chunks) {
    const { seq, draft } = chunk;
    const first = outputIndex;
    if (chunk.sample) outputIndex += 1 + draft.length;
    if (seq.status !== "running") continue;
    seq.numComputedTokens += chunk.numTokens;
    kv.commit(seq.table!, seq.tokens, seq.numComputedTokens);
    const takes = chunk.sample && !seq.pendingFinish;
    const accepted =
      takes && draft.length > 0
        ? outcomes.speculation!.verified(seq, draft, result.tokens.subarray(first, first + draft.length))
        : 0;
    for (let row = first; takes && row <= first + accepted && seq.status === "running"; row++)
      events.push(...take(seq, result, row, outcomes));
    if (seq.status !== "running" || draft.length === 0) continue;
    // The accepted drafts' cells hold the tokens just taken; the rejected ones' cells and blocks go.
    seq.numComputedTokens += accepted;
    if (accepted < draft.length) kv.truncate(seq.table!, seq.numComputedTokens);
    kv.commit(seq.table!, seq.tokens, seq.numComputedTokens);
  }
  return events;
}

// The token sampled at output row `row` joins the sequence, unless the row failed; it may end the sequence.
function take(seq: Sequence, result: StepResult, row: number, outcomes: StepOutcomes): SequenceEvent[] {
  const finished = (reason: FinishReason, message: string | null): SequenceEvent => {
    outcomes.finish(seq, reason, message);
    return { type: "finished", seq, reason, message };
  };
  const error = result.errors.find((e) => e.outputIndex === row);
  if (error) return [finished("error", error.message)];
  const token = result.tokens[row]!;
  seq.tokens.push(token);
  if ((!seq.params.ignoreEos && outcomes.endOfGeneration.has(token)) || seq.params.stopTokenIds.includes(token))
    return [finished("stop", null)];
  const event: SequenceEvent = { type: "token", seq, token, ...logprobsOfRow(result, row) };
  if (seq.numOutputTokens >= seq.params.maxTokens || seq.tokens.length >= outcomes.maxModelLen)
    return [event, finished("length", null)];
  return [event];
}
