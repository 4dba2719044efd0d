// Sequences decoded together in one batch give the same greedy tokens as each decoded alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { clearPool, generateTogether } from "../helpers/llama.js";
import { ENGINE_MODELS } from "../helpers/models.js";

const PROMPTS = ["Once upon a time", "The little dog", "Tom and Sue went to the park. They", "One day, a big red"];

describe.each(ENGINE_MODELS)("%s", (_name, modelPath) => {
  let model: LlamaModel;
  let context: LlamaContext;

  beforeAll(async () => {
    model = await LlamaModel.load(modelPath());
    context = await model.createContext({ kvTokens: 2048, maxSequences: 16, threads: 1 });
  });

  afterAll(async () => {
    await context.dispose();
    model.dispose();
  });

  it("four sequences decoded in one batch match each decoded alone", async () => {
    const prompts = PROMPTS.map((p) => model.tokenize(p));
    const alone: number[][] = [];
    for (const prompt of prompts) {
      alone.push((await generateTogether(context, [{ seqId: 0, prompt }], 24))[0]!);
      await clearPool(context);
    }
    const together = await generateTogether(
      context,
      prompts.map((prompt, i) => ({ seqId: i + 3, prompt })),
      24,
    );
    expect(together).toEqual(alone);
    await clearPool(context);
  });
});
