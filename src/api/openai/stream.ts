// The chunk stream of a generation, shared by chat and text completions: the chunks each event becomes, a final
// chunk per choice with its finish_reason, and the usage chunk when the client asked for it
// (stream_options.include_usage) or the server forces it.
import type { Context } from "hono";
import type { FinishedEvent, Usage } from "../../engine/events.js";
import { failureOf } from "../../serving/llm/collect.js";
import { streamChunks } from "../sse.js";
import { wireUsage } from "./format.js";

type StreamEvent = { readonly type: string } & (
  | { readonly type: "usage"; readonly usage: Usage }
  | FinishedEvent
  | object
);

/** How one route shapes its chunks: the chunk's `object` and the choices its events become. */
export interface ChunkFormat<E extends { readonly type: string }> {
  readonly object: string;
  /** Choices sent before the first event (chat's opening role delta). */
  readonly opening: readonly object[];
  /** The choices an event that is neither a finish nor the usage becomes (often one, none when it adds nothing). */
  choices(event: Exclude<E, FinishedEvent | { type: "usage" }>): object[];
  /** The final choice of a sequence that ended without failing. */
  finished(event: Extract<E, FinishedEvent>): object;
}

/** `head` is the fields every chunk repeats (id, created, model, system_fingerprint). */
export function streamGeneration<E extends StreamEvent>(
  c: Context,
  events: AsyncIterable<E>,
  head: object,
  format: ChunkFormat<E>,
  includeUsage: boolean,
): Response {
  const chunk = (choices: unknown[]) => ({
    ...head,
    object: format.object,
    choices,
    ...(includeUsage ? { usage: null } : {}),
  });
  return streamChunks(c, async (write) => {
    // The opening goes with the first event, after the prefill (as vLLM sends it): until then the stream has sent
    // no bytes, so a router in front may still retry it on another replica if this one dies in the prefill.
    let opened = false;
    for await (const event of events) {
      if (!opened) {
        opened = true;
        for (const choice of format.opening) await write(chunk([choice]));
      }
      if (event.type === "finished") {
        const failure = failureOf(event as FinishedEvent);
        if (failure) throw failure;
        await write(chunk([format.finished(event as Extract<E, FinishedEvent>)]));
      } else if (event.type === "usage") {
        if (includeUsage) {
          const usage = (event as { usage: Usage }).usage;
          await write({ ...head, object: format.object, choices: [], usage: wireUsage(usage) });
        }
      } else {
        for (const choice of format.choices(event as Exclude<E, FinishedEvent | { type: "usage" }>))
          await write(chunk([choice]));
      }
    }
  });
}
