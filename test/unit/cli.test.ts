// `loom serve` arguments and environment to a validated Config.
import { describe, expect, it } from "vitest";
import { parseServeArgs } from "../../src/cli.js";
import { loadConfig } from "../../src/config.js";

describe("parseServeArgs", () => {
  it("reads flags, lets them win over LOOM_* variables, and fills defaults in loadConfig", () => {
    const input = parseServeArgs(
      ["serve", "m.gguf", "--port", "9000", "--api-key", "a", "--api-key", "b", "--no-prefix-caching"],
      { LOOM_PORT: "1", LOOM_THREADS: "2" },
    );
    expect(input).toEqual({ model: "m.gguf", port: 9000, threads: 2, apiKeys: ["a", "b"], enablePrefixCaching: false });
    expect(loadConfig(input)).toMatchObject({
      host: "127.0.0.1",
      kvTokens: 16384,
      kvLayout: "unified",
      blockSize: 16,
      maxRunning: 64,
      threads: 2,
    });
  });

  it("chooses the KV layout by flag or LOOM_KV_LAYOUT, and names the layouts it knows", () => {
    expect(loadConfig(parseServeArgs(["serve", "m.gguf", "--kv-layout", "per-sequence"])).kvLayout).toBe(
      "per-sequence",
    );
    expect(loadConfig(parseServeArgs(["serve", "m.gguf"], { LOOM_KV_LAYOUT: "per-sequence" })).kvLayout).toBe(
      "per-sequence",
    );
    expect(() => loadConfig(parseServeArgs(["serve", "m.gguf", "--kv-layout", "paged"]))).toThrow(
      /kvLayout.*unified.*per-sequence/,
    );
  });

  it("serves the web UI unless --no-ui or LOOM_UI=false turns it off", () => {
    expect(loadConfig(parseServeArgs(["serve", "m.gguf"])).ui).toBe(true);
    expect(loadConfig(parseServeArgs(["serve", "m.gguf", "--no-ui"])).ui).toBe(false);
    expect(loadConfig(parseServeArgs(["serve", "m.gguf"], { LOOM_UI: "false" })).ui).toBe(false);
    expect(() => parseServeArgs(["serve", "m.gguf"], { LOOM_UI: "off" })).toThrow(
      "LOOM_UI must be true or false, got 'off'",
    );
  });

  it("refuses unknown flags, missing models and non-integers with the usage text", () => {
    expect(() => parseServeArgs(["serve", "m.gguf", "--bogus"])).toThrow(/usage: loom serve/);
    expect(() => parseServeArgs(["serve"])).toThrow(/usage: loom serve/);
    expect(() => parseServeArgs(["serve", "m.gguf", "--port", "80a"])).toThrow("--port must be an integer, got '80a'");
    expect(() => loadConfig(parseServeArgs(["serve", "m.gguf", "--port", "70000"]))).toThrow(/port/);
  });
});
