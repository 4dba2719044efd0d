// LoRA adapters through the server: selection by model name, equality with a context that has only that adapter,
// mixed traffic (equal to solo runs but for float-noise ties: the synthetic adapter's random weights make
// many), run-time load/unload under load, and every refusal.
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { synthLora } from "../../models/synth-lora.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { samplingParams } from "../../src/sampling-params.js";
import { sharedModel, STORIES_260K, STORIES_LORA, tinyLora } from "../helpers/models.js";
import { completionTrace, expectGreedyAgreement } from "../helpers/greedy.js";
import { eventually, startTestServer, type TestServer } from "../helpers/server.js";

const dir = mkdtempSync(join(tmpdir(), "loom-lora-"));
const allowed = join(dir, "allowed");
mkdirSync(allowed);
copyFileSync(sharedModel(STORIES_LORA), join(allowed, "stories.gguf"));
synthLora({ base: sharedModel(STORIES_260K), out: join(dir, "synth.gguf"), seed: 7, std: 0.3 });
copyFileSync(tinyLora(), join(allowed, "for-tiny.gguf"));
writeFileSync(join(allowed, "corrupt.gguf"), "GGUF but not really");
writeFileSync(join(dir, "outside.gguf"), "outside");
symlinkSync(join(dir, "synth.gguf"), join(allowed, "link.gguf"));

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    model: sharedModel(STORIES_260K),
    kvTokens: 4096,
    maxRunning: 32,
    maxLoras: 3,
    loras: [
      { name: "stories", path: sharedModel(STORIES_LORA) },
      { name: "synth", path: join(dir, "synth.gguf") },
    ],
    loraDirs: [allowed],
  });
});
afterAll(async () => {
  await server?.close();
});

const PROMPT = "Once upon a time";
async function complete(model: string, extra: Record<string, unknown> = {}): Promise<string> {
  const completion = await server.client.completions.create({
    model,
    prompt: PROMPT,
    max_tokens: 20,
    temperature: 0,
    ...extra,
  });
  return completion.choices[0]!.text;
}

