// StepShape: how a KV layout wants the rows of a step laid out, the one planning policy that differs between layouts.
// Chosen at composition with the KV layout; the scheduler itself has no layout modes.
import type { FillerRow, GapFiller } from "../kv/types.js";
import type { Sequence } from "./sequence.js";
import type { PlannedChunk } from "./step-plan.js";

export type DraftChunk = { -readonly [K in keyof PlannedChunk]: PlannedChunk[K] };

/** A step being planned: its chunks in planning order, the sequences it preempted, the token budget left. */
export interface StepDraft {
  readonly chunks: DraftChunk[];
  readonly preempted: Sequence[];
  budget: number;
}

export interface StepShape {
  /** Tokens a sequence takes when first planned in a step: at most `pending` (what it lacks) and `budget`. */
  firstTake(pending: number, budget: number): number;
  /**
   * Runs once every sequence has its first take: may reorder `step.chunks` for the backend, returns throwaway
   * filler rows (their cost taken from `step.budget`), and offers the budget left to `extend`, chunk by chunk.
   */
  finish(step: StepDraft, extend: (chunk: DraftChunk) => void): FillerRow[];
}

/**
 * One shared pool: each sequence takes all the budget allows in planning order. Single-row chunks lead, so a verify
 * chunk (speculative decoding) does not cut the run of decode rows the backend decodes on their own.
 */
export const packedSteps: StepShape = {
  firstTake: (pending, budget) => Math.min(pending, budget),
  finish(step) {
    const rows = (chunk: DraftChunk) => chunk.numTokens + chunk.draft.length;
    step.chunks.sort((a, b) => Number(rows(a) > 1) - Number(rows(b) > 1));
    return [];
  },
};

/**
 * A stream per sequence: llama.cpp computes each run of consecutive sequence ids as its own micro-batch (a pass
 * over the weights each), so every running sequence and every admissible one gets one token first, rows go in slot
 * order, idle slots between them get filler rows where that is cheaper than another micro-batch, and the rest of
 * the budget goes to prefills in planning order (running first, then admission order, not slot order: a newcomer in
 * a low idle slot must not overtake an older prompt still prefilling further up).
 */
export function slotRunSteps(gaps: GapFiller): StepShape {
  return {
    firstTake: (pending, budget) => Math.min(pending, 1, budget),
    finish(step, extend) {
      const inPlanOrder = [...step.chunks];
      step.chunks.sort((a, b) => a.seq.table!.slot - b.seq.table!.slot);
      const fillers = gaps.fillGaps(
        step.chunks.map((c) => c.seq.table!.slot),
        step.budget,
      );
      step.budget -= fillers.length;
      for (const chunk of inPlanOrder) extend(chunk);
      return fillers;
    },
  };
}
