// The response cache at the chat and completion routes. A deterministic request (temperature 0 or a seed) is looked
// up by endpoint, model version (adapter included) and canonical parameters; a hit is answered with the stored
// bytes, or replayed as the SSE stream the request asked for; a fresh non-streamed answer is stored. Every
// cacheable request gets `x-loom-cache: hit|miss`; `Cache-Control: no-cache` / `no-store` work per request.
import type { Context } from "hono";
import type { Caches } from "../../cache/caches.js";
import { cachePolicy, isDeterministic } from "../../cache/policy.js";
import { streamChunks, type WriteChunk } from "../sse.js";

/** Fields that change how an answer is delivered, not what it says: left out of the key. */
const DELIVERY_FIELDS = new Set(["stream", "stream_options", "user", "priority", "timeout"]);

type Endpoint = "/v1/chat/completions" | "/v1/completions";

interface GenerationRequest {
  readonly model: string;
  readonly temperature?: number | null;
  readonly seed?: number | null;
  readonly stream?: boolean | null;
  readonly stream_options?: { readonly include_usage?: boolean | null } | null;
}

export interface CachedGeneration {
  /** The answer from the cache (JSON, or the stream asked for), or null on a miss. */
  readonly hit: Response | null;
  /** Answers with `json` and stores its exact bytes when the request allows it. */
  respond(json: { readonly choices: readonly { readonly finish_reason: string }[] }): Response;
}

/** Null when the request is not cacheable (no response cache, or not deterministic): the route runs as before. */
export async function cachedGeneration(
  c: Context,
  caches: Caches | undefined,
  endpoint: Endpoint,
  body: GenerationRequest,
): Promise<CachedGeneration | null> {
  const cache = caches?.responses;
  if (!cache || !isDeterministic(body)) return null;
  const policy = cachePolicy(c.req.header("cache-control"));
  const request = Object.fromEntries(Object.entries(body).filter(([k]) => !DELIVERY_FIELDS.has(k)));
  const key = cache.keyOf(endpoint, request, await caches.versionOf(body.model));
  const cached = policy.read ? await cache.lookup(key) : null;
  c.header("x-loom-cache", cached === null ? "miss" : "hit");
  const respond = (json: { readonly choices: readonly { readonly finish_reason: string }[] }) => {
    const text = JSON.stringify(json);
    // An aborted choice (the client left, the server drained) is not the request's answer.
    if (policy.write && json.choices.every((choice) => choice.finish_reason !== "abort")) void cache.store(key, text);
    return c.body(text, 200, { "content-type": "application/json" });
  };
  if (cached === null) return { hit: null, respond };
  if (!body.stream) return { hit: c.body(cached, 200, { "content-type": "application/json" }), respond };
  const includeUsage = body.stream_options?.include_usage === true;
  const replay = endpoint === "/v1/chat/completions" ? replayChat : replayCompletion;
  return { hit: streamChunks(c, (write) => replay(write, JSON.parse(cached), includeUsage)), respond };
}

interface CachedAnswer {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly system_fingerprint: string | null;
  readonly usage: unknown;
}

interface ChatAnswer extends CachedAnswer {
  readonly choices: {
    readonly index: number;
    readonly message: {
      readonly content: string | null;
      readonly reasoning_content?: string;
      readonly tool_calls?: readonly object[];
    };
    readonly logprobs: unknown;
    readonly finish_reason: string;
  }[];
}

interface CompletionAnswer extends CachedAnswer {
  readonly choices: {
    readonly index: number;
    readonly text: string;
    readonly logprobs: unknown;
    readonly finish_reason: string;
  }[];
}

/**
 * The chunks of a replayed stream: every one carries the answer's id, created, model and fingerprint, and
 * `usage: null` while the client asked for usage, which comes in a last chunk with no choices (OpenAI's order).
 */
function chunksOf(answer: CachedAnswer, object: string, includeUsage: boolean) {
  const head = {
    id: answer.id,
    created: answer.created,
    model: answer.model,
    system_fingerprint: answer.system_fingerprint,
  };
  return {
    chunk: (choices: unknown[]) => ({ ...head, object, choices, ...(includeUsage ? { usage: null } : {}) }),
    usageChunk: { ...head, object, choices: [], usage: answer.usage },
  };
}

/** Each choice as one role chunk, one content chunk and one finish chunk, then usage if asked: OpenAI's order. */
async function replayChat(write: WriteChunk, answer: ChatAnswer, includeUsage: boolean): Promise<void> {
  const { chunk, usageChunk } = chunksOf(answer, "chat.completion.chunk", includeUsage);
  for (const choice of answer.choices) {
    const { index } = choice;
    await write(chunk([{ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]));
    // The whole message in one delta: content, and reasoning and tool calls when it has them.
    const { content, reasoning_content: reasoning, tool_calls: calls } = choice.message;
    const delta = {
      content,
      ...(reasoning === undefined ? {} : { reasoning_content: reasoning }),
      ...(calls === undefined ? {} : { tool_calls: calls.map((call, i) => ({ index: i, ...call })) }),
    };
    await write(chunk([{ index, delta, logprobs: choice.logprobs, finish_reason: null }]));
    await write(chunk([{ index, delta: {}, logprobs: null, finish_reason: choice.finish_reason }]));
  }
  if (includeUsage) await write(usageChunk);
}

async function replayCompletion(write: WriteChunk, answer: CompletionAnswer, includeUsage: boolean): Promise<void> {
  const { chunk, usageChunk } = chunksOf(answer, "text_completion", includeUsage);
  for (const choice of answer.choices) {
    const { index } = choice;
    await write(chunk([{ index, text: choice.text, logprobs: choice.logprobs, finish_reason: null }]));
    await write(chunk([{ index, text: "", logprobs: null, finish_reason: choice.finish_reason }]));
  }
  if (includeUsage) await write(usageChunk);
}
