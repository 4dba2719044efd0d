// The response and embedding caches on a real server: a hit is byte-identical and says so in x-loom-cache,
// Cache-Control no-cache / no-store work per request, a streamed request is served from the cache as a stream, and
// a different model under the same name (a reload) never reads what the first one wrote, even through Redis.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createParser } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PRESETS } from "../../models/presets.js";
import { synthModel } from "../../models/synth-model.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ responseCache: true });
});
afterAll(async () => {
  await server?.close();
});

async function post(target: TestServer, path: string, body: object, headers: Record<string, string> = {}) {
  const response = await fetch(`${target.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, cache: response.headers.get("x-loom-cache"), text: await response.text() };
}

const chat = (model: string, content: string, extra: object = {}) => ({
  model,
  messages: [{ role: "user", content }],
  max_tokens: 12,
  temperature: 0,
  ...extra,
});

async function metric(key: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(key));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

describe("response cache", () => {
  it("answers a repeated greedy request from the cache, byte for byte", async () => {
    const body = chat(server.model, "cache me");
    const first = await post(server, "/v1/chat/completions", body);
    const second = await post(server, "/v1/chat/completions", { ...body, user: "someone else", stream: false });
    expect([first.cache, second.cache]).toEqual(["miss", "hit"]);
    expect(second.text).toBe(first.text);
    const completion = { model: server.model, prompt: "cache me too", max_tokens: 8, seed: 7 };
    const [a, b] = [
      await post(server, "/v1/completions", completion),
      await post(server, "/v1/completions", completion),
    ];
    expect([a.cache, b.cache]).toEqual(["miss", "hit"]);
    expect(b.text).toBe(a.text);
    expect(await metric('loom:cache_lookups_total{kind="response",result="hit"}')).toBe(2);
  });

  it("leaves sampled requests alone and caches nothing for them", async () => {
    const sampled = await post(server, "/v1/chat/completions", chat(server.model, "random", { temperature: 1 }));
    expect(sampled.status).toBe(200);
    expect(sampled.cache).toBeNull();
  });

  it("honours Cache-Control: no-store (neither read nor written) and no-cache (fresh, then stored)", async () => {
    const body = chat(server.model, "private");
    expect((await post(server, "/v1/chat/completions", body, { "cache-control": "no-store" })).cache).toBe("miss");
    const afterNoStore = await post(server, "/v1/chat/completions", body);
    expect(afterNoStore.cache).toBe("miss");
    const fresh = await post(server, "/v1/chat/completions", body, { "cache-control": "no-cache" });
    expect(fresh.cache).toBe("miss");
    expect(JSON.parse(fresh.text).id).not.toBe(JSON.parse(afterNoStore.text).id);
    const cached = await post(server, "/v1/chat/completions", body);
    expect(cached.cache).toBe("hit");
    expect(cached.text).toBe(fresh.text);
  });

  it("streams a cached answer to a streamed request", async () => {
    const body = chat(server.model, "stream me");
    const stored = JSON.parse((await post(server, "/v1/chat/completions", body)).text);
    const streamed = await post(server, "/v1/chat/completions", {
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(streamed.cache).toBe("hit");
    const chunks: { choices: { delta: { content?: string }; finish_reason: string | null }[]; usage?: unknown }[] = [];
    let done = false;
    const parser = createParser({
      onEvent: (event) => (event.data === "[DONE]" ? (done = true) : chunks.push(JSON.parse(event.data))),
    });
    parser.feed(streamed.text);
    expect(done).toBe(true);
    const text = chunks.flatMap((c) => c.choices.map((choice) => choice.delta.content ?? "")).join("");
    expect(text).toBe(stored.choices[0].message.content);
    expect(chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason)).filter(Boolean)).toEqual([
      stored.choices[0].finish_reason,
    ]);
    expect(chunks.at(-1)!.usage).toEqual(stored.usage);
  });
});

describe("embedding cache", () => {
  it("answers inputs already embedded by this model from the cache, with the same vectors", async () => {
    const body = { model: server.model, input: ["a first text", "a second text"] };
    const first = await post(server, "/v1/embeddings", body);
    const second = await post(server, "/v1/embeddings", body);
    expect([first.cache, second.cache]).toEqual(["miss", "hit"]);
    expect(JSON.parse(second.text).data).toEqual(JSON.parse(first.text).data);
    const mixed = await post(server, "/v1/embeddings", { model: server.model, input: ["a first text", "new"] });
    expect(mixed.cache).toBe("miss");
    expect(JSON.parse(mixed.text).data[0].embedding).toEqual(JSON.parse(first.text).data[0].embedding);
    expect(await metric('loom:cache_lookups_total{kind="embedding",result="hit"}')).toBe(3);
  });
});

describe("model versions", () => {
  let redis: TestRedis;
  let dir: string;
  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), "loom-cache-"));
  });
  afterAll(async () => {
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keys entries by model content: another model under the same name misses, the first one hits again", async () => {
    const other = join(dir, "other.gguf");
    synthModel({ preset: PRESETS.tiny, name: "tiny", out: other, seed: 7 });
    const options = { redisUrl: redis.url, responseCache: true, servedModelName: ["m"], batchConcurrency: 0 };
    const body = chat("m", "versioned");
    const first = await startTestServer(options);
    const original = await post(first, "/v1/chat/completions", body);
    expect(original.cache).toBe("miss");
    expect((await post(first, "/v1/chat/completions", body)).cache).toBe("hit");
    await first.close();

    const reloaded = await startTestServer({ ...options, model: other });
    const fresh = await post(reloaded, "/v1/chat/completions", body);
    await reloaded.close();
    expect(fresh.cache).toBe("miss");
    expect(JSON.parse(fresh.text).choices[0].message.content).not.toBe(
      JSON.parse(original.text).choices[0].message.content,
    );

    const again = await startTestServer(options);
    const shared = await post(again, "/v1/chat/completions", body);
    await again.close();
    expect(shared.cache).toBe("hit");
    expect(shared.text).toBe(original.text);
  });
});
