// The router when replicas fail: none ready, one answering garbage, one killed under load; and its own drain.
import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import {
  freePort,
  type LoomProcess,
  replicaStates,
  sampleValue,
  spawnReplica,
  spawnRouter,
  stop,
} from "../helpers/processes.js";

const processes: LoomProcess[] = [];
const servers: Server[] = [];

afterAll(async () => {
  for (const server of servers) server.close();
  await Promise.all(processes.map((p) => stop(p, "SIGKILL")));
});

async function started(p: Promise<LoomProcess>): Promise<LoomProcess> {
  const process = await p;
  processes.push(process);
  return process;
}

interface Outcome {
  readonly status: number;
  readonly replica: string | null;
  readonly stream: boolean;
  /** The whole answer arrived (a JSON body, or an SSE stream ending in [DONE]). */
  readonly complete: boolean;
  /** Body bytes received before it broke off. */
  readonly bytes: number;
}

async function completion(url: string, stream: boolean, maxTokens = 24): Promise<Outcome> {
  const response = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "tiny",
      prompt: "the quick brown fox",
      max_tokens: maxTokens,
      ignore_eos: true,
      stream,
    }),
  });
  const replica = response.headers.get("x-loom-replica");
  let text = "";
  let complete = false;
  try {
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) text += decoder.decode(chunk, { stream: true });
    complete = stream ? text.endsWith("data: [DONE]\n\n") : JSON.parse(text).choices.length === 1;
  } catch {
    complete = false;
  }
  return { status: response.status, replica, stream, complete, bytes: text.length };
}

/** A server that passes the router's probes but answers anything else with `reply`. */
async function garbageReplica(reply: string): Promise<string> {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", (data) => {
      const line = data.toString("latin1").split("\r\n")[0]!;
      if (line.startsWith("GET /health/ready") || line.startsWith("GET /metrics"))
        socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
      else socket.end(reply);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe("failing replicas", () => {
  it("answers 503 with Retry-After when no replica is ready, and its readiness says so", async () => {
    const router = await started(spawnRouter([`http://127.0.0.1:${await freePort()}`]));
    const response = await fetch(`${router.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("no_replica");
    expect((await fetch(`${router.url}/health/ready`)).status).toBe(503);
    expect((await fetch(`${router.url}/health/live`)).status).toBe(200);
  });

  it("ejects replicas that answer garbage and retries the request on the next one", async () => {
    const notHttp = await garbageReplica("\u0000\u0001 this is not HTTP at all\r\n\r\n");
    const malformed = await garbageReplica("HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n{}");
    // Headers and a cut JSON answer: nothing has reached the client yet, so it is retried like the others.
    const cut = await garbageReplica('HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n{"choices":[');
    // A stream's headers and no first token (a replica that dies in the prefill): nothing reached the client either.
    const silent = await garbageReplica(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const real = await started(spawnReplica());
    const router = await started(
      spawnRouter(
        [notHttp, malformed, cut, silent, real.url],
        ["--policy", "round-robin", "--ejection-time", "60", "--max-attempts", "5"],
      ),
    );
    for (let n = 0; n < 4; n++) {
      const outcome = await completion(router.url, n % 2 === 0);
      expect(outcome).toMatchObject({ status: 200, replica: real.url, complete: true });
    }
    const states = Object.fromEntries((await replicaStates(router.url)).map((r) => [r.url, r.state]));
    expect(states).toEqual({
      [notHttp]: "ejected",
      [malformed]: "ejected",
      [cut]: "ejected",
      [silent]: "ejected",
      [real.url]: "healthy",
    });
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    for (const [garbage, kind] of [
      [notHttp, "protocol"],
      [malformed, "protocol"],
      [cut, "reset"],
      [silent, "reset"],
    ])
      expect(sampleValue(metrics, "loom:router_upstream_failures_total", `replica="${garbage}",kind="${kind}"`)).toBe(
        1,
      );
    expect(sampleValue(metrics, "loom:router_retries_total")).toBe(4);
  });

  it("loses no request that had not started streaming when a replica is killed under load", async () => {
    const [a, b] = await Promise.all([started(spawnReplica()), started(spawnReplica())]);
    const router = await started(spawnRouter([a!.url, b!.url], ["--policy", "round-robin"]));
    const outcomes: Outcome[] = [];
    let running = true;
    const worker = async (stream: boolean) => {
      while (running) outcomes.push(await completion(router.url, stream, 40));
    };
    const workers = [false, false, true, true].map(worker);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const servedByB = outcomes.filter((o) => o.replica === b!.url).length;
    await stop(b!, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    running = false;
    await Promise.all(workers);
    expect(servedByB).toBeGreaterThan(0);
    for (const outcome of outcomes) {
      if (outcome.stream && outcome.status === 200 && !outcome.complete) {
        // Broken off mid-stream by the kill: allowed only once bytes had reached the client.
        expect(outcome.replica).toBe(b!.url);
        expect(outcome.bytes).toBeGreaterThan(0);
      } else expect(outcome).toMatchObject({ status: 200, complete: true });
    }
    expect(outcomes.filter((o) => o.replica === a!.url && o.complete).length).toBeGreaterThan(servedByB);
    const states = Object.fromEntries((await replicaStates(router.url)).map((r) => [r.url, r.state]));
    expect(states[a!.url]).toBe("healthy");
    expect(["ejected", "not-ready"]).toContain(states[b!.url]);
  });
});

describe("router drain", () => {
  it("on SIGTERM finishes the streams in flight, takes no new requests and exits 0", async () => {
    const replica = await started(spawnReplica());
    const router = await started(spawnRouter([replica.url]));
    const inFlight = completion(router.url, true, 300);
    await new Promise((resolve) => setTimeout(resolve, 300));
    router.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const late = await fetch(`${router.url}/health/ready`).then(
      (r) => r.status,
      () => "refused",
    );
    expect([503, "refused"]).toContain(late);
    expect(await inFlight).toMatchObject({ status: 200, complete: true });
    expect(await router.exited).toBe(0);
  });
});
