// Cache keys and per-request cache control.
import { describe, expect, it } from "vitest";
import { cacheKeyOf, canonicalJson } from "../../../src/cache/keys.js";
import { cachePolicy, isDeterministic } from "../../../src/cache/policy.js";

describe("cache keys", () => {
  it("serialize equal requests equally: keys sorted at every depth, null and undefined members left out", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, null, { z: 1, y: 2 }], c: null }, e: undefined })).toBe(
      '{"a":{"d":[1,null,{"y":2,"z":1}]},"b":1}',
    );
    expect(cacheKeyOf("response", canonicalJson({ x: 1, y: null }), "v1")).toBe(
      cacheKeyOf("response", '{"x":1}', "v1"),
    );
  });

  it("carry the kind and the model version, so another version never reads an entry", () => {
    const key = cacheKeyOf("embedding", "text", "0123456789abcdef");
    expect(key).toMatch(/^loom:cache:embedding:0123456789abcdef:[0-9a-f]{64}$/);
    expect(cacheKeyOf("embedding", "text", "fedcba9876543210")).not.toBe(key);
  });
});

describe("cache policy", () => {
  it("reads Cache-Control request directives: no-store neither reads nor writes, no-cache only writes", () => {
    expect(cachePolicy(undefined)).toEqual({ read: true, write: true });
    expect(cachePolicy("no-cache")).toEqual({ read: false, write: true });
    expect(cachePolicy("max-age=0, No-Store")).toEqual({ read: false, write: false });
  });

  it("caches greedy or seeded requests only", () => {
    expect(isDeterministic({ temperature: 0 })).toBe(true);
    expect(isDeterministic({ temperature: 0.7, seed: 1 })).toBe(true);
    expect(isDeterministic({ temperature: 0.7 })).toBe(false);
    expect(isDeterministic({})).toBe(false);
  });
});
