// Server-sent events read off a fetch response with eventsource-parser, and a chat stream left running (for the
// running-requests list and its cancel).
import type { EventSourceMessage } from "eventsource-parser";
import { EventSourceParserStream } from "eventsource-parser/stream";

/** The events of a text/event-stream response as they arrive; cancels the body when the loop stops early. */
export async function* sseEvents(response: Response): AsyncGenerator<EventSourceMessage> {
  const reader = response
    .body!.pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

export interface RunningStream {
  /** The completion's id, which is the request id the server lists. */
  readonly id: string;
  /** Resolves when the stream ends: the finish reason it sent and whether [DONE] closed it. */
  readonly ended: Promise<{ readonly finishReason: string | null; readonly done: boolean }>;
}

/** Starts a streamed chat completion of `maxTokens` (end-of-sequence ignored); returns once its first chunk came. */
export async function startStream(
  url: string,
  model: string,
  { maxTokens, headers = {} }: { maxTokens: number; headers?: Record<string, string> },
): Promise<RunningStream> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({
      model,
      messages: [{ role: "user", content: "Tell me a long story." }],
      stream: true,
      max_tokens: maxTokens,
      ignore_eos: true,
    }),
  });
  if (response.status !== 200) throw new Error(`the stream was refused: ${response.status} ${await response.text()}`);
  const events = sseEvents(response);
  const first = await events.next();
  if (first.done) throw new Error("the stream ended before its first chunk");
  const id = (JSON.parse(first.value.data) as { id: string }).id;
  const ended = (async () => {
    let finishReason: string | null = null;
    for await (const event of events) {
      if (event.data === "[DONE]") return { finishReason, done: true };
      const chunk = JSON.parse(event.data) as { choices: { finish_reason: string | null }[] };
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    }
    return { finishReason, done: false };
  })();
  return { id, ended };
}

/** Short chat completions, one after another, until stop() resolves: the small load a dashboard test watches. */
export function startLoad(url: string, model: string): { stop(): Promise<void> } {
  let stopping = false;
  const loop = (async () => {
    for (let i = 0; !stopping; i++) {
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: `question ${i}` }], max_tokens: 16 }),
      });
      if (response.status !== 200) throw new Error(`the load was refused: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
    },
  };
}
