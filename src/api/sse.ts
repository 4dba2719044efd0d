// Server-sent events as OpenAI streams them: `data: <json>` per chunk and a final `data: [DONE]`.
import type { Context } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import { reportError, toOpenAiError } from "./errors.js";

export type WriteChunk = (chunk: unknown) => Promise<void>;

/**
 * Streams the chunks `produce` writes. A failure after the first byte cannot change the status code any more, so
 * it is sent as an OpenAI error chunk (as vLLM does) before [DONE]. The client going away is seen by the engine
 * through the request's abort signal; writes after that are dropped.
 */
export function streamChunks(c: Context, produce: (write: WriteChunk) => Promise<void>): Response {
  return streamSSE(c, async (stream: SSEStreamingApi) => {
    const write: WriteChunk = async (chunk) => {
      if (!stream.aborted && !stream.closed) await stream.writeSSE({ data: JSON.stringify(chunk) });
    };
    try {
      await produce(write);
    } catch (error) {
      await write(toOpenAiError(reportError(c, error)));
    }
    if (!stream.aborted && !stream.closed) await stream.writeSSE({ data: "[DONE]" });
  });
}
