// Blue-green under load: 32 streams run on one version while the route switches to another and the old version is
// unloaded (or reloaded in place); every stream finishes whole, new requests go to the new version at once, and the
// old one is freed only after its last stream ended.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, post, type RoutingServer, startRoutingServer } from "../helpers/routing.js";
import { sseEvents } from "../helpers/streams.js";

const STREAMS = 32;
const MAX_TOKENS = 400;

const CONFIG = `
kv_tokens: 16384
kv_layout: per-sequence
max_running: 32
models:
  - { name: story }
  - { name: story, version: 2 }
routes:
  - { name: live, target: story@1 }
`;

let server: RoutingServer;
beforeAll(async () => {
  server = await startRoutingServer(CONFIG);
});
afterAll(async () => {
  await server?.close();
});

interface StreamEnd {
  readonly servedBy: string | null;
  readonly finishReason: string | null;
  readonly completionTokens: number | null;
  readonly done: boolean;
}

/** Starts a stream; resolves `started` at its first chunk and `ended` with how it ended. */
async function stream(model: string): Promise<{ ended: Promise<StreamEnd> }> {
  const response = await fetch(`${server.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model,
      prompt: "Once upon a time",
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: MAX_TOKENS,
      ignore_eos: true,
    }),
  });
  expect(response.status).toBe(200);
  const servedBy = response.headers.get("x-loom-served-model");
  const events = sseEvents(response);
  const first = await events.next();
  expect(first.done).toBe(false);
  const ended = (async () => {
    let finishReason: string | null = null;
    let completionTokens: number | null = null;
    for await (const event of events) {
      if (event.data === "[DONE]") return { servedBy, finishReason, completionTokens, done: true };
      const chunk = JSON.parse(event.data);
      if (chunk.error) throw new Error(`stream failed: ${chunk.error.message}`);
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
      completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
    }
    return { servedBy, finishReason, completionTokens, done: false };
  })();
  return { ended };
}

const whole = { finishReason: "length", completionTokens: MAX_TOKENS, done: true };

describe("a blue-green switch under 32 concurrent streams", () => {
  it("switches the route and drains the old version without losing a request", async () => {
    const streams = await Promise.all(Array.from({ length: STREAMS }, () => stream("live")));
    const switched = await fetch(`${server.url}/loom/v1/routes`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ name: "live", target: "story@2" }]),
    });
    expect(switched.status).toBe(200);
    const unload = post(server.url, "/loom/v1/repository/models/story/unload", { version: 1 });
    const after = await post(server.url, "/v1/chat/completions", {
      model: "live",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 1,
    });
    expect(after.headers.get("x-loom-served-model")).toBe("story@2");
    const direct = await post(server.url, "/v1/completions", { model: "story@1", prompt: "x", max_tokens: 1 });
    expect(direct.status).toBe(404);
    const draining = (await jsonOf(await fetch(`${server.url}/loom/v1/repository`))).data;
    expect(draining.find((e: { version: string }) => e.version === "1").state).toBe("DRAINING");
    const ends = await Promise.all(streams.map((s) => s.ended));
    expect(ends).toEqual(Array.from({ length: STREAMS }, () => ({ servedBy: "story@1", ...whole })));
    expect(await unload).toMatchObject({ status: 200, body: { unloaded: ["story@1"] } });
    const index = (await jsonOf(await fetch(`${server.url}/loom/v1/repository`))).data;
    expect(index.find((e: { version: string }) => e.version === "1")).toMatchObject({ state: "UNAVAILABLE" });
  });

  it("reloads the serving version in place: new requests take the new copy, running streams finish on the old", async () => {
    const streams = await Promise.all(Array.from({ length: STREAMS }, () => stream("live")));
    const before = server.registry.get("story@2");
    const reload = post(server.url, "/loom/v1/repository/models/story/load", { version: 2 });
    while (server.registry.get("story@2") === before) await new Promise((resolve) => setTimeout(resolve, 5));
    const fresh = server.registry.get("story@2");
    const after = await post(server.url, "/v1/completions", { model: "live", prompt: "Once", max_tokens: 1 });
    expect(after.status).toBe(200);
    expect(before.inFlight().length).toBeGreaterThan(0);
    expect(fresh.inFlight()).toEqual([]);
    const ends = await Promise.all(streams.map((s) => s.ended));
    expect(ends).toEqual(Array.from({ length: STREAMS }, () => ({ servedBy: "story@2", ...whole })));
    expect(await reload).toMatchObject({ status: 200, body: { model: "story@2", state: "READY" } });
    expect(before.inFlight()).toEqual([]);
  });
});
