// Where OpenAI's reference behaviour is easy to get wrong, found in peers' test suites and bug reports: parameters
// only valid with another, defaults, offsets, error params, aliases and forced usage.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ servedModelName: ["tiny", "gpt-4o-mini"], enableForceIncludeUsage: true });
});
afterAll(async () => {
  await server?.close();
});

const user = [{ role: "user", content: "Hello there" }];

async function post(path: string, json: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(json),
  });
  return { status: response.status, body: await response.json() };
}

describe("parameters valid only with another", () => {
  it("refuses each with a 400 naming it, and accepts null in its place", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ stream_options: { include_usage: true } }, "stream_options"],
      [{ stream: false, stream_options: { include_usage: true } }, "stream_options"],
      [{ top_logprobs: 2 }, "top_logprobs"],
      [{ logprobs: false, top_logprobs: 2 }, "top_logprobs"],
      [{ tool_choice: "auto" }, "tool_choice"],
      [{ tool_choice: "none", tools: [] }, "tool_choice"],
      [{ parallel_tool_calls: false }, "parallel_tool_calls"],
    ];
    for (const [fields, param] of cases) {
      const { status, body } = await post("/v1/chat/completions", { model: "tiny", messages: user, ...fields });
      expect(status, JSON.stringify(fields)).toBe(400);
      expect(body.error).toMatchObject({ type: "invalid_request_error", param });
    }
    const completion = await post("/v1/completions", {
      model: "tiny",
      prompt: "hi",
      stream_options: { include_usage: true },
    });
    expect(completion.body.error.param).toBe("stream_options");
    const nulls = {
      stream_options: null,
      top_logprobs: null,
      tool_choice: null,
      parallel_tool_calls: null,
      tools: null,
    };
    const ok = await post("/v1/chat/completions", { model: "tiny", messages: user, max_tokens: 2, ...nulls });
    expect(ok.status).toBe(200);
  });

  it("refuses a named tool_choice that is not a tool, and a tool message answering no call", async () => {
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];
    const named = await post("/v1/chat/completions", {
      model: "tiny",
      messages: user,
      tools,
      tool_choice: { type: "function", function: { name: "send_email" } },
    });
    expect(named.status).toBe(400);
    expect(named.body.error).toMatchObject({ param: "tool_choice", message: expect.stringMatching(/send_email/) });
    const orphan = await post("/v1/chat/completions", {
      model: "tiny",
      messages: [...user, { role: "tool", tool_call_id: "call_9", content: "22 C" }],
    });
    expect(orphan.status).toBe(400);
    expect(orphan.body.error.param).toBe("messages.1.tool_call_id");
  });
});

describe("defaults and shapes", () => {
  it("gives /v1/completions 16 tokens when max_tokens is not set", async () => {
    const { body } = await post("/v1/completions", { model: "tiny", prompt: "Once upon", ignore_eos: true });
    expect(body.usage.completion_tokens).toBe(16);
  });

  it("joins text parts of a message with a newline, as vLLM and llama.cpp do", async () => {
    const parts = await post("/tokenize", {
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "alpha" },
            { type: "text", text: "beta" },
          ],
        },
      ],
    });
    const joined = await post("/tokenize", { messages: [{ role: "user", content: "alpha\nbeta" }] });
    expect(parts.body.tokens).toEqual(joined.body.tokens);
  });

  it("counts legacy text_offset from the prompt's length, streamed or not", async () => {
    const prompt = "The quick brown fox";
    const request = { model: "tiny", prompt, max_tokens: 4, logprobs: 1, temperature: 0, ignore_eos: true };
    const whole = await post("/v1/completions", request);
    const offsets: number[] = whole.body.choices[0].logprobs.text_offset;
    expect(offsets[0]).toBe(prompt.length);
    const tokens: string[] = whole.body.choices[0].logprobs.tokens;
    expect(offsets[1]).toBe(prompt.length + tokens[0]!.length);
    const stream = await server.client.completions.create({ ...request, stream: true });
    const streamed: number[] = [];
    for await (const chunk of stream) streamed.push(...(chunk.choices[0]?.logprobs?.text_offset ?? []));
    expect(streamed).toEqual(offsets);
  });

  it("names `messages` for a chat too long for the context, `input` for embeddings (with no completion)", async () => {
    const long = "word ".repeat(6000);
    const chat = await post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: long }] });
    expect(chat.body.error).toMatchObject({ param: "messages", code: "context_length_exceeded" });
    const embeddings = await post("/v1/embeddings", { model: "tiny", input: long });
    expect(embeddings.status).toBe(400);
    expect(embeddings.body.error.param).toBe("input");
    expect(embeddings.body.error.message).not.toMatch(/completion/);
  });
});

describe("what real applications need", () => {
  it("serves every --served-model-name alias and lists each", async () => {
    const ids = (await server.client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["tiny", "gpt-4o-mini"]));
    const answer = await server.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: user as never,
      max_tokens: 2,
    });
    expect(answer.model).toBe("gpt-4o-mini");
    expect(answer.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it("ends every stream with usage under --enable-force-include-usage, though the client did not ask", async () => {
    const stream = await server.client.chat.completions.create({
      model: "tiny",
      messages: user as never,
      max_tokens: 3,
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toMatchObject({
      completion_tokens: expect.any(Number),
      prompt_tokens: expect.any(Number),
    });
  });
});
