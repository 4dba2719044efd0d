// A real Loom server on a loopback port over models/tiny.gguf, and the official openai client pointed at it.
import OpenAI from "openai";
import type { ConfigInput } from "../../src/config.js";
import { type RunningServer, type StartOptions, startServer } from "../../src/compose/server.js";
import { tinyModel } from "./models.js";

export interface TestServer extends RunningServer {
  readonly client: OpenAI;
  readonly model: string;
}

export async function startTestServer(
  overrides: Partial<ConfigInput> = {},
  options: StartOptions = {},
): Promise<TestServer> {
  const running = await startServer(
    { model: tinyModel(), port: 0, kvTokens: 4096, maxRunning: 16, threads: 1, logLevel: "warn", ...overrides },
    { processMetrics: false, ...options },
  );
  const client = new OpenAI({
    baseURL: `${running.url}/v1`,
    apiKey: overrides.apiKeys?.[0] ?? "unused",
    maxRetries: 0,
    timeout: 60_000,
  });
  return {
    ...running,
    close: (graceMs?: number) => running.close(graceMs),
    client,
    model: running.registry.list()[0]!.name,
  };
}

/** Server counters settle between steps; polls until `done` holds or fails with what it last saw. */
export async function eventually<T>(read: () => T, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = read();
  while (!done(value)) {
    if (Date.now() > deadline)
      throw new Error(`condition not reached within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = read();
  }
  return value;
}
