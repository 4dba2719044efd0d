// The Scheduler's options and statistics: what compose passes in and what metrics read out.
import type { KvAllocator } from "../kv/types.js";
import type { BackgroundPolicy } from "./background.js";
import type { FinishReason } from "./sequence.js";
import type { SpecDecodeStats, Speculation } from "./speculation.js";
import type { StepShape } from "./step-shape.js";

export interface SchedulerOptions {
  readonly kv: KvAllocator;
  /** How the KV layout wants a step's rows laid out; packed (any order) by default. */
  readonly shape?: StepShape;
  /** Token budget of one step (decode tokens plus prefill chunks). */
  readonly maxBatchTokens: number;
  /** Cap on running sequences. */
  readonly maxRunning: number;
  /** Most tokens (prompt plus output) one sequence may have. */
  readonly maxModelLen: number;
  readonly endOfGenerationTokens: Iterable<number>;
  /** Waiting this long raises a sequence's priority by one level. */
  readonly agingMs?: number;
  /** Speculative decoding: decoding sequences verify drafts (see speculation.ts); none without. */
  readonly speculation?: Speculation;
  /** Background sequences (batch lines, shadows) fill spare capacity only (background.ts); none without. */
  readonly background?: BackgroundPolicy;
}

export interface SchedulerStats {
  readonly numRunning: number;
  readonly numWaiting: number;
  readonly numPreemptions: number;
  /** Sequences ended so far, by why they ended. */
  readonly numFinished: Readonly<Record<FinishReason, number>>;
  /** Adapter ids (0, the base model, left out) with running and with waiting sequences. */
  readonly adapterIds: { readonly running: readonly number[]; readonly waiting: readonly number[] };
  /** Drafts verified and accepted; null without speculative decoding. */
  readonly specDecode: SpecDecodeStats | null;
}
