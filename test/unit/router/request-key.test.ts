// What the router reads from a request body and from a replica's /metrics, and how it reads its options.
import { describe, expect, it } from "vitest";
import { parseRouterArgs } from "../../../src/router/cli.js";
import { parseLoad } from "../../../src/router/load-metrics.js";
import { routingKey } from "../../../src/router/request-key.js";

const body = (value: unknown) => Buffer.from(JSON.stringify(value));
const base = new Set(["base"]);
const longSystem = "Rules of the house. ".repeat(20);

describe("routingKey", () => {
  it("keys a chat on its system prompt when that is long enough, else on the conversation", () => {
    const chat = (system: string, user: string) =>
      routingKey(
        body({
          model: "base",
          messages: [
            { role: "system", content: system },
            { role: "user", content: user },
          ],
        }),
        base,
        1024,
      ).prefix;
    expect(chat(longSystem, "first question")).toBe(chat(longSystem, "a different question"));
    expect(chat(longSystem, "q")).toBe(`system\n${longSystem}\n`);
    expect(chat("Be brief.", "first question")).not.toBe(chat("Be brief.", "a different question"));
    expect(chat(longSystem.repeat(10), "q")).toHaveLength(1024);
  });

  it("reads text parts, completions prompts and token ids, and names adapters", () => {
    const parts = routingKey(
      body({ model: "base:legal", messages: [{ role: "user", content: [{ type: "text", text: "hello" }] }] }),
      base,
      1024,
    );
    expect(parts).toEqual({ model: "base:legal", adapter: "legal", prefix: "user\nhello\n" });
    expect(routingKey(body({ model: "legal", prompt: ["abc", "def"] }), base, 1024)).toEqual({
      model: "legal",
      adapter: "legal",
      prefix: "abc",
    });
    expect(routingKey(body({ model: "base", prompt: [1, 2, 3] }), base, 1024).prefix).toBe("1 2 3");
    expect(routingKey(body({ model: "anything", prompt: "x" }), new Set(), 1024).adapter).toBeNull();
    expect(routingKey(Buffer.from("{not json"), base, 1024)).toEqual({ model: null, adapter: null, prefix: null });
  });
});

describe("parseLoad", () => {
  it("sums vLLM's load gauges over models and keeps the fullest KV cache", () => {
    const text = [
      "# HELP vllm:num_requests_running Sequences in the running batch.",
      "# TYPE vllm:num_requests_running gauge",
      'vllm:num_requests_running{model_name="a"} 3',
      'vllm:num_requests_running{model_name="b \\"quoted\\""} 1',
      'vllm:num_requests_waiting{model_name="a"} 5',
      'vllm:kv_cache_usage_perc{model_name="a"} 0.25',
      'vllm:kv_cache_usage_perc{model_name="b \\"quoted\\""} 0.5',
      'vllm:num_requests_running_other{model_name="a"} 100',
    ].join("\n");
    expect(parseLoad(text)).toEqual({ running: 4, waiting: 5, kvUsage: 0.5, models: ["a", 'b "quoted"'] });
    expect(parseLoad("process_cpu_seconds_total 1\n")).toBeNull();
  });
});

describe("routingKey on bodies the replica will refuse", () => {
  // Found by sending them through the router: each threw in routingKey, and the router answered 500 instead of
  // forwarding them to the replica's 400.
  it("reads what it can and never throws", () => {
    const deep = `{"model":"base","prompt":${"[".repeat(100_000)}1${"]".repeat(100_000)}}`;
    const bodies = [
      body({ model: "base", messages: [null] }),
      body({ model: "base", messages: [{ role: "user", content: [1] }] }),
      body({ model: "base", messages: [{ role: "user", content: [null, { text: 5 }] }] }),
      body({ model: "base", prompt: [[null, [1]]] }),
      body({ model: "base", input: [{}] }),
      Buffer.from(deep),
    ];
    for (const raw of bodies) expect(() => routingKey(raw, base, 512)).not.toThrow();
    expect(routingKey(bodies[0]!, base, 512)).toEqual({ model: "base", adapter: null, prefix: "\n\n" });
    expect(routingKey(bodies[3]!, base, 512)).toEqual({ model: "base", adapter: null, prefix: null });
    expect(routingKey(Buffer.from(deep), base, 512).prefix).toBeNull();
  });
});

describe("parseRouterArgs", () => {
  it("reads replicas from flags or LOOM_REPLICAS, fills defaults, and refuses what it cannot use", () => {
    const options = parseRouterArgs(["router", "--replica", "http://a:8080/", "--policy", "round-robin"], {
      LOOM_REPLICAS: "http://ignored:1",
    });
    expect(options).toMatchObject({ replicas: ["http://a:8080/"], policy: "round-robin", port: 8000, maxAttempts: 3 });
    expect(parseRouterArgs(["router"], { LOOM_REPLICAS: "http://a:1, http://b:2" }).replicas).toEqual([
      "http://a:1",
      "http://b:2",
    ]);
    expect(parseRouterArgs(["router", "--replicas-dns", "loom.svc:8080"]).replicasDns).toBe("loom.svc:8080");
    expect(() => parseRouterArgs(["router"])).toThrow(/at least one replica/);
    expect(() => parseRouterArgs(["router", "--replica", "a:1"])).toThrow(/replicas\.0/);
    expect(() => parseRouterArgs(["router", "--replica", "http://a:1", "--policy", "random"])).toThrow(/policy/);
    expect(() => parseRouterArgs(["router", "--bogus"])).toThrow(/usage: loom router/);
  });
});
