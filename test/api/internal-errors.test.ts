// A fault inside the server is a 500 in OpenAI's shape with its cause in the log, never a 400, and the request id
// ties the two together.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Logger } from "../../src/ops/logger.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const logged: { event: string; fields: Record<string, unknown> }[] = [];
const logger: Logger = { log: (_level, event, fields = {}) => logged.push({ event, fields }) };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({}, { logger });
});
afterAll(async () => {
  await server?.close();
});

it("answers 500 with the cause logged when the engine under a model has stopped", async () => {
  const body = { model: server.model, messages: [{ role: "user", content: "hi" }], max_tokens: 4 };
  const before = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(before.status).toBe(200);
  await server.registry.list()[0]!.engine.close();
  for (const stream of [false, true]) {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...body, stream }),
    });
    expect(response.status).toBe(500);
    const answer = (await response.json()) as { error: Record<string, unknown> };
    expect(answer.error).toMatchObject({ type: "server_error", code: "internal_error" });
    expect(answer.error.message).toMatch(/engine is closed/);
    const requestId = response.headers.get("x-request-id");
    const line = logged.find((l) => l.event === "request_failed" && l.fields.request_id === requestId);
    expect(line?.fields.stack).toMatch(/Engine\.submit/);
  }
  expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
});
