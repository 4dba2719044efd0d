// Several contexts of CPU models in one process share one ggml threadpool and take turns computing (the native
// compute lock, the JS ComputeArbiter): two engines and an embedding context running at once must each give what
// they give alone, with never more than one compute in flight.
import { afterAll, beforeAll, expect, it } from "vitest";
import { cpuCompute } from "../../src/backend/llama/compute-arbiter.js";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { collect, greedyRequest, startEngine, type TestEngine } from "../helpers/engine.js";
import { sharedModel, STORIES_260K, tinyModel } from "../helpers/models.js";

let stories: LlamaModel;
let tiny: LlamaModel;
let engines: TestEngine[];
let embedding: LlamaContext;

beforeAll(async () => {
  stories = await LlamaModel.load(sharedModel(STORIES_260K));
  tiny = await LlamaModel.load(tinyModel());
  // Batch-invariant steps: a request's tokens do not depend on its neighbours, so "as alone" is exact.
  engines = [
    await startEngine(stories, { kvTokens: 2048, maxRunning: 8, deterministic: true }),
    await startEngine(tiny, { kvTokens: 2048, maxRunning: 8, deterministic: true }),
  ];
  embedding = await stories.createContext({
    kvTokens: 256,
    batchTokens: 256,
    maxSequences: 4,
    embeddings: true,
    pooling: "mean",
  });
});

afterAll(async () => {
  for (const engine of engines) await engine.close();
  await embedding.dispose();
  stories.dispose();
  tiny.dispose();
});

const prompts = (model: LlamaModel) =>
  Array.from({ length: 6 }, (_, i) => model.tokenize(`Once upon a time ${"the cat sat ".repeat(i)}and then`));

it("contexts of CPU models share the compute; a context may opt out", async () => {
  expect(stories.onCpu).toBe(true);
  for (const { context } of engines) expect(context.sharedCompute).toBe(true);
  expect(embedding.sharedCompute).toBe(true);
  const own = await tiny.createContext({ kvTokens: 256, sharedCompute: false });
  expect(own.sharedCompute).toBe(false);
  await own.dispose();
});

it("two engines and an embedding context computing at once each answer as alone, one compute at a time", async () => {
  const [first, second] = engines as [TestEngine, TestEngine];
  const work: [TestEngine, Int32Array[]][] = [
    [first, prompts(stories)],
    [second, prompts(tiny)],
  ];
  const texts = prompts(stories).slice(0, 3);
  const alone: number[][][] = [];
  for (const [{ engine }, list] of work) {
    const outputs: number[][] = [];
    for (const prompt of list) outputs.push((await collect(engine.submit(greedyRequest(prompt)))).tokens[0]!);
    alone.push(outputs);
  }
  const vectorsAlone: Float32Array[] = [];
  for (const text of texts) vectorsAlone.push(...(await embedding.embed([text])));

  const before = cpuCompute.stats();
  const [together, vectorsTogether] = await Promise.all([
    Promise.all(
      work.map(([{ engine }, list]) =>
        Promise.all(list.map(async (prompt) => (await collect(engine.submit(greedyRequest(prompt)))).tokens[0]!)),
      ),
    ),
    Promise.all(texts.map((text) => embedding.embed([text]).then(([vector]) => vector!))),
  ]);
  const after = cpuCompute.stats();

  expect(together).toEqual(alone);
  for (const row of alone.flat()) expect(row).toHaveLength(16);
  expect(vectorsTogether).toEqual(vectorsAlone);
  expect(after.maxInFlight).toBe(1);
  expect(after.inFlight).toBe(0);
  expect(after.waiting).toBe(0);
  // The engines did wait for each other's turns: the check above saw contention, not two engines in sequence.
  expect(after.contended - before.contended).toBeGreaterThan(0);
});
