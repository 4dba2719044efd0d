// The Batch API on a real redis-server, driven by the official openai client: files.create, batches.create,
// polling batches.retrieve, files.content of the output, and webhooks.unwrap on the delivered event; then a Redis
// restart in the middle of a batch, which the batch survives.
import type { IncomingHttpHeaders } from "node:http";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatLines, parseJsonl, toJsonl, uploadJsonl, waitForBatch } from "../helpers/batches.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { eventually, startTestServer, type TestServer } from "../helpers/server.js";
import { startWebhookReceiver, type WebhookReceiver, webhookSecret } from "../helpers/webhooks.js";

let redis: TestRedis;
let server: TestServer;
let receiver: WebhookReceiver;
const secret = webhookSecret();

beforeAll(async () => {
  redis = await startRedis();
  receiver = await startWebhookReceiver({ failFirst: 1 });
  server = await startTestServer({
    redisUrl: redis.url,
    batchConcurrency: 4,
    webhookUrls: [receiver.url],
    webhookSecret: secret,
    jobLockSeconds: 2,
  });
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
  await redis?.close();
});

const headersOf = (headers: IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)]));

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

describe("batches on Redis", () => {
  it("round-trips through the openai client and delivers a signed batch.completed webhook, retried once", async () => {
    const { client, model } = server;
    const lines = chatLines(model, 8);
    const file = await uploadJsonl(client, toJsonl(lines));
    expect((await client.files.retrieve(file.id)).bytes).toBe(toJsonl(lines).length);
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const batch = await waitForBatch(client, created.id);
    expect(batch).toMatchObject({ status: "completed", request_counts: { total: 8, completed: 8, failed: 0 } });
    expect(batch.completed_at).toBeGreaterThanOrEqual(batch.created_at);
    const output = parseJsonl(await (await client.files.content(batch.output_file_id!)).text());
    expect(output.map((line) => line.custom_id)).toEqual(lines.map((line) => line.custom_id));
    expect(await (await client.files.content(file.id)).text()).toBe(toJsonl(lines));
    // State lives under loom:{kind}:{id}; a finished batch's lines and results are dropped (its files hold them).
    const direct = new Redis(redis.url);
    try {
      const keys = [`loom:batch:${batch.id}`, `loom:file:${batch.output_file_id}:content`, `loom:file:${file.id}`];
      expect(await direct.exists(...keys)).toBe(3);
      expect(await direct.exists(`loom:batch:${batch.id}:input`, `loom:batch:${batch.id}:results`)).toBe(0);
    } finally {
      direct.disconnect();
    }
    expect(await client.files.delete(file.id)).toEqual({ id: file.id, object: "file", deleted: true });
    await expect(client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
    expect((await client.files.list()).data.map((f) => f.id)).toContain(batch.output_file_id);

    // The first delivery is refused with 500; the retry carries the same webhook-id, so a receiver can deduplicate.
    await eventually(
      () => receiver.received.length,
      (n) => n >= 2,
      20_000,
    );
    const [first, second] = receiver.received;
    expect(first!.status).toBe(500);
    expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    const event = await client.webhooks.unwrap(second!.body, headersOf(second!.headers), secret);
    expect(event).toMatchObject({ object: "event", type: "batch.completed", data: { id: batch.id } });
    expect(event.id).toBe(second!.headers["webhook-id"]);
    await expect(client.webhooks.unwrap(second!.body, headersOf(second!.headers), webhookSecret())).rejects.toThrow();
    expect(await metric('loom:webhook_delivery_attempts_total{outcome="failure"}')).toBe(1);
    expect(await metric('loom:webhook_delivery_attempts_total{outcome="success"}')).toBe(1);
    expect(await metric('loom:job_queue_depth{queue="lines",state="waiting"}')).toBe(0);
  });

  it("completes a batch across a Redis restart, and answers 503 for jobs (ready stays up) while Redis is down", async () => {
    const { client, model } = server;
    const lines = chatLines(model, 120, 32);
    const file = await uploadJsonl(client, toJsonl(lines));
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const before = await waitForBatch(client, created.id, (b) => (b.request_counts?.completed ?? 0) >= 4);
    await redis.stop();
    expect(before.request_counts!.completed).toBeLessThan(60);
    const down = await fetch(`${server.url}/v1/batches/${created.id}`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { error: { message: string } }).error.message).toMatch(/Redis at .* is unreachable/);
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    const interactive = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 4,
    });
    expect(interactive.choices[0]!.finish_reason).toBe("length");
    await redis.restart();
    // The jobs API reconnects on its own within a couple of seconds.
    let status = 0;
    for (let tries = 0; status !== 200 && tries < 100; tries++) {
      status = (await fetch(`${server.url}/v1/batches/${created.id}`)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    const batch = await waitForBatch(client, created.id, undefined, 90_000);
    expect(batch).toMatchObject({ status: "completed", request_counts: { total: 120, completed: 120, failed: 0 } });
    const output = parseJsonl(await (await client.files.content(batch.output_file_id!)).text());
    expect(output.map((line) => line.custom_id)).toEqual(lines.map((line) => line.custom_id));
  });
});

describe("Responses API store on Redis", () => {
  it("lets another server read and continue a response one server stored", async () => {
    const other = await startTestServer({ redisUrl: redis.url, batchConcurrency: 0 });
    try {
      const { client, model } = server;
      const stored = await client.responses.create({ model, input: "Remember me", max_output_tokens: 4, store: true });
      const read = await other.client.responses.retrieve(stored.id);
      expect(read.id).toBe(stored.id);
      expect(read.output_text).toBe(stored.output_text);
      const next = await other.client.responses.create({
        model,
        input: "And then?",
        max_output_tokens: 4,
        previous_response_id: stored.id,
      });
      expect(next.previous_response_id).toBe(stored.id);
    } finally {
      await other.close();
    }
  });

  it("runs a background response queued on one server on another's workers, polled and cancelled from the first", async () => {
    const other = await startTestServer({ redisUrl: redis.url, batchConcurrency: 0 });
    try {
      const { model } = server;
      const queued = await other.client.responses.create({
        model,
        input: "bg",
        max_output_tokens: 5,
        background: true,
      });
      expect(queued.status).toBe("queued");
      let final = await other.client.responses.retrieve(queued.id);
      for (let i = 0; i < 200 && (final.status === "queued" || final.status === "in_progress"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        final = await other.client.responses.retrieve(queued.id);
      }
      expect(final).toMatchObject({ id: queued.id, status: "incomplete", background: true });
      expect(final.output_text.length).toBeGreaterThan(0);
      const long = await other.client.responses.create({
        model,
        input: "go on",
        max_output_tokens: 3000,
        background: true,
      });
      await eventually(
        () => server.registry.list()[0]!.engine.stats().numRunning,
        (n) => n > 0,
      );
      expect((await other.client.responses.cancel(long.id)).status).toBe("cancelled");
      await eventually(
        () => server.registry.list()[0]!.engine.stats().numRunning,
        (n) => n === 0,
      );
      expect((await server.client.responses.retrieve(long.id)).status).toBe("cancelled");
    } finally {
      await other.close();
    }
  });
});
