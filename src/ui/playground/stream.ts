// One streamed chat reply: its text, log-probabilities and finish reason as they arrive, with the client-side
// timings the playground shows (time to first token, decode tokens/s).
import { call, HttpError, serverEvents } from "../lib/api.js";

/** OpenAI's chat log-probability of one token. */
export interface TokenLogprob {
  readonly token: string;
  readonly logprob: number;
  readonly top_logprobs: readonly { readonly token: string; readonly logprob: number }[];
}

export interface Reply {
  readonly text: string;
  readonly logprobs: readonly TokenLogprob[];
  readonly finishReason: string | null;
  /** From sending the request to the first token, milliseconds. */
  readonly ttftMs: number | null;
  /** Tokens after the first over the time since the first, per second. */
  readonly tokensPerSecond: number | null;
  /** Chunks with text so far; the server's usage count once it arrives. */
  readonly numTokens: number;
}

interface ChatChunk {
  readonly choices?: readonly {
    readonly delta?: { readonly content?: string | null };
    readonly logprobs?: { readonly content?: readonly TokenLogprob[] | null } | null;
    readonly finish_reason?: string | null;
  }[];
  readonly usage?: { readonly completion_tokens: number } | null;
  readonly error?: { readonly message: string; readonly code?: string | null };
}

/**
 * Sends `body` (a streaming chat request) and reports the reply as it grows. Throws HttpError when the server
 * refuses the request, or sends an error in the stream; an abort through `signal` ends it with the text so far.
 */
export async function streamReply(
  body: Record<string, unknown>,
  signal: AbortSignal,
  onProgress: (reply: Reply) => void,
): Promise<Reply> {
  const started = performance.now();
  let firstMs: number | null = null;
  let lastMs = started;
  let text = "";
  const logprobs: TokenLogprob[] = [];
  let finishReason: string | null = null;
  let numTokens = 0;
  let usageTokens: number | null = null;
  const reply = (): Reply => {
    const tokens = usageTokens ?? numTokens;
    const decodeSeconds = firstMs === null ? 0 : (lastMs - firstMs) / 1000;
    return {
      text,
      logprobs,
      finishReason,
      ttftMs: firstMs === null ? null : firstMs - started,
      tokensPerSecond: tokens > 1 && decodeSeconds > 0 ? (tokens - 1) / decodeSeconds : null,
      numTokens: tokens,
    };
  };
  const response = await call("/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify(body),
    signal,
  });
  try {
    for await (const message of serverEvents(response)) {
      if (message.data === "[DONE]") break;
      const chunk = JSON.parse(message.data) as ChatChunk;
      if (chunk.error) throw new HttpError(500, chunk.error.message, chunk.error.code ?? null);
      if (chunk.usage) usageTokens = chunk.usage.completion_tokens;
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const content = choice.delta?.content ?? "";
      const tokens = choice.logprobs?.content ?? [];
      if (content !== "" || tokens.length > 0) {
        lastMs = performance.now();
        firstMs ??= lastMs;
        text += content;
        logprobs.push(...tokens);
        numTokens += Math.max(1, tokens.length);
      }
      finishReason = choice.finish_reason ?? finishReason;
      onProgress(reply());
    }
  } catch (error) {
    if (!signal.aborted) throw error;
    finishReason = "stopped";
  }
  return reply();
}
