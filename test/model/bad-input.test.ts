// Every bad input becomes a JS error with a code and a clear message; the process never aborts.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { samplingParams } from "../../src/sampling-params.js";
import { clearPool } from "../helpers/llama.js";
import { sharedModel, STORIES_260K, STORIES_LORA, tinyLora, tinyModel } from "../helpers/models.js";

const scratch = mkdtempSync(join(tmpdir(), "loom-bad-input-"));
let model: LlamaModel;
let context: LlamaContext;

beforeAll(async () => {
  model = await LlamaModel.load(sharedModel(STORIES_260K));
  context = await model.createContext({ kvTokens: 256, maxSequences: 4, threads: 1 });
});

afterAll(async () => {
  await context.dispose();
  model.dispose();
});

const empty = {
  tokens: new Int32Array(0),
  positions: new Int32Array(0),
  seqIds: new Int32Array(0),
  outputRows: new Int32Array(0),
  samplers: [],
};

describe("model files", () => {
  it("a missing file", async () => {
    await expect(LlamaModel.load(join(scratch, "nope.gguf"))).rejects.toMatchObject({
      code: "LOOM_MODEL_NOT_FOUND",
      message: expect.stringContaining("cannot open model file"),
    });
  });

  it("a file that is not GGUF", async () => {
    const path = join(scratch, "text.gguf");
    writeFileSync(path, "this is not a model at all");
    await expect(LlamaModel.load(path)).rejects.toMatchObject({
      code: "LOOM_MODEL_INVALID",
      message: expect.stringContaining("is not a GGUF file"),
    });
  });

  it("a truncated GGUF", async () => {
    const path = join(scratch, "truncated.gguf");
    const bytes = readFileSync(sharedModel(STORIES_260K));
    writeFileSync(path, bytes.subarray(0, bytes.length / 2));
    await expect(LlamaModel.load(path)).rejects.toMatchObject({
      code: "LOOM_MODEL_INVALID",
      message: expect.stringContaining("failed to load model"),
    });
  });

  it("a GGUF whose header is cut short", async () => {
    const path = join(scratch, "header.gguf");
    writeFileSync(path, readFileSync(sharedModel(STORIES_260K)).subarray(0, 64));
    await expect(LlamaModel.load(path)).rejects.toMatchObject({ code: "LOOM_MODEL_INVALID" });
  });
});

describe("adapters", () => {
  it("an adapter made for another model", async () => {
    await expect(model.loadAdapter(tinyLora())).rejects.toMatchObject({
      code: "LOOM_ADAPTER_INVALID",
      message: expect.stringContaining("failed to load adapter"),
    });
  });

  it("a model file given as an adapter, and a missing adapter", async () => {
    await expect(model.loadAdapter(tinyModel())).rejects.toMatchObject({ code: "LOOM_ADAPTER_INVALID" });
    await expect(model.loadAdapter(join(scratch, "missing-lora.gguf"))).rejects.toMatchObject({
      code: "LOOM_ADAPTER_NOT_FOUND",
    });
  });

  it("an adapter of one model used in another model's context", async () => {
    const tiny = await LlamaModel.load(tinyModel());
    const tinyAdapter = await tiny.loadAdapter(tinyLora());
    await expect(
      context.step({ ...empty, adapters: [tinyAdapter], adapterScales: Float32Array.of(1) }),
    ).rejects.toMatchObject({ code: "LOOM_ADAPTER_INVALID" });
    tinyAdapter.dispose();
    tiny.dispose();
    const copy = join(scratch, "lora-copy.gguf");
    copyFileSync(sharedModel(STORIES_LORA), copy);
    (await model.loadAdapter(copy)).dispose();
  });
});

