// OpenAI request fields to SamplingParams, and the request features Loom refuses rather than drops.
import { samplingParams, type SamplingParams } from "../../sampling-params.js";
import { jsonObjectGbnf, jsonSchemaToGbnf } from "../../serving/llm/json-grammar.js";
import type { LlmServing } from "../../serving/llm/llm-serving.js";
import { ApiError } from "../errors.js";
import type { ChatCompletionRequest, CompletionRequest } from "./schemas.js";

type Common = ChatCompletionRequest | CompletionRequest;

export function refuseUnsupported(checks: readonly [unknown, string][]): void {
  for (const [value, name] of checks) {
    const given =
      value !== undefined && value !== null && value !== false && !(Array.isArray(value) && value.length === 0);
    if (given)
      throw new ApiError(400, `'${name}' is not supported by this server`, {
        param: name,
        code: "unsupported_parameter",
      });
  }
}

function grammarFor(format: Common["response_format"]): string | null {
  if (!format || format.type === "text") return null;
  if (format.type === "json_object") return jsonObjectGbnf();
  return format.json_schema.schema ? jsonSchemaToGbnf(format.json_schema.schema) : jsonObjectGbnf();
}

export function toSamplingParams(
  body: Common,
  serving: LlmServing,
  promptTokens: ArrayLike<number>,
  extra: { maxTokens?: number | null; logprobs: number | null },
): SamplingParams {
  const maxTokens = extra.maxTokens ?? body.max_tokens ?? serving.defaultMaxTokens(promptTokens);
  const stop = typeof body.stop === "string" ? [body.stop] : (body.stop ?? []);
  const logitBias = new Map(Object.entries(body.logit_bias ?? {}).map(([token, bias]) => [Number(token), bias]));
  for (const token of logitBias.keys()) {
    if (token >= serving.model.info.vocabSize)
      throw new ApiError(400, `logit_bias token ${token} is outside the vocabulary`, { param: "logit_bias" });
  }
  const params = samplingParams({
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
    maxTokens,
    stop: stop.filter((s) => s.length > 0),
    stopTokenIds: body.stop_token_ids ?? [],
    ignoreEos: body.ignore_eos ?? false,
    logprobs: extra.logprobs,
    grammar: grammarFor(body.response_format),
  });
  serving.checkPrompt(promptTokens, params.maxTokens);
  return params;
}
