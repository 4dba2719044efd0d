// `loom worker` arguments: serve's options, with --redis required.
import { describe, expect, it } from "vitest";
import { HelpRequested } from "../../../src/cli.js";
import { ConfigError, loadConfig } from "../../../src/config.js";
import { parseWorkerArgs } from "../../../src/worker-cli.js";

describe("parseWorkerArgs", () => {
  it("reads the model and serve's options, and the Redis URL from the flag or LOOM_REDIS_URL", () => {
    const input = parseWorkerArgs(["m.gguf", "--redis", "redis://r:6379", "--batch-concurrency", "8"]);
    expect(input).toEqual({ model: "m.gguf", redisUrl: "redis://r:6379", batchConcurrency: 8 });
    expect(parseWorkerArgs(["m.gguf"], { LOOM_REDIS_URL: "redis://e:6379" }).redisUrl).toBe("redis://e:6379");
    expect(loadConfig(input)).toMatchObject({
      jobLockSeconds: 30,
      maxFileBytes: 200 * 1024 * 1024,
      responseCache: false,
    });
  });

  it("refuses a worker without Redis and unknown flags; --help shows the worker's usage and serve's options", () => {
    expect(() => parseWorkerArgs(["m.gguf"])).toThrow(/loom worker needs --redis URL/);
    expect(() => parseWorkerArgs(["m.gguf", "--redis", "redis://r", "--bogus"])).toThrow(ConfigError);
    expect(() => parseWorkerArgs(["--help"])).toThrow(HelpRequested);
    try {
      parseWorkerArgs(["--help"]);
    } catch (error) {
      expect((error as Error).message).toMatch(/^Usage: loom worker <model> --redis URL/);
      expect((error as Error).message).toContain("--batch-concurrency");
    }
  });
});
