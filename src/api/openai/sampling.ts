// OpenAI request fields to what serving takes: SamplingParams, the request-level fields of a generation, and the
// request features Loom refuses rather than drops. Ranges were checked by the zod schemas already.
import type { Context } from "hono";
import { isGreedy, type SamplingParams, samplingParams } from "../../sampling-params.js";
import { InvalidRequestError } from "../../serving/errors.js";
import { REST_OF_CONTEXT } from "../../serving/llm/generation.js";
import type { LlmServing } from "../../serving/llm/llm-serving.js";
import type { ChatCompletionRequest, CompletionRequest } from "./schemas.js";

type Common = ChatCompletionRequest | CompletionRequest;

/** A 400 naming the first field that is set (not null, false or empty) but not supported by this server. */
export function refuseUnsupported(checks: readonly [unknown, string][]): void {
  for (const [value, name] of checks) {
    const given =
      value !== undefined && value !== null && value !== false && !(Array.isArray(value) && value.length === 0);
    if (given)
      throw new InvalidRequestError(`'${name}' is not supported by this server`, {
        param: name,
        code: "unsupported_parameter",
      });
  }
}

/** The routing fields every OpenAI generation body gives: its model, user, stream and whether it is greedy. */
export function openAiRouteFields(body: Common) {
  return {
    model: body.model,
    user: body.user ?? null,
    stream: body.stream === true,
    greedy: isGreedy(body.temperature),
  };
}

declare module "hono" {
  interface ContextVariableMap {
    /** --enable-force-include-usage: every stream ends with a usage chunk, asked for or not (vLLM's switch). */
    forceIncludeUsage: boolean;
  }
}

/**
 * Whether a stream ends with a usage chunk: the client asked (stream_options.include_usage) or the server forces it.
 */
export function includeUsage(c: Context, body: Common): boolean {
  return body.stream_options?.include_usage === true || c.get("forceIncludeUsage") === true;
}

/** The fields every response and chunk repeats. */
export function responseHead(id: string, body: Common) {
  return { id, created: Math.floor(Date.now() / 1000), model: body.model, system_fingerprint: null };
}

/**
 * The sampling fields of a body. Without `maxTokens` (from the body or the route's default) a generation may use
 * the rest of the context (vLLM's default), which serving works out from the prompt.
 */
export function toSamplingParams(
  body: Common,
  serving: LlmServing,
  extra: { maxTokens?: number | null; logprobs: number | null },
): SamplingParams {
  const stop = typeof body.stop === "string" ? [body.stop] : (body.stop ?? []);
  const logitBias = new Map(Object.entries(body.logit_bias ?? {}).map(([token, bias]) => [Number(token), bias]));
  for (const token of logitBias.keys()) {
    if (token >= serving.model.info.vocabSize)
      throw new InvalidRequestError(`logit_bias token ${token} is outside the vocabulary`, { param: "logit_bias" });
  }
  return samplingParams({
    n: body.n ?? 1,
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: body.top_k === undefined || body.top_k === null || body.top_k < 0 ? 0 : body.top_k,
    minP: body.min_p ?? 0,
    seed: body.seed === undefined || body.seed === null ? undefined : body.seed >>> 0,
    presencePenalty: body.presence_penalty ?? 0,
    frequencyPenalty: body.frequency_penalty ?? 0,
    repetitionPenalty: body.repetition_penalty ?? 1,
    logitBias,
    maxTokens: extra.maxTokens ?? body.max_tokens ?? REST_OF_CONTEXT,
    stop: stop.filter((s) => s.length > 0),
    stopTokenIds: body.stop_token_ids ?? [],
    ignoreEos: body.ignore_eos ?? false,
    speculative: body.speculative ?? true,
    logprobs: extra.logprobs,
  });
}
