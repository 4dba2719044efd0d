// Routes that protect clients from a failing or busy model: a progressive rollout whose candidate fails rolls
// itself back (and says why in the log, the metrics and the admin API); a circuit breaker opens on consecutive
// failures, sends traffic to the fallback (or answers 503 with Retry-After) and closes again after a successful
// probe; a busy model answers 429 while the others keep serving, and a route caps its own queue.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, post, type RoutingServer, startRoutingServer } from "../helpers/routing.js";

const CONFIG = `
kv_tokens: 4096
max_running: 8
models:
  - { name: story }
  - { name: story, version: 2 }
  - { name: tiny, max_running: 1, max_waiting: 2 }
routes:
  - name: ramp
    rollout:
      primary: story@1
      # An impossibly low timeout: every request the candidate gets fails.
      candidate: { target: story@2, timeout: 0.001 }
      steps: [50, 100]
      stage_seconds: 3600
      min_requests: 5
      guards: { max_error_rate: 0.2 }
  - name: guarded
    target: story@2
    fallback: { target: story@1, failures: 3, cooldown_seconds: 1 }
  - name: strict
    target: story@2
    fallback: { failures: 2, cooldown_seconds: 1 }
  - { name: queued, target: tiny, max_waiting: 1 }
`;

let server: RoutingServer;
beforeAll(async () => {
  server = await startRoutingServer(CONFIG);
});
afterAll(async () => {
  await server?.close();
});

/** A completion long enough that a 1 ms timeout always ends it. */
const complete = (model: string, extra: Record<string, unknown> = {}) =>
  post(server.url, "/v1/completions", {
    model,
    prompt: "Once upon a time",
    max_tokens: 64,
    ignore_eos: true,
    ...extra,
  });

const route = async (name: string) => (await (await fetch(`${server.url}/loom/v1/routes/${name}`)).json()) as any;

describe("a progressive rollout with a failing candidate", () => {
  it("rolls back by itself and says why in the log, the metrics and the admin API", async () => {
    expect((await route("ramp")).rollout).toEqual({ stage: 0, weight: 0.5, state: "progressing", reason: null });
    let failures = 0;
    for (let i = 0; i < 200 && (await route("ramp")).rollout.state !== "rolled_back"; i++) {
      const response = await complete("ramp");
      if (response.status === 504) {
        failures++;
        expect(response.headers.get("x-loom-served-model")).toBe("story@2");
        expect(response.body.error.code).toBe("request_timeout");
      } else expect(response.headers.get("x-loom-served-model")).toBe("story@1");
    }
    expect(failures).toBe(5);
    const { rollout, targets } = await route("ramp");
    expect(rollout).toEqual({
      stage: -1,
      weight: 0,
      state: "rolled_back",
      reason: "candidate error rate 100.0% over 5 requests is above 20.0%",
    });
    expect(targets.map((t: { target: string; weight: number }) => [t.target, t.weight])).toEqual([
      ["story@1", 1],
      ["story@2", 0],
    ]);
    expect(server.logs.find((l) => l.event === "rollout_rollback")).toMatchObject({
      level: "warn",
      route: "ramp",
      candidate_weight_from: 0.5,
      candidate_weight_to: 0,
      reason: rollout.reason,
    });
    expect(await metricValue(server.url, "loom:rollout_rollbacks_total", { route: "ramp" })).toBe(1);
    expect(await metricValue(server.url, "loom:rollout_candidate_weight", { route: "ramp" })).toBe(0);
    for (let i = 0; i < 10; i++) {
      const response = await complete("ramp");
      expect(response.status).toBe(200);
      expect(response.headers.get("x-loom-served-model")).toBe("story@1");
    }
  });
});

describe("a circuit breaker", () => {
  // The request's own timeout (Loom's `timeout` extension) makes a healthy target fail on demand.
  const failing = { timeout: 0.001 };

  it("opens after consecutive failures, sends traffic to the fallback, and closes after a successful probe", async () => {
    for (let i = 0; i < 3; i++) expect((await complete("guarded", failing)).status).toBe(504);
    expect((await route("guarded")).targets[0]).toMatchObject({ target: "story@2", breaker: "open" });
    expect(await metricValue(server.url, "loom:circuit_breaker_state", { route: "guarded", target: "story@2" })).toBe(
      1,
    );
    const diverted = await complete("guarded");
    expect(diverted.status).toBe(200);
    expect(diverted.headers.get("x-loom-served-model")).toBe("story@1");
    expect(diverted.headers.get("x-loom-variant")).toBe("story@1");
    expect(
      await metricValue(server.url, "loom:route_fallbacks_total", { route: "guarded", reason: "breaker_open" }),
    ).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await route("guarded")).targets[0].breaker).toBe("half_open");
    const probe = await complete("guarded");
    expect(probe.headers.get("x-loom-served-model")).toBe("story@2");
    expect((await route("guarded")).targets[0].breaker).toBe("closed");
    expect((await complete("guarded")).headers.get("x-loom-served-model")).toBe("story@2");
    expect(await metricValue(server.url, "loom:circuit_breaker_state", { route: "guarded", target: "story@2" })).toBe(
      0,
    );
  });

  it("answers 503 with Retry-After while open when there is no fallback target", async () => {
    for (let i = 0; i < 2; i++) expect((await complete("strict", failing)).status).toBe(504);
    const refused = await complete("strict");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.body.error).toMatchObject({ code: "unavailable", type: "server_error" });
    expect(refused.body.error.message).toBe(
      "route 'strict': target 'story@2' is failing and its circuit breaker is open; retry later",
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await complete("strict")).status).toBe(200);
    expect((await route("strict")).targets[0].breaker).toBe("closed");
  });
});

describe("limits per model and per route", () => {
  const long = (model: string) =>
    fetch(`${server.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, prompt: "Once upon a time", max_tokens: 3000, ignore_eos: true, stream: true }),
    });

  it("answers 429 for the busy model only, while the others keep serving", async () => {
    const running = await long("tiny");
    await waitFor(() => server.registry.get("tiny@1").engine.stats().numRunning === 1);
    const queued = await Promise.all([long("tiny"), long("tiny")]);
    const refused = await complete("tiny");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.body.error.message).toBe(
      "the server is overloaded: 2 sequences are waiting (at most 2); retry later",
    );
    const other = await complete("story@1");
    expect(other.status).toBe(200);
    for (const response of [running, ...queued]) await response.body?.cancel();
    await waitFor(() => server.registry.get("tiny@1").inFlight().length === 0);
  });

  it("caps the requests a route lets wait, with a 429 naming the route", async () => {
    const running = await long("queued");
    // Running and past its first token: it no longer counts as waiting.
    await waitFor(() => server.registry.get("tiny@1").engine.stats().numRunning === 1);
    await waitFor(() => server.routing.route("queued")!.numWaiting === 0);
    const waiting = await long("queued");
    expect(waiting.status).toBe(200);
    await waitFor(() => server.routing.route("queued")!.numWaiting === 1);
    const refused = await complete("queued");
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toBe("route 'queued' has 1 requests waiting (at most 1)");
    for (const response of [running, waiting]) await response.body?.cancel();
    await waitFor(() => server.routing.route("queued")!.numWaiting === 0);
    await waitFor(() => server.registry.get("tiny@1").inFlight().length === 0);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
