// What the routing policies read from a request body: the model it names, the LoRA adapter (if any), and the
// leading prompt text whose KV blocks a replica may already hold. Reading is lenient: a body the router cannot
// read is still forwarded (the replica answers the 400), it only routes without affinity.
import type { ChatCompletionRequest, CompletionRequest } from "../api/openai/schemas.js";

export interface RoutingKey {
  readonly model: string | null;
  /** The adapter named by `model` ("adapter" or "base:adapter"), when `model` is not a base model. */
  readonly adapter: string | null;
  /** Leading prompt text to hash for prefix affinity; null when the request has none. */
  readonly prefix: string | null;
}

const NO_KEY: RoutingKey = { model: null, adapter: null, prefix: null };

/**
 * A system prompt at least this long (in characters, about 64 tokens or four KV blocks of 16) is a tenant's shared
 * prefix on its own, so requests sharing it meet on one replica whatever their user turns say; a shorter one is
 * keyed together with the conversation that follows it.
 */
const MIN_SHARED_CHARS = 256;

type ChatContent = ChatCompletionRequest["messages"][number]["content"];

function contentText(content: ChatContent): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part: unknown) => {
      const text = typeof part === "object" && part !== null ? (part as { text?: unknown }).text : undefined;
      return typeof text === "string" ? text : "";
    })
    .join("");
}

/** The conversation as text in message order, and how many leading characters are system/developer messages. */
function chatText(messages: readonly unknown[]): { text: string; systemChars: number } {
  let text = "";
  let systemChars = 0;
  let inSystem = true;
  for (const raw of messages) {
    const message = (typeof raw === "object" && raw !== null ? raw : {}) as { role?: unknown; content?: ChatContent };
    const role = typeof message.role === "string" ? message.role : "";
    text += `${role}\n${contentText(message.content)}\n`;
    inSystem &&= role === "system" || role === "developer";
    if (inSystem) systemChars = text.length;
  }
  return { text, systemChars };
}

function promptText(prompt: CompletionRequest["prompt"] | undefined, prefixChars: number): string | null {
  if (typeof prompt === "string") return prompt;
  if (!Array.isArray(prompt) || prompt.length === 0) return null;
  const first = prompt[0];
  if (typeof first === "string") return first;
  // Token ids: about four characters of text each. Only numbers count: join() would recurse into nested arrays.
  const ids: unknown = typeof first === "number" ? prompt : first;
  if (!Array.isArray(ids)) return null;
  const head = ids.slice(0, Math.ceil(prefixChars / 4));
  return head.every((id) => typeof id === "number") ? head.join(" ") : null;
}

function adapterOf(model: string, baseModels: ReadonlySet<string>): string | null {
  const colon = model.indexOf(":");
  if (colon > 0 && baseModels.has(model.slice(0, colon))) return model.slice(colon + 1);
  if (baseModels.size === 0 || baseModels.has(model)) return null;
  return model;
}

/**
 * Reads `body` (a JSON request to /v1/chat/completions, /v1/completions or /v1/embeddings). `baseModels` are the
 * replicas' base model names; any other model name is taken for an adapter. The prefix is the first `prefixChars`
 * characters of the system prompt when it is long enough to be a shared prefix, else of the whole conversation.
 */
export function routingKey(body: Buffer, baseModels: ReadonlySet<string>, prefixChars: number): RoutingKey {
  try {
    return readKey(body, baseModels, prefixChars);
  } catch {
    // Whatever shape the body has, the replica is the one to refuse it (its 400 in its route's error shape).
    return NO_KEY;
  }
}

function readKey(body: Buffer, baseModels: ReadonlySet<string>, prefixChars: number): RoutingKey {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return NO_KEY;
  }
  if (typeof json !== "object" || json === null) return NO_KEY;
  const request = json as { model?: unknown; messages?: unknown; prompt?: unknown; input?: unknown };
  const model = typeof request.model === "string" ? request.model : null;
  const adapter = model === null ? null : adapterOf(model, baseModels);
  let prefix: string | null = null;
  if (Array.isArray(request.messages)) {
    const { text, systemChars } = chatText(request.messages);
    prefix = text.slice(0, systemChars >= MIN_SHARED_CHARS ? Math.min(systemChars, prefixChars) : prefixChars);
  } else if (request.prompt !== undefined) {
    prefix = promptText(request.prompt as CompletionRequest["prompt"], prefixChars)?.slice(0, prefixChars) ?? null;
  } else if (request.input !== undefined) {
    prefix = promptText(request.input as CompletionRequest["prompt"], prefixChars)?.slice(0, prefixChars) ?? null;
  }
  return { model, adapter, prefix: prefix === "" ? null : prefix };
}
