// The synthetic model tool: its files load, tokenize real text with a real vocabulary, chat-template, generate,
// and its LoRA adapters change the output.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { readGgufMetadata } from "../../models/gguf.js";
import { CHATML_TEMPLATE } from "../../models/synth-model.js";
import { samplingParams } from "../../src/sampling-params.js";
import { clearPool, generateTogether } from "../helpers/llama.js";
import { tinyLora, tinyModel } from "../helpers/models.js";

let model: LlamaModel;
let context: LlamaContext;

beforeAll(async () => {
  model = await LlamaModel.load(tinyModel());
  context = await model.createContext({ kvTokens: 1024, maxSequences: 8, threads: 1 });
});

afterAll(async () => {
  await context.dispose();
  model.dispose();
});

it("writes a llama GGUF with a real SentencePiece vocabulary and ChatML tokens", () => {
  expect(model.info).toMatchObject({
    architecture: "llama",
    embeddingSize: 96,
    layerCount: 2,
    headCount: 4,
    headCountKv: 2,
    vocabSize: 32002,
    bosToken: 1,
    eosToken: 2,
    chatTemplate: CHATML_TEMPLATE,
  });
  expect([...model.info.endOfGenerationTokens]).toEqual([2, 32001]);
  const words = model.tokenize("The quick brown fox jumps over the lazy dog.", { addSpecial: false });
  expect(words.length).toBeGreaterThan(8);
  expect(words.length).toBeLessThan(16);
  expect(model.detokenize(words)).toBe("The quick brown fox jumps over the lazy dog.");
  const chat = model.tokenize("<|im_start|>user\nHi<|im_end|>", { addSpecial: false, parseSpecial: true });
  expect(chat[0]).toBe(32000);
  expect(chat.at(-1)).toBe(32001);
});

it("records its shape in the GGUF metadata and stays small", () => {
  const meta = readGgufMetadata(tinyModel());
  expect(meta.get("general.architecture")?.value).toBe("llama");
  expect(meta.get("llama.embedding_length")?.value).toBe(96);
  expect(readFileSync(tinyModel()).length).toBeLessThan(30 * 1024 * 1024);
});

it("generates, and an adapter made by the tool changes the output", async () => {
  const prompt = model.tokenize("Hello, how are you today?");
  const [base] = await generateTogether(context, [{ seqId: 0, prompt }], 16);
  await clearPool(context);
  expect(base!.length).toBe(16);
  const adapter = await model.loadAdapter(tinyLora());
  const sampler = context.createSampler(samplingParams({ temperature: 0 }));
  await context.step({
    tokens: new Int32Array(0),
    positions: new Int32Array(0),
    seqIds: new Int32Array(0),
    outputRows: new Int32Array(0),
    samplers: [],
    adapters: [adapter],
    adapterScales: Float32Array.of(4),
  });
  const [adapted] = await generateTogether(context, [{ seqId: 0, prompt, sampler }], 16);
  await context.step({
    tokens: new Int32Array(0),
    positions: new Int32Array(0),
    seqIds: new Int32Array(0),
    outputRows: new Int32Array(0),
    samplers: [],
    adapters: [],
    adapterScales: new Float32Array(0),
  });
  await clearPool(context);
  expect(adapted).not.toEqual(base);
  adapter.dispose();
});

it("computes pooled embeddings in an embeddings context", async () => {
  const embedder = await model.createContext({
    kvTokens: 512,
    maxSequences: 8,
    threads: 1,
    embeddings: true,
    pooling: "mean",
  });
  const inputs = ["a red apple", "a red apple", "the stock market fell sharply"].map((t) => model.tokenize(t));
  const [a, b, c] = await embedder.embed(inputs);
  expect(a!.length).toBe(96);
  expect([...a!]).toEqual([...b!]);
  expect([...a!]).not.toEqual([...c!]);
  expect(a!.every(Number.isFinite)).toBe(true);
  await expect(embedder.embed([new Int32Array(0)])).rejects.toMatchObject({ code: "LOOM_INVALID_ARGUMENT" });
  await embedder.dispose();
});
