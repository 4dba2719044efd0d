// mergeGenerations: several prompts' generations as one stream, as /v1/completions answers a prompt array.
// Choice k*n + i is sequence i of prompt k, events interleave as they come, and one summed usage ends the stream.
import type { Usage } from "../../engine/events.js";
import type { GenerationEvent } from "./generation.js";

export async function* mergeGenerations(
  streams: readonly AsyncIterable<GenerationEvent>[],
  n: number,
): AsyncGenerator<GenerationEvent> {
  const iterators = streams.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ readonly k: number; readonly result: IteratorResult<GenerationEvent> }>>();
  const pull = (k: number) =>
    pending.set(
      k,
      iterators[k]!.next().then((result) => ({ k, result })),
    );
  iterators.forEach((_, k) => pull(k));
  const usage = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 };
  try {
    while (pending.size > 0) {
      const { k, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(k);
        continue;
      }
      pull(k);
      const event = result.value;
      if (event.type === "usage") addUsage(usage, event.usage);
      else yield { ...event, index: k * n + event.index };
    }
    yield { type: "usage", usage };
  } finally {
    // Ending early (a client gone, a failed choice) cancels the prompts still generating; not awaited, since a
    // generator busy in next() only returns once its pending event arrives.
    for (const iterator of iterators) void iterator.return?.();
  }
}

function addUsage(
  total: { promptTokens: number; completionTokens: number; cachedPromptTokens: number },
  usage: Usage,
): void {
  total.promptTokens += usage.promptTokens;
  total.completionTokens += usage.completionTokens;
  total.cachedPromptTokens += usage.cachedPromptTokens;
}
