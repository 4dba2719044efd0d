// A job store with no room answers 507 in OpenAI's error shape, not a 500, whatever the cause: Redis over its
// maxmemory under noeviction (OOM) or unable to persist to its disk (MISCONF, here a snapshot whose folder is gone).
// Files already stored stay readable, chat is served, and uploads work again once there is room. Found by the
// chaos run's store-full fault (reliability/chaos/faults/store-full.ts).
import { rmSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatLines, toJsonl, uploadJsonl } from "../helpers/batches.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let redis: TestRedis;
let admin: Redis;
let server: TestServer;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  server = await startTestServer({ redisUrl: redis.url });
});
afterAll(async () => {
  admin?.disconnect();
  await server?.close();
  await redis?.close();
});

async function upload(): Promise<{ status: number; body: { error?: { message: string; code: string } } }> {
  const form = new FormData();
  form.set("purpose", "batch");
  form.set("file", new Blob([toJsonl(chatLines(server.model, 50))]), "in.jsonl");
  const response = await fetch(`${server.url}/v1/files`, { method: "POST", body: form });
  return { status: response.status, body: (await response.json()) as { error?: { message: string; code: string } } };
}

async function expectFullThenRoom(makeRoom: () => Promise<void>, reply: RegExp): Promise<void> {
  const refused = await upload();
  expect(refused.status).toBe(507);
  expect(refused.body.error!.code).toBe("insufficient_storage");
  expect(refused.body.error!.message).toMatch(reply);
  const chat = await server.client.chat.completions.create({
    model: server.model,
    messages: [{ role: "user", content: "hi" }],
    max_tokens: 2,
  });
  expect(chat.choices).toHaveLength(1);
  await makeRoom();
  expect((await upload()).status).toBe(200);
}

/** Waits until Redis's last snapshot has failed; BGSAVE reports in INFO once its child exits. */
async function snapshotFailed(): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const info = await admin.info("persistence");
    if (/rdb_bgsave_in_progress:0/.test(info) && /rdb_last_bgsave_status:err/.test(info)) return;
    if (Date.now() > deadline) throw new Error(`the snapshot did not fail: ${info}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("a job store without room", () => {
  it("answers 507 when Redis is over its maxmemory, and stored files stay readable", async () => {
    const kept = await uploadJsonl(server.client, toJsonl(chatLines(server.model, 2)));
    const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]);
    await admin.config("SET", "maxmemory-policy", "noeviction");
    await admin.config("SET", "maxmemory", String(used + 16 * 1024));
    const content = await server.client.files.content(kept.id);
    expect(await content.text()).toContain(server.model);
    await expectFullThenRoom(() => admin.config("SET", "maxmemory", "0").then(() => {}), /^the job store .*OOM/);
  });

  it("answers 507 when Redis cannot persist to its disk", async () => {
    const [, dir] = (await admin.config("GET", "dir")) as [string, string];
    await admin.config("SET", "save", "3600 1");
    rmSync(dir, { recursive: true, force: true });
    await admin.bgsave();
    await snapshotFailed();
    // Redis works in the folder it started in, gone for good; the operator's way out is to stop the snapshots.
    await expectFullThenRoom(() => admin.config("SET", "save", "").then(() => {}), /^the job store .*MISCONF/);
  });
});
