// The chunk stream of a generation, shared by chat and text completions: a chunk per text delta, a final chunk per
// choice with its finish_reason, and the usage chunk when the client asked for it (stream_options.include_usage).
import type { Context } from "hono";
import type { FinishedEvent } from "../../engine/events.js";
import { failureOf } from "../../serving/llm/collect.js";
import type { GenerationEvent } from "../../serving/llm/generation.js";
import { streamChunks } from "../sse.js";
import { wireUsage } from "./format.js";

type Delta = Extract<GenerationEvent, { type: "delta" }>;

/** How one route shapes its chunks: the chunk's `object` and the choices its events become. */
export interface ChunkFormat {
  readonly object: string;
  /** Chunks' choices sent before any event (chat's opening role delta). */
  readonly opening: readonly object[];
  delta(event: Delta): object;
  finished(event: FinishedEvent): object;
}

/** `head` is the fields every chunk repeats (id, created, model, system_fingerprint). */
export function streamGeneration(
  c: Context,
  events: AsyncIterable<GenerationEvent>,
  head: object,
  format: ChunkFormat,
  includeUsage: boolean,
): Response {
  const chunk = (choices: unknown[]) => ({
    ...head,
    object: format.object,
    choices,
    ...(includeUsage ? { usage: null } : {}),
  });
  return streamChunks(c, async (write) => {
    for (const choice of format.opening) await write(chunk([choice]));
    for await (const event of events) {
      if (event.type === "delta") {
        await write(chunk([format.delta(event)]));
      } else if (event.type === "finished") {
        const failure = failureOf(event);
        if (failure) throw failure;
        await write(chunk([format.finished(event)]));
      } else if (includeUsage) {
        await write({ ...head, object: format.object, choices: [], usage: wireUsage(event.usage) });
      }
    }
  });
}
