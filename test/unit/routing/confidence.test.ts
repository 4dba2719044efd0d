// A cascade's confidence (a low quantile of per-token probabilities) and a shadow's comparison of two answers.
import { describe, expect, it } from "vitest";
import { compareOutputs } from "../../../src/routing/compare.js";
import { confidenceOf } from "../../../src/routing/confidence.js";

describe("confidenceOf", () => {
  it("is a low quantile of the tokens' probabilities, so a few guesses show through a long sure answer", () => {
    const sure = Array.from({ length: 95 }, () => Math.log(0.99));
    const guesses = Array.from({ length: 5 }, () => Math.log(0.2));
    const logprobs = [...sure, ...guesses];
    expect(confidenceOf(logprobs, 0.05)).toBeCloseTo(0.2, 10);
    expect(confidenceOf(logprobs, 0.1)).toBeCloseTo(0.99, 10);
    expect(confidenceOf(logprobs, 0)).toBeCloseTo(0.2, 10);
    const mean = logprobs.reduce((s, l) => s + Math.exp(l), 0) / logprobs.length;
    expect(mean).toBeGreaterThan(0.9);
  });

  it("gives nothing to trust for an answer of no tokens", () => {
    expect(confidenceOf([], 0.1)).toBeNull();
  });
});

describe("compareOutputs", () => {
  it("says whether the texts match and how alike they are", () => {
    expect(compareOutputs("the cat sat", "the cat sat")).toEqual({ match: true, similarity: 1 });
    expect(compareOutputs("", "")).toEqual({ match: true, similarity: 1 });
    expect(compareOutputs("kitten", "sitting")).toEqual({ match: false, similarity: 1 - 3 / 7 });
    expect(compareOutputs("abc", "")).toEqual({ match: false, similarity: 0 });
  });
});
