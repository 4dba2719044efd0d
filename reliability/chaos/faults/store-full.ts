// The files store full. Files and batches live in Redis (the job store), which refuses writes when it has no room:
// OOM over its maxmemory under the noeviction policy, MISCONF when it cannot persist to its disk. Both are simulated:
// maxmemory set just above what Redis holds (CONFIG SET), and a disk failure made by deleting Redis's data folder
// and asking for a snapshot (it fails with ENOENT where a full disk fails with ENOSPC; Redis refuses writes the same
// way). A real full filesystem needs a size-limited mount, which needs root. Uploads must answer a clear 507, not a
// 500; files already stored stay readable; chat is served throughout; a batch accepted before the store filled
// completes once there is room again.
import { rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { startRedis } from "../../../test/helpers/redis.js";
import { startStack } from "../../common/stack.js";
import { chat, eventually, type Fault, SteadyTraffic, unclearError } from "../fault.js";

const jsonl = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${tag}-${i}`,
      method: "POST",
      url: "/v1/chat/completions",
      body: { model: "tiny", messages: [{ role: "user", content: `line ${i}` }], max_tokens: 16 },
    }),
  ).join("\n");

/** The two ways Redis runs out of room, each with how the operator makes room again. */
const FILLERS = [
  {
    name: "memory (OOM)",
    async fill(admin: Redis) {
      const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]);
      await admin.config("SET", "maxmemory-policy", "noeviction");
      await admin.config("SET", "maxmemory", String(used + 64 * 1024));
    },
    makeRoom: (admin: Redis) => admin.config("SET", "maxmemory", "0"),
  },
  {
    name: "disk (MISCONF)",
    async fill(admin: Redis) {
      const [, dir] = (await admin.config("GET", "dir")) as [string, string];
      await admin.config("SET", "save", "3600 1");
      rmSync(dir, { recursive: true, force: true });
      await admin.bgsave();
      while (!/rdb_bgsave_in_progress:0[\s\S]*rdb_last_bgsave_status:err/.test(await admin.info("persistence")))
        await sleep(100);
    },
    // Redis stays in the folder it started in, gone for good: the way out is to stop snapshots.
    makeRoom: (admin: Redis) => admin.config("SET", "save", ""),
  },
];

async function upload(url: string, text: string): Promise<{ status: number; text: string }> {
  const form = new FormData();
  form.set("purpose", "batch");
  form.set("file", new Blob([text]), "in.jsonl");
  const response = await fetch(`${url}/v1/files`, { method: "POST", body: form });
  return { status: response.status, text: await response.text() };
}

export const storeFull: Fault = {
  name: "store-full",
  what:
    "the files store (Redis) without room: maxmemory just above its use (OOM), then its data folder gone under a " +
    "snapshot (MISCONF, as a full disk gives); both simulated",
  expect:
    "uploads answer a clear 507 in OpenAI's shape; stored files stay readable; chat is served; a batch " +
    "accepted before the store filled completes once there is room",
  async run() {
    const problems: string[] = [];
    const redis = await startRedis();
    const admin = new Redis(redis.url);
    const server = await startStack({ redisUrl: redis.url });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    try {
      const kept = await upload(server.url, jsonl(2, "kept"));
      if (kept.status !== 200) throw new Error(`the first upload failed: ${kept.status} ${kept.text}`);
      const keptId = (JSON.parse(kept.text) as { id: string }).id;
      const batchFile = JSON.parse((await upload(server.url, jsonl(8, "accepted"))).text) as { id: string };
      const batch = await client.batches.create({
        input_file_id: batchFile.id,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      const traffic = new SteadyTraffic(() => chat(server.url, "tiny"));
      const refusedStatuses: number[] = [];
      for (const filler of FILLERS) {
        await filler.fill(admin);
        const refused = await upload(server.url, jsonl(20_000, "big"));
        refusedStatuses.push(refused.status);
        if (refused.status !== 507)
          problems.push(`${filler.name}: an upload answered ${refused.status}, not 507: ${refused.text.slice(0, 200)}`);
        const unclear = unclearError(refused.status, refused.text);
        if (unclear) problems.push(`${filler.name}: ${unclear}`);
        const stored = await fetch(`${server.url}/v1/files/${keptId}/content`);
        if (stored.status !== 200 || !(await stored.text()).includes("kept-1"))
          problems.push(`${filler.name}: a stored file was not readable while the store was full (${stored.status})`);
        await filler.makeRoom(admin);
        const again = await upload(server.url, jsonl(2, "again"));
        if (again.status !== 200)
          problems.push(`${filler.name}: uploads still fail once there is room: ${again.status} ${again.text}`);
      }
      const done = await eventually(
        async () => {
          const b = await client.batches.retrieve(batch.id);
          return !["validating", "in_progress", "finalizing"].includes(b.status);
        },
        120_000,
        500,
      );
      const final = await client.batches.retrieve(batch.id);
      if (!done || final.status !== "completed" || final.request_counts?.completed !== 8)
        problems.push(`the accepted batch ended ${final.status} with ${JSON.stringify(final.request_counts)}`);
      const { ok, failures } = await traffic.stop();
      for (const f of failures.slice(0, 5)) problems.push(`chat failed while the store was full: ${f}`);
      return {
        problems,
        figures: {
          refused_statuses: refusedStatuses.join(" "),
          batch_lines_completed: final.request_counts?.completed ?? 0,
          chats_ok: ok,
        },
      };
    } finally {
      admin.disconnect();
      await server.stop();
      await redis.close();
    }
  },
};
