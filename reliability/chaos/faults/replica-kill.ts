// kill -9 of one of two `loom serve` replicas behind `loom router` (real processes) under steady traffic, then the
// replica started again on its port. The router retries a request that has had no byte of answer yet, so no
// non-streamed request may fail; a stream cut mid-answer must end (not hang); the replica takes traffic again once
// it is back.
import { setTimeout as sleep } from "node:timers/promises";
import {
  freePort,
  type LoomProcess,
  replicaStates,
  spawnReplica,
  spawnRouter,
  stop,
} from "../../../test/helpers/processes.js";
import { chat, eventually, type Fault, SteadyTraffic } from "../fault.js";

const MODEL = "tiny";

/** A streamed chat read to its end; resolves with how it ended. */
async function stream(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Tell" }], max_tokens: 48, stream: true }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text().catch((error: Error) => `cut: ${error.message}`);
  // A cut stream is expected during the kill; it ended, which is what is checked (a hang would time out).
  return { status: response.status === 200 ? 200 : response.status, text };
}

export const replicaKill: Fault = {
  name: "replica-kill",
  what: "kill -9 of one replica of two behind loom router, under load; then the replica restarted on its port",
  expect:
    "no non-streamed request fails (the router retries before the first byte); streams end; the killed replica is " +
    "marked down and takes traffic again after its restart",
  async run() {
    const problems: string[] = [];
    const port = await freePort();
    let a: LoomProcess = await spawnReplica(port);
    const b = await spawnReplica();
    const router = await spawnRouter([a.url, b.url]);
    try {
      const plain = new SteadyTraffic(() => chat(router.url, MODEL), 3);
      const streams = new SteadyTraffic(() => stream(router.url), 2);
      await sleep(3000);
      a.child.kill("SIGKILL");
      await a.exited;
      const down = await eventually(
        async () => (await replicaStates(router.url)).find((r) => r.url === a.url)?.state !== "healthy",
        10_000,
      );
      if (!down) problems.push("the router never marked the killed replica down");
      await sleep(3000);
      a = await spawnReplica(port);
      const back = await eventually(
        async () => (await replicaStates(router.url)).find((r) => r.url === a.url)?.state === "healthy",
        30_000,
      );
      if (!back) problems.push("the restarted replica was not marked healthy within 30 s");
      // Traffic reaches it again: some answers name it. Prompts that differ from their first character, so a
      // prefix-affinity policy spreads them over the replicas.
      let probe = 0;
      const served = await eventually(
        async () => {
          const response = await fetch(`${router.url}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              model: MODEL,
              messages: [{ role: "user", content: `${probe++} ${Math.random()}` }],
              max_tokens: 1,
            }),
          });
          await response.arrayBuffer();
          return response.headers.get("x-loom-replica") === a.url;
        },
        10_000,
        50,
      );
      if (!served) problems.push("no answer came from the restarted replica");
      const plainResult = await plain.stop();
      const streamResult = await streams.stop();
      for (const f of plainResult.failures.slice(0, 5)) problems.push(`a non-streamed request failed: ${f}`);
      const errors = streamResult.failures.filter((f) => !f.startsWith("200"));
      for (const f of errors.slice(0, 5)) problems.push(`a stream did not start: ${f}`);
      return {
        problems,
        figures: {
          requests_ok: plainResult.ok,
          requests_failed: plainResult.failures.length,
          streams_ended: streamResult.ok + streamResult.failures.length,
        },
      };
    } finally {
      await Promise.all([stop(router), stop(a), stop(b)]);
    }
  },
};