async function admin(path: string, body: unknown, key?: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

/** Greedy text from a fresh context with only `adapterPath` applied at `scale`, decoded as the server streams it. */
async function directGreedy(adapterPath: string, scale: number): Promise<string> {
  const model = await LlamaModel.load(sharedModel(STORIES_260K));
  const context = await model.createContext({ kvTokens: 512, maxSequences: 2, threads: 1 });
  const adapter = await model.loadAdapter(adapterPath);
  const prompt = model.tokenize(PROMPT);
  const samplers = [context.createSampler(samplingParams({ temperature: 0 }))];
  const out: number[] = [];
  let result = await context.step({
    adapters: [adapter],
    adapterScales: Float32Array.of(scale),
    tokens: prompt,
    positions: Int32Array.from(prompt, (_, i) => i),
    seqIds: new Int32Array(prompt.length),
    outputRows: Int32Array.of(prompt.length - 1),
    samplers,
  });
  for (let i = 0; i < 20; i++) {
    out.push(result.tokens[0]!);
    if (i < 19)
      result = await context.step({
        tokens: Int32Array.of(out.at(-1)!),
        positions: Int32Array.of(prompt.length + i),
        seqIds: Int32Array.of(0),
        outputRows: Int32Array.of(0),
        samplers,
      });
  }
  const text = Buffer.concat(out.map((t) => model.tokenToBytes(t))).toString("utf8");
  samplers[0]!.dispose();
  adapter.dispose();
  await context.dispose();
  model.dispose();
  return text;
}

describe("LoRA serving", () => {
  it("serves an adapter by name or base:adapter, equal to a context with only that adapter; scale 0 is the base", async () => {
    const base = await complete("stories260K");
    const stories = await complete("stories");
    expect(stories).not.toBe(base);
    expect(stories).toBe(await directGreedy(sharedModel(STORIES_LORA), 1));
    expect(await complete("stories260K:stories")).toBe(stories);
    expect(await complete("stories", { lora_scale: 0 })).toBe(base);
    const synth = await complete("synth");
    expect(synth).toBe(await directGreedy(join(dir, "synth.gguf"), 1));
    const models = await server.client.models.list();
    expect(models.data.map((m) => [m.id, (m as unknown as { parent: string | null }).parent])).toEqual([
      ["stories260K", null],
      ["stories", "stories260K"],
      ["synth", "stories260K"],
    ]);
  });

  it("serves 24 concurrent requests over the base and two adapters, each as it runs alone", async () => {
    const models = ["stories260K", "stories", "synth"];
    const prompts = Array.from(
      { length: 24 },
      (_, i) => `Once upon a time there was a ${["cat", "dog", "bird", "fish"][i % 4]} number ${i}`,
    );
    const ask = (i: number) =>
      server.client.completions
        .create({ model: models[i % 3]!, prompt: prompts[i]!, max_tokens: 16, temperature: 0, logprobs: 2 })
        .then((c) => c.choices[0]!);
    const solo = [];
    for (let i = 0; i < 24; i++) solo.push(await ask(i));
    const concurrent = await Promise.all(prompts.map((_, i) => ask(i)));
    expect(expectGreedyAgreement(solo.map(completionTrace), concurrent.map(completionTrace))).toBeLessThanOrEqual(2);
    expect(new Set(solo.filter((_, i) => i % 3 === 0).map((c) => c.text)).size).toBeGreaterThan(1);
  });

  it("loads, uses, unloads and reloads an adapter while other requests stream, leaking nothing", async () => {
    const engine = server.registry.get("stories260K").engine;
    const streams = Array.from({ length: 4 }, () =>
      server.client.completions.create({
        model: "stories260K",
        prompt: PROMPT,
        max_tokens: 300,
        temperature: 0,
        stream: true,
      }),
    );
    const collected = Promise.all(
      streams.map(async (s) => {
        let text = "";
        for await (const chunk of await s) text += chunk.choices[0]?.text ?? "";
        return text;
      }),
    );
    expect(
      (await admin("/v1/load_lora_adapter", { lora_name: "hot", lora_path: join(allowed, "stories.gguf") })).status,
    ).toBe(200);
    const first = await complete("hot");
    expect((await admin("/v1/unload_lora_adapter", { lora_name: "hot" })).status).toBe(200);
    await expect(complete("hot")).rejects.toMatchObject({ status: 404 });
    expect(
      (await admin("/v1/load_lora_adapter", { lora_name: "hot", lora_path: join(allowed, "stories.gguf") })).status,
    ).toBe(200);
    expect(await complete("hot")).toBe(first);
    expect(first).toBe(await complete("stories"));
    const texts = await collected;
    expect(texts.every((t) => t === texts[0] && t.length > 0)).toBe(true);
    expect((await admin("/v1/unload_lora_adapter", { lora_name: "hot" })).status).toBe(200);
    const stats = await eventually(
      () => engine.stats(),
      (s) => s.numRunning + s.numWaiting === 0,
    );
    expect(stats.kv.numUsedBlocks).toBe(0);
    expect(
      server.registry
        .get("stories260K")
        .adapters.list()
        .map((a) => [a.name, a.numActiveRequests]),
    ).toEqual([
      ["stories", 0],
      ["synth", 0],
    ]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/loom:lora_requests_total\{model_name="stories260K",lora_name="hot"\} 2/);
    expect(metrics).toMatch(/loom:loras_loaded\{model_name="stories260K"\} 2/);
  });

  it("refuses paths outside the adapter folders, bad files, duplicate names and unloading an adapter in use", async () => {
    const load = (name: string, path: string) => admin("/v1/load_lora_adapter", { lora_name: name, lora_path: path });
    expect((await load("x", join(dir, "outside.gguf"))).status).toBe(403);
    expect((await load("x", join(allowed, "..", "outside.gguf"))).status).toBe(403);
    expect((await load("x", join(allowed, "link.gguf"))).status).toBe(403); // a symbolic link out of the folder
    expect((await load("x", "/etc/passwd")).status).toBe(403);
    const corrupt = await load("x", join(allowed, "corrupt.gguf"));
    expect(corrupt.status).toBe(400);
    expect(corrupt.text).toMatch(/cannot load LoRA adapter 'x'/);
    expect((await load("x", join(allowed, "for-tiny.gguf"))).status).toBe(400); // made for another base model
    expect((await load("x", join(allowed, "missing.gguf"))).status).toBe(400);
    expect((await load("stories", join(allowed, "stories.gguf"))).status).toBe(400); // the name is taken
    expect((await load("a:b", join(allowed, "stories.gguf"))).status).toBe(400);
    expect((await admin("/v1/unload_lora_adapter", { lora_name: "nope" })).status).toBe(404);
    const stream = await server.client.completions.create({
      model: "synth",
      prompt: PROMPT,
      max_tokens: 2000,
      temperature: 0,
      stream: true,
    });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const busy = await admin("/v1/unload_lora_adapter", { lora_name: "synth" });
    expect(busy.status).toBe(409);
    expect(busy.text).toMatch(/in use/);
    await iterator.return!();
    await eventually(
      () =>
        server.registry
          .get("stories260K")
          .adapters.list()
          .find((a) => a.name === "synth")!.numActiveRequests,
      (n) => n === 0,
    );
  });

  it("unloads the least recently used idle adapter beyond --max-loras", async () => {
    expect(
      (await admin("/v1/load_lora_adapter", { lora_name: "third", lora_path: join(allowed, "stories.gguf") })).status,
    ).toBe(200);
    await complete("stories");
    await complete("third");
    expect(
      (await admin("/v1/load_lora_adapter", { lora_name: "fourth", lora_path: join(allowed, "stories.gguf") })).status,
    ).toBe(200);
    expect(
      server.registry
        .get("stories260K")
        .adapters.list()
        .map((a) => a.name)
        .sort(),
    ).toEqual(["fourth", "stories", "third"]);
  });
});

describe("LoRA loading without folders, and the admin key", () => {
  it("refuses run-time loads with no --lora-dir and requires the admin key when one is set", async () => {
    const guarded = await startTestServer({ apiKeys: ["user-key"], adminKeys: ["admin-key"] });
    try {
      const call = (key: string) =>
        fetch(`${guarded.url}/v1/load_lora_adapter`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: JSON.stringify({ lora_name: "t", lora_path: tinyLora() }),
        });
      expect((await call("user-key")).status).toBe(401);
      const refused = await call("admin-key");
      expect(refused.status).toBe(403);
      expect(await refused.text()).toMatch(/--lora-dir/);
      expect((await fetch(`${guarded.url}/v1/models`, { headers: { authorization: "Bearer admin-key" } })).status).toBe(
        200,
      );
    } finally {
      await guarded.close();
    }
  });
});
