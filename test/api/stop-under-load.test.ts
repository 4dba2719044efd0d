// A stop string ends a request the same way alone and among many streams. With more running sequences than the
// engine delivers in one event-loop turn (DELIVERY_SLICE), the requests at the end of a step's events see their
// token only after the next step was planned and has started: the token that step samples for them must be dropped
// (the sequence was aborted mid-step), appearing neither in the text nor in the usage.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DELIVERY_SLICE } from "../../src/engine/event-delivery.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const FILLERS = DELIVERY_SLICE * 2;
const STOPPED = 8;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ maxRunning: FILLERS + STOPPED, kvTokens: 32768 });
});
afterAll(async () => {
  await server?.close();
});

/** A stream that runs until `signal` aborts, resolving once its first chunk came (it is running by then). */
async function filler(index: number, signal: AbortSignal): Promise<void> {
  const response = await fetch(`${server.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: server.model,
      prompt: `filler ${index}`,
      max_tokens: 400,
      ignore_eos: true,
      stream: true,
    }),
    signal,
  });
  const reader = response.body!.getReader();
  await reader.read();
  void (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done);
  })();
}

describe("stop strings among many running sequences", () => {
  it("give a request behind a full step of other streams the text and completion_tokens it gets alone", async () => {
    const ask = (stop?: string) =>
      server.client.completions.create({
        model: server.model,
        prompt: "Once upon a time",
        max_tokens: 16,
        temperature: 0,
        ...(stop === undefined ? {} : { stop }),
      });
    const free = (await ask()).choices[0]!.text;
    const stop = free.slice(8, 11);
    expect(stop.length).toBe(3);
    const alone = await ask(stop);
    expect(alone.choices[0]!.finish_reason).toBe("stop");
    expect(alone.choices[0]!.text).toBe(free.slice(0, free.indexOf(stop)));

    const fillers = new AbortController();
    try {
      await Promise.all(Array.from({ length: FILLERS }, (_, i) => filler(i, fillers.signal)));
      const crowd = await Promise.all(Array.from({ length: STOPPED }, () => ask(stop)));
      for (const answer of crowd) {
        expect(answer.choices[0]!.text).toBe(alone.choices[0]!.text);
        expect(answer.choices[0]!.finish_reason).toBe("stop");
        expect(answer.usage!.completion_tokens).toBe(alone.usage!.completion_tokens);
        expect(answer.usage!.prompt_tokens).toBe(alone.usage!.prompt_tokens);
      }
    } finally {
      fillers.abort();
    }
  });
});
