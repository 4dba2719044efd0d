// Policies that run generations of their own: a shadow never changes the primary's answer and its comparison is
// recorded (and it is the first dropped when its model gets busy); a cascade escalates an answer whose confidence
// is below its threshold, streamed or not, and keeps one above it; rules pick a target by header, tools and
// prompt length. The fast model is the trained stories260K, the accurate one the synthetic tiny model.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, post, type RoutingServer, startRoutingServer } from "../helpers/routing.js";
import { sseEvents } from "../helpers/streams.js";

const CONFIG = `
kv_tokens: 4096
max_running: 8
models:
  - { name: story }
  - { name: story, version: 2 }
  - { name: tiny, max_running: 1 }
routes:
  - name: mirrored
    target: story@1
    shadow: { target: story@2, sample: 1 }
  - name: mirrored-other
    target: story@1
    shadow: { target: tiny, sample: 1 }
  - name: cheap-first
    cascade: { targets: [story@1, tiny], min_confidence: 0.5, quantile: 0.1, stream_prefix_tokens: 4 }
  - name: smart
    rules:
      - { when: { header: { x-loom-tier: premium } }, target: tiny }
      - { when: { min_prompt_tokens: 60 }, target: tiny }
    default: story@1
`;

let server: RoutingServer;
beforeAll(async () => {
  server = await startRoutingServer(CONFIG);
});
afterAll(async () => {
  await server?.close();
});

const PROMPT = "Once upon a time";

const chat = (model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  post(
    server.url,
    "/v1/chat/completions",
    { model, messages: [{ role: "user", content: PROMPT }], max_tokens: 12, temperature: 0, ...extra },
    headers,
  );

const textOf = (response: Awaited<ReturnType<typeof chat>>) => {
  expect(response.status).toBe(200);
  return response.body.choices[0].message.content as string;
};

/** A streamed chat's text, served-by header and chunk count. */
async function streamed(model: string) {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model,
      messages: [{ role: "user", content: PROMPT }],
      max_tokens: 12,
      temperature: 0,
      stream: true,
    }),
  });
  let text = "";
  for await (const event of sseEvents(response)) {
    if (event.data === "[DONE]") break;
    const chunk = JSON.parse(event.data);
    expect(chunk.choices[0]?.logprobs ?? null).toBeNull();
    text += chunk.choices[0]?.delta?.content ?? "";
  }
  return { text, servedBy: response.headers.get("x-loom-served-model") };
}

describe("a shadow", () => {
  it("never changes the primary's answer, and records a greedy pair that matches", async () => {
    const alone = textOf(await chat("story@1"));
    const before = await metricValue(server.url, "loom:shadow_comparisons_total", { route: "mirrored", match: "true" });
    const routed = await chat("mirrored");
    expect(textOf(routed)).toBe(alone);
    expect(routed.headers.get("x-loom-served-model")).toBe("story@1");
    expect((await streamed("mirrored")).text).toBe(alone);
    await waitFor(async () => {
      const now = await metricValue(server.url, "loom:shadow_comparisons_total", { route: "mirrored", match: "true" });
      return now === before + 2;
    });
    const line = server.logs.find((l) => l.event === "shadow_comparison" && l.route === "mirrored");
    expect(line).toMatchObject({ shadow: "story@2", greedy: true, match: true, similarity: 1, primary_tokens: 12 });
    expect(line!.shadow_tokens).toBe(12);
    expect(
      await metricValue(server.url, "vllm:request_success_total", { model_name: "story@2", variant: "shadow" }),
    ).toBe(2);
  });

  it("leaves the answer alone on another model too, and scores how alike the two are", async () => {
    const alone = textOf(await chat("story@1"));
    expect(textOf(await chat("mirrored-other"))).toBe(alone);
    await waitFor(async () => server.logs.some((l) => l.event === "shadow_comparison" && l.route === "mirrored-other"));
    const line = server.logs.find((l) => l.event === "shadow_comparison" && l.route === "mirrored-other")!;
    expect(line).toMatchObject({ shadow: "tiny@1", greedy: true, match: false });
    expect(line.similarity).toBeGreaterThanOrEqual(0);
    expect(line.similarity).toBeLessThan(1);
  });

  it("is dropped as soon as its model has a client's request waiting", async () => {
    // tiny runs one sequence at a time: a long stream takes it, so the shadow waits, and a client's request for
    // tiny then finds a shadow in its way.
    const long = await fetch(`${server.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", prompt: PROMPT, max_tokens: 3000, ignore_eos: true, stream: true }),
    });
    await waitFor(async () => server.registry.get("tiny@1").engine.stats().numRunning === 1);
    const primary = await chat("mirrored-other");
    expect(primary.status).toBe(200);
    await waitFor(async () => server.registry.get("tiny@1").engine.stats().numWaiting === 1);
    const client = post(server.url, "/v1/completions", { model: "tiny", prompt: PROMPT, max_tokens: 2 });
    await waitFor(
      async () => (await metricValue(server.url, "loom:shadow_requests_total", { outcome: "dropped" })) === 1,
    );
    await long.body?.cancel();
    expect((await client).status).toBe(200);
  });

  it("is skipped while another model sharing the CPU compute has requests waiting", async () => {
    // Every model here runs on the CPU, so they take turns at one compute: tiny's waiting client leaves no spare
    // capacity for a shadow on story@2, although story@2 itself is idle.
    expect(server.registry.get("story@2").sharesCompute && server.registry.get("tiny@1").sharesCompute).toBe(true);
    const long = await fetch(`${server.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", prompt: PROMPT, max_tokens: 3000, ignore_eos: true, stream: true }),
    });
    await waitFor(async () => server.registry.get("tiny@1").engine.stats().numRunning === 1);
    const client = post(server.url, "/v1/completions", { model: "tiny", prompt: PROMPT, max_tokens: 2 });
    await waitFor(async () => server.registry.get("tiny@1").engine.stats().numWaiting === 1);
    const skipped = { route: "mirrored", outcome: "skipped" };
    const before = await metricValue(server.url, "loom:shadow_requests_total", skipped);
    expect(textOf(await chat("mirrored"))).toBe(textOf(await chat("story@1")));
    expect(await metricValue(server.url, "loom:shadow_requests_total", skipped)).toBe(before + 1);
    await long.body?.cancel();
    expect((await client).status).toBe(200);
    // With nothing waiting anywhere, the shadow runs again.
    const completed = { route: "mirrored", outcome: "completed" };
    const done = await metricValue(server.url, "loom:shadow_requests_total", completed);
    await chat("mirrored");
    await waitFor(async () => (await metricValue(server.url, "loom:shadow_requests_total", completed)) === done + 1);
  });
});

