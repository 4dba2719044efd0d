// --deterministic: a seeded sampled request gives the same text alone, beside other requests (different neighbours,
// arriving before and after it, some sharing its prompt's beginning), and after unrelated traffic filled the prefix
// cache, with and without prompt-lookup speculation. Many trials per model, on stories260K and a synthetic model. The
// tokens and their top log-probabilities must be bit-identical: without --deterministic the log-probabilities part in
// the last bits within a few tokens (and a sampled token flips now and then).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { NgramDrafter } from "../../src/scheduler/ngram-drafter.js";
import { Speculation } from "../../src/scheduler/speculation.js";
import { collect, greedyRequest, startEngine, type TestEngine } from "../helpers/engine.js";
import { engineTrace, type GreedyTrace } from "../helpers/greedy.js";
import { ENGINE_MODELS } from "../helpers/models.js";
import { mulberry32 } from "../../models/weights.js";

const TRIALS = 12;
const TARGET = "Once upon a time, there was a little girl named Lily. She liked to play in the park with her dog";
const WORDS = ["the", "dog", "ran", "to", "a", "big", "red", "ball", "and", "Tom", "was", "happy", "park", "sun"];
const sampled = { temperature: 1, seed: 1234, maxTokens: 40, ignoreEos: true, topP: 0.95, logprobs: 4 };

describe.each(ENGINE_MODELS)("%s", (_name, modelPath) => {
  let model: LlamaModel;

  beforeAll(async () => {
    model = await LlamaModel.load(modelPath());
  });

  afterAll(() => model.dispose());

  /** The target's trace on `engine` beside 1 to 6 neighbours, submitted after 0 to 5 tokens of the first. */
  async function runTrial(engine: TestEngine, trial: number): Promise<GreedyTrace> {
    const random = mulberry32(trial + 1);
    const neighbours = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
      const words = Array.from({ length: 3 + Math.floor(random() * 40) }, () => WORDS[Math.floor(random() * 14)]);
      // Some neighbours share the target's beginning, so its prefix may come from their cells.
      const text =
        random() < 0.4 ? `${TARGET.slice(0, 30 + Math.floor(random() * 40))} ${words.join(" ")}` : words.join(" ");
      const params = { temperature: random(), seed: trial, maxTokens: 4 + Math.floor(random() * 40), ignoreEos: true };
      return engine.engine.submit(greedyRequest(model.tokenize(text), params));
    });
    const iterator = neighbours[0]![Symbol.asyncIterator]();
    for (let seen = Math.floor(random() * 6); seen > 0; seen--) await iterator.next();
    const target = engineTrace(engine.engine.submit(greedyRequest(model.tokenize(TARGET), sampled)));
    await Promise.all([
      ...neighbours.slice(1).map(collect),
      (async () => {
        while (!(await iterator.next()).done);
      })(),
    ]);
    return target;
  }

  it.each([
    ["without speculation", false],
    ["with prompt lookup", true],
  ])(
    "gives a seeded request the same tokens and log-probabilities alone, beside others and after unrelated traffic (%s)",
    async (_, spec) => {
      const start = () =>
        startEngine(model, {
          deterministic: true,
          maxBatchTokens: 64,
          maxRunning: 8,
          kvTokens: 8 * 256,
          ...(spec
            ? { speculation: new Speculation({ drafter: new NgramDrafter(), numSpeculativeTokens: 4, maxStepRows: 8 }) }
            : {}),
        });
      const alone = await start();
      const expected = await engineTrace(alone.engine.submit(greedyRequest(model.tokenize(TARGET), sampled)));
      await alone.close();
      expect(expected.tokens).toHaveLength(40);
      const engine = await start();
      const results: GreedyTrace[] = [];
      for (let trial = 0; trial < TRIALS; trial++) results.push(await runTrial(engine, trial));
      // Once more alone, on a pool the trials left full of cached prefixes (the target's own among them).
      results.push(await engineTrace(engine.engine.submit(greedyRequest(model.tokenize(TARGET), sampled))));
      const { kv } = engine.engine.stats();
      await engine.close();
      expect(kv.prefixCacheHits).toBeGreaterThan(0);
      results.forEach((trace, trial) => expect(trace, `trial ${trial}`).toEqual(expected));
    },
  );
});
