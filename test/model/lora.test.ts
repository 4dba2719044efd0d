// LoRA adapters through the addon: the shared stories260K adapter changes greedy output at scale 1 and not at 0.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { NativeLoraAdapter } from "../../src/backend/llama/addon.js";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import type { SequenceSampler } from "../../src/backend/types.js";
import { samplingParams } from "../../src/sampling-params.js";
import { clearPool } from "../helpers/llama.js";
import { sharedModel, STORIES_260K, STORIES_LORA } from "../helpers/models.js";

let model: LlamaModel;
let context: LlamaContext;
let adapter: NativeLoraAdapter;

beforeAll(async () => {
  model = await LlamaModel.load(sharedModel(STORIES_260K));
  context = await model.createContext({ kvTokens: 1024, maxSequences: 4, threads: 1 });
  adapter = await model.loadAdapter(sharedModel(STORIES_LORA));
});

afterAll(async () => {
  adapter.dispose();
  await context.dispose();
  model.dispose();
});

async function greedyText(scale: number | null): Promise<string> {
  const prompt = model.tokenize("Once upon a time");
  const samplers: SequenceSampler[] = [context.createSampler(samplingParams({ temperature: 0 }))];
  const adapters =
    scale === null
      ? { adapters: [], adapterScales: new Float32Array(0) }
      : { adapters: [adapter], adapterScales: Float32Array.of(scale) };
  const out: number[] = [];
  let result = await context.step({
    ...adapters,
    tokens: prompt,
    positions: Int32Array.from(prompt, (_, i) => i),
    seqIds: new Int32Array(prompt.length),
    outputRows: Int32Array.of(prompt.length - 1),
    samplers,
  });
  for (let i = 0; i < 20; i++) {
    out.push(result.tokens[0]!);
    result = await context.step({
      tokens: Int32Array.of(out.at(-1)!),
      positions: Int32Array.of(prompt.length + i),
      seqIds: Int32Array.of(0),
      outputRows: Int32Array.of(0),
      samplers,
    });
  }
  await clearPool(context);
  return model.detokenize(Int32Array.from(out));
}

it("reads the adapter's GGUF metadata", () => {
  expect(adapter.metadata()).toMatchObject({ "general.type": "adapter", "adapter.type": "lora" });
});

it("changes greedy output at scale 1, leaves it unchanged at scale 0, and is removable", async () => {
  const base = await greedyText(null);
  const withAdapter = await greedyText(1);
  expect(base.startsWith(", there was a little girl named Lily")).toBe(true);
  expect(withAdapter).not.toBe(base);
  // The fixture's README records '!" and birdy ...' from node-llama-cpp's own context settings; the untrained
  // adapter's later tokens are sensitive to those, its first ones are not.
  expect(withAdapter.startsWith('!" and ')).toBe(true);
  expect(await greedyText(0)).toBe(base);
  expect(await greedyText(null)).toBe(base);
});
