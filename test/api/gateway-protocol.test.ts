// The model-server protocol of the Gateway API Inference Extension / llm-d: the metrics its endpoint picker scrapes,
// with vLLM's names and labels, and vLLM's render routes, which gateways call to tokenize without a sidecar.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyLora } from "../helpers/models.js";
import { eventually, startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ loras: [{ name: "support", path: tinyLora() }], maxLoras: 4 });
});
afterAll(async () => {
  await server?.close();
});

/** Each sample of a metric in the exposition text: its labels and value. */
async function samples(name: string): Promise<{ labels: Record<string, string>; value: number }[]> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => {
      const [, body = "", value = ""] = /^[^{]+\{(.*)\} (\S+)$/.exec(line) ?? [];
      const labels = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { labels, value: Number(value) };
    });
}

describe("metrics the endpoint picker reads", () => {
  it("reports vllm:lora_requests_info with the adapters running, its value the update time", async () => {
    const idle = await samples("vllm:lora_requests_info");
    expect(idle).toHaveLength(1);
    expect(idle[0]!.labels).toMatchObject({ max_lora: "4", running_lora_adapters: "", waiting_lora_adapters: "" });
    expect(Math.abs(idle[0]!.value - Date.now() / 1000)).toBeLessThan(60);
    const stream = await server.client.completions.create({
      model: "support",
      prompt: "Once upon a time",
      max_tokens: 2000,
      ignore_eos: true,
      stream: true,
    } as never);
    const iterator = (stream as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    await iterator.next();
    const busy = await samples("vllm:lora_requests_info");
    expect(busy[0]!.labels.running_lora_adapters).toBe("support");
    await iterator.return?.();
    await eventually(
      () => server.registry.list()[0]!.engine.stats().numRunning,
      (n) => n === 0,
    );
  });

  it("reports vllm:cache_config_info with block_size and num_gpu_blocks, and the picker's queue and KV gauges", async () => {
    const [info] = await samples("vllm:cache_config_info");
    const kv = server.registry.list()[0]!.engine.stats().kv;
    expect(info!.labels).toMatchObject({
      block_size: "16",
      num_gpu_blocks: String(kv.numBlocks),
      enable_prefix_caching: "true",
    });
    expect(info!.value).toBe(1);
    for (const name of ["vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc"]) {
      expect((await samples(name))[0]!.labels.model_name).toBe(server.model);
    }
  });
});

describe("render routes", () => {
  const post = async (path: string, body: unknown) =>
    (
      await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      })
    ).json() as Promise<any>;

  it("renders a chat to the token ids the model would see, with the sampling parameters", async () => {
    const messages = [{ role: "user", content: "Hello there" }];
    const rendered = await post("/v1/chat/completions/render", {
      model: server.model,
      messages,
      max_tokens: 7,
      temperature: 0.5,
    });
    const tokenized = await post("/tokenize", { model: server.model, messages });
    expect(rendered.token_ids).toEqual(tokenized.tokens);
    expect(rendered).toMatchObject({
      model: server.model,
      stream: false,
      sampling_params: { max_tokens: 7, temperature: 0.5 },
    });
    expect(rendered.request_id).toMatch(/^chatcmpl-/);
    const answer = await server.client.chat.completions.create({
      model: server.model,
      messages: messages as never,
      max_tokens: 1,
    });
    expect(answer.usage!.prompt_tokens).toBe(rendered.token_ids.length);
  });

  it("renders each completion prompt, and refuses what generation would refuse", async () => {
    const rendered = await post("/v1/completions/render", { model: server.model, prompt: ["one", "two three"] });
    expect(rendered).toHaveLength(2);
    expect(rendered[1].token_ids).toEqual(
      (await post("/tokenize", { model: server.model, prompt: "two three" })).tokens,
    );
    expect(rendered[0].sampling_params.max_tokens).toBe(16);
    const bad = await fetch(`${server.url}/v1/completions/render`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "nope", prompt: "x" }),
    });
    expect(bad.status).toBe(404);
  });
});
