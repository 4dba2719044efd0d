// ComputeArbiter: the turn goes to the lowest priority value waiting, then to the earliest; an uncontended turn is
// granted at once, without a promise.
import { expect, it } from "vitest";
import { ComputeArbiter } from "../../../src/backend/llama/compute-arbiter.js";

it("grants an uncontended turn at once and the next one after release", () => {
  const arbiter = new ComputeArbiter();
  expect(arbiter.acquire(0)).toBeNull();
  const waiting = arbiter.acquire(0);
  expect(waiting).toBeInstanceOf(Promise);
  arbiter.release();
  expect(arbiter.stats()).toMatchObject({ waiting: 0, grants: 2, contended: 1 });
  arbiter.release();
  expect(arbiter.acquire(5)).toBeNull();
  arbiter.release();
  expect(() => arbiter.release()).toThrow(/without a turn/);
});

it("hands turns out by priority, then in arrival order", async () => {
  const arbiter = new ComputeArbiter();
  const order: string[] = [];
  let finishHolder!: () => void;
  const holder = arbiter.run(0, () => new Promise<void>((resolve) => (finishHolder = resolve)));
  const compute = (name: string, priority: number) =>
    arbiter.run(priority, async () => {
      order.push(name);
      await new Promise((resolve) => setImmediate(resolve));
    });
  const all = [
    compute("shadow", 1000),
    compute("batch-1", 10),
    compute("interactive-1", 0),
    compute("batch-2", 10),
    compute("interactive-2", 0),
  ];
  expect(arbiter.stats()).toMatchObject({ inFlight: 1, waiting: 5 });
  finishHolder();
  await Promise.all([holder, ...all]);
  expect(order).toEqual(["interactive-1", "interactive-2", "batch-1", "batch-2", "shadow"]);
  expect(arbiter.stats()).toEqual({ inFlight: 0, maxInFlight: 1, waiting: 0, grants: 6, contended: 5 });
});

it("a compute that fails releases its turn to the next", async () => {
  const arbiter = new ComputeArbiter();
  const failing = arbiter.run(0, () => Promise.reject(new Error("decode failed")));
  const next = arbiter.run(0, () => Promise.resolve("ran"));
  await expect(failing).rejects.toThrow("decode failed");
  await expect(next).resolves.toBe("ran");
  expect(arbiter.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
});

it("an engine's next interactive step keeps the turn ahead of a waiting shadow step", async () => {
  const arbiter = new ComputeArbiter();
  const order: string[] = [];
  const step = (name: string, priority: number) =>
    arbiter.run(priority, async () => {
      order.push(name);
      await new Promise((resolve) => setImmediate(resolve));
    });
  // Like the engine's loop: the next step asks for its turn in the microtasks after the last one settles.
  const engine = (async () => {
    for (let i = 0; i < 3; i++) await step(`interactive-${i}`, 0);
  })();
  const shadow = step("shadow", 1000);
  await Promise.all([engine, shadow]);
  expect(order).toEqual(["interactive-0", "interactive-1", "interactive-2", "shadow"]);
  // Two engines at one priority still alternate.
  order.length = 0;
  const engineOf = (name: string) =>
    (async () => {
      for (let i = 0; i < 2; i++) await step(`${name}-${i}`, 0);
    })();
  await Promise.all([engineOf("a"), engineOf("b")]);
  expect(order).toEqual(["a-0", "b-0", "a-1", "b-1"]);
});

it("says when a turn below a watched priority was last asked for, and that one is held now", async () => {
  const arbiter = new ComputeArbiter();
  const belowBatch = arbiter.askedBelow(10);
  expect(belowBatch()).toBe(Number.NEGATIVE_INFINITY);
  await arbiter.run(10, async () => {
    expect(belowBatch()).toBe(Number.NEGATIVE_INFINITY);
  });
  await arbiter.run(1000, async () => {});
  expect(belowBatch()).toBe(Number.NEGATIVE_INFINITY);
  const before = performance.now();
  let during = 0;
  await arbiter.run(0, async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    during = belowBatch();
  });
  expect(during).toBeGreaterThanOrEqual(before + 5);
  const asked = belowBatch();
  expect(asked).toBeGreaterThanOrEqual(before);
  expect(asked).toBeLessThan(during);
});
