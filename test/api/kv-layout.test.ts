// The server with `kvLayout: "per-sequence"`: llama.cpp gives each running sequence its own stream, which the
// API shows as max_model_len, and prompts still share their prefixes between requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/compose/server.js";
import { tinyModel } from "../helpers/models.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ kvLayout: "per-sequence", kvTokens: 4096, maxRunning: 8 });
});
afterAll(async () => {
  await server?.close();
});

const longPrompt = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");

describe("per-sequence KV layout through the server", () => {
  it("reports a stream's cells (kvTokens / maxRunning) as max_model_len, as llama.cpp sized it", async () => {
    const models = await server.client.models.list();
    expect((models.data[0] as unknown as { max_model_len: number }).max_model_len).toBe(512);
  });

  it("serves concurrent chats and shares a repeated prompt's prefix with the next request", async () => {
    const ask = (suffix: string) =>
      server.client.chat.completions.create({
        model: server.model,
        messages: [{ role: "user", content: `${longPrompt} ${suffix}` }],
        max_tokens: 6,
        temperature: 0,
      });
    const first = await ask("first");
    expect(first.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
    const answers = await Promise.all(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"].map(ask));
    for (const answer of answers) {
      expect(answer.choices[0]!.finish_reason).toBe("length");
      expect(answer.usage!.completion_tokens).toBe(6);
    }
    const again = await ask("first");
    expect(again.choices[0]!.message.content).toBe(first.choices[0]!.message.content);
    // Streams of the ten later requests may have replaced the first one's; they share all but the suffix's block.
    expect(again.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThanOrEqual(
      first.usage!.prompt_tokens - 2 * 16,
    );
  });

  it("refuses to start when max_model_len is larger than a stream", async () => {
    await expect(
      startServer(
        {
          model: tinyModel(),
          port: 0,
          kvLayout: "per-sequence",
          kvTokens: 4096,
          maxRunning: 8,
          maxModelLen: 1024,
          threads: 1,
          logLevel: "silent",
        },
        { processMetrics: false },
      ),
    ).rejects.toThrow(/maxModelLen \(1024\) cannot exceed a sequence's stream \(kvTokens \/ maxRunning = 512 cells\)/);
  });
});

describe("--kv-layout auto", () => {
  const start = (overrides: Record<string, number>) =>
    startServer(
      { model: tinyModel(), port: 0, kvTokens: 4096, threads: 1, logLevel: "silent", maxRunning: 4, ...overrides },
      { processMetrics: false },
    );

  it("takes per-sequence streams when each holds 1024 tokens, and the unified pool when they are shorter", async () => {
    const streams = await start({ maxRunning: 4 });
    const pool = await start({ maxRunning: 8 });
    const longer = await start({ maxRunning: 4, maxModelLen: 2048 });
    try {
      expect(streams.registry.list()[0]!.kvLayout.name).toBe("per-sequence");
      expect(streams.registry.list()[0]!.maxModelLen).toBe(1024);
      expect(pool.registry.list()[0]!.kvLayout).toMatchObject({ name: "unified", reason: /512 tokens/ });
      expect(pool.registry.list()[0]!.maxModelLen).toBe(4096);
      expect(longer.registry.list()[0]!.kvLayout.name).toBe("unified");
      expect(longer.registry.list()[0]!.maxModelLen).toBe(2048);
    } finally {
      await Promise.all([streams.close(), pool.close(), longer.close()]);
    }
  });

  it("says in a context-length error how to make per-sequence streams longer", async () => {
    const streams = await start({ maxRunning: 4 });
    try {
      const response = await fetch(`${streams.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: streams.registry.list()[0]!.name, prompt: "hi ".repeat(1100), max_tokens: 4 }),
      });
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { message: string; code: string } };
      expect(error.code).toBe("context_length_exceeded");
      expect(error.message).toMatch(/raise --kv-tokens, lower --max-running or pass --kv-layout unified/);
    } finally {
      await streams.close();
    }
  });
});
