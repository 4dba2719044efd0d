// The circuit breaker's states on a clock the test moves: open after consecutive failures, closed again by a
// successful half-open probe, open again after a failed one.
import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../src/routing/breaker.js";

function breaker() {
  const clock = { ms: 0 };
  const b = new CircuitBreaker({ failures: 3, cooldownMs: 1000, probes: 1, now: () => clock.ms });
  return { b, clock };
}

describe("CircuitBreaker", () => {
  it("opens after the threshold of consecutive failures; a success in between resets the count", () => {
    const { b } = breaker();
    for (const ok of [false, false, true, false, false]) b.settle(b.acquire()!, ok);
    expect(b.state).toBe("closed");
    b.settle(b.acquire()!, false);
    expect(b.state).toBe("open");
    expect(b.acquire()).toBeNull();
    expect(b.retryAfterMs).toBe(1000);
  });

  it("lets one probe through after the cool-down; its success closes the breaker", () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.settle(b.acquire()!, false);
    clock.ms = 999;
    expect(b.state).toBe("open");
    expect(b.retryAfterMs).toBe(1);
    clock.ms = 1000;
    expect(b.state).toBe("half_open");
    const probe = b.acquire()!;
    expect(probe.probe).toBe(true);
    expect(b.acquire()).toBeNull();
    b.settle(probe, true);
    expect(b.state).toBe("closed");
    expect(b.acquire()).toEqual({ probe: false });
  });

  it("opens again for a whole cool-down when a probe fails; a cancelled probe frees its slot without a verdict", () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.settle(b.acquire()!, false);
    clock.ms = 1500;
    b.settle(b.acquire()!, null);
    expect(b.state).toBe("half_open");
    b.settle(b.acquire()!, false);
    expect(b.state).toBe("open");
    expect(b.retryAfterMs).toBe(1000);
    clock.ms = 2500;
    expect(b.state).toBe("half_open");
  });

  it("ignores late results of requests let through before it opened", () => {
    const { b } = breaker();
    const early = b.acquire()!;
    for (let i = 0; i < 3; i++) b.settle(b.acquire()!, false);
    b.settle(early, true);
    expect(b.state).toBe("open");
  });
});