describe("contexts and steps", () => {
  it("a context that does not fit in memory", async () => {
    await expect(model.createContext({ kvTokens: 2_000_000_000, maxSequences: 4, threads: 1 })).rejects.toMatchObject({
      code: "LOOM_CONTEXT_FAILED",
      message: expect.stringContaining("more than the"),
    });
  });

  it("more sequences than batch tokens is a valid context, not an abort", async () => {
    const ctx = await model.createContext({ kvTokens: 512, maxSequences: 128, batchTokens: 32, threads: 1 });
    const prompt = model.tokenize("Once upon a time");
    const sampler = ctx.createSampler(samplingParams({ temperature: 0 }));
    await expect(
      ctx.step({
        tokens: prompt,
        positions: Int32Array.from(prompt, (_, i) => i),
        seqIds: new Int32Array(prompt.length).fill(100),
        outputRows: Int32Array.of(prompt.length - 1),
        samplers: [sampler],
      }),
    ).resolves.toMatchObject({ errors: [] });
    await ctx.dispose();
  });

  it("invalid context options", async () => {
    await expect(model.createContext({ kvTokens: 0 })).rejects.toMatchObject({
      code: "LOOM_INVALID_ARGUMENT",
      message: expect.stringContaining("kvTokens"),
    });
    await expect(model.createContext({ maxSequences: 1000 })).rejects.toMatchObject({ code: "LOOM_INVALID_ARGUMENT" });
    await expect(model.createContext({ kvCacheType: "q9" as never })).rejects.toMatchObject({
      code: "LOOM_INVALID_ARGUMENT",
    });
  });

  it("malformed batches are refused before decoding", async () => {
    const greedy = context.createSampler(samplingParams({ temperature: 0 }));
    const one = {
      tokens: Int32Array.of(1),
      positions: Int32Array.of(0),
      seqIds: Int32Array.of(0),
      outputRows: Int32Array.of(0),
      samplers: [greedy],
    };
    await expect(context.step({ ...one, tokens: Int32Array.of(99999) })).rejects.toMatchObject({
      code: "LOOM_INVALID_BATCH",
      message: expect.stringContaining("outside the vocabulary"),
    });
    await expect(context.step({ ...one, seqIds: Int32Array.of(300) })).rejects.toMatchObject({
      code: "LOOM_INVALID_BATCH",
      message: expect.stringContaining("sequence id 300"),
    });
    await expect(context.step({ ...one, positions: Int32Array.of(-1) })).rejects.toMatchObject({
      code: "LOOM_INVALID_BATCH",
    });
    await expect(context.step({ ...one, samplers: [] })).rejects.toMatchObject({ code: "LOOM_INVALID_BATCH" });
    await expect(context.step({ ...one, outputRows: Int32Array.of(3) })).rejects.toMatchObject({
      code: "LOOM_INVALID_BATCH",
    });
    await expect(
      context.step({
        ...one,
        tokens: new Int32Array(300),
        positions: new Int32Array(300),
        seqIds: new Int32Array(300),
      }),
    ).rejects.toMatchObject({ code: "LOOM_INVALID_BATCH", message: expect.stringContaining("exceeds batchTokens") });
    await expect(context.step({ ...empty, kvOps: Int32Array.of(0, 0, 999, 0, -1) })).rejects.toMatchObject({
      code: "LOOM_INVALID_BATCH",
    });
    await expect(
      context.step({ ...one, positions: Int32Array.of(5), tokens: Int32Array.of(1) }),
    ).resolves.toMatchObject({ errors: [] });
    // Position 2 after 5 breaks the sequence's order: llama.cpp refuses the batch and the context stays usable.
    await expect(context.step({ ...one, positions: Int32Array.of(2) })).rejects.toMatchObject({
      code: "LOOM_INVALID_BATCH",
      message: expect.stringContaining("llama_decode rejected the batch"),
    });
    await clearPool(context);
    await expect(context.step(one)).resolves.toMatchObject({ errors: [] });
    await clearPool(context);
  });

  it("a bad grammar fails when its sampler is built", () => {
    expect(() => context.createSampler(samplingParams({ grammar: "root ::= (" }))).toThrow(
      expect.objectContaining({ code: "LOOM_INVALID_GRAMMAR" }),
    );
    expect(() => context.createSampler(samplingParams({ grammar: "root ::= undefined-rule" }))).toThrow(
      expect.objectContaining({ code: "LOOM_INVALID_GRAMMAR" }),
    );
  });

  it("a grammar constrains its own row of a batch only", async () => {
    const digits = context.createSampler(samplingParams({ temperature: 0, grammar: "root ::= [0-9]+" }));
    const prompt = model.tokenize("Once upon a time");
    const rows = {
      tokens: Int32Array.from([...prompt, ...prompt]),
      positions: Int32Array.from([...prompt, ...prompt], (_, i) => i % prompt.length),
      seqIds: Int32Array.from([...prompt, ...prompt], (_, i) => (i < prompt.length ? 0 : 1)),
      outputRows: Int32Array.of(prompt.length - 1, 2 * prompt.length - 1),
    };
    const result = await context.step({
      ...rows,
      samplers: [digits, context.createSampler(samplingParams({ temperature: 0 }))],
    });
    expect(result.errors).toEqual([]);
    expect(model.detokenize(Int32Array.of(result.tokens[0]!))).toMatch(/^\s*[0-9]+$/);
    expect(model.detokenize(Int32Array.of(result.tokens[1]!))).toBe(",");
    await clearPool(context);
  });

  it("disposing the model and the context while steps run is safe", async () => {
    const own = await LlamaModel.load(sharedModel(STORIES_260K));
    const ctx = await own.createContext({ kvTokens: 512, maxSequences: 4, threads: 1 });
    const prompt = own.tokenize("Once upon a time");
    const sampler = ctx.createSampler(samplingParams({ temperature: 0 }));
    const running = ctx.step({
      tokens: prompt,
      positions: Int32Array.from(prompt, (_, i) => i),
      seqIds: new Int32Array(prompt.length),
      outputRows: Int32Array.of(prompt.length - 1),
      samplers: [sampler],
    });
    own.dispose();
    const disposing = ctx.dispose();
    expect((await running).errors).toEqual([]);
    await disposing;
    await expect(ctx.step(empty)).rejects.toMatchObject({ code: "LOOM_DISPOSED" });
    expect(() => own.tokenize("x")).toThrow(expect.objectContaining({ code: "LOOM_DISPOSED" }));
  });
});
