// Thread counts from the command line reach llama.cpp: --threads for single-token steps, --threads-batch for
// the rest (prefill, batched decode), as llama-server's -t and -tb.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseServeArgs } from "../../src/cli.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  const { threads, threadsBatch } = parseServeArgs(["serve", "unused.gguf", "--threads", "1"], {
    LOOM_THREADS_BATCH: "2",
  });
  server = await startTestServer({ threads, threadsBatch });
});
afterAll(async () => {
  await server?.close();
});

describe("--threads and --threads-batch", () => {
  it("size llama.cpp's two thread pools, and the server generates with them", async () => {
    const [serving] = server.registry.list();
    expect(serving!.threads).toEqual({ single: 1, batch: 2 });
    const completion = await server.client.completions.create({
      model: server.model,
      prompt: "Once upon a time",
      max_tokens: 8,
      temperature: 0,
    });
    expect(completion.usage?.completion_tokens).toBe(8);
  });
});
