import { describe, expect, it } from "vitest";
import { settlesWithin } from "../../../src/ops/deadline.js";

describe("settlesWithin", () => {
  it("says true for a promise that fulfils or rejects in time, false for one that does not", async () => {
    expect(await settlesWithin(Promise.resolve(1), 1000)).toBe(true);
    expect(await settlesWithin(Promise.reject(new Error("no")), 1000)).toBe(true);
    expect(await settlesWithin(new Promise(() => {}), 20)).toBe(false);
    expect(await settlesWithin(new Promise((resolve) => setTimeout(resolve, 200)), 20)).toBe(false);
  });
});
