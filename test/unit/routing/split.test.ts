// The split's decision function: weighted shares over 1,000 requests (sticky keys, and random draws of a seeded
// generator), sticky keys that never change variant, and a rollout's ramp that only moves keys to the candidate.
import { mulberry32 } from "../../../models/weights.js";
import { describe, expect, it } from "vitest";
import { parseRoutes } from "../../../src/routing/config.js";
import { Route } from "../../../src/routing/route.js";
import { pickWeighted, stickyPoint } from "../../../src/routing/split.js";
import { routeRequest } from "../../helpers/routing.js";

const noServing = () => {
  throw new Error("no rules on prompt length here");
};

function route(spec: unknown, random: () => number = Math.random) {
  return new Route(parseRoutes([spec])[0]!, { now: () => 0, random });
}

function shares(variants: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of variants) counts[v] = (counts[v] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([v, n]) => [v, n / variants.length]));
}

describe("a weighted split", () => {
  const split = {
    name: "assistant",
    split: [
      { target: "a", weight: 70 },
      { target: "b", weight: 20 },
      { target: "c", weight: 10 },
    ],
  };

  it("lands within 3 points of its weights over 1,000 sticky users", () => {
    const r = route({ ...split, sticky: "user" });
    const got = shares(
      Array.from({ length: 1000 }, (_, i) => r.choose(routeRequest({ user: `user-${i}` }), noServing).variant),
    );
    expect(Math.abs(got.a! - 0.7)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(got.b! - 0.2)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(got.c! - 0.1)).toBeLessThanOrEqual(0.03);
  });

  it("lands within 3 points of its weights over 1,000 requests without a key (random draws)", () => {
    for (const seed of [1, 2, 3]) {
      const r = route(split, mulberry32(seed));
      const got = shares(Array.from({ length: 1000 }, () => r.choose(routeRequest(), noServing).variant));
      expect(Math.abs(got.a! - 0.7)).toBeLessThanOrEqual(0.03);
      expect(Math.abs(got.b! - 0.2)).toBeLessThanOrEqual(0.03);
      expect(Math.abs(got.c! - 0.1)).toBeLessThanOrEqual(0.03);
    }
  });

  it("never switches a sticky key's variant, by user or by header, and falls back to a draw without a key", () => {
    const byUser = route({ ...split, sticky: "user" }, mulberry32(7));
    const byHeader = route({ ...split, sticky: "header:x-session-id" }, mulberry32(7));
    for (let i = 0; i < 300; i++) {
      const key = `key-${i}`;
      const first = byUser.choose(routeRequest({ user: key }), noServing).variant;
      const header = (name: string) => (name === "x-session-id" ? key : undefined);
      const firstByHeader = byHeader.choose(routeRequest({ header }), noServing).variant;
      for (let again = 0; again < 5; again++) {
        expect(byUser.choose(routeRequest({ user: key }), noServing).variant).toBe(first);
        expect(byHeader.choose(routeRequest({ header }), noServing).variant).toBe(firstByHeader);
      }
    }
    const draws = new Set(Array.from({ length: 50 }, () => byUser.choose(routeRequest(), noServing).variant));
    expect(draws.size).toBeGreaterThan(1);
  });

  it("gives a key the same point per route, and different routes different points", () => {
    expect(stickyPoint("r1", "alice")).toBe(stickyPoint("r1", "alice"));
    expect(stickyPoint("r1", "alice")).not.toBe(stickyPoint("r2", "alice"));
    expect(stickyPoint("r1", "alice")).toBeGreaterThanOrEqual(0);
    expect(stickyPoint("r1", "alice")).toBeLessThan(1);
  });

  it("picks by consecutive ranges and skips entries of weight 0", () => {
    expect(pickWeighted([1, 1], 0.49)).toBe(0);
    expect(pickWeighted([1, 1], 0.5)).toBe(1);
    expect(pickWeighted([0, 3, 0], 0)).toBe(1);
    expect(pickWeighted([0, 3, 0], 0.999999)).toBe(1);
    expect(() => pickWeighted([0, 0], 0.5)).toThrow(/weight above 0/);
  });
});

describe("a rollout's ramp", () => {
  it("only moves sticky keys from the primary to the candidate as the candidate's weight grows", () => {
    const users = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    let previous = new Set<string>();
    for (const weight of [0.05, 0.25, 0.5, 1]) {
      const onCandidate = new Set(users.filter((u) => pickWeighted([weight, 1 - weight], stickyPoint("r", u)) === 0));
      for (const u of previous) expect(onCandidate.has(u)).toBe(true);
      expect(Math.abs(onCandidate.size / 1000 - weight)).toBeLessThanOrEqual(0.03);
      previous = onCandidate;
    }
  });
});
