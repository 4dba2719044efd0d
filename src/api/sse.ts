// Server-sent events. OpenAI's chat and completion streams: `data: <json>` per chunk and a final `data: [DONE]`.
// Typed event streams (the Responses API, Anthropic's Messages): `event: <type>` and `data: <json>` per event.
import type { Context } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { type ApiError, reportError, toOpenAiError } from "./errors.js";

export type WriteChunk = (chunk: unknown) => Promise<void>;

function writer(stream: SSEStreamingApi, named: boolean) {
  return async (data: { readonly type?: unknown }) => {
    if (stream.aborted || stream.closed) return;
    await stream.writeSSE({
      ...(named && typeof data.type === "string" ? { event: data.type } : {}),
      data: JSON.stringify(data),
    });
  };
}

/**
 * Streams the chunks `produce` writes. A failure after the first byte cannot change the status code any more, so
 * it is sent as an OpenAI error chunk (as vLLM does) before [DONE]. The client going away is seen by the engine
 * through the request's abort signal; writes after that are dropped.
 */
export function streamChunks(c: Context, produce: (write: WriteChunk) => Promise<void>): Response {
  return streamSSE(c, async (stream) => {
    const write = writer(stream, false) as WriteChunk;
    try {
      await produce(write);
    } catch (error) {
      await write(toOpenAiError(reportError(c, error)));
    }
    if (!stream.aborted && !stream.closed) await stream.writeSSE({ data: "[DONE]" });
  });
}

/** An event of a typed stream: its `type` is also the SSE event name. */
export type TypedEvent = { readonly type: string } & Record<string, unknown>;

/**
 * Streams typed events; a failure after the first byte becomes the events `failed` makes of it (the API's own error
 * events), since the status code is sent already.
 */
export function streamEvents(
  c: Context,
  produce: (send: (event: TypedEvent) => Promise<void>) => Promise<void>,
  failed: (error: ApiError) => readonly TypedEvent[],
): Response {
  return streamSSE(c, async (stream) => {
    const send = writer(stream, true);
    try {
      await produce(send);
    } catch (error) {
      for (const event of failed(reportError(c, error))) await send(event);
    }
  });
}
