// The engine's cumulative step counters: what its stats() reports beside the scheduler's and the KV manager's.
import type { StepPlan } from "../scheduler/step-plan.js";

export interface StepCounts {
  readonly numSteps: number;
  /** Tokens computed by steps: prefill (including recompute), decode and verified drafts. */
  readonly numComputedTokens: number;
  /** Tokens that joined sequences, counted as they are made (a verify chunk adds its accepted drafts). */
  readonly numGeneratedTokens: number;
  readonly lastStepTokens: number;
  readonly lastStepMs: number;
  /** Wall time inside backend.step (decode and sampling on the worker thread) and preparing drafts. */
  readonly totalStepMs: number;
  /** Wall time planning, building batches and applying results on the event loop. */
  readonly totalSchedulerMs: number;
  /** The KV span the last step left (StepResult.kvSpanCells). */
  readonly kvSpanCells: number;
}

export class StepCounters {
  #counts = {
    numSteps: 0,
    numComputedTokens: 0,
    numGeneratedTokens: 0,
    lastStepTokens: 0,
    lastStepMs: 0,
    totalStepMs: 0,
    totalSchedulerMs: 0,
    kvSpanCells: -1,
  };

  /** Tokens the plan's sequences hold now; the difference before and after apply is what the step generated. */
  static tokensHeld(plan: StepPlan): number {
    return plan.chunks.reduce((n, c) => n + c.seq.tokens.length, 0);
  }

  count(
    plan: StepPlan,
    { generated, schedulerMs, stepMs }: { generated: number; schedulerMs: number; stepMs: number },
  ) {
    const c = this.#counts;
    if (plan.numTokens > 0) c.numSteps++;
    c.numComputedTokens += plan.numTokens;
    c.numGeneratedTokens += generated;
    c.lastStepTokens = plan.numTokens;
    c.lastStepMs = stepMs;
    c.totalStepMs += stepMs;
    c.totalSchedulerMs += schedulerMs;
  }

  set kvSpanCells(cells: number) {
    this.#counts.kvSpanCells = cells;
  }

  snapshot(): StepCounts {
    return { ...this.#counts };
  }
}
