// Server-sent events as OpenAI streams them: `data: <json>` per chunk and a final `data: [DONE]`.
import type { Context } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import { toApiError, toOpenAiError } from "./errors.js";

/**
 * Streams the chunks `produce` writes. A failure after the first byte cannot change the status code any more, so
 * it is sent as an OpenAI error chunk (as vLLM does) before [DONE].
 */
export function streamChunks(c: Context, produce: (write: (chunk: unknown) => Promise<void>) => Promise<void>, onAbort: () => void): Response {
  return streamSSE(c, async (stream: SSEStreamingApi) => {
    stream.onAbort(onAbort);
    const write = (chunk: unknown) => stream.writeSSE({ data: JSON.stringify(chunk) });
    try {
      await produce(write);
    } catch (error) {
      await write(toOpenAiError(toApiError(error)));
    }
    await stream.writeSSE({ data: "[DONE]" });
  });
}
