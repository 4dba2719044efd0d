// Bad input to the Files and Batch APIs: each refused with the right status in OpenAI's error shape, or reported
// line by line; and the ends a batch can come to besides completion (cancelled, expired), with every line accounted.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatLines, type InputLine, parseJsonl, toJsonl, uploadJsonl, waitForBatch } from "../helpers/batches.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ batchConcurrency: 1, maxFileBytes: 16_384 });
});
afterAll(async () => {
  await server?.close();
});

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error.status!;
    throw error;
  }
  throw new Error("the request succeeded");
}

async function runBatch(lines: readonly unknown[], window = "24h") {
  const file = await uploadJsonl(
    server.client,
    typeof lines[0] === "string" ? `${lines.join("\n")}\n` : toJsonl(lines),
  );
  const created = await server.client.batches.create({
    input_file_id: file.id,
    endpoint: "/v1/chat/completions",
    completion_window: window as "24h",
  });
  return created;
}

describe("bad input", () => {
  it("refuses a file over the size limit with 413, and uploads without a purpose Loom takes with 400", async () => {
    const big = toJsonl(chatLines(server.model, 100));
    expect(big.length).toBeGreaterThan(16_384);
    expect(await statusOf(uploadJsonl(server.client, big))).toBe(413);
    const huge = "x".repeat(200_000);
    expect(await statusOf(uploadJsonl(server.client, huge))).toBe(413);
    const { toFile } = await import("openai");
    const fineTune = server.client.files.create({
      file: await toFile(Buffer.from("{}\n"), "a.jsonl"),
      purpose: "fine-tune",
    });
    expect(await statusOf(fineTune)).toBe(400);
    const response = await fetch(`${server.url}/v1/files`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/multipart\/form-data/);
  });

  it("answers 404 for unknown files and batches, in OpenAI's error shape", async () => {
    expect(await statusOf(server.client.files.retrieve("file-nope"))).toBe(404);
    expect(await statusOf(server.client.files.content("file-nope"))).toBe(404);
    expect(await statusOf(server.client.files.delete("file-nope"))).toBe(404);
    expect(await statusOf(server.client.batches.retrieve("batch_nope"))).toBe(404);
    expect(await statusOf(server.client.batches.cancel("batch_nope"))).toBe(404);
    const create = server.client.batches.create({
      input_file_id: "file-nope",
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    expect(await statusOf(create)).toBe(404);
    const response = await fetch(`${server.url}/v1/batches/batch_nope`);
    expect(await response.json()).toEqual({
      error: { message: "No such Batch object: batch_nope", type: "not_found_error", param: "batch_id", code: null },
    });
  });

  it("refuses an endpoint batches do not run, and a completion window it cannot read, with 400", async () => {
    const file = await uploadJsonl(server.client, toJsonl(chatLines(server.model, 1)));
    const moderations = server.client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/moderations",
      completion_window: "24h",
    });
    expect(await statusOf(moderations)).toBe(400);
    const window = server.client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "soon" as "24h",
    });
    expect(await statusOf(window)).toBe(400);
  });

  it("fails a batch at validation with every bad line numbered: not JSON, another model, a duplicate, a wrong url", async () => {
    const [a, b, c, d] = chatLines(server.model, 4) as [InputLine, InputLine, InputLine, InputLine];
    const lines = [
      JSON.stringify(a),
      "{not json",
      JSON.stringify({ ...b, body: { ...b.body, model: "some-other-model" } }),
      JSON.stringify({ ...c, custom_id: a.custom_id }),
      JSON.stringify({ ...d, url: "/v1/embeddings" }),
    ];
    const batch = await waitForBatch(server.client, (await runBatch(lines)).id);
    expect(batch.status).toBe("failed");
    expect(batch.failed_at).toEqual(expect.any(Number));
    expect(batch.errors?.data?.map((e) => [e.line, e.code])).toEqual([
      [2, "invalid_json_line"],
      [3, "model_mismatch"],
      [4, "duplicate_custom_id"],
      [5, "url_mismatch"],
    ]);
    const unserved = chatLines("no-such-model", 2);
    const failed = await waitForBatch(server.client, (await runBatch(unserved)).id);
    expect(failed.errors?.data?.map((e) => [e.line, e.code, e.param])).toEqual([
      [1, "model_not_found", "body.model"],
      [2, "model_not_found", "body.model"],
    ]);
    const empty = await uploadJsonl(server.client, "\n");
    const emptyBatch = await server.client.batches.create({
      input_file_id: empty.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    expect((await waitForBatch(server.client, emptyBatch.id)).errors?.data?.[0]?.code).toBe("empty_file");
  });

  it("writes lines the endpoint refuses to the error file and completes the batch", async () => {
    const [good, tooLong, streamed] = chatLines(server.model, 3) as [InputLine, InputLine, InputLine];
    const lines = [
      good,
      { ...tooLong, body: { ...tooLong.body, max_tokens: 1_000_000 } },
      { ...streamed, body: { ...streamed.body, stream: true } },
    ];
    const batch = await waitForBatch(server.client, (await runBatch(lines)).id);
    expect(batch).toMatchObject({ status: "completed", request_counts: { total: 3, completed: 1, failed: 2 } });
    const output = parseJsonl(await (await server.client.files.content(batch.output_file_id!)).text());
    expect(output.map((line) => line.custom_id)).toEqual([good.custom_id]);
    const errors = parseJsonl<{
      custom_id: string;
      response: { status_code: number; body: { error: { message: string } } };
    }>(await (await server.client.files.content(batch.error_file_id!)).text());
    expect(errors.map((line) => [line.custom_id, line.response.status_code])).toEqual([
      [tooLong.custom_id, 400],
      [streamed.custom_id, 400],
    ]);
    expect(errors[0]!.response.body.error.message).toMatch(/maximum context length/);
    expect(await statusOf(server.client.batches.cancel(batch.id))).toBe(409);
  });
});

