// The soak's verdict (reliability/soak/trend.ts): memory judged on its floor, so V8's collection sawtooth passes and
// a leak under it fails; descriptors judged on any run, memory and p99 only on long ones; p99 drift between thirds.
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, floorOver, judge, type Sample } from "../../../reliability/soak/trend.js";

/** One sample a minute for `minutes`; `rss(m)` the RSS at minute m, the rest flat. */
function run(minutes: number, rss: (m: number) => number, p99 = (_m: number) => 100, fds = (_m: number) => 60) {
  return Array.from({ length: minutes }, (_, i): Sample => {
    const minute = i + 1;
    return {
      minute,
      rssMb: rss(minute),
      heapUsedMb: 40,
      openFds: fds(minute),
      eventLoopP99Ms: 10,
      kvBlocksUsed: 0,
      kvBlocksCached: 0,
      requests: 100,
      errors: 0,
      p50Ms: 50,
      p99Ms: p99(minute),
    };
  });
}

const checkOf = (samples: Sample[], name: string, minutes = samples.length) =>
  judge(samples, DEFAULT_LIMITS, minutes).find((c) => c.name === name)!;
/** A collection every 3 minutes: the heap climbs 40 MB and drops back. */
const sawtooth = (m: number) => 300 + ((m % 3) / 2) * 40;

describe("the soak's verdict", () => {
  it("passes a sawtooth without a leak: the floor is flat", () => {
    const check = checkOf(run(60, sawtooth), "RSS floor slope");
    expect(check.value).toBeCloseTo(0, 5);
    expect(check.ok).toBe(true);
  });

  it("fails a leak of 2 MB per 10 minutes under the sawtooth", () => {
    const check = checkOf(
      run(60, (m) => sawtooth(m) + m * 0.2),
      "RSS floor slope",
    );
    expect(check.value).toBeGreaterThan(1.5);
    expect(check.ok).toBe(false);
    expect(check.gated).toBe(true);
  });

  it("reports trends on a short run without judging them", () => {
    const short = run(
      3,
      (m) => 300 + m * 20,
      () => 100,
      (m) => 60 + m * 5,
    ).map((s, i) => ({ ...s, minute: (i + 1) * 0.5 }));
    const checks = judge(short, { ...DEFAULT_LIMITS, warmupMinutes: 0, floorMinutes: 0.25 }, 2);
    expect(checks.find((c) => c.name === "RSS floor slope")).toMatchObject({ ok: false, gated: false });
    expect(checks.find((c) => c.name === "descriptor slope")).toMatchObject({ ok: false, gated: false });
  });

  it("judges descriptors on a long run", () => {
    const leaking = checkOf(
      run(
        60,
        sawtooth,
        () => 100,
        (m) => 60 + Math.floor(m / 3),
      ),
      "descriptor slope",
    );
    expect(leaking).toMatchObject({ ok: false, gated: true });
    expect(checkOf(run(60, sawtooth), "descriptor slope").ok).toBe(true);
  });

  it("fails a p99 that drifts up over the run, not one that stays", () => {
    expect(
      checkOf(
        run(60, () => 300),
        "p99 of the last third",
      ).ok,
    ).toBe(true);
    expect(
      checkOf(
        run(
          60,
          () => 300,
          (m) => 100 + m * 10,
        ),
        "p99 of the last third",
      ).ok,
    ).toBe(false);
  });

  it("needs samples after the warm-up to judge anything", () => {
    const checks = judge(
      run(4, () => 300),
      DEFAULT_LIMITS,
      4,
    );
    expect(checks).toEqual([expect.objectContaining({ name: "samples after the warm-up", ok: false })]);
  });

  it("takes the lowest value over the window as the floor", () => {
    expect(
      floorOver(
        run(6, (m) => [5, 3, 4, 6, 7, 8][m - 1]!),
        3,
        (s) => s.rssMb,
      ),
    ).toEqual([5, 3, 3, 3, 4, 6]);
  });
});
