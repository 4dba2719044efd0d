// InFlightRequests: what the running-requests table lists, and the cancel it offers.
import { describe, expect, it } from "vitest";
import { InFlightRequests } from "../../../src/serving/llm/in-flight.js";

describe("InFlightRequests", () => {
  it("lists requests oldest first, counts their tokens, and cancels one by id once", () => {
    let nowMs = 1000;
    const inFlight = new InFlightRequests({ now: () => nowMs });
    const cancelled: string[] = [];
    const entry = (requestId: string, adapter: string | null) => ({
      requestId,
      model: "m",
      adapter,
      numPromptTokens: 7,
    });
    inFlight.add(entry("a", null), () => cancelled.push("a"));
    nowMs = 2000;
    inFlight.add(entry("b", "support"), () => cancelled.push("b"));
    inFlight.countToken("b");
    inFlight.countToken("b");
    inFlight.countToken("gone");
    expect(inFlight.list()).toEqual([
      {
        requestId: "a",
        model: "m",
        adapter: null,
        arrivalMs: 1000,
        numPromptTokens: 7,
        numOutputTokens: 0,
        state: "waiting",
      },
      {
        requestId: "b",
        model: "m",
        adapter: "support",
        arrivalMs: 2000,
        numPromptTokens: 7,
        numOutputTokens: 2,
        state: "running",
      },
    ]);
    expect(() => inFlight.add(entry("a", null), () => {})).toThrow("request id a is already in flight");

    expect(inFlight.cancel("b")).toBe(true);
    expect(cancelled).toEqual(["b"]);
    inFlight.remove("b");
    expect(inFlight.cancel("b")).toBe(false);
    expect(inFlight.list().map((r) => r.requestId)).toEqual(["a"]);
  });
});
