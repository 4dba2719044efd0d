// The routes behind the web UI on a real server: the page and its assets, the stats stream, the running-requests
// list and its cancel, their keys, and --no-ui.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uiRoutes } from "../../src/api/ui/static.js";
import { eventually, startTestServer, type TestServer } from "../helpers/server.js";
import { sseEvents, startStream } from "../helpers/streams.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

interface WireRequest {
  readonly id: string;
  readonly state: string;
  readonly output_tokens: number;
  readonly prompt_tokens: number;
  readonly model: string;
  readonly adapter: string | null;
}

const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string | null; param: string | null } }).error;

const listRequests = async (headers: Record<string, string> = {}) =>
  ((await (await fetch(`${server.url}/loom/v1/requests`, { headers })).json()) as { data: WireRequest[] }).data;

describe("the web UI's routes", () => {
  it("serves the page at / and /ui and its hashed assets, all from this server", async () => {
    for (const path of ["/", "/ui", "/ui/"]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
      const html = await response.text();
      const script = /src="(\/ui\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const asset = await fetch(`${server.url}${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(asset.headers.get("cache-control")).toMatch(/immutable/);
      expect(html).not.toMatch(/(src|href)="https?:/);
    }
    const missing = await fetch(`${server.url}/ui/assets/nothing.js`);
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe("not_found");
    expect(await (await fetch(`${server.url}/loom/v1/capabilities`)).json()).toEqual({
      object: "capabilities",
      data: ["requests", "batches", "stats_stream"],
    });
  });

  it("refuses to start without a built bundle, naming the fix", () => {
    expect(() => uiRoutes("/nonexistent/ui")).toThrow(/web UI is not built.*npm run build:ui.*--no-ui/);
  });

  it("streams samples of the server's numbers at the interval asked for", async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/loom/v1/stats/stream?interval_ms=50&window_ms=2000`, {
      signal: controller.signal,
    });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const load = Promise.all(
      [0, 1, 2].map((i) =>
        server.client.chat.completions.create({
          model: server.model,
          messages: [{ role: "user", content: `question ${i}` }],
          max_tokens: 12,
        }),
      ),
    );
    let samples = 0;
    let seen: any = null;
    for await (const event of sseEvents(response)) {
      expect(event.event).toBe("stats");
      const sample = JSON.parse(event.data);
      samples++;
      expect(sample.object).toBe("stats.sample");
      seen = sample.series.find((s: { model: string }) => s.model === server.model);
      if (seen?.requests_per_second > 0 && seen.ttft_seconds.p50 !== null) break;
    }
    controller.abort();
    await load;
    expect(samples).toBeGreaterThan(1);
    expect(seen).toMatchObject({ model: server.model, variant: null, num_requests_waiting: 0 });
    expect(seen.output_tokens_per_second).toBeGreaterThan(0);
    expect(seen.ttft_seconds.p50).toBeGreaterThan(0);
    expect(seen.ttft_seconds.p99).toBeGreaterThanOrEqual(seen.ttft_seconds.p50);
    expect(seen.kv_cache_usage).toBeGreaterThanOrEqual(0);

    const bad = await fetch(`${server.url}/loom/v1/stats/stream?interval_ms=5`);
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).param).toBe("interval_ms");
  });

  it("lists a running stream with its tokens so far; its cancel ends the stream with finish_reason abort", async () => {
    const stream = await startStream(server.url, server.model, { maxTokens: 3000 });
    expect(await pollListed(stream.id)).toMatchObject({
      id: stream.id,
      model: server.model,
      adapter: null,
      state: "running",
      prompt_tokens: expect.any(Number),
    });
    const cancel = await fetch(`${server.url}/loom/v1/requests/${stream.id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toEqual({ id: stream.id, object: "request", cancelled: true });
    expect(await stream.ended).toEqual({ finishReason: "abort", done: true });
    await eventually(
      () => server.registry.get(server.model).inFlight().length,
      (n) => n === 0,
    );
    expect(await listRequests()).toEqual([]);
    const again = await fetch(`${server.url}/loom/v1/requests/${stream.id}/cancel`, { method: "POST" });
    expect(again.status).toBe(404);
    expect((await errorOf(again)).code).toBe("request_not_found");
  });
});

/** Polls the list until `id` shows tokens, failing with what it last saw. */
async function pollListed(id: string): Promise<WireRequest> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = (await listRequests()).find((r) => r.id === id && r.output_tokens > 0);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`request ${id} never showed tokens in /loom/v1/requests`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the web UI's routes with keys", () => {
  let keyed: TestServer;
  beforeAll(async () => {
    keyed = await startTestServer({ apiKeys: ["user-key"], adminKeys: ["admin-key"] });
  });
  afterAll(async () => {
    await keyed?.close();
  });

  it("opens the page to anyone, the numbers and the list to API keys, the cancel to admin keys only", async () => {
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
    expect((await fetch(`${keyed.url}/`)).status).toBe(200);
    for (const path of ["/loom/v1/requests", "/loom/v1/capabilities", "/loom/v1/stats/stream"])
      expect((await fetch(`${keyed.url}${path}`)).status).toBe(401);
    expect((await fetch(`${keyed.url}/loom/v1/requests`, { headers: bearer("user-key") })).status).toBe(200);
    const cancel = (key: string) =>
      fetch(`${keyed.url}/loom/v1/requests/chatcmpl-none/cancel`, { method: "POST", headers: bearer(key) });
    expect((await cancel("user-key")).status).toBe(401);
    expect((await cancel("admin-key")).status).toBe(404);
  });
});

describe("--no-ui", () => {
  let plain: TestServer;
  beforeAll(async () => {
    plain = await startTestServer({ ui: false });
  });
  afterAll(async () => {
    await plain?.close();
  });

  it("serves no page, while the numbers and the requests list stay", async () => {
    for (const path of ["/", "/ui"]) expect((await fetch(`${plain.url}${path}`)).status).toBe(404);
    expect((await fetch(`${plain.url}/loom/v1/requests`)).status).toBe(200);
  });
});
