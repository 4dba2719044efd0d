// `loom worker` processes on a shared Redis: a worker killed with SIGKILL halfway through a batch loses nothing
// (another finishes it, each custom_id once, bodies identical to an uninterrupted greedy run), and a worker
// stopped with SIGTERM hands its lines back and exits cleanly.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatLines, type InputLine, parseJsonl, toJsonl, uploadJsonl, waitForBatch } from "../helpers/batches.js";
import { repoRoot, tinyModel } from "../helpers/models.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let redis: TestRedis;
let server: TestServer;
const workers = new Set<ChildProcess>();

beforeAll(async () => {
  redis = await startRedis();
  // The API server takes batches but runs no lines itself (--batch-concurrency 0): the workers below do.
  server = await startTestServer({ redisUrl: redis.url, batchConcurrency: 0 });
});
afterAll(async () => {
  for (const worker of workers) worker.kill("SIGKILL");
  await server?.close();
  await redis?.close();
});

/** A `loom worker` process on the test server's model and Redis; resolves once it takes jobs. */
async function startWorker(extra: readonly string[] = [], redisUrl = redis.url): Promise<ChildProcess> {
  const args = [join(repoRoot, "bin", "loom.mjs"), "worker", tinyModel(), "--redis", redisUrl];
  args.push("--batch-concurrency", "2", "--job-lock-seconds", "2", "--threads", "1", "--kv-tokens", "4096");
  args.push("--max-running", "16", "--log-level", "warn", ...extra);
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  workers.add(child);
  let output = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("is taking jobs")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`loom worker exited with ${code} before taking jobs: ${output}`)));
  });
  return child;
}

function exited(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
}

async function submit(lines: readonly InputLine[], client = server.client) {
  const file = await uploadJsonl(client, toJsonl(lines));
  return client.batches.create({
    input_file_id: file.id,
    endpoint: "/v1/chat/completions",
    completion_window: "24h",
  });
}

interface OutputLine {
  readonly custom_id: string;
  readonly response: {
    status_code: number;
    body: { choices: unknown[]; usage: { prompt_tokens: number; completion_tokens: number } };
  };
}

async function outputOf(batchId: string): Promise<OutputLine[]> {
  const batch = await server.client.batches.retrieve(batchId);
  expect(batch.error_file_id).toBeNull();
  return parseJsonl<OutputLine>(await (await server.client.files.content(batch.output_file_id!)).text());
}

/** What a greedy answer says, without what differs per run (ids, timestamps, prefix-cache hits). */
const content = (line: OutputLine) => ({
  custom_id: line.custom_id,
  status: line.response.status_code,
  choices: line.response.body.choices,
  prompt_tokens: line.response.body.usage.prompt_tokens,
  completion_tokens: line.response.body.usage.completion_tokens,
});

describe("loom worker", () => {
  it("finishes a batch whose worker was SIGKILLed halfway, each custom_id once, bodies as in an uninterrupted run", async () => {
    const lines = chatLines(server.model, 60, 48);
    const reference = await startWorker();
    const uninterrupted = await submit(lines);
    expect((await waitForBatch(server.client, uninterrupted.id, undefined, 120_000)).status).toBe("completed");
    reference.kill("SIGTERM");
    expect(await exited(reference)).toBe(0);
    const expected = (await outputOf(uninterrupted.id)).map(content);

    const doomed = await startWorker();
    const created = await submit(lines);
    const halfway = await waitForBatch(
      server.client,
      created.id,
      (b) => (b.request_counts?.completed ?? 0) >= 10,
      120_000,
    );
    doomed.kill("SIGKILL");
    await exited(doomed);
    expect(halfway.request_counts!.completed).toBeLessThan(40);
    const stalled = await server.client.batches.retrieve(created.id);
    expect(stalled.status).toBe("in_progress");

    const rescuer = await startWorker();
    const batch = await waitForBatch(server.client, created.id, undefined, 120_000);
    expect(batch).toMatchObject({ status: "completed", request_counts: { total: 60, completed: 60, failed: 0 } });
    const output = await outputOf(created.id);
    expect(output.map((line) => line.custom_id)).toEqual(lines.map((line) => line.custom_id));
    expect(output.map(content)).toEqual(expected);
    rescuer.kill("SIGTERM");
    expect(await exited(rescuer)).toBe(0);
  });

  it("hands its lines back on SIGTERM past the grace period and exits 0; another worker finishes the batch", async () => {
    const lines = chatLines(server.model, 30, 48);
    const stopping = await startWorker(["--shutdown-grace", "0"]);
    const created = await submit(lines);
    await waitForBatch(server.client, created.id, (b) => (b.request_counts?.completed ?? 0) >= 4, 120_000);
    stopping.kill("SIGTERM");
    expect(await exited(stopping)).toBe(0);
    const left = await server.client.batches.retrieve(created.id);
    expect(left.request_counts!.completed).toBeLessThan(30);

    const finisher = await startWorker();
    const batch = await waitForBatch(server.client, created.id, undefined, 120_000);
    expect(batch).toMatchObject({ status: "completed", request_counts: { total: 30, completed: 30, failed: 0 } });
    expect((await outputOf(created.id)).map((line) => line.custom_id)).toEqual(lines.map((line) => line.custom_id));
    finisher.kill("SIGTERM");
    expect(await exited(finisher)).toBe(0);
  });

  // BullMQ's graceful close waits on Redis; with Redis gone a worker or server held on to SIGTERM forever (found by
  // `npm run cluster`, which stopped Redis beside them). Both must stop well inside their grace period: the worker
  // loses Redis in the middle of its graceful close (lines in hand), the server before its close begins.
  it("stops a worker and a server on SIGTERM when their Redis goes away, without waiting out the grace period", async () => {
    const lost = await startRedis();
    try {
      const other = await startTestServer({ redisUrl: lost.url, batchConcurrency: 0, shutdownGraceSeconds: 60 });
      const worker = await startWorker(["--shutdown-grace", "60"], lost.url);
      const created = await submit(chatLines(other.model, 30, 48), other.client);
      await waitForBatch(other.client, created.id, (b) => (b.request_counts?.completed ?? 0) >= 2, 120_000);
      const started = Date.now();
      worker.kill("SIGTERM");
      await lost.stop();
      expect(await exited(worker)).toBe(0);
      await other.close();
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await lost.close();
    }
  });
});
