// collectGeneration: a whole generation as one result, for responses that are not streamed.
import type { FinishedEvent, FinishReason, Usage } from "../../engine/events.js";
import { RequestTimeoutError } from "../errors.js";
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
