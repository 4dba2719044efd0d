// Route configs and config files as they are read: every policy's keys with their defaults, and refusals that say
// where and why.
import { describe, expect, it } from "vitest";
import { fileKey, parseConfigFile } from "../../../src/compose/config-file.js";
import { ConfigError, SERVE_OPTIONS } from "../../../src/config.js";
import { parseRoutes, parseRoutesText, RouteConfigError } from "../../../src/routing/config.js";

describe("parseRoutesText", () => {
  it("reads every policy with its defaults", () => {
    const routes = parseRoutesText(`
routes:
  - name: canary
    split: [{ target: story@1, weight: 90 }, { target: story@2, weight: 10, variant: v2 }]
    sticky: header:x-session-id
    shadow: { target: tiny }
    fallback: { target: tiny }
    max_waiting: 8
  - name: ramp
    rollout: { primary: story@1, candidate: { target: story@2, timeout: 5 }, steps: [5, 25, 100] }
  - name: smart
    rules:
      - { when: { header: { x-loom-tier: [premium, gold] } }, target: tiny }
      - { when: { min_prompt_tokens: 200, tools: true }, target: tiny }
    default: story
  - name: cheap-first
    cascade: { targets: [story, tiny], min_confidence: 0.4 }
  - name: pinned
    target: story@2
`);
    expect(routes.map((r) => r.name)).toEqual(["canary", "ramp", "smart", "cheap-first", "pinned"]);
    expect(routes[0]).toMatchObject({
      split: [
        { target: "story@1", weight: 90 },
        { target: "story@2", weight: 10, variant: "v2" },
      ],
      shadow: { target: { target: "tiny" }, sample: 0.1, max_concurrent: 2 },
      fallback: { target: { target: "tiny" }, failures: 5, cooldown_seconds: 30, probes: 1 },
    });
    expect(routes[1]!.rollout).toEqual({
      primary: { target: "story@1" },
      candidate: { target: "story@2", timeout: 5 },
      steps: [5, 25, 100],
      stage_seconds: 300,
      window_seconds: 60,
      min_requests: 20,
      guards: { max_error_rate: 0.05, max_ttft_p99_ratio: 2, max_tpot_p99_ratio: 2 },
    });
    expect(routes[3]!.cascade).toEqual({
      targets: [{ target: "story" }, { target: "tiny" }],
      min_confidence: 0.4,
      quantile: 0.1,
      stream_prefix_tokens: 16,
    });
    expect(routes[4]!.target).toEqual({ target: "story@2" });
  });

  it("refuses routes that do not parse or do not make sense, saying where and why", () => {
    const refusal = (text: string) => {
      try {
        parseRoutesText(text);
      } catch (error) {
        expect(error).toBeInstanceOf(RouteConfigError);
        return (error as Error).message;
      }
      throw new Error("accepted");
    };
    expect(refusal("routes: [ { name: a, target: x }")).toMatch(/^the routes do not parse: .*line 1/s);
    expect(refusal("- { name: a }")).toBe(
      "invalid routes: routes[0] (a): give exactly one of target, split, rollout, rules, cascade (got 0)",
    );
    expect(refusal("- { name: a, target: x, split: [{ target: y, weight: 1 }] }")).toMatch(/exactly one.*got 2/);
    expect(refusal("- { name: a, target: x, weigth: 3 }")).toMatch(/^invalid routes: routes\[0\] \(a\): .*weigth/);
    expect(refusal("- { name: a, rollout: { primary: x, candidate: y, steps: [50, 10] } }")).toBe(
      "invalid routes: routes[0] (a).rollout.steps: steps must increase",
    );
    expect(refusal("- { name: a, split: [{ target: x, weight: 0 }] }")).toMatch(/at least one weight must be above 0/);
    expect(refusal("- { name: a, rules: [{ when: { tools: true }, target: x }] }")).toMatch(
      /routes\[0\] \(a\)\.default: rules and default go together/,
    );
    expect(refusal("- { name: a@1, target: x }")).toMatch(/routes\[0\] \(a@1\)\.name: a route name has no '@'/);
    expect(refusal("- { name: a, target: x }\n- { name: a, target: y }")).toMatch(/route 'a' is given twice/);
    expect(refusal("- { name: a, target: x, sticky: cookie }")).toMatch(/sticky is 'user' or 'header:NAME'/);
    expect(() => parseRoutes({ route: [] })).toThrow("expected a list of routes, or an object with a 'routes' list");
  });
});

describe("parseRoutes on input with a huge number of invalid values", () => {
  it("refuses it as a config error instead of overflowing the stack while listing them", () => {
    const steps = Array.from({ length: 200_000 }, () => "five");
    const routes = [{ name: "a", rollout: { primary: "m", candidate: "n", steps } }];
    expect(() => parseRoutes(routes)).toThrow(RouteConfigError);
    expect(() => parseRoutes(routes)).toThrow(/too many invalid values/);
  });
});

describe("parseConfigFile", () => {
  it("names options as their flags do, at the top level and, for a model's own options, in its entry", () => {
    expect(fileKey(SERVE_OPTIONS.maxRunning)).toBe("max_running");
    expect(fileKey(SERVE_OPTIONS.enablePrefixCaching)).toBe("prefix_caching");
    const file = parseConfigFile(
      `
port: 9000
memory_budget: 2GiB
prefix_caching: false
models:
  - { name: story, path: models/story.gguf }
  - { name: story, path: /abs/story-v2.gguf, version: 2, max_running: 4, kv_tokens: 1024, request_timeout: 30 }
  - { name: remote, path: "hf:owner/repo:Q4_K_M" }
routes: [{ name: a, target: story }]
`,
      "/etc/loom/loom.yaml",
    );
    expect(file.server).toEqual({ port: 9000, memoryBudget: 2 * 2 ** 30, enablePrefixCaching: false });
    expect(file.models).toEqual([
      { name: "story", version: 1, path: "/etc/loom/models/story.gguf", options: {} },
      {
        name: "story",
        version: 2,
        path: "/abs/story-v2.gguf",
        options: { maxRunning: 4, kvTokens: 1024, requestTimeoutSeconds: 30 },
      },
      { name: "remote", version: 1, path: "hf:owner/repo:Q4_K_M", options: {} },
    ]);
    expect(file.routes).toEqual([{ name: "a", target: "story" }]);
  });

  it("refuses what it cannot use with the file, the place and the reason", () => {
    const refusal = (text: string) => () => parseConfigFile(text, "loom.yaml");
    expect(refusal("models: [ { name: a")).toThrow(/^loom\.yaml does not parse as YAML/);
    expect(refusal("models: [{ name: a, port: 1 }]")).toThrow(
      /^loom\.yaml: models\[0\]: unknown key 'port' \(known: kv_tokens, kv_layout, .*\)$/,
    );
    expect(refusal("models: [{ name: a, max_running: 0 }]")).toThrow(
      /^loom\.yaml: models\[0\]\.max_running: Too small/,
    );
    expect(refusal("models: [{ name: a@2 }]")).toThrow(/models\[0\]\.name: expected a model name without '@'/);
    expect(refusal("models: [{ name: a, version: 0 }]")).toThrow(/models\[0\]\.version: expected a whole number/);
    expect(refusal("models: [{ name: a }, { name: a, version: 1 }]")).toThrow(/model a version 1 is given twice/);
    expect(refusal("bogus: 1")).toThrow(/^loom\.yaml: unknown key 'bogus'/);
    expect(refusal("memory_budget: lots")).toThrow(ConfigError);
  });
});
