// The Batch API without Redis: a plain server keeps files, batches and its queue in memory, and the official
// openai client does a full round trip.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatLines, parseJsonl, toJsonl, uploadJsonl, waitForBatch } from "../helpers/batches.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ batchConcurrency: 4 });
});
afterAll(async () => {
  await server?.close();
});

describe("batches in memory", () => {
  it("runs every line once and returns the output file in OpenAI's line shape", async () => {
    const { client, model } = server;
    const lines = chatLines(model, 6);
    const file = await uploadJsonl(client, toJsonl(lines));
    expect(file).toMatchObject({ object: "file", purpose: "batch", bytes: toJsonl(lines).length, status: "processed" });
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { project: "test" },
    });
    expect(created).toMatchObject({
      object: "batch",
      status: "validating",
      input_file_id: file.id,
      metadata: { project: "test" },
    });
    const batch = await waitForBatch(client, created.id);
    expect(batch.status).toBe("completed");
    expect(batch.request_counts).toEqual({ total: 6, completed: 6, failed: 0 });
    expect(batch.error_file_id).toBeNull();
    const output = parseJsonl(await (await client.files.content(batch.output_file_id!)).text());
    expect(output.map((line) => line.custom_id)).toEqual(lines.map((line) => line.custom_id));
    for (const line of output) {
      expect(line).toMatchObject({ id: expect.stringMatching(/^batch_req_/), error: null });
      const response = line.response as {
        status_code: number;
        request_id: string;
        body: { object: string; usage: object };
      };
      expect(response.status_code).toBe(200);
      expect(response.request_id).toEqual(expect.any(String));
      expect(response.body.object).toBe("chat.completion");
    }
    const listed = await client.batches.list({ limit: 5 });
    expect(listed.data.map((b) => b.id)).toContain(batch.id);
  });
});

describe("batch priority", () => {
  it("admits an interactive request ahead of waiting batch lines", async () => {
    // One running sequence at a time: batch lines queue in the engine behind the one that runs.
    const single = await startTestServer({ maxRunning: 1, batchConcurrency: 4 });
    try {
      const { client, model } = single;
      const engine = single.registry.get(model).engine;
      const file = await uploadJsonl(client, toJsonl(chatLines(model, 12, 32)));
      const created = await client.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      await waitForBatch(client, created.id, () => engine.stats().numWaiting >= 3);
      const before = (await client.batches.retrieve(created.id)).request_counts!.completed;
      const answer = await client.chat.completions.create({
        model,
        messages: [{ role: "user", content: "me first" }],
        max_tokens: 4,
      });
      expect(answer.choices[0]!.finish_reason).toBe("length");
      // At most the line that was running when it arrived (and one that finished in between) went first.
      const after = (await client.batches.retrieve(created.id)).request_counts!.completed;
      expect(after - before).toBeLessThanOrEqual(2);
      await waitForBatch(client, created.id);
    } finally {
      await single.close();
    }
  });
});

describe("Responses API batches", () => {
  it("runs /v1/responses lines through the Responses route, and refuses streamed or background lines per line", async () => {
    const { client, model } = server;
    const line = (id: string, extra: object = {}) => ({
      custom_id: id,
      method: "POST",
      url: "/v1/responses",
      body: { model, input: `Tell me about ${id}`, max_output_tokens: 4, temperature: 0, ...extra },
    });
    const file = await uploadJsonl(
      client,
      toJsonl([line("a"), line("b", { stream: true }), line("c", { background: true })]),
    );
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/responses",
      completion_window: "24h",
    });
    const batch = await waitForBatch(client, created.id);
    expect(batch).toMatchObject({ status: "completed", request_counts: { total: 3, completed: 1, failed: 2 } });
    const [output] = parseJsonl<{ response: { body: { object: string; status: string } } }>(
      await (await client.files.content(batch.output_file_id!)).text(),
    );
    expect(output!.response.body).toMatchObject({ object: "response", status: "incomplete" });
    const errors = parseJsonl<{ custom_id: string; response: { status_code: number } }>(
      await (await client.files.content(batch.error_file_id!)).text(),
    );
    expect(errors.map((e) => [e.custom_id, e.response.status_code])).toEqual([
      ["b", 400],
      ["c", 400],
    ]);
  });
});
