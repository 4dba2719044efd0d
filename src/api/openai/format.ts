// Wire formatting shared by the OpenAI routes: usage, finish reasons and the two log-probability shapes.
import type { FinishReason, Usage } from "../../engine/events.js";
import type { TokenLogprob } from "../../serving/llm/generation.js";

export interface WireUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
  readonly prompt_tokens_details: { readonly cached_tokens: number };
}

export function wireUsage(usage: Usage): WireUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
  };
}

/**
 * The one table from Loom's finish reasons to OpenAI's; failed and timed-out sequences are errors instead. A choice
 * that ended by itself after calling tools finished with "tool_calls".
 */
export function wireFinishReason(reason: FinishReason, madeToolCalls = false): string {
  switch (reason) {
    case "stop":
      return madeToolCalls ? "tool_calls" : "stop";
    case "length":
      return "length";
    case "abort":
      return "abort";
    case "error":
    case "timeout":
      throw new Error(`a sequence that ended with '${reason}' has no finish_reason`);
  }
}

/** Chat's shape: one entry per token with its bytes and top alternatives. */
export function chatLogprobs(tokens: readonly TokenLogprob[]): { content: unknown[]; refusal: null } {
  return {
    content: tokens.map((t) => ({
      token: t.token,
      logprob: t.logprob,
      bytes: t.bytes,
      top_logprobs: t.top.map((alt) => ({ token: alt.token, logprob: alt.logprob, bytes: alt.bytes })),
    })),
    refusal: null,
  };
}

/** The legacy completions shape: parallel arrays, offsets counted in characters from `startOffset`. */
export function completionLogprobs(tokens: readonly TokenLogprob[], startOffset: number) {
  const textOffset: number[] = [];
  let offset = startOffset;
  for (const t of tokens) {
    textOffset.push(offset);
    offset += t.token.length;
  }
  return {
    tokens: tokens.map((t) => t.token),
    token_logprobs: tokens.map((t) => t.logprob),
    top_logprobs: tokens.map((t) => Object.fromEntries(t.top.map((alt) => [alt.token, alt.logprob]))),
    text_offset: textOffset,
  };
}
