// Anthropic's Messages API through the official @anthropic-ai/sdk: create, stream, stop sequences, count_tokens,
// x-api-key, and bad input answered in Anthropic's error shape.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
let client: Anthropic;
beforeAll(async () => {
  server = await startTestServer({ apiKeys: ["anthropic-key"] });
  client = new Anthropic({ baseURL: server.url, apiKey: "anthropic-key", maxRetries: 0 });
});
afterAll(async () => {
  await server?.close();
});

const ask = [{ role: "user" as const, content: "Tell me a story" }];
// Older Messages clients send temperature; this SDK's types no longer declare it, but the API takes it.
const greedy: object = { temperature: 0 };

describe("POST /v1/messages", () => {
  it("answers with a message, its stop reason and usage; the stream's final message is the same text", async () => {
    const request = { model: server.model, max_tokens: 8, system: "Be brief.", messages: ask, ...greedy };
    const message = await client.messages.create(request);
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: server.model,
      stop_reason: "max_tokens",
    });
    expect(message.id).toMatch(/^msg_01/);
    expect(message.content[0]!.type).toBe("text");
    expect(message.usage.output_tokens).toBe(8);
    const stream = client.messages.stream(request);
    let streamed = "";
    stream.on("text", (delta) => {
      streamed += delta;
    });
    const final = await stream.finalMessage();
    expect(final.content).toEqual(message.content);
    expect(streamed).toBe((message.content[0] as { text: string }).text);
    expect(final.stop_reason).toBe("max_tokens");
  });

  it("ends at a stop sequence and names it", async () => {
    const first = await client.messages.create({ model: server.model, max_tokens: 12, messages: ask, ...greedy });
    const text = (first.content[0] as { text: string }).text;
    const stop = text.trim().split(/\s+/)[2]!;
    const stopped = await client.messages.create({
      model: server.model,
      max_tokens: 12,
      messages: ask,
      ...greedy,
      stop_sequences: [stop],
    });
    expect(stopped).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: stop });
    expect((stopped.content[0] as { text: string }).text).toBe(text.slice(0, text.indexOf(stop)));
  });

  it("counts a request's input tokens as the prompt the model sees", async () => {
    const counted = await client.messages.countTokens({ model: server.model, system: "Be brief.", messages: ask });
    const message = await client.messages.create({
      model: server.model,
      max_tokens: 1,
      system: "Be brief.",
      messages: ask,
    });
    expect(counted.input_tokens).toBe(message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0));
  });
});

describe("bad input to /v1/messages", () => {
  it("answers in Anthropic's error shape with the right status, and keeps serving", async () => {
    const post = async (body: unknown, headers: Record<string, string> = { "x-api-key": "anthropic-key" }) => {
      const response = await fetch(`${server.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      return {
        status: response.status,
        body: (await response.json()) as { type: string; error: { type: string; message: string } },
      };
    };
    const cases: [unknown, number, string, Record<string, string>?][] = [
      [{ model: server.model, messages: ask }, 400, "invalid_request_error"],
      [{ model: "claude-none", max_tokens: 4, messages: ask }, 404, "not_found_error"],
      [
        { model: server.model, max_tokens: 4, messages: [{ role: "user", content: [{ type: "image", source: {} }] }] },
        400,
        "invalid_request_error",
      ],
      [
        {
          model: server.model,
          max_tokens: 4,
          messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_x", content: "1" }] }],
        },
        400,
        "invalid_request_error",
      ],
      [
        {
          model: server.model,
          max_tokens: 4,
          messages: ask,
          tools: [{ type: "web_search_20250305", name: "web_search" }],
        },
        400,
        "invalid_request_error",
      ],
      [{ model: server.model, max_tokens: 4, messages: ask }, 401, "authentication_error", { "x-api-key": "wrong" }],
    ];
    for (const [body, status, type, headers] of cases) {
      const answer = await post(body, headers);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body.type).toBe("error");
      expect(answer.body.error.type).toBe(type);
      expect(answer.body.error.message.length).toBeGreaterThan(0);
    }
    const ok = await client.messages.create({ model: server.model, max_tokens: 2, messages: ask });
    expect(ok.type).toBe("message");
  });
});
