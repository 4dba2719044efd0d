// `loom serve --config FILE` (LOOM_CONFIG): the model argument becomes optional, and the memory budget takes sizes.
import { describe, expect, it } from "vitest";
import { parseServeArgs } from "../../src/cli.js";
import { loadConfig } from "../../src/config.js";
import { parseBytes } from "../../src/config-routing.js";

describe("loom serve --config", () => {
  it("starts from a config file without a model argument, by flag or LOOM_CONFIG", () => {
    expect(parseServeArgs(["serve", "--config", "loom.yaml"])).toEqual({ configFile: "loom.yaml" });
    expect(parseServeArgs(["serve"], { LOOM_CONFIG: "loom.yaml" })).toEqual({ configFile: "loom.yaml" });
    expect(loadConfig(parseServeArgs(["serve", "--config", "loom.yaml"])).model).toBeUndefined();
    expect(() => parseServeArgs(["serve"])).toThrow(/missing required argument 'model' \(or --config FILE/);
    expect(() => loadConfig({})).toThrow(/missing required argument 'model' \(or --config FILE\)/);
  });

  it("reads the memory budget as bytes or with a unit", () => {
    expect(parseServeArgs(["serve", "m.gguf", "--memory-budget", "8GiB"]).memoryBudget).toBe(8 * 2 ** 30);
    expect(loadConfig(parseServeArgs(["serve", "m.gguf"], { LOOM_MEMORY_BUDGET: "512M" })).memoryBudget).toBe(512e6);
    expect(parseBytes("1000")).toBe(1000);
    expect(parseBytes("1.5 kib")).toBe(1536);
    expect(parseBytes("lots")).toBeNaN();
    expect(() => parseServeArgs(["serve", "m.gguf", "--memory-budget", "lots"])).toThrow(
      "--memory-budget (memoryBudget): expected a size such as 8GiB, 512MiB or 1000000, got 'lots'",
    );
  });
});
