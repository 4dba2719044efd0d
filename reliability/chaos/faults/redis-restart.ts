// Redis (a real redis-server, AOF with an fsync per write) stopped and started again while batches run. Every batch
// accepted before the restart must complete with every line answered exactly once; chat keeps being served during
// the outage, and the jobs routes answer a clear 503 while Redis is away.
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";
import { startRedis } from "../../../test/helpers/redis.js";
import { startStack } from "../../common/stack.js";
import { chat, eventually, type Fault, SteadyTraffic, unclearError } from "../fault.js";

const BATCHES = 4;
const LINES = 6;

export const redisRestart: Fault = {
  name: "redis-restart",
  what: "redis-server stopped (SIGTERM) and started again on its port and data folder while batches are in flight",
  expect:
    "every accepted batch completes with each line answered once; chat is served throughout; jobs routes answer " +
    "503 with a message while Redis is down",
  async run() {
    const problems: string[] = [];
    const redis = await startRedis();
    const server = await startStack({ redisUrl: redis.url });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    try {
      const ids: string[] = [];
      for (let b = 0; b < BATCHES; b++) {
        const lines = Array.from({ length: LINES }, (_, i) =>
          JSON.stringify({
            custom_id: `b${b}-${i}`,
            method: "POST",
            url: "/v1/chat/completions",
            body: { model: "tiny", messages: [{ role: "user", content: `line ${i}` }], max_tokens: 24 },
          }),
        );
        const file = await client.files.create({ file: new File([lines.join("\n")], "in.jsonl"), purpose: "batch" });
        const batch = await client.batches.create({
          input_file_id: file.id,
          endpoint: "/v1/chat/completions",
          completion_window: "24h",
        });
        ids.push(batch.id);
      }
      const traffic = new SteadyTraffic(() => chat(server.url, "tiny"));
      await sleep(300);
      const states = await Promise.all(ids.map((id) => client.batches.retrieve(id)));
      const inFlight = states.filter((b) => b.status !== "completed").length;
      if (inFlight === 0) problems.push("every batch had completed before the restart: the run proved nothing");
      await redis.stop();
      // While Redis is down: the jobs routes answer a clear 503.
      const during = await fetch(`${server.url}/v1/batches/${ids[0]}`);
      const duringText = await during.text();
      if (during.status !== 503) problems.push(`GET /v1/batches/{id} answered ${during.status} while Redis was down`);
      const unclear = unclearError(during.status, duringText);
      if (unclear) problems.push(unclear);
      await sleep(2000);
      await redis.restart();
      const done = await eventually(
        async () => {
          const states = await Promise.all(ids.map((id) => client.batches.retrieve(id)));
          return states.every((b) => !["validating", "in_progress", "finalizing"].includes(b.status));
        },
        120_000,
        500,
      );
      if (!done) problems.push("batches still in progress 120 s after Redis came back");
      let linesAnswered = 0;
      for (const id of ids) {
        const batch = await client.batches.retrieve(id);
        if (batch.status !== "completed") problems.push(`${id} ended ${batch.status}`);
        if (!batch.output_file_id) continue;
        const output = await (await client.files.content(batch.output_file_id)).text();
        const customIds = output
          .trim()
          .split("\n")
          .map((l) => (JSON.parse(l) as { custom_id: string }).custom_id);
        linesAnswered += customIds.length;
        if (new Set(customIds).size !== LINES || customIds.length !== LINES)
          problems.push(`${id}: ${customIds.length} output lines, ${new Set(customIds).size} distinct, ${LINES} sent`);
      }
      const { ok, failures } = await traffic.stop();
      for (const f of failures.slice(0, 5)) problems.push(`chat failed during the Redis restart: ${f}`);
      return {
        problems,
        figures: {
          batches: BATCHES,
          in_flight_at_stop: inFlight,
          lines_sent: BATCHES * LINES,
          lines_answered: linesAnswered,
          chats_ok: ok,
        },
      };
    } finally {
      await server.stop();
      await redis.close();
    }
  },
};
