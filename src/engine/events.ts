// What the engine streams to serving for one request: tokens of each of its n sequences, then their ends.
import type { FinishReason } from "../scheduler/sequence.js";

export type { FinishReason };

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Prompt tokens served from the prefix cache. */
  readonly cachedPromptTokens: number;
}

export type StepEvent =
  | {
      readonly type: "token";
      /** Which of the request's n sequences. */
      readonly index: number;
      readonly token: number;
      readonly logprob: number | null;
      readonly topTokens: Int32Array | null;
      readonly topLogprobs: Float32Array | null;
    }
  | {
      readonly type: "finished";
      readonly index: number;
      readonly reason: FinishReason;
      readonly message: string | null;
      readonly usage: Usage;
      /** Milliseconds from arrival to the first step that computed it; null when it never ran. */
      readonly queueMs: number | null;
    };
