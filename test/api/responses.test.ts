// The Responses API through the official openai client: plain, streamed, continued with previous_response_id,
// stored and listed, in the background, and its bad input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe("POST /v1/responses", () => {
  it("answers text input with a completed or incomplete message, usage and the request's settings", async () => {
    const response = await server.client.responses.create({
      model: server.model,
      instructions: "Answer briefly.",
      input: "Tell me a story",
      max_output_tokens: 6,
      temperature: 0,
    });
    expect(response).toMatchObject({
      object: "response",
      model: server.model,
      status: "incomplete",
      instructions: "Answer briefly.",
    });
    expect(response.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toMatchObject({ type: "message", role: "assistant" });
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.usage).toMatchObject({ output_tokens: 6, total_tokens: response.usage!.input_tokens + 6 });
  });

  it("streams the typed events in order, their text equal to the non-streamed answer", async () => {
    const request = { model: server.model, input: "Once upon a time", max_output_tokens: 8, temperature: 0 } as const;
    const whole = await server.client.responses.create(request);
    const stream = await server.client.responses.create({ ...request, stream: true });
    const types: string[] = [];
    let text = "";
    const numbers: number[] = [];
    for await (const event of stream) {
      types.push(event.type);
      numbers.push(event.sequence_number);
      if (event.type === "response.output_text.delta") text += event.delta;
    }
    expect(types.slice(0, 4)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
    ]);
    expect(types.slice(-4)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.incomplete",
    ]);
    expect(numbers).toEqual(numbers.map((_, i) => i));
    expect(text).toBe(whole.output_text);
  });

  it("continues a stored conversation with previous_response_id, reusing its prefix, and lists input items", async () => {
    const first = await server.client.responses.create({
      model: server.model,
      input: "My name is Ada. ".repeat(6),
      max_output_tokens: 4,
    });
    const second = await server.client.responses.create({
      model: server.model,
      input: [{ role: "user", content: "What is my name?" }],
      previous_response_id: first.id,
      max_output_tokens: 4,
    });
    expect(second.previous_response_id).toBe(first.id);
    expect(second.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);
    expect(second.usage!.input_tokens_details.cached_tokens).toBeGreaterThan(0);
    const items = await server.client.responses.inputItems.list(second.id);
    expect(items.data).toHaveLength(1);
    expect(items.data[0]).toMatchObject({ type: "message", role: "user", content: "What is my name?" });
    expect((await server.client.responses.retrieve(second.id)).id).toBe(second.id);
    await server.client.responses.delete(second.id);
    await expect(server.client.responses.retrieve(second.id)).rejects.toMatchObject({ status: 404 });
  });

  it("runs a background response to completion, polled by GET, and cancels another", async () => {
    const queued = await server.client.responses.create({
      model: server.model,
      input: "bg",
      max_output_tokens: 5,
      background: true,
    });
    expect(queued.status).toBe("queued");
    let final = await server.client.responses.retrieve(queued.id);
    for (let i = 0; i < 100 && (final.status === "queued" || final.status === "in_progress"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      final = await server.client.responses.retrieve(queued.id);
    }
    expect(final.status).toBe("incomplete");
    expect(final.output_text.length).toBeGreaterThan(0);
    const long = await server.client.responses.create({
      model: server.model,
      input: "go on",
      // Far more tokens than the test takes, so the cancel finds it running.
      max_output_tokens: 3000,
      background: true,
    });
    const cancelled = await server.client.responses.cancel(long.id);
    expect(cancelled.status).toBe("cancelled");
    expect((await server.client.responses.retrieve(long.id)).status).toBe("cancelled");
    await eventually(
      () => server.registry.list()[0]!.engine.stats().numRunning,
      (n) => n === 0,
    );
  });
});

describe("bad input to /v1/responses", () => {
  it("answers each with a 400 or 404 in OpenAI's shape naming the parameter", async () => {
    const post = async (body: Record<string, unknown>) => {
      const response = await fetch(`${server.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: server.model, ...body }),
      });
      return { status: response.status, error: ((await response.json()) as { error: Record<string, unknown> }).error };
    };
    expect(await post({ input: "x", previous_response_id: "resp_nope" })).toMatchObject({
      status: 404,
      error: { param: "previous_response_id" },
    });
    expect(await post({ input: "x", tools: [{ type: "web_search" }] })).toMatchObject({
      status: 400,
      error: { param: "tools.0" },
    });
    expect(
      await post({ input: [{ role: "user", content: [{ type: "input_image", image_url: "http://x/y.png" }] }] }),
    ).toMatchObject({ status: 400, error: { code: "unsupported_content" } });
    expect(await post({ input: [{ type: "function_call_output", call_id: "c1", output: "1" }] })).toMatchObject({
      status: 400,
    });
    expect(await post({ input: "x", tool_choice: "auto" })).toMatchObject({
      status: 400,
      error: { param: "tool_choice" },
    });
    expect(await post({ input: "x", background: true, store: false })).toMatchObject({
      status: 400,
      error: { param: "background" },
    });
    expect(await post({ input: "x", model: "gpt-17" })).toMatchObject({
      status: 404,
      error: { code: "model_not_found" },
    });
    const unstored = await server.client.responses.create({
      model: server.model,
      input: "x",
      max_output_tokens: 2,
      store: false,
    });
    await expect(server.client.responses.retrieve(unstored.id)).rejects.toMatchObject({ status: 404 });
  });
});
