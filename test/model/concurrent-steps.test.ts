// Concurrent callers on one context: calls are serialized in call order and no result is corrupted.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { samplingParams } from "../../src/sampling-params.js";
import { clearPool, generateTogether } from "../helpers/llama.js";
import { sharedModel, STORIES_260K } from "../helpers/models.js";

let model: LlamaModel;
let context: LlamaContext;
const CALLERS = 8;
const STEPS_EACH = 25;

beforeAll(async () => {
  model = await LlamaModel.load(sharedModel(STORIES_260K));
  context = await model.createContext({ kvTokens: 2048, maxSequences: 16, threads: 1 });
});

afterAll(async () => {
  await context.dispose();
  model.dispose();
});

it("200 interleaved step calls from 8 concurrent callers give each caller its solo result", async () => {
  const prompts = Array.from({ length: CALLERS }, (_, i) =>
    model.tokenize(`Once upon a time, ${"there was a ".repeat(i % 3)}little`),
  );
  const solo: number[][] = [];
  for (const prompt of prompts) {
    solo.push((await generateTogether(context, [{ seqId: 0, prompt }], STEPS_EACH))[0]!);
    await clearPool(context);
  }

  let calls = 0;
  const caller = async (seqId: number, prompt: Int32Array): Promise<number[]> => {
    const sampler = context.createSampler(samplingParams({ temperature: 0 }));
    const out: number[] = [];
    let tokens = prompt;
    let position = 0;
    for (let step = 0; step < STEPS_EACH; step++) {
      calls++;
      const result = await context.step({
        tokens,
        positions: Int32Array.from(tokens, (_, i) => position + i),
        seqIds: new Int32Array(tokens.length).fill(seqId),
        outputRows: Int32Array.of(tokens.length - 1),
        samplers: [sampler],
      });
      position += tokens.length;
      out.push(result.tokens[0]!);
      tokens = Int32Array.of(result.tokens[0]!);
    }
    return out;
  };
  const concurrent = await Promise.all(prompts.map((prompt, i) => caller(i + 1, prompt)));
  expect(calls).toBe(CALLERS * STEPS_EACH);
  expect(concurrent).toEqual(solo);
  const usage = await context.inspect();
  expect(usage.usedCells).toBe(prompts.reduce((n, p) => n + p.length + STEPS_EACH - 1, 0));
  await clearPool(context);
});
