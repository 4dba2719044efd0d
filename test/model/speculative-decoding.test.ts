// Speculative decoding on the trained stories260K: the output is the output without it. Greedy text agrees token
// for token (up to float ties: a verify chunk's rows share a micro-batch, which changes the last bits of a logit);
// with --deterministic's batch-invariant steps it is bit-identical, and a seeded sampled request too, since
// verifying draws one random number per kept token, as decoding one token a step does. Prompt lookup on a prompt
// the output copies, and on plain ones, with concurrency; a draft model (the model itself) drafts what it samples.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { DraftModelDrafter } from "../../src/engine/draft-model.js";
import { samplingParams, type SamplingParams } from "../../src/sampling-params.js";
import { NgramDrafter } from "../../src/scheduler/ngram-drafter.js";
import { type Drafter, Speculation } from "../../src/scheduler/speculation.js";
import { collect, greedyRequest, startEngine, type TestEngine } from "../helpers/engine.js";
import { engineTrace, expectGreedyAgreement, type GreedyTrace } from "../helpers/greedy.js";
import { sharedModel, STORIES_260K } from "../helpers/models.js";

const STORY =
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun. One day, she saw a " +
  "big red ball in the park. She wanted to play with it. ";
/** A prompt whose output could copy it: the story twice, then again, cut short. */
const COPY = `${STORY}${STORY}Once upon a time, there was a little girl named Lily. She loved`;
const PLAIN = ["The little dog", "Tom and Sue went to the park. They", "One day, a big red", "Once upon a time"];

let model: LlamaModel;

beforeAll(async () => {
  model = await LlamaModel.load(sharedModel(STORIES_260K));
});

afterAll(() => model.dispose());

const ngram = () => new Speculation({ drafter: new NgramDrafter(), numSpeculativeTokens: 5, maxStepRows: 16 });

/** Runs the prompts at once on `engine` (greedy, or `params`); returns each run's trace. */
async function runAll(engine: TestEngine, prompts: readonly string[], params: Partial<SamplingParams> = {}) {
  const runs = prompts.map((p) =>
    engine.engine.submit(greedyRequest(model.tokenize(p), { maxTokens: 64, logprobs: 2, ignoreEos: true, ...params })),
  );
  return Promise.all(runs.map((events) => engineTrace(events)));
}

/** Each prompt's trace without speculation, run alone on the same kind of engine. */
async function reference(prompts: readonly string[], params: Partial<SamplingParams>, deterministic: boolean) {
  const traces: GreedyTrace[] = [];
  for (const prompt of prompts) {
    const engine = await startEngine(model, { deterministic });
    traces.push(...(await runAll(engine, [prompt], params)));
    await engine.close();
  }
  return traces;
}

describe("prompt lookup", () => {
  it("verifies drafts looked up in a prompt that repeats a story: fewer steps than tokens, the same greedy text", async () => {
    const [expected] = await reference([COPY], {}, false);
    const engine = await startEngine(model, { speculation: ngram() });
    const [run] = await runAll(engine, [COPY]);
    const { numSteps, specDecode } = engine.engine.stats();
    await engine.close();
    expect(expectGreedyAgreement([expected!], [run!])).toBe(0);
    // stories260K is too small to copy a story it was shown; what it takes are its own recurring phrases.
    expect(specDecode!.numAcceptedTokens).toBeGreaterThanOrEqual(5);
    // The prefill step samples the first token; every later step one, plus the drafts it accepted.
    expect(numSteps).toBe(64 - specDecode!.numAcceptedTokens);
  });

  it("gives each of several concurrent requests its greedy text, copying or not", async () => {
    const prompts = [COPY, ...PLAIN, COPY.slice(40)];
    const expected = await reference(prompts, {}, false);
    const engine = await startEngine(model, { speculation: ngram() });
    const runs = await runAll(engine, prompts);
    const { specDecode } = engine.engine.stats();
    await engine.close();
    expect(expectGreedyAgreement(expected, runs)).toBeLessThanOrEqual(1);
    expect(specDecode!.numAcceptedTokens).toBeGreaterThan(0);
  });

  it("never drafts for a request that opted out", async () => {
    const engine = await startEngine(model, { speculation: ngram() });
    const out = await collect(engine.engine.submit(greedyRequest(model.tokenize(COPY), { speculative: false })));
    expect(out.tokens[0]).toHaveLength(16);
    expect(engine.engine.stats().specDecode!.numDrafts).toBe(0);
    await engine.close();
  });
});

describe("with batch-invariant steps (--deterministic)", () => {
  const cases: [string, Partial<SamplingParams>][] = [
    ["greedy", {}],
    ["seeded sampling", { temperature: 0.9, seed: 42 }],
    ["seeded sampling with penalties and top-p", { temperature: 1.2, seed: 7, topP: 0.9, repetitionPenalty: 1.3 }],
  ];

  it.each(cases)("%s: the very tokens of decoding one token a step, for concurrent requests", async (_, params) => {
    const prompts = [COPY, ...PLAIN];
    const expected = await reference(prompts, params, true);
    const engine = await startEngine(model, { speculation: ngram(), deterministic: true });
    const runs = await runAll(engine, prompts, params);
    const { specDecode } = engine.engine.stats();
    await engine.close();
    expect(runs.map((r) => r.tokens)).toEqual(expected.map((r) => r.tokens));
    expect(specDecode!.numDrafts).toBeGreaterThan(0);
  });

  it("a draft model drafts exactly what the model samples: every greedy draft token is accepted", async () => {
    const drafts = await model.createContext({
      kvTokens: 4096,
      maxSequences: 32,
      threads: 1,
      batchTokens: 256,
      batchInvariant: true,
    });
    const greedy = drafts.createSampler(samplingParams({ temperature: 0 }));
    const drafter = new DraftModelDrafter({
      backend: drafts,
      greedy,
      numSlots: 32,
      maxBatchTokens: drafts.batchTokens,
      release: async () => {
        greedy.dispose();
        await drafts.dispose();
      },
    });
    const prompts = PLAIN;
    const expected = await reference(prompts, {}, true);
    const speculation = new Speculation({ drafter: drafter as Drafter, numSpeculativeTokens: 4, maxStepRows: 32 });
    const engine = await startEngine(model, { speculation, drafter, deterministic: true });
    const runs = await runAll(engine, prompts);
    const { specDecode } = engine.engine.stats();
    await engine.close();
    expect(runs.map((r) => r.tokens)).toEqual(expected.map((r) => r.tokens));
    expect(specDecode!.numDraftTokens).toBeGreaterThan(64);
    expect(specDecode!.numAcceptedTokens).toBe(specDecode!.numDraftTokens);
  });
});
