// Bad input answers its 4xx in OpenAI's error shape, and the server keeps serving everyone else.
import { once } from "node:events";
import net from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ apiKeys: ["right-key"], maxBodyBytes: 1024 * 1024 });
});
afterAll(async () => {
  await server?.close();
});

const user = [{ role: "user" as const, content: "hi" }];

async function raw(
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const { json, ...rest } = init;
  const response = await fetch(`${server.url}${path}`, {
    method: json === undefined && rest.body === undefined ? "GET" : "POST",
    ...rest,
    headers: {
      "content-type": "application/json",
      authorization: "Bearer right-key",
      ...(rest.headers as Record<string, string> | undefined),
    },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

function expectOpenAiError(body: any, type: string): void {
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(body.error.type).toBe(type);
  expect(body.error.message.length).toBeGreaterThan(0);
}

describe("errors in OpenAI's shape", () => {
  it("answers a wrong model with 404 model_not_found", async () => {
    await expect(server.client.chat.completions.create({ model: "gpt-17", messages: user })).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
      param: "model",
    });
    expect(
      (await server.client.chat.completions
        .create({ model: "gpt-17", messages: user })
        .catch((e: unknown) => e)) instanceof OpenAI.NotFoundError,
    ).toBe(true);
  });

  it("answers a missing or wrong key with 401 but leaves health probes open", async () => {
    const wrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "wrong-key", maxRetries: 0 });
    const error = await wrong.chat.completions.create({ model: server.model, messages: user }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await raw("/v1/models", { headers: { authorization: "" } })).status).toBe(401);
    expect((await raw("/tokenize", { json: { prompt: "a" }, headers: { authorization: "Bearer nope" } })).status).toBe(
      401,
    );
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });

  it.each([
    ["temperature out of range", { temperature: 5 }, "temperature"],
    ["negative max_tokens", { max_tokens: -1 }, "max_tokens"],
    ["max_tokens past the context", { max_tokens: 1_000_000 }, "max_tokens"],
    ["a string where a number belongs", { top_p: "high" }, "top_p"],
    ["n too large", { n: 1000 }, "n"],
    ["a subnormal repetition_penalty", { repetition_penalty: 1.5e-323 }, "repetition_penalty"],
    ["257 stop strings", { stop: Array.from({ length: 257 }, (_, i) => `s${i}`) }, "stop"],
    ["a stop that is not text", { stop: [1] }, "stop"],
    ["top_logprobs too large", { logprobs: true, top_logprobs: 50 }, "top_logprobs"],
    ["logit_bias outside the vocabulary", { logit_bias: { "99999999": 5 } }, "logit_bias"],
    [
      "an unsupported schema type",
      { response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "tuple" } } } },
      "response_format",
    ],
    ["tools", { tools: [{ type: "function", function: { name: "f" } }] }, "tools"],
  ])("answers %s with 400 naming the parameter", async (_, extra, param) => {
    const { status, body } = await raw("/v1/chat/completions", {
      json: { model: server.model, messages: user, ...extra },
    });
    expect(status).toBe(400);
    expectOpenAiError(body, "invalid_request_error");
    expect(body.error.param).toBe(param);
  });

  it("answers a body with too many invalid values to list with 400, not a stack overflow", async () => {
    const prompt = [Array.from({ length: 200_000 }, () => "x")];
    const { status, body } = await raw("/v1/completions", { json: { model: server.model, prompt } });
    expect(status).toBe(400);
    expectOpenAiError(body, "invalid_request_error");
    expect(body.error.code).toBe("invalid_request_body");
  });

  it("answers bad messages with 400: empty, a wrong role, a non-text part", async () => {
    for (const messages of [
      [],
      [{ role: "wizard", content: "hi" }],
      [{ role: "user", content: 42 }],
      [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }],
    ]) {
      const { status, body } = await raw("/v1/chat/completions", { json: { model: server.model, messages } });
      expect(status, JSON.stringify(messages)).toBe(400);
      expectOpenAiError(body, "invalid_request_error");
    }
  });

  it("answers a prompt longer than the context with 400 context_length_exceeded", async () => {
    const { status, body } = await raw("/v1/completions", {
      json: { model: server.model, prompt: "word ".repeat(5000), max_tokens: 1 },
    });
    expect(status).toBe(400);
    expect(body.error.code).toBe("context_length_exceeded");
    const ids = await raw("/v1/completions", {
      json: { model: server.model, prompt: [1, 2, 99999999], max_tokens: 1 },
    });
    expect(ids.status).toBe(400);
  });

  // A 24 MB prompt used to hold the event loop for seconds in the tokenizer before it was refused; text longer than
  // the context times the vocabulary's longest token is refused without tokenizing (the message counts bytes).
  it("refuses a prompt that cannot fit the context before tokenizing it, for completions and chat", async () => {
    const text = "x".repeat(700_000);
    const prompt = await raw("/v1/completions", { json: { model: server.model, prompt: text, max_tokens: 1 } });
    const chat = await raw("/v1/chat/completions", {
      json: { model: server.model, messages: [{ role: "user", content: text }], max_tokens: 1 },
    });
    for (const [answer, param] of [
      [prompt, "prompt"],
      [chat, "messages"],
    ] as const) {
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ code: "context_length_exceeded", param });
      expect(answer.body.error.message).toMatch(/is 700000 bytes long, which is at least \d+ tokens/);
    }
    // Under the bound, the tokenizer decides as before.
    const counted = await raw("/v1/completions", {
      json: { model: server.model, prompt: "word ".repeat(5000), max_tokens: 1 },
    });
    expect(counted.body.error.message).toMatch(/you requested \d+ tokens/);
  });

  it("answers malformed JSON with 400, a body past the limit with 413, an unknown route with 404", async () => {
    const malformed = await raw("/v1/chat/completions", { body: '{"model": "tiny", "messages": [' });
    expect(malformed.status).toBe(400);
    expectOpenAiError(malformed.body, "invalid_request_error");
    const huge = await raw("/v1/chat/completions", {
      json: { model: server.model, messages: [{ role: "user", content: "x".repeat(10 * 1024 * 1024) }] },
    });
    expect(huge.status).toBe(413);
    expectOpenAiError(huge.body, "invalid_request_error");
    // Without a Content-Length (chunked), the limit is counted as the body arrives.
    const piece = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const chunked = new ReadableStream<Uint8Array>({
      pull: (controller) => (sent++ < 32 ? controller.enqueue(piece) : controller.close()),
    });
    const streamed = await raw("/v1/chat/completions", { body: chunked, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
    expectOpenAiError(streamed.body, "invalid_request_error");
    const unknown = await raw("/v1/engines");
    expect(unknown.status).toBe(404);
    expectOpenAiError(unknown.body, "not_found_error");
  });

  it("ends a request whose client leaves halfway through its body with a 4xx, and keeps serving", async () => {
    const count4xx = async () =>
      Number(
        /loom:http_requests_total\{status_class="4xx"\} (\d+)/.exec(
          await (await fetch(`${server.url}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const before = await count4xx();
    const { hostname, port } = new URL(server.url);
    const socket = net.connect(Number(port), hostname);
    await once(socket, "connect");
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer right-key\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"model": "`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    const deadline = Date.now() + 5000;
    while ((await count4xx()) === before && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await count4xx()).toBe(before + 1);
    expect((await raw("/v1/models")).status).toBe(200);
  });

  it("returns an x-request-id on every response, echoing a valid one the client sent", async () => {
    const fresh = await raw("/v1/models");
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await raw("/v1/nope", { headers: { "x-request-id": "trace-123" } });
    expect(echoed.headers.get("x-request-id")).toBe("trace-123");
  });

  it("keeps serving after all of the above, with nothing left running", async () => {
    const completion = await server.client.chat.completions.create({
      model: server.model,
      messages: user,
      max_tokens: 3,
    });
    expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
    const stats = server.registry.get(server.model).engine.stats();
    expect(stats.numRunning + stats.numWaiting).toBe(0);
    expect(stats.kv.numUsedBlocks).toBe(0);
  });
});