describe("a cascade", () => {
  /** The fast model's own confidence in its greedy answer: the 10th percentile of its tokens' probabilities. */
  async function fastConfidence(tokens: number): Promise<number> {
    const response = await chat("story@1", { logprobs: true });
    const probabilities = (response.body.choices[0].logprobs.content as { logprob: number }[])
      .slice(0, tokens)
      .map((t) => Math.exp(t.logprob))
      .sort((a, b) => a - b);
    return probabilities[Math.max(1, Math.ceil(0.1 * probabilities.length)) - 1]!;
  }

  const setThreshold = (minConfidence: number) =>
    fetch(`${server.url}/loom/v1/routes`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(
        server.routing
          .list()
          .map((r) =>
            r.name === "cheap-first"
              ? { ...r.spec, cascade: { ...r.spec.cascade, min_confidence: minConfidence } }
              : r.spec,
          ),
      ),
    });

  it("escalates an answer less confident than its threshold, and keeps one that is not", async () => {
    const fast = textOf(await chat("story@1"));
    const accurate = textOf(await chat("tiny"));
    expect(fast).not.toBe(accurate);
    const confidence = await fastConfidence(12);
    expect(confidence).toBeLessThan(0.99);

    expect((await setThreshold(confidence + 0.01)).status).toBe(200);
    const escalated = await chat("cheap-first");
    expect(textOf(escalated)).toBe(accurate);
    expect(escalated.body.model).toBe("cheap-first");
    expect(escalated.body.choices[0].logprobs).toBeNull();
    expect(escalated.headers.get("x-loom-served-model")).toBe("tiny@1");
    expect(
      await metricValue(server.url, "loom:cascade_escalations_total", {
        route: "cheap-first",
        from: "story@1",
        to: "tiny@1",
      }),
    ).toBe(1);

    expect((await setThreshold(confidence - 0.01)).status).toBe(200);
    const kept = await chat("cheap-first");
    expect(textOf(kept)).toBe(fast);
    expect(kept.body.choices[0].logprobs).toBeNull();
    expect(kept.headers.get("x-loom-served-model")).toBe("story@1");
  });

  it("decides a stream on its first tokens, then streams from the target that kept it", async () => {
    const confidence = await fastConfidence(4);
    expect(confidence).toBeLessThan(0.99);
    const fast = textOf(await chat("story@1"));
    const accurate = textOf(await chat("tiny"));
    await setThreshold(confidence + 0.01);
    expect(await streamed("cheap-first")).toEqual({ text: accurate, servedBy: "tiny@1" });
    await setThreshold(confidence - 0.01);
    expect(await streamed("cheap-first")).toEqual({ text: fast, servedBy: "story@1" });
  });
});

describe("rules", () => {
  it("pick a target by header and by prompt length, and the default otherwise", async () => {
    expect((await chat("smart")).headers.get("x-loom-served-model")).toBe("story@1");
    const premium = await chat("smart", {}, { "x-loom-tier": "premium" });
    expect(premium.headers.get("x-loom-served-model")).toBe("tiny@1");
    expect(premium.headers.get("x-loom-variant")).toBe("tiny");
    const long = await post(server.url, "/v1/chat/completions", {
      model: "smart",
      messages: [{ role: "user", content: "Once upon a time there was a little girl who loved to play outside." }],
      max_tokens: 1,
    });
    expect(long.headers.get("x-loom-served-model")).toBe("tiny@1");
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
