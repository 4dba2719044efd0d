// Request: what the client asked, after tokenization. Cancellation and timeouts are the serving side's
// (serving/llm/generation.ts), which calls Engine.abort().
import type { SamplingParams } from "../sampling-params.js";

export interface Request {
  readonly requestId: string;
  readonly promptTokens: ArrayLike<number>;
  readonly params: SamplingParams;
  /** 0 is the base model; others name a loaded LoRA adapter. */
  readonly adapterId?: number;
  /** Lower runs first; waiting raises it over time. */
  readonly priority?: number;
  readonly arrivalMs?: number;
}
