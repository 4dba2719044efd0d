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

/**
 * Temperatures below this are greedy, as vLLM's _SAMPLING_EPS makes them: dividing logits by a temperature that
 * float32 cannot hold (6.7e-41 is subnormal) gives infinities, and then no token can be drawn.
 */
const SAMPLING_EPS = 1e-5;

/** Whether a request's temperature means greedy decoding (0, or below SAMPLING_EPS); absent means the default, 1. */
export const isGreedy = (temperature: number | null | undefined): boolean =>
  temperature !== undefined && temperature !== null && temperature < SAMPLING_EPS;

export interface SamplingParams {
  /** Sequences generated for the request (OpenAI's n); they share the prompt through the prefix cache. */
  readonly n: number;
  /** 0 (or anything below SAMPLING_EPS) means greedy. */
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
  /**
   * False keeps this request out of speculative decoding (it never verifies drafts); true lets the server speculate
   * when it is configured to. Output is the same either way: greedy text exactly, sampled text in distribution.
   */
  readonly speculative: boolean;
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
  speculative: true,
};

/**
 * SamplingParams with defaults filled for what `overrides` leaves out. Ranges are checked where a request enters
 * (the API's zod schemas), so nothing here is a client error: a value out of range from another caller is its bug.
 */
export function samplingParams(overrides: Partial<SamplingParams> = {}): SamplingParams {
  return { ...DEFAULT_SAMPLING_PARAMS, ...overrides };
}
