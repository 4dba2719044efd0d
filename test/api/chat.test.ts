// /v1/chat/completions through the official openai client against a real server on a loopback port.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const user = (content: string) => [{ role: "user" as const, content }];
const engineStats = () => server.registry.get(server.model).engine.stats();

async function streamText(params: Record<string, unknown>) {
  const stream = await server.client.chat.completions.create({
    model: server.model,
    messages: user("Tell me a story"),
    ...params,
    stream: true,
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe("chat completions", () => {
  it("answers a chat with an assistant message, a finish reason and usage", async () => {
    const completion = await server.client.chat.completions.create({
      model: server.model,
      messages: user("Hello there"),
      max_tokens: 8,
      temperature: 0,
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe(server.model);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]!.message.role).toBe("assistant");
    expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(completion.choices[0]!.finish_reason).toBe("length");
    expect(completion.usage).toMatchObject({ completion_tokens: 8 });
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + 8);
  });

  it("serves a request without a model with the first served model, as vLLM and llama-server do", async () => {
    const post = (path: string, body: object) =>
      fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const chat = await post("/v1/chat/completions", { messages: user("Hi"), max_tokens: 2, temperature: 0 });
    const named = await post("/v1/chat/completions", {
      model: server.model,
      messages: user("Hi"),
      max_tokens: 2,
      temperature: 0,
    });
    expect(chat.status).toBe(200);
    expect(chat.body.model).toBe(server.model);
    expect(chat.body.choices[0].message.content).toBe(named.body.choices[0].message.content);
    for (const [path, body] of [
      ["/v1/completions", { prompt: "Hi", max_tokens: 2 }],
      ["/v1/embeddings", { input: "Hi" }],
      ["/v1/responses", { input: "Hi", max_output_tokens: 2 }],
      ["/v1/chat/completions/render", { messages: user("Hi") }],
    ] as const) {
      const answer = await post(path, body);
      expect(answer.status, path).toBe(200);
    }
  });

  it("decodes greedily below vLLM's sampling epsilon instead of failing on a temperature float32 cannot hold", async () => {
    const answer = (temperature: number) =>
      server.client.chat.completions
        .create({ model: server.model, messages: user("Hello there"), max_tokens: 6, temperature })
        .then((c) => c.choices[0]!.message.content);
    const greedy = await answer(0);
    for (const temperature of [6.7e-41, 1e-30, 9e-6])
      expect(await answer(temperature), String(temperature)).toBe(greedy);
  });

  it("accepts more than OpenAI's four stop strings, as vLLM and llama-server do", async () => {
    const completion = await server.client.chat.completions.create({
      model: server.model,
      messages: user("Hello there"),
      max_tokens: 4,
      stop: ["zq1", "zq2", "zq3", "zq4", "zq5", "zq6"],
    });
    expect(completion.choices[0]!.finish_reason).toBe("length");
  });

  it("streams the role first, then content deltas, then the finish reason, matching the non-streamed text", async () => {
    const whole = await server.client.chat.completions.create({
      model: server.model,
      messages: user("Tell me a story"),
      max_tokens: 12,
      temperature: 0,
    });
    const chunks = await streamText({ max_tokens: 12, temperature: 0 });
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0]!.id)).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.choices[0]!.finish_reason).toBe("length");
    expect(chunks.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null)).toBe(true);
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? "").join("")).toBe(whole.choices[0]!.message.content);
  });

  it("ends a stream with a usage chunk when include_usage is set", async () => {
    const chunks = await streamText({ max_tokens: 5, temperature: 0, stream_options: { include_usage: true } });
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: 5 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it("accepts content given as an array of text parts", async () => {
    const asParts = await server.client.chat.completions.create({
      model: server.model,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Hello " },
            { type: "text", text: "there" },
          ],
        },
      ],
      max_tokens: 6,
      temperature: 0,
    });
    const asString = await server.client.chat.completions.create({
      model: server.model,
      messages: user("Hello there"),
      max_tokens: 6,
      temperature: 0,
    });
    expect(asParts.choices[0]!.message.content).toBe(asString.choices[0]!.message.content);
  });

  it("stops before a stop string and never emits any of it, streamed or not", async () => {
    const free = await server.client.chat.completions.create({
      model: server.model,
      messages: user("Tell me a story"),
      max_tokens: 12,
      temperature: 0,
    });
    const text = free.choices[0]!.message.content!;
    const stop = text.slice(6, 9);
    const expected = text.slice(0, text.indexOf(stop));
    const stopped = await server.client.chat.completions.create({
      model: server.model,
      messages: user("Tell me a story"),
      max_tokens: 12,
      temperature: 0,
      stop: [stop, "\u0000never"],
    });
    expect(stopped.choices[0]!.message.content).toBe(expected);
    expect(stopped.choices[0]!.finish_reason).toBe("stop");
    const chunks = await streamText({ max_tokens: 12, temperature: 0, stop });
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? "").join("")).toBe(expected);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
  });

  it("generates n choices that share the prompt through the prefix cache", async () => {
    const before = engineStats().kv.prefixCacheHits;
    const prompt = "word ".repeat(60);
    const completion = await server.client.chat.completions.create({
      model: server.model,
      messages: user(prompt),
      max_tokens: 4,
      n: 3,
      temperature: 1,
      seed: 7,
    });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(completion.usage!.completion_tokens).toBe(12);
    // Siblings 1 and 2 reuse every full block of sibling 0's prompt.
    const fullBlocks = Math.floor((completion.usage!.prompt_tokens - 1) / 16) * 16;
    expect(engineStats().kv.prefixCacheHits - before).toBeGreaterThanOrEqual(2 * fullBlocks);
  });

  it("reproduces a sampled answer with the same seed", async () => {
    const ask = (seed: number) =>
      server.client.chat.completions.create({
        model: server.model,
        messages: user("Pick something"),
        max_tokens: 16,
        temperature: 2,
        seed,
      });
    const [a, b] = [await ask(1234), await ask(1234)];
    expect(a.choices[0]!.message.content).toBe(b.choices[0]!.message.content);
    const others = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5]) others.add((await ask(seed)).choices[0]!.message.content!);
    expect(others.size).toBeGreaterThan(1);
  });

  it("reports log-probabilities of the sampled tokens and their top alternatives", async () => {
    const completion = await server.client.chat.completions.create({
      model: server.model,
      messages: user("Hello"),
      max_tokens: 5,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    });
    const content = completion.choices[0]!.logprobs!.content!;
    expect(content).toHaveLength(5);
    for (const entry of content) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.top_logprobs).toHaveLength(3);
      expect(entry.top_logprobs[0]!.logprob).toBeCloseTo(entry.logprob, 4); // greedy picks the most likely token
      expect(Buffer.from(entry.bytes!).toString("utf8")).toBe(entry.token);
    }
    expect(content.map((e) => e.token).join("")).toBe(completion.choices[0]!.message.content);
  });

  it("constrains output to a JSON schema so it parses and validates", async () => {
    const completion = await server.client.chat.completions.create({
      model: server.model,
      messages: user("Describe a person"),
      max_tokens: 64,
      temperature: 1,
      seed: 3,
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "person",
          schema: {
            type: "object",
            properties: {
              name: { type: "string", maxLength: 6 },
              age: { type: "integer" },
              tags: { type: "array", items: { enum: ["a", "b"] }, maxItems: 2 },
            },
            required: ["name", "age", "tags"],
          },
        },
      },
    });
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    const value = JSON.parse(completion.choices[0]!.message.content!) as { name: unknown; age: unknown; tags: unknown };
    expect(typeof value.name === "string" && value.name.length <= 6).toBe(true);
    expect(Number.isInteger(value.age)).toBe(true);
    expect(Array.isArray(value.tags) && value.tags.length <= 2 && value.tags.every((t) => t === "a" || t === "b")).toBe(
      true,
    );
  });

  it("cancels the sequence and frees its blocks when the client aborts a stream", async () => {
    const abortedBefore = engineStats().numFinished.abort;
    const controller = new AbortController();
    const params = {
      model: server.model,
      messages: user("Go on forever"),
      max_tokens: 3000,
      stream: true as const,
      ignore_eos: true,
    };
    const stream = await server.client.chat.completions.create(params, { signal: controller.signal });
    let received = 0;
    // The client ends the iteration on abort (openai 6 returns quietly; other versions throw an APIUserAbortError).
    await (async () => {
      for await (const _ of stream) {
        if (++received === 4) controller.abort();
      }
    })().catch((error: unknown) => expect((error as Error).name).toMatch(/Abort/));
    expect(received).toBeLessThan(50);
    const stats = await eventually(engineStats, (s) => s.numFinished.abort === abortedBefore + 1 && s.numRunning === 0);
    expect(stats.kv.numUsedBlocks).toBe(0);
    expect(stats.numGeneratedTokens).toBeLessThan(3000);
  });
});
