// collectGeneration: a whole generation as one result, for responses that are not streamed.
import type { FinishedEvent, FinishReason, Usage } from "../../engine/events.js";
import { RequestTimeoutError } from "../errors.js";
import type { ChatEvent, ToolCall } from "./chat.js";
import type { GenerationEvent, TokenLogprob } from "./generation.js";

/** The error a finished sequence stands for (a failure or a timeout), or null when it ended normally. */
export function failureOf(event: FinishedEvent): Error | null {
  if (event.reason === "error") return new Error(event.message ?? "generation failed");
  if (event.reason === "timeout") return new RequestTimeoutError(event.message ?? "the request timed out");
  return null;
}

interface CollectedChoice {
  readonly index: number;
  text: string;
  readonly logprobs: TokenLogprob[];
  finishReason: FinishReason | null;
}

export interface CollectedGeneration {
  readonly choices: CollectedChoice[];
  readonly usage: Usage;
}

/** Throws when a sequence failed: a response with some choices missing would be wrong, not partial. */
export async function collectGeneration(
  events: AsyncIterable<GenerationEvent>,
  n: number,
): Promise<CollectedGeneration> {
  const choices: CollectedChoice[] = Array.from({ length: n }, (_, index) => ({
    index,
    text: "",
    logprobs: [],
    finishReason: null,
  }));
  let usage: Usage = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 };
  for await (const event of events) {
    if (event.type === "delta") {
      choices[event.index]!.text += event.text;
      choices[event.index]!.logprobs.push(...event.logprobs);
    } else if (event.type === "finished") {
      const failure = failureOf(event);
      if (failure) throw failure;
      choices[event.index]!.finishReason = event.reason;
    } else {
      usage = event.usage;
    }
  }
  return { choices, usage };
}

/** One choice of a chat, whole: its content, reasoning, calls and log-probabilities. */
export interface CollectedChatChoice {
  readonly index: number;
  content: string;
  reasoning: string;
  toolCalls: readonly ToolCall[];
  readonly logprobs: TokenLogprob[];
  finishReason: FinishReason | null;
}

/** A whole chat as one result; throws when a choice failed, as collectGeneration does. */
export async function collectChat(
  events: AsyncIterable<ChatEvent>,
  n: number,
): Promise<{ choices: CollectedChatChoice[]; usage: Usage }> {
  const choices: CollectedChatChoice[] = Array.from({ length: n }, (_, index) => ({
    index,
    content: "",
    reasoning: "",
    toolCalls: [],
    logprobs: [],
    finishReason: null,
  }));
  let usage: Usage = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 };
  for await (const event of events) {
    if (event.type === "content") {
      choices[event.index]!.content += event.text;
      choices[event.index]!.logprobs.push(...event.logprobs);
    } else if (event.type === "reasoning") {
      choices[event.index]!.reasoning += event.text;
    } else if (event.type === "finished") {
      const failure = failureOf(event);
      if (failure) throw failure;
      choices[event.index]!.finishReason = event.reason;
      choices[event.index]!.toolCalls = event.toolCalls;
    } else if (event.type === "usage") {
      usage = event.usage;
    }
  }
  return { choices, usage };
}
