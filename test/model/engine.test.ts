// The engine on real llama.cpp: continuous batching gives every request its solo output; prefix sharing across
// requests, preemption under a small pool and cancellation all keep outputs right and return every block.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { collect, greedyRequest, startEngine, varyingPrompts, type TestEngine } from "../helpers/engine.js";
import { ENGINE_MODELS } from "../helpers/models.js";

describe.each(ENGINE_MODELS)("engine on %s", (_name, modelPath) => {
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

  it("runs 32 concurrent requests of different lengths, each identical to its solo run", async () => {
    const all = prompts();
    const expected = [];
    for (const [i, prompt] of all.entries())
      expected.push(
        (await collect(solo.engine.submit(greedyRequest(prompt, { maxTokens: 8 + (i % 9), ignoreEos: true }))))
          .tokens[0],
      );
    const batched = await startEngine(model, { maxBatchTokens: 128 });
    const outcomes = await Promise.all(
      all.map((prompt, i) =>
        collect(batched.engine.submit(greedyRequest(prompt, { maxTokens: 8 + (i % 9), ignoreEos: true }))),
      ),
    );
    expect(outcomes.map((o) => o.tokens[0])).toEqual(expected);
    expect(outcomes.every((o) => o.finished[0]!.reason === "length")).toBe(true);
    const stats = batched.engine.stats();
    expect(stats.numSteps).toBeLessThan(all.length * 8);
    expect(stats.kv.numUsedBlocks).toBe(0);
    await batched.close();
  });

  it("a second request sharing a 200-token prefix prefills only its suffix and gives the same text", async () => {
    const shared = model.tokenize("The sun was warm and the sky was blue. ".repeat(30)).slice(0, 200);
    const first = Int32Array.from([...shared, ...model.tokenize(" Lily ran", { addSpecial: false })]);
    const second = Int32Array.from([...shared, ...model.tokenize(" Tom sat", { addSpecial: false })]);
    const fresh = await startEngine(model);
    const reference = await collect(fresh.engine.submit(greedyRequest(second, { ignoreEos: true })));
    await fresh.close();

    const e = await startEngine(model);
    await collect(e.engine.submit(greedyRequest(first, { ignoreEos: true })));
    const before = e.engine.stats();
    const outcome = await collect(e.engine.submit(greedyRequest(second, { ignoreEos: true })));
    const after = e.engine.stats();
    expect(outcome.tokens).toEqual(reference.tokens);
    expect(outcome.finished[0]!.usage.cachedPromptTokens).toBe(192);
    expect(after.kv.prefixCacheHits - before.kv.prefixCacheHits).toBe(192);
    expect(after.numComputedTokens - before.numComputedTokens).toBe(second.length - 192 + 15);
    await e.close();
  });

  it("finishes every request correctly through preemption when the pool is too small for all at once", async () => {
    const all = prompts().slice(0, 12);
    const expected = [];
    for (const prompt of all)
      expected.push(
        (await collect(solo.engine.submit(greedyRequest(prompt, { maxTokens: 24, ignoreEos: true })))).tokens[0],
      );
    const small = await startEngine(model, { kvTokens: 320, blockSize: 16, maxBatchTokens: 64 });
    const outcomes = await Promise.all(
      all.map((prompt) => collect(small.engine.submit(greedyRequest(prompt, { maxTokens: 24, ignoreEos: true })))),
    );
    expect(outcomes.map((o) => o.tokens[0])).toEqual(expected);
    const stats = small.engine.stats();
    expect(stats.numPreemptions).toBeGreaterThan(0);
    expect(stats.kv.numUsedBlocks).toBe(0);
    await small.close();
  });

  it("retains finished prompts only within the budget, so the KV span scanned by attention stays near the live cells", async () => {
    const all = prompts().slice(0, 16);
    const run = async (retainedTokens: number) => {
      const e = await startEngine(model, { retainedTokens });
      let maxSpan = 0;
      const outcomes = all.map(async (prompt) => {
        for await (const event of e.engine.submit(greedyRequest(prompt, { maxTokens: 12, ignoreEos: true }))) {
          if (event.type === "token") maxSpan = Math.max(maxSpan, e.engine.stats().kvSpanCells);
        }
      });
      await Promise.all(outcomes);
      await e.engine.drain();
      const retained = e.engine.stats().kv.numCachedBlocks * 16;
      // One empty step applies the releases decided after the last decode.
      await collect(e.engine.submit(greedyRequest(model.tokenize("x"), { maxTokens: 1 })));
      const usage = await e.context.inspect();
      await e.close();
      return { maxSpan, retained, usage };
    };
    const unbounded = await run(Infinity);
    const bounded = await run(32);
    expect(unbounded.retained).toBeGreaterThan(128);
    for (const r of [unbounded, bounded]) expect(r.usage.usedCells).toBe(r.retained);
    expect(bounded.retained).toBeLessThanOrEqual(32);
    expect(bounded.usage.spanCells).toBeGreaterThanOrEqual(bounded.usage.usedCells);
    expect(bounded.usage.spanCells).toBeLessThan(unbounded.usage.spanCells);
    expect(bounded.maxSpan).toBeGreaterThan(0);
  });

  it("cancelling mid-generation returns the block counters and cells to baseline", async () => {
    const e = await startEngine(model);
    const baseline = e.engine.stats().kv;
    const runs = Array.from({ length: 6 }, (_, i) => {
      const request = greedyRequest(prompts()[i]!, { maxTokens: 10_000, ignoreEos: true });
      const events = e.engine.submit(request);
      return (async () => {
        let seen = 0;
        const reasons: string[] = [];
        for await (const event of events) {
          if (event.type === "token" && ++seen === 3 + i) e.engine.abort(request.requestId);
          if (event.type === "finished") reasons.push(event.reason);
        }
        return { seen, reasons };
      })();
    });
    const results = await Promise.all(runs);
    expect(results.every((r) => r.reasons.join() === "abort" && r.seen < 50)).toBe(true);
    const stats = e.engine.stats();
    expect(stats.numRunning + stats.numWaiting).toBe(0);
    expect(stats.kv.numUsedBlocks).toBe(baseline.numUsedBlocks);
    // Only full prompt blocks stay, as evictable prefix cache; the loop already ran the releases it decided.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const usage = await e.context.inspect();
    expect(usage.usedCells).toBe(stats.kv.numCachedBlocks * 16);

    // A consumer that stops iterating early cancels its request too.
    for await (const event of e.engine.submit(greedyRequest(prompts()[0]!, { maxTokens: 10_000, ignoreEos: true }))) {
      if (event.type === "token") break;
    }
    await e.engine.drain();
    expect(e.engine.stats().kv.numUsedBlocks).toBe(0);
    await e.close();
  });
});
