// Background requests: a request body run off the connection, polled, cancelled where it runs, and announced by a
// signed response.completed webhook. The queue /v1/responses `background: true` will use.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestServer, type TestServer } from "../helpers/server.js";
import { startWebhookReceiver, type WebhookReceiver, webhookSecret } from "../helpers/webhooks.js";

let server: TestServer;
let receiver: WebhookReceiver;
const secret = webhookSecret();
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  server = await startTestServer({ batchConcurrency: 2, webhookUrls: [receiver.url], webhookSecret: secret });
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
});

interface Background {
  id: string;
  status: string;
  response: { status_code: number; body: { object: string; choices: { finish_reason: string }[] } } | null;
}

async function call(method: string, path: string, body?: object): Promise<{ status: number; json: Background }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: (await response.json()) as Background };
}

async function poll(id: string, done: (b: Background) => boolean): Promise<Background> {
  let last: Background | null = null;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    last = (await call("GET", `/v1/background_requests/${id}`)).json;
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`background request ${id} stayed ${JSON.stringify(last)}`);
}

const chatBody = (maxTokens: number) => ({
  model: server.model,
  messages: [{ role: "user", content: "hello" }],
  max_tokens: maxTokens,
  ignore_eos: true,
});

describe("background requests", () => {
  it("run a chat completion off the connection, poll to its answer, and send response.completed", async () => {
    const submitted = await call("POST", "/v1/background_requests", {
      endpoint: "/v1/chat/completions",
      body: chatBody(8),
    });
    expect(submitted.status).toBe(200);
    expect(submitted.json).toMatchObject({ object: "background_request", status: "queued", response: null });
    const done = await poll(submitted.json.id, (b) => b.status === "completed");
    expect(done.response!.status_code).toBe(200);
    expect(done.response!.body.object).toBe("chat.completion");
    expect(done.response!.body.choices[0]!.finish_reason).toBe("length");
    await eventually(
      () => receiver.received.length,
      (n) => n >= 1,
    );
    const delivery = receiver.received[0]!;
    const headers = Object.fromEntries(Object.entries(delivery.headers).map(([k, v]) => [k, String(v)]));
    const event = await server.client.webhooks.unwrap(delivery.body, headers, secret);
    expect(event).toMatchObject({ type: "response.completed", data: { id: submitted.json.id } });
  });

  it("cancel a running request where it runs, freeing its sequence; a finished one cannot be cancelled", async () => {
    const engine = server.registry.get(server.model).engine;
    const submitted = await call("POST", "/v1/background_requests", {
      endpoint: "/v1/chat/completions",
      body: chatBody(3000),
    });
    await poll(submitted.json.id, (b) => b.status === "in_progress");
    await eventually(
      () => engine.stats().numRunning,
      (n) => n === 1,
    );
    const cancelled = await call("POST", `/v1/background_requests/${submitted.json.id}/cancel`);
    expect(cancelled.json.status).toBe("cancelled");
    await eventually(
      () => engine.stats().numRunning,
      (n) => n === 0,
    );
    expect((await call("GET", `/v1/background_requests/${submitted.json.id}`)).json.status).toBe("cancelled");

    const quick = await call("POST", "/v1/background_requests", {
      endpoint: "/v1/chat/completions",
      body: chatBody(2),
    });
    await poll(quick.json.id, (b) => b.status === "completed");
    expect((await call("POST", `/v1/background_requests/${quick.json.id}/cancel`)).status).toBe(409);
  });

  it("refuses endpoints outside the job list (400) and unknown ids (404)", async () => {
    expect((await call("POST", "/v1/background_requests", { endpoint: "/v1/models", body: {} })).status).toBe(400);
    expect((await call("GET", "/v1/background_requests/bg_nope")).status).toBe(404);
  });
});
