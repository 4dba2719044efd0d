// One streamed request to an OpenAI-compatible server, timed as vLLM's benchmark times it: TTFT at the first
// content chunk, a gap per later content chunk, output tokens from the usage chunk (counted chunks otherwise).
import { EventSourceParserStream } from "eventsource-parser/stream";

export type Endpoint = "chat" | "completions";

export interface Target {
  readonly url: string;
  readonly model: string;
  readonly endpoint: Endpoint;
  readonly apiKey?: string;
  readonly ignoreEos: boolean;
}

export interface Message {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
}

export interface StreamOutcome {
  readonly text: string;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly ttftMs: number | null;
  readonly e2eMs: number;
  readonly itlMs: number[];
}

interface WireUsage {
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
}

function body(target: Target, messages: readonly Message[], maxTokens: number): Record<string, unknown> {
  const common = {
    model: target.model,
    max_tokens: maxTokens,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
    ...(target.ignoreEos ? { ignore_eos: true } : {}),
  };
  if (target.endpoint === "chat") return { ...common, messages };
  return { ...common, prompt: messages.map((m) => m.content).join("\n\n") };
}

/** Throws with the server's message when the request fails, before or during the stream. */
export async function streamRequest(
  target: Target,
  messages: readonly Message[],
  maxTokens: number,
  signal?: AbortSignal,
): Promise<StreamOutcome> {
  const path = target.endpoint === "chat" ? "/v1/chat/completions" : "/v1/completions";
  const started = performance.now();
  const response = await fetch(`${target.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}),
    },
    body: JSON.stringify(body(target, messages, maxTokens)),
    ...(signal ? { signal } : {}),
  });
  if (!response.ok || !response.body)
    throw new Error(`HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`);
  let text = "";
  let ttftMs: number | null = null;
  let lastChunkMs = 0;
  let contentChunks = 0;
  let usage: WireUsage | null = null;
  const itlMs: number[] = [];
  // SSE framing as the spec defines it (LF, CR or CRLF line ends, multi-line data), whatever server answers.
  const events = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
  for await (const { data } of events as unknown as AsyncIterable<{ data: string }>) {
    if (data === "" || data === "[DONE]") continue;
    const chunk = JSON.parse(data) as {
      error?: { message?: string };
      usage?: WireUsage | null;
      choices?: { delta?: { content?: string | null }; text?: string }[];
    };
    if (chunk.error) throw new Error(chunk.error.message ?? "error chunk");
    if (chunk.usage) usage = chunk.usage;
    const delta = chunk.choices?.[0]?.delta?.content ?? chunk.choices?.[0]?.text ?? "";
    if (delta === "") continue;
    const now = performance.now() - started;
    if (ttftMs === null) ttftMs = now;
    else itlMs.push(now - lastChunkMs);
    lastChunkMs = now;
    contentChunks++;
    text += delta;
  }
  return {
    text,
    ttftMs,
    itlMs,
    e2eMs: performance.now() - started,
    promptTokens: usage?.prompt_tokens ?? 0,
    outputTokens: usage?.completion_tokens ?? contentChunks,
  };
}

/** The server's first listed model, as vLLM's benchmark defaults to. */
export async function firstModel(url: string, apiKey?: string): Promise<string> {
  const response = await fetch(`${url}/v1/models`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
  if (!response.ok) throw new Error(`GET /v1/models answered ${response.status}`);
  const { data } = (await response.json()) as { data: { id: string }[] };
  if (!data[0]) throw new Error("the server lists no models");
  return data[0].id;
}