describe("batch ends", () => {
  it("cancels a running batch: finished lines in the output, the rest batch_cancelled in the error file", async () => {
    const lines = chatLines(server.model, 20, 64);
    const created = await runBatch(lines);
    await waitForBatch(server.client, created.id, (b) => (b.request_counts?.completed ?? 0) >= 1);
    const cancelling = await server.client.batches.cancel(created.id);
    expect(["cancelling", "cancelled"]).toContain(cancelling.status);
    const batch = await waitForBatch(server.client, created.id);
    expect(batch.status).toBe("cancelled");
    expect(batch.cancelled_at).toEqual(expect.any(Number));
    const output = batch.output_file_id
      ? parseJsonl(await (await server.client.files.content(batch.output_file_id)).text())
      : [];
    const errors = parseJsonl<{ custom_id: string; error: { code: string } }>(
      await (await server.client.files.content(batch.error_file_id!)).text(),
    );
    expect(output.length).toBeGreaterThanOrEqual(1);
    expect(errors.every((line) => line.error.code === "batch_cancelled")).toBe(true);
    const ids = [...output.map((line) => line.custom_id), ...errors.map((line) => line.custom_id)];
    expect(ids.sort()).toEqual(lines.map((line) => line.custom_id).sort());
    expect(batch.request_counts).toEqual({ total: 20, completed: output.length, failed: errors.length });
    expect((await server.client.batches.cancel(created.id)).status).toBe("cancelled");
  });

  it("expires a batch past its completion window: unfinished lines get batch_expired", async () => {
    // 60 lines of 128 tokens, one at a time, take far longer than the 2 s window.
    const lines = chatLines(server.model, 60, 128);
    const batch = await waitForBatch(server.client, (await runBatch(lines, "2s")).id);
    expect(batch.status).toBe("expired");
    expect(batch.expired_at).toEqual(expect.any(Number));
    const errors = parseJsonl<{ error: { code: string } }>(
      await (await server.client.files.content(batch.error_file_id!)).text(),
    );
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((line) => line.error.code === "batch_expired")).toBe(true);
    expect(batch.request_counts!.completed + batch.request_counts!.failed).toBe(60);
  });
});
