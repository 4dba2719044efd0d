// The trained TinyStories model through the addon: a known greedy continuation, and logprobs that agree with it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { samplingParams } from "../../src/sampling-params.js";
import { clearPool, generateTogether } from "../helpers/llama.js";
import { sharedModel, STORIES_260K } from "../helpers/models.js";

let model: LlamaModel;
let context: LlamaContext;

beforeAll(async () => {
  model = await LlamaModel.load(sharedModel(STORIES_260K));
  context = await model.createContext({ kvTokens: 1024, maxSequences: 16, threads: 1 });
});

afterAll(async () => {
  await context.dispose();
  model.dispose();
});

describe("stories260K", () => {
  it("reports the model's metadata", () => {
    expect(model.info).toMatchObject({
      architecture: "llama",
      vocabSize: 512,
      embeddingSize: 64,
      layerCount: 5,
      headCount: 8,
      headCountKv: 4,
      bosToken: 1,
      eosToken: 2,
      contextLengthTrain: 2048,
      parameterCount: 292800,
      chatTemplate: null,
    });
    expect([...model.info.endOfGenerationTokens]).toEqual([2]);
  });

  it("continues 'Once upon a time' greedily as the fixture's README records", async () => {
    const [generated] = await generateTogether(context, [{ seqId: 0, prompt: model.tokenize("Once upon a time") }], 30);
    const text = model.detokenize(Int32Array.from(generated!));
    expect(text.startsWith(", there was a little girl named Lily")).toBe(true);
    await clearPool(context);
  });

  it("tokenizes with BOS and round-trips text through detokenize and tokenToBytes", () => {
    const tokens = model.tokenize("Once upon a time");
    expect(tokens[0]).toBe(1);
    expect(model.detokenize(tokens.subarray(1))).toBe("Once upon a time");
    const bytes = Buffer.concat([...tokens.subarray(1)].map((t) => model.tokenToBytes(t)));
    expect(bytes.toString("utf8").trim()).toBe("Once upon a time");
    expect(model.tokenize("Once", { addSpecial: false })[0]).not.toBe(1);
  });

  it("returns the sampled token's log-probability and the top alternatives in order", async () => {
    const prompt = model.tokenize("Once upon a time");
    const sampler = context.createSampler(samplingParams({ temperature: 0 }));
    const result = await context.step({
      tokens: prompt,
      positions: Int32Array.from(prompt, (_, i) => i),
      seqIds: new Int32Array(prompt.length),
      outputRows: Int32Array.of(prompt.length - 1),
      samplers: [sampler],
      topLogprobs: Int32Array.of(5),
    });
    expect(result.errors).toEqual([]);
    expect(result.topCounts[0]).toBe(5);
    expect(result.topTokens[0]).toBe(result.tokens[0]);
    expect(result.topLogprobs[0]).toBeCloseTo(result.sampledLogprobs[0]!, 5);
    const logprobs = [...result.topLogprobs];
    expect(logprobs).toEqual([...logprobs].sort((a, b) => b - a));
    expect(logprobs.every((lp) => lp <= 0)).toBe(true);
    expect(Math.exp(logprobs[0]!)).toBeGreaterThan(0.5);
    await clearPool(context);
  });

  it("samples reproducibly with a seed, and differently with other seeds", async () => {
    const prompt = model.tokenize("Once upon a time");
    const run = (seed: number) =>
      generateTogether(
        context,
        [{ seqId: 1, prompt, sampler: context.createSampler(samplingParams({ temperature: 1.5, seed })) }],
        20,
      ).then(async (out) => {
        await clearPool(context);
        return out[0];
      });
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    const others = [await run(11), await run(12), await run(13)];
    expect(others.some((o) => JSON.stringify(o) !== JSON.stringify(first))).toBe(true);
  });
});
