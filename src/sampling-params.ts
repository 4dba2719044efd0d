// SamplingParams: how one request samples and when it stops. A leaf module, like vllm/sampling_params.py.

export interface SamplingParams {
  /** Sequences generated for the request (OpenAI's n); they share the prompt through the prefix cache. */
  readonly n: number;
  /** 0 means greedy. */
  readonly temperature: number;
  readonly topP: number;
  /** 0 disables top-k. */
  readonly topK: number;
  readonly minP: number;
  /** A fixed seed makes sampling reproducible for the same input. */
  readonly seed: number | undefined;
  readonly presencePenalty: number;
  readonly frequencyPenalty: number;
  /** Multiplicative penalty on repeated tokens; 1 disables it. */
  readonly repetitionPenalty: number;
  readonly logitBias: ReadonlyMap<number, number>;
  readonly maxTokens: number;
  readonly stop: readonly string[];
  readonly stopTokenIds: readonly number[];
  /** Keep generating past end-of-generation tokens (vLLM's ignore_eos), for benchmarks. */
  readonly ignoreEos: boolean;
  /** Top alternatives to report per sampled token; null reports no log-probabilities. */
  readonly logprobs: number | null;
  /** A GBNF grammar that constrains every sampled token. */
  readonly grammar: string | null;
}

const DEFAULT_SAMPLING_PARAMS: SamplingParams = {
  n: 1,
  temperature: 1,
  topP: 1,
  topK: 0,
  minP: 0,
  seed: undefined,
  presencePenalty: 0,
  frequencyPenalty: 0,
  repetitionPenalty: 1,
  logitBias: new Map(),
  maxTokens: 16,
  stop: [],
  stopTokenIds: [],
  ignoreEos: false,
  logprobs: null,
  grammar: null,
};

/**
 * SamplingParams with defaults filled for what `overrides` leaves out. Ranges are checked where a request enters
 * (the API's zod schemas), so nothing here is a client error: a value out of range from another caller is its bug.
 */
export function samplingParams(overrides: Partial<SamplingParams> = {}): SamplingParams {
  return { ...DEFAULT_SAMPLING_PARAMS, ...overrides };
}
