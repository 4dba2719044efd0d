// The engine over llama.cpp streams, one per sequence (kv_unified = false): concurrent requests keep their solo
// outputs, prefixes are shared by taking over a finished stream or copying a running one, and cancellation
// returns every stream.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import type { StepEvent } from "../../src/engine/events.js";
import type { Request } from "../../src/engine/request.js";
import type { BackgroundPolicy } from "../../src/scheduler/background.js";
import { collect, greedyRequest, startEngine, varyingPrompts, type TestEngine } from "../helpers/engine.js";
import { engineTrace, expectGreedyAgreement } from "../helpers/greedy.js";
import { ENGINE_MODELS } from "../helpers/models.js";

/** `events`, calling `first` when the first token comes. */
async function* onFirstToken(events: AsyncIterable<StepEvent>, first: () => void): AsyncIterable<StepEvent> {
  for await (const event of events) {
    if (event.type === "token") first();
    yield event;
  }
}

describe.each(ENGINE_MODELS)("per-sequence KV streams on %s", (_name, modelPath) => {
  let model: LlamaModel;
  let solo: TestEngine;

  beforeAll(async () => {
    model = await LlamaModel.load(modelPath());
    solo = await startEngine(model);
  });

  afterAll(async () => {
    await solo.close();
    model.dispose();
  });

  const prompts = () => varyingPrompts(model);
  /** 32 streams of 256 cells and a step budget of 128 tokens. */
  const thirtyTwoStreams = (background?: BackgroundPolicy) =>
    startEngine(model, {
      kvTokens: 8192,
      maxRunning: 32,
      maxBatchTokens: 128,
      perSequence: true,
      ...(background ? { background } : {}),
    });
  /** Each of `count` requests run alone on `e`, one after the other: the reference of a concurrent run. */
  const soloTraces = async (e: TestEngine, count: number, request: (i: number) => Request) => {
    const traces = [];
    for (let i = 0; i < count; i++) traces.push(await engineTrace(e.engine.submit(request(i))));
    return traces;
  };
  const shared = () => model.tokenize("The sun was warm and the sky was blue. ".repeat(30)).slice(0, 200);

  // Equal but for float-noise ties (see helpers/greedy.ts): stories260K has one at 1e-3 nats among these prompts.
  it("runs 32 concurrent requests, each identical to its solo run", async () => {
    const all = prompts();
    const streams = await thirtyTwoStreams();
    expect(streams.context.cellsPerSequence).toBe(256);
    const request = (i: number) => greedyRequest(all[i]!, { maxTokens: 8 + (i % 9), ignoreEos: true, logprobs: 2 });
    const expected = await soloTraces(streams, all.length, request);
    const soloSteps = streams.engine.stats().numSteps;
    const outcomes = await Promise.all(all.map((_, i) => engineTrace(streams.engine.submit(request(i)))));
    expect(expectGreedyAgreement(expected, outcomes)).toBeLessThanOrEqual(2);
    const stats = streams.engine.stats();
    expect(stats.numSteps - soloSteps).toBeLessThan(all.length * 8);
    expect(stats.kv.numUsedBlocks).toBe(0);
    await streams.close();
  });

  it("leaves the streams of background sequences held out of a step untouched: every request keeps its solo run", async () => {
    const all = prompts();
    // Background sequences decoding when foreground ones arrive (and short background ones ended, leaving idle
    // streams among them): from then on a step takes one background token and leaves the other running background
    // streams out, between foreground streams in the idle ones. Their cells must come through untouched (filler
    // rows for the idle streams between planned ones once wrote into them).
    const streams = await thirtyTwoStreams({ priority: 10, stepTokens: 1, holdMs: 0 });
    const half = Math.floor(all.length / 2);
    const request = (i: number) =>
      i < half
        ? greedyRequest(all[i]!, { maxTokens: i % 2 ? 2 : 48, ignoreEos: true, logprobs: 2 }, { priority: 10 })
        : greedyRequest(all[i]!, { maxTokens: 8 + (i % 5), ignoreEos: true, logprobs: 2 });
    const expected = await soloTraces(streams, all.length, request);
    const decoding: Promise<void>[] = [];
    const outcomes: Promise<Awaited<ReturnType<typeof engineTrace>>>[] = [];
    for (let i = 0; i < half; i++) {
      let first!: () => void;
      decoding.push(new Promise<void>((resolve) => (first = resolve)));
      outcomes.push(engineTrace(onFirstToken(streams.engine.submit(request(i)), first)));
    }
    await Promise.all([...decoding, ...outcomes.filter((_, i) => i % 2 === 1)]);
    for (let i = half; i < all.length; i++) outcomes.push(engineTrace(streams.engine.submit(request(i))));
    expect(expectGreedyAgreement(expected, await Promise.all(outcomes))).toBeLessThanOrEqual(2);
    expect(streams.engine.stats().kv.numUsedBlocks).toBe(0);
    await streams.close();
  });

  it("a request whose prefix a finished stream holds takes that stream over and prefills only its suffix", async () => {
    const first = Int32Array.from([...shared(), ...model.tokenize(" Lily ran", { addSpecial: false })]);
    const second = Int32Array.from([...shared(), ...model.tokenize(" Tom sat", { addSpecial: false })]);
    const reference = await collect(solo.engine.submit(greedyRequest(second, { ignoreEos: true })));
    const e = await startEngine(model, { kvTokens: 2048, maxRunning: 4, perSequence: true });
    await collect(e.engine.submit(greedyRequest(first, { ignoreEos: true })));
    const before = e.engine.stats();
    const outcome = await collect(e.engine.submit(greedyRequest(second, { ignoreEos: true })));
    const after = e.engine.stats();
    expect(outcome.tokens).toEqual(reference.tokens);
    expect(outcome.finished[0]!.usage.cachedPromptTokens).toBe(192);
    expect(after.numComputedTokens - before.numComputedTokens).toBe(second.length - 192 + 15);
    expect(after.kv.numParkedSlots).toBe(1); // the second ran in the first's stream
    await e.close();
  });

  it("n = 3 choices copy their prompt out of the first choice's running stream", async () => {
    const prompt = Int32Array.from([...shared(), ...model.tokenize(" and then", { addSpecial: false })]);
    const reference = await collect(solo.engine.submit(greedyRequest(prompt, { ignoreEos: true })));
    const e = await startEngine(model, { kvTokens: 2048, maxRunning: 4, perSequence: true });
    const outcome = await collect(e.engine.submit(greedyRequest(prompt, { ignoreEos: true, n: 3 })));
    expect(outcome.tokens).toEqual([reference.tokens[0], reference.tokens[0], reference.tokens[0]]);
    const stats = e.engine.stats();
    expect(stats.kv.prefixCacheHits).toBe(2 * 192);
    expect(stats.numComputedTokens).toBe(prompt.length + 2 * (prompt.length - 192) + 3 * 15);
    const usage = await e.context.inspect();
    expect(usage.usedCells).toBe(stats.kv.numCachedBlocks * 16); // three streams, each with its own copy
    expect(stats.kv.numCachedBlocks).toBe(3 * Math.floor((prompt.length + 15) / 16));
    await e.close();
  });

  it("fills an idle stream between running ones with a throwaway row inside a full step, keeping solo outputs", async () => {
    const [a, b, c] = [prompts()[3]!, prompts()[5]!, Int32Array.from([...shared(), 13])];
    const maxTokens = [12, 1, 12];
    const references = [];
    for (const [i, p] of [a, b, c].entries())
      references.push(
        await collect(solo.engine.submit(greedyRequest(p!, { maxTokens: maxTokens[i]!, ignoreEos: true }))),
      );
    const e = await startEngine(model, { kvTokens: 2048, maxRunning: 3, maxBatchTokens: 16, perSequence: true });
    // b ends after one token while c's 201-token prompt still fills every step's budget around the gap b leaves.
    const outcomes = await Promise.all(
      [a, b, c].map((p, i) =>
        collect(e.engine.submit(greedyRequest(p!, { maxTokens: maxTokens[i]!, ignoreEos: true }))),
      ),
    );
    expect(outcomes.map((o) => o.finished[0]!.reason)).toEqual(["length", "length", "length"]);
    expect(outcomes.map((o) => o.tokens)).toEqual(references.map((r) => r.tokens));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await e.context.inspect()).usedCells).toBe(e.engine.stats().kv.numCachedBlocks * 16); // fillers removed
    await e.close();
  });

  it("cancelling mid-generation empties every stream but the cached prompt blocks", async () => {
    const e = await startEngine(model, { kvTokens: 4096, maxRunning: 8, perSequence: true });
    const runs = Array.from({ length: 6 }, (_, i) =>
      (async () => {
        let seen = 0;
        const reasons: string[] = [];
        const request = greedyRequest(prompts()[i]!, { maxTokens: 10_000, ignoreEos: true });
        for await (const event of e.engine.submit(request)) {
          if (event.type === "token" && ++seen === 3 + i) e.engine.abort(request.requestId);
          if (event.type === "finished") reasons.push(event.reason);
        }
        return reasons.join();
      })(),
    );
    expect(await Promise.all(runs)).toEqual(Array(6).fill("abort"));
    const stats = e.engine.stats();
    expect(stats.numRunning + stats.numWaiting).toBe(0);
    expect(stats.kv.numUsedBlocks).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await e.context.inspect()).usedCells).toBe(stats.kv.numCachedBlocks * 16);
    await e.close();
  });
});
