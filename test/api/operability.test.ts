// Metrics, overload, disconnects and timeouts on a real server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ kvTokens: 2048, maxRunning: 8, maxWaiting: 24 });
});
afterAll(async () => {
  await server?.close();
});

const engineStats = () => server.registry.get(server.model).engine.stats();

async function scrape(): Promise<Map<string, number>> {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      if (comment[1] === "TYPE") typed.add(comment[2]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    expect(sample, `not Prometheus text: ${line}`).not.toBeNull();
    const family = sample![1]!.replace(/_(bucket|sum|count)$/, "");
    expect(typed.has(sample![1]!) || typed.has(family), `no TYPE for ${sample![1]}`).toBe(true);
    samples.set(`${sample![1]}${sample![2] ?? ""}`, Number(sample![3]));
  }
  return samples;
}

const metric = (samples: Map<string, number>, key: string) => samples.get(key) ?? 0;

async function streamUntilEnd(body: Record<string, unknown>): Promise<{ status: number; retryAfter: string | null }> {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: server.model, messages: [{ role: "user", content: "hi" }], stream: true, ...body }),
  });
  await response.text();
  return { status: response.status, retryAfter: response.headers.get("retry-after") };
}

describe("operability", () => {
  it("says its own time in Server-Timing on every answer: scrapes, errors and streams", async () => {
    const timing = (response: Response) =>
      /(?:^|, )app;dur=(\d+\.\d{3})(?:,|$)/.exec(response.headers.get("server-timing") ?? "");
    const streamed = await fetch(`${server.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: server.model, prompt: "hi", max_tokens: 2, stream: true }),
    });
    await streamed.text();
    for (const response of [
      await fetch(`${server.url}/metrics`),
      await fetch(`${server.url}/v1/models/nope`),
      streamed,
    ]) {
      const match = timing(response);
      expect(match, `${response.url}: ${response.headers.get("server-timing")}`).not.toBeNull();
      expect(Number(match![1])).toBeGreaterThan(0);
      expect(Number(match![1])).toBeLessThan(60_000);
    }
  });

  it("exports vLLM-named metrics whose counters equal the workload sent", async () => {
    const m = `{model_name="${server.model}"}`;
    const before = await scrape();
    const usages = [];
    for (let i = 0; i < 3; i++)
      usages.push(
        (
          await server.client.chat.completions.create({
            model: server.model,
            messages: [{ role: "user", content: `question ${i}` }],
            max_tokens: 5,
          })
        ).usage!,
      );
    usages.push(
      (await server.client.completions.create({ model: server.model, prompt: "Once", max_tokens: 4, n: 2 })).usage!,
    );
    const after = await scrape();
    const delta = (key: string) => metric(after, key) - metric(before, key);
    expect(delta(`vllm:generation_tokens_total${m}`)).toBe(23);
    expect(delta(`vllm:prompt_tokens_total${m}`)).toBe(usages.reduce((sum, u) => sum + u.prompt_tokens, 0));
    expect(delta(`vllm:request_success_total{model_name="${server.model}",finished_reason="length"}`)).toBe(4);
    expect(delta(`vllm:e2e_request_latency_seconds_count${m}`)).toBe(4);
    expect(delta(`vllm:time_to_first_token_seconds_count${m}`)).toBe(4);
    expect(delta(`vllm:inter_token_latency_seconds_count${m}`)).toBe(3 * 4 + 2 * 3);
    expect(delta(`vllm:prefix_cache_queries_total${m}`)).toBeGreaterThan(0);
    expect(delta('loom:http_requests_total{status_class="2xx"}')).toBeGreaterThanOrEqual(4);
    expect(metric(after, `vllm:num_requests_running${m}`)).toBe(0);
    expect(metric(after, `loom:kv_blocks{model_name="${server.model}",state="used"}`)).toBe(0);
    expect(metric(after, `vllm:kv_cache_usage_perc${m}`)).toBe(0);
    expect(delta(`loom:step_duration_seconds_count${m}`)).toBeGreaterThan(0);
  });

  it("answers a burst beyond the waiting bound with 429 and Retry-After, finishes the rest, and returns to baseline", async () => {
    const readiness: number[] = [];
    const probe = setInterval(() => {
      void fetch(`${server.url}/health/ready`).then((r) => readiness.push(r.status));
    }, 50);
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => streamUntilEnd({ max_tokens: 24, ignore_eos: true })),
    );
    clearInterval(probe);
    const statuses = answers.map((a) => a.status);
    expect(answers.filter((a) => a.status === 429).every((a) => a.retryAfter === "1")).toBe(true);
    const ok = statuses.filter((s) => s === 200).length;
    const refused = statuses.filter((s) => s === 429).length;
    expect(ok + refused).toBe(200);
    expect(ok).toBeGreaterThanOrEqual(8);
    expect(refused).toBeGreaterThan(0);
    expect(readiness.length).toBeGreaterThan(0);
    expect(readiness.every((s) => s === 200)).toBe(true);
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(400);
    const stats = await eventually(engineStats, (s) => s.numRunning + s.numWaiting === 0);
    expect(stats.kv.numUsedBlocks).toBe(0);
  });

  it("leaves nothing running after many clients disconnect mid-stream", async () => {
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        const controller = new AbortController();
        const response = await fetch(`${server.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          signal: controller.signal,
          body: JSON.stringify({
            model: server.model,
            messages: [{ role: "user", content: "hi" }],
            stream: true,
            max_tokens: 1000,
            ignore_eos: true,
          }),
        });
        const reader = response.body!.getReader();
        await reader.read();
        controller.abort();
      }),
    );
    const stats = await eventually(engineStats, (s) => s.numRunning + s.numWaiting === 0);
    expect(stats.kv.numUsedBlocks).toBe(0);
  });

  it("ends a request past its timeout with a timeout error, streamed or not", async () => {
    const timeoutsBefore = engineStats().numFinished.timeout;
    const error = await server.client.chat.completions
      .create({
        model: server.model,
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 1900,
        ignore_eos: true,
        timeout: 0.2,
      } as never)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 504, code: "request_timeout" });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: server.model,
        messages: [{ role: "user", content: "hi" }],
        stream: true,
        max_tokens: 1900,
        ignore_eos: true,
        timeout: 0.2,
      }),
    });
    const text = await response.text();
    expect(text).toContain('"code":"request_timeout"');
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(engineStats().numFinished.timeout).toBe(timeoutsBefore + 2);
  });
});
