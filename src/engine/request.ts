// Request: what the client asked, after tokenization.
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
  /** Aborting it cancels the request at the next step boundary and frees its blocks. */
  readonly signal?: AbortSignal;
  /** Past this many milliseconds from submission, what is still running ends with reason "timeout". */
  readonly timeoutMs?: number;
}
