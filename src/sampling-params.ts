// SamplingParams: how one request samples and when it stops. A leaf module, like vllm/sampling_params.py.

/**
 * What starts a lazy grammar, as llama.cpp's chat layer names it: a token id, a literal word, a regex searched in the
 * output (`pattern`; its first group marks where the constrained text starts), or a regex the whole output so far
 * must match (`pattern_full`).
 */
export interface GrammarTrigger {
  readonly type: "token" | "word" | "pattern" | "pattern_full";
  readonly value: string;
  /** The token id, for type "token". */
  readonly token?: number;
}

/**
 * A grammar from llama.cpp's chat layer (ChatTemplates.apply): for tool calls and structured output on a chat
 * template. A plain string grammar constrains from the first sampled token instead.
 */
export interface GrammarConstraint {
  /** GBNF text, root rule "root". */
  readonly grammar: string;
  /** True: unconstrained until a trigger appears in the output (tool_choice auto), then constrained. */
  readonly lazy: boolean;
  readonly triggers: readonly GrammarTrigger[];
  /** Text the prompt already ends with and the grammar starts with (the template's generation prompt). */
  readonly prefill: string;
  /** Tags of a thinking block; a lazy grammar stays idle inside one. Empty when the template has none. */
  readonly thinkingStartTag: string;
  readonly thinkingEndTags: readonly string[];
}

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
  /** A GBNF grammar that constrains every sampled token, or a chat-layer grammar with its triggers. */
  readonly grammar: string | GrammarConstraint | null;
}

export const DEFAULT_SAMPLING_PARAMS: SamplingParams = {
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

export const MAX_LOGPROBS = 20;
export const MAX_STOP_STRINGS = 4;

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(message);
}

/** Fills defaults and validates; throws RangeError with the offending field named. */
export function samplingParams(overrides: Partial<SamplingParams> = {}): SamplingParams {
  const p: SamplingParams = { ...DEFAULT_SAMPLING_PARAMS, ...overrides };
  check(Number.isInteger(p.n) && p.n >= 1 && p.n <= 128, `n must be an integer in [1, 128], got ${p.n}`);
  check(
    Number.isFinite(p.temperature) && p.temperature >= 0 && p.temperature <= 2,
    `temperature must be in [0, 2], got ${p.temperature}`,
  );
  check(Number.isFinite(p.topP) && p.topP > 0 && p.topP <= 1, `top_p must be in (0, 1], got ${p.topP}`);
  check(Number.isInteger(p.topK) && p.topK >= 0, `top_k must be a non-negative integer, got ${p.topK}`);
  check(Number.isFinite(p.minP) && p.minP >= 0 && p.minP <= 1, `min_p must be in [0, 1], got ${p.minP}`);
  check(
    p.seed === undefined || (Number.isInteger(p.seed) && p.seed >= 0 && p.seed <= 0xffffffff),
    `seed must be an integer in [0, 2^32), got ${p.seed}`,
  );
  check(
    Number.isFinite(p.presencePenalty) && Math.abs(p.presencePenalty) <= 2,
    `presence_penalty must be in [-2, 2], got ${p.presencePenalty}`,
  );
  check(
    Number.isFinite(p.frequencyPenalty) && Math.abs(p.frequencyPenalty) <= 2,
    `frequency_penalty must be in [-2, 2], got ${p.frequencyPenalty}`,
  );
  check(
    Number.isFinite(p.repetitionPenalty) && p.repetitionPenalty > 0 && p.repetitionPenalty <= 2,
    `repetition_penalty must be in (0, 2], got ${p.repetitionPenalty}`,
  );
  check(Number.isInteger(p.maxTokens) && p.maxTokens >= 1, `max_tokens must be a positive integer, got ${p.maxTokens}`);
  check(p.stop.length <= MAX_STOP_STRINGS, `at most ${MAX_STOP_STRINGS} stop strings, got ${p.stop.length}`);
  check(
    p.stop.every((s) => s.length > 0),
    "stop strings must not be empty",
  );
  check(
    p.logprobs === null || (Number.isInteger(p.logprobs) && p.logprobs >= 0 && p.logprobs <= MAX_LOGPROBS),
    `logprobs must be an integer in [0, ${MAX_LOGPROBS}], got ${p.logprobs}`,
  );
  for (const [token, bias] of p.logitBias) {
    check(Number.isInteger(token) && token >= 0, `logit_bias keys must be token ids, got ${token}`);
    check(Number.isFinite(bias) && Math.abs(bias) <= 100, `logit_bias values must be in [-100, 100], got ${bias}`);
  }
  return p;
}
