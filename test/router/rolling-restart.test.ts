// A rolling restart behind the router: each replica in turn gets SIGTERM (its readiness turns 503 and it drains),
// exits, and comes back on the same port, while clients keep sending requests. Every request must complete.
import { afterAll, expect, it } from "vitest";
import { freePort, type LoomProcess, replicaStates, spawnReplica, spawnRouter, stop } from "../helpers/processes.js";

const processes: LoomProcess[] = [];

afterAll(async () => {
  await Promise.all(processes.map((p) => stop(p, "SIGKILL")));
});

async function completes(url: string, stream: boolean): Promise<{ status: number; complete: boolean }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "tiny",
      messages: [{ role: "user", content: "count to twenty" }],
      max_tokens: 24,
      ignore_eos: true,
      stream,
    }),
  });
  const text = await response.text();
  return { status: response.status, complete: stream ? text.endsWith("data: [DONE]\n\n") : text.includes('"length"') };
}

async function waitUntilHealthy(router: string, replica: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await replicaStates(router)).find((r) => r.url === replica)?.state === "healthy") return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${replica} was not re-admitted within 30 s`);
}

it("completes every request through a rolling restart of all replicas", async () => {
  const ports = [await freePort(), await freePort()];
  const replicas = await Promise.all(ports.map((port) => spawnReplica(port, ["--shutdown-grace", "10"])));
  processes.push(...replicas);
  const router = await spawnRouter(
    replicas.map((r) => r.url),
    ["--policy", "least-load"],
  );
  processes.push(router);
  const outcomes: { status: number; complete: boolean }[] = [];
  let running = true;
  const client = async (stream: boolean) => {
    while (running) outcomes.push(await completes(router.url, stream));
  };
  const clients = [false, true, true].map(client);
  for (const [index, port] of ports.entries()) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const old = replicas[index]!;
    expect(await stop(old, "SIGTERM")).toBe(0);
    const fresh = await spawnReplica(port, ["--shutdown-grace", "10"]);
    processes.push(fresh);
    replicas[index] = fresh;
    await waitUntilHealthy(router.url, fresh.url);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  running = false;
  await Promise.all(clients);
  expect(outcomes.length).toBeGreaterThan(20);
  expect(outcomes.filter((o) => o.status !== 200 || !o.complete)).toEqual([]);
});
