// Reading and reshaping routed event streams: the tokens' logprobs and text a policy looks at, a stream replayed
// from a buffer, and a stream without the logprobs a policy asked for when the client did not.
import type { TokenLogprob } from "../serving/llm/generation.js";
import type { RoutedEvent } from "./types.js";

export function logprobsOf(event: RoutedEvent): readonly TokenLogprob[] {
  return event.type === "content" || event.type === "delta" ? event.logprobs : [];
}

export function textOf(event: RoutedEvent): string {
  return event.type === "content" || event.type === "delta" ? event.text : "";
}

/** A sequence that ended with an error or a timeout. */
export function isFailure(event: RoutedEvent): boolean {
  return event.type === "finished" && (event.reason === "error" || event.reason === "timeout");
}

/** The buffered events, then the rest of `rest`; stopping early closes `rest` (which cancels its generation). */
export async function* replay<E>(buffered: readonly E[], rest: AsyncIterator<E> | null): AsyncGenerator<E> {
  try {
    yield* buffered;
    if (rest === null) return;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await rest?.return?.();
  }
}

/** The events with their logprobs removed; an event that carried only logprobs is dropped. */
export async function* withoutLogprobs<E extends RoutedEvent>(events: AsyncIterable<E>): AsyncGenerator<E> {
  for await (const event of events) {
    if (event.type !== "content" && event.type !== "delta") yield event;
    else if (event.text !== "") yield { ...event, logprobs: [] };
  }
}
