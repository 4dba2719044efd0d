// `loom serve` arguments and environment to a validated Config, all from the one option table.
import { describe, expect, it } from "vitest";
import { HelpRequested, parseServeArgs } from "../../src/cli.js";
import { ConfigError, ConfigSchema, loadConfig, SERVE_OPTIONS } from "../../src/config.js";

function help(): string {
  try {
    parseServeArgs(["serve", "--help"]);
  } catch (error) {
    if (error instanceof HelpRequested) return error.message.replace(/\s+/g, " ");
    throw error;
  }
  throw new Error("--help did not ask for help");
}

describe("the option table", () => {
  it("gives every config key but the model one option, with a unique flag and LOOM_* variable", () => {
    expect(Object.keys(ConfigSchema.shape).sort()).toEqual(["model", ...Object.keys(SERVE_OPTIONS)].sort());
    const specs = Object.values(SERVE_OPTIONS);
    expect(new Set(specs.map((s) => s.cli.flag)).size).toBe(specs.length);
    expect(new Set(specs.map((s) => s.cli.env)).size).toBe(specs.length);
  });

  it("lists every option in --help with its variable and its schema's default", () => {
    const text = help();
    for (const [key, spec] of Object.entries(SERVE_OPTIONS)) {
      expect(text, key).toContain(spec.cli.flag);
      expect(text, key).toContain(`env ${spec.cli.env}`);
      const fallback = ConfigSchema.shape[key as keyof typeof SERVE_OPTIONS].safeParse(undefined);
      const value = fallback.success ? fallback.data : undefined;
      if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
        expect(text, key).toContain(`default ${Array.isArray(value) ? value.join(",") : String(value)}`);
      }
    }
  });
});

describe("parseServeArgs", () => {
  it("reads flags, lets them win over LOOM_* variables, and fills defaults in loadConfig", () => {
    const input = parseServeArgs(
      ["serve", "m.gguf", "--port", "9000", "--api-key", "a", "--api-key", "b", "--no-prefix-caching"],
      { LOOM_PORT: "1", LOOM_THREADS: "2", LOOM_LORA: "x=x.gguf,y=y.gguf", LOOM_SERVED_MODEL_NAME: "gpt-4o,tiny" },
    );
    expect(input).toEqual({
      model: "m.gguf",
      port: 9000,
      threads: 2,
      apiKeys: ["a", "b"],
      enablePrefixCaching: false,
      servedModelName: ["gpt-4o", "tiny"],
      loras: [
        { name: "x", path: "x.gguf" },
        { name: "y", path: "y.gguf" },
      ],
    });
    expect(loadConfig(input)).toMatchObject({
      host: "127.0.0.1",
      maxRunning: 32,
      kvLayout: "auto",
      threads: 2,
    });
    expect(parseServeArgs(["serve", "m.gguf"], { LOOM_PREFIX_CACHING: "false" }).enablePrefixCaching).toBe(false);
  });

  it("chooses the KV layout by flag or LOOM_KV_LAYOUT, and names the layouts it knows", () => {
    expect(loadConfig(parseServeArgs(["serve", "m.gguf", "--kv-layout", "per-sequence"])).kvLayout).toBe(
      "per-sequence",
    );
    expect(loadConfig(parseServeArgs(["serve", "m.gguf"], { LOOM_KV_LAYOUT: "per-sequence" })).kvLayout).toBe(
      "per-sequence",
    );
    expect(() => loadConfig(parseServeArgs(["serve", "m.gguf", "--kv-layout", "paged"]))).toThrow(
      /--kv-layout.*unified.*per-sequence/,
    );
  });

  it("serves the web UI unless --no-ui or LOOM_UI=false turns it off", () => {
    expect(loadConfig(parseServeArgs(["serve", "m.gguf"])).ui).toBe(true);
    expect(loadConfig(parseServeArgs(["serve", "m.gguf", "--no-ui"])).ui).toBe(false);
    expect(loadConfig(parseServeArgs(["serve", "m.gguf"], { LOOM_UI: "false" })).ui).toBe(false);
    expect(() => parseServeArgs(["serve", "m.gguf"], { LOOM_UI: "off" })).toThrow(
      "LOOM_UI (ui): expected true or false, got 'off'",
    );
  });

  it("refuses unknown flags, missing models, non-numbers and bad values as configuration errors", () => {
    expect(() => parseServeArgs(["serve", "m.gguf", "--bogus"])).toThrow(
      /unknown option '--bogus' \(see loom serve --help\)/,
    );
    expect(() => parseServeArgs(["serve"])).toThrow(/missing required argument 'model'/);
    expect(() => parseServeArgs(["serve", "m.gguf", "--port", "80a"])).toThrow(
      "--port (port): expected a number, got '80a'",
    );
    expect(() => parseServeArgs(["serve", "m.gguf", "--lora", "noequals"])).toThrow(/--lora.*NAME=PATH/);
    expect(() => loadConfig(parseServeArgs(["serve", "m.gguf", "--port", "70000"]))).toThrow(/--port/);
    expect(() => loadConfig(parseServeArgs(["serve", "m.gguf", "--port", "1.5"]))).toThrow(ConfigError);
  });

  it("names the variable, not the flag, when a LOOM_* variable's value is out of range", () => {
    expect(() => parseServeArgs(["serve", "m.gguf"], { LOOM_BACKGROUND_STEP_TOKENS: "0" })).toThrow(
      /^LOOM_BACKGROUND_STEP_TOKENS \(backgroundStepTokens\): Too small/,
    );
    expect(() => parseServeArgs(["serve", "m.gguf"], { LOOM_PORT: "70000" })).toThrow(/^LOOM_PORT \(port\)/);
    expect(() => parseServeArgs(["serve", "m.gguf", "--background-hold-ms", "-5"])).toThrow(
      /^--background-hold-ms \(backgroundHoldMs\): Too small/,
    );
  });
});
