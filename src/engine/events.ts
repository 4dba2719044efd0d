// What the engine streams to serving for one request: tokens of each of its n sequences, then their ends. The
// event family shares one discriminant, `type`, from the scheduler (SequenceEvent) to serving (GenerationEvent).
import type { FinishReason } from "../scheduler/sequence.js";

export type { FinishReason };

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Prompt tokens served from the prefix cache. */
  readonly cachedPromptTokens: number;
}

/** A sampled token of sequence `index` of the request, with its log-probabilities when they were asked for. */
export interface TokenEvent {
  readonly type: "token";
  /** Which of the request's n sequences. */
  readonly index: number;
  readonly token: number;
  readonly logprob: number | null;
  readonly topTokens: Int32Array | null;
  readonly topLogprobs: Float32Array | null;
}

/** Sequence `index` ended, for `reason`; `message` says why when it failed or timed out. */
export interface FinishedEvent {
  readonly type: "finished";
  readonly index: number;
  readonly reason: FinishReason;
  readonly message: string | null;
  /** This sequence's tokens (prompt, output, cached prompt). */
  readonly usage: Usage;
  /** Milliseconds from arrival to the first step that computed it; null when it never ran. */
  readonly queueMs: number | null;
}

export type StepEvent = TokenEvent | FinishedEvent;
