// Webhook signatures as OpenAI makes them: the official openai client's verifier accepts them, and refuses a
// changed body, another secret or a stale timestamp.
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { signWebhook, webhookSecretProblem } from "../../../src/jobs/webhook-delivery.js";
import { attemptsWithin } from "../../../src/jobs/webhooks.js";
import { webhookSecret } from "../../helpers/webhooks.js";

const client = new OpenAI({ apiKey: "unused" });

describe("webhook signatures", () => {
  it("are verified by openai's webhooks.unwrap, for this body and secret only", async () => {
    const secret = webhookSecret();
    const body = JSON.stringify({
      id: "evt_1",
      object: "event",
      created_at: 1,
      type: "batch.completed",
      data: { id: "batch_1" },
    });
    const now = Math.floor(Date.now() / 1000);
    const headers = signWebhook(secret, "evt_1", now, body);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(await client.webhooks.unwrap(body, headers, secret)).toMatchObject({ type: "batch.completed" });
    await expect(client.webhooks.unwrap(body.replace("batch_1", "batch_2"), headers, secret)).rejects.toThrow();
    await expect(client.webhooks.unwrap(body, headers, webhookSecret())).rejects.toThrow();
    const stale = signWebhook(secret, "evt_1", now - 3600, body);
    await expect(client.webhooks.unwrap(body, stale, secret)).rejects.toThrow(/too old/);
  });

  it("take whsec_ secrets of 16 bytes or more only", () => {
    expect(webhookSecretProblem(webhookSecret())).toBeNull();
    expect(webhookSecretProblem("secret")).toMatch(/whsec_/);
    expect(webhookSecretProblem(`whsec_${Buffer.alloc(8).toString("base64")}`)).toMatch(/16 bytes/);
  });

  it("are retried until the backoff delays cover the retry window", () => {
    const backoff = { baseMs: 1000, capMs: 8000 };
    // 1 + 2 + 4 + 8 + 8 = 23 s of waiting covers a 20 s window: five retries after the first attempt.
    expect(attemptsWithin(20_000, backoff)).toBe(6);
    expect(attemptsWithin(0, backoff)).toBe(1);
  });
});
