// /v1/completions, /v1/models, /v1/embeddings and the tokenizer routes through the official openai client and fetch.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

describe("completions", () => {
  it("completes a text prompt and the same prompt given as token ids alike", async () => {
    const text = await server.client.completions.create({
      model: server.model,
      prompt: "Once upon a time",
      max_tokens: 8,
      temperature: 0,
    });
    expect(text.object).toBe("text_completion");
    expect(text.choices[0]!.finish_reason).toBe("length");
    const { json: tokenized } = await post("/tokenize", { prompt: "Once upon a time" });
    const ids = await server.client.completions.create({
      model: server.model,
      prompt: tokenized.tokens,
      max_tokens: 8,
      temperature: 0,
    });
    expect(ids.choices[0]!.text).toBe(text.choices[0]!.text);
    expect(ids.usage!.prompt_tokens).toBe(tokenized.count);
  });

  it("answers a prompt array with n choices per prompt, indexed prompt-major", async () => {
    const completion = await server.client.completions.create({
      model: server.model,
      prompt: ["Once upon a time", "The weather today"],
      max_tokens: 4,
      n: 2,
      temperature: 0,
    });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    const single = await server.client.completions.create({
      model: server.model,
      prompt: "The weather today",
      max_tokens: 4,
      temperature: 0,
    });
    expect(completion.choices[2]!.text).toBe(single.choices[0]!.text);
    expect(completion.choices[3]!.text).toBe(single.choices[0]!.text); // greedy: both choices agree
    expect(completion.usage!.completion_tokens).toBe(16);
  });

  it("reports legacy log-probabilities with text offsets", async () => {
    const completion = await server.client.completions.create({
      model: server.model,
      prompt: "Hello",
      max_tokens: 4,
      temperature: 0,
      logprobs: 2,
    });
    const logprobs = completion.choices[0]!.logprobs!;
    expect(logprobs.tokens).toHaveLength(4);
    expect(logprobs.token_logprobs!.every((lp) => lp <= 0)).toBe(true);
    expect(logprobs.top_logprobs!.every((top) => Object.keys(top).length <= 2 && Object.keys(top).length >= 1)).toBe(
      true,
    );
    expect(logprobs.text_offset![0]).toBe("Hello".length);
    expect(logprobs.tokens!.join("")).toBe(completion.choices[0]!.text);
  });

  it("streams completion chunks and a usage chunk", async () => {
    const stream = await server.client.completions.create({
      model: server.model,
      prompt: "Once upon a time",
      max_tokens: 6,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const whole = await server.client.completions.create({
      model: server.model,
      prompt: "Once upon a time",
      max_tokens: 6,
      temperature: 0,
    });
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.text)).join("")).toBe(whole.choices[0]!.text);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("length");
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 6 });
  });

  it("refuses echo and suffix instead of ignoring them", async () => {
    await expect(
      server.client.completions.create({ model: server.model, prompt: "a", max_tokens: 2, echo: true }),
    ).rejects.toMatchObject({ status: 400, param: "echo" });
    await expect(
      server.client.completions.create({ model: server.model, prompt: "a", max_tokens: 2, suffix: "z" }),
    ).rejects.toMatchObject({ status: 400, param: "suffix" });
  });
});

describe("models, embeddings and tokenizer", () => {
  it("lists the served model and retrieves it by id", async () => {
    const models = [];
    for await (const model of server.client.models.list()) models.push(model);
    expect(models.map((m) => m.id)).toEqual([server.model]);
    const model = await server.client.models.retrieve(server.model);
    expect(model).toMatchObject({ id: server.model, object: "model", owned_by: "loom" });
    await expect(server.client.models.retrieve("no-such-model")).rejects.toMatchObject({ status: 404 });
  });

  it("embeds inputs as unit vectors of the model's width, in float and base64 encodings", async () => {
    const result = await server.client.embeddings.create({ model: server.model, input: ["a cat", "a dog", "a cat"] });
    expect(result.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const [cat, dog, cat2] = result.data.map((d) => d.embedding);
    expect(cat).toHaveLength(96);
    expect(Math.hypot(...cat!)).toBeCloseTo(1, 4);
    cat2!.forEach((x, i) => expect(x).toBeCloseTo(cat![i]!, 5));
    expect(dog).not.toEqual(cat);
    const floats = await server.client.embeddings.create({
      model: server.model,
      input: "a cat",
      encoding_format: "float",
    });
    floats.data[0]!.embedding.forEach((x, i) => expect(x).toBeCloseTo(cat![i]!, 5));
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("tokenizes text and chats and detokenizes back", async () => {
    const { json: tokens } = await post("/tokenize", { prompt: "hello world", add_special_tokens: false });
    expect(tokens.count).toBe(tokens.tokens.length);
    expect((await post("/detokenize", { tokens: tokens.tokens })).json.prompt).toBe("hello world");
    const { json: chat } = await post("/tokenize", { messages: [{ role: "user", content: "hi" }] });
    // llama.cpp's SPM tokenizer puts a space before text that follows a special token, as HF's legacy mode does.
    expect((await post("/detokenize", { tokens: chat.tokens })).json.prompt).toBe(
      "<s><|im_start|> user\nhi<|im_end|> \n<|im_start|> assistant\n",
    );
    expect((await post("/detokenize", { tokens: [999999] })).status).toBe(400);
  });
});
