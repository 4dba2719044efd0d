// HTTP from the page to the Loom server that served it: the API key (kept in sessionStorage for the tab's life, sent
// as a bearer token), JSON calls with OpenAI-shaped errors, and server-sent events read from a fetch stream, since
// EventSource cannot send an Authorization header.
import type { EventSourceMessage } from "eventsource-parser";
import { EventSourceParserStream } from "eventsource-parser/stream";

const KEY_ITEM = "loom.apiKey";

/** A refused call: the HTTP status and OpenAI's error message and code. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string | null;

  constructor(status: number, message: string, code: string | null) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY_ITEM),
  set: (key: string): void => sessionStorage.setItem(KEY_ITEM, key),
  clear: (): void => sessionStorage.removeItem(KEY_ITEM),
};

const unauthorizedListeners = new Set<(message: string) => void>();

/** `listener` hears every 401 (the page then asks for a key); returns the function that stops it. */
export function onUnauthorized(listener: (message: string) => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

function withKey(headers: HeadersInit | undefined): Headers {
  const result = new Headers(headers);
  const key = apiKey.get();
  if (key) result.set("authorization", `Bearer ${key}`);
  return result;
}

async function errorOf(response: Response): Promise<HttpError> {
  let message = `${response.status} ${response.statusText}`;
  let code: string | null = null;
  try {
    const body = (await response.json()) as { error?: { message?: string; code?: string | null } };
    message = body.error?.message ?? message;
    code = body.error?.code ?? null;
  } catch {
    // Not OpenAI's error shape: the status line says enough.
  }
  if (response.status === 401) for (const listener of unauthorizedListeners) listener(message);
  return new HttpError(response.status, message, code);
}

/** fetch() with the key; throws HttpError for any status but 2xx. */
export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(path, { ...init, headers: withKey(init.headers) });
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await call(path, signal ? { signal } : {})).json() as Promise<T>;
}

export async function postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  };
  return (await call(path, init)).json() as Promise<T>;
}

/** The events of a text/event-stream response as they arrive; ends with the stream, throws when it is aborted. */
export async function* serverEvents(response: Response): AsyncGenerator<EventSourceMessage> {
  if (!response.body) throw new Error("the response has no body to stream");
  const reader = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
