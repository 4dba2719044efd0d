// The dynamic batcher on a fake clock and a recording runner: when batches close, how they are cut, and that a
// failing request fails alone.
import { describe, expect, it } from "vitest";
import { DynamicBatcher, QueueFullError } from "../../../src/engine/dynamic-batcher.js";

interface Req {
  readonly id: number;
  readonly rows: number;
  readonly key?: string;
  readonly bad?: boolean;
}

function setup(
  options: { maxBatchSize?: number; preferred?: number[]; delayMs?: number; queue?: number; runs?: number } = {},
) {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  const batcher = new DynamicBatcher<Req, string>({
    maxBatchSize: options.maxBatchSize ?? 8,
    preferredBatchSizes: options.preferred ?? [],
    maxQueueDelayMs: options.delayMs ?? 1000,
    maxQueueSize: options.queue ?? 100,
    maxConcurrentRuns: options.runs ?? 1,
    rowsOf: (r) => r.rows,
    keyOf: (r) => r.key ?? "",
    run: (inputs) => {
      batches.push(inputs.map((r) => r.id));
      return new Promise((resolve, reject) =>
        pending.push(() =>
          inputs.some((r) => r.bad) ? reject(new Error("bad row")) : resolve(inputs.map((r) => `out${r.id}`)),
        ),
      );
    },
  });
  const finishAll = async () => {
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  return { batcher, batches, finishAll };
}

describe("DynamicBatcher", () => {
  it("closes a batch at max size, and runs the rest after the queue delay", async () => {
    const { batcher, batches, finishAll } = setup({ maxBatchSize: 4, delayMs: 30 });
    const results = [1, 2, 3, 4, 5, 6].map((id) => batcher.submit({ id, rows: 1 }));
    expect(batches).toEqual([[1, 2, 3, 4]]);
    await finishAll();
    expect(batches).toEqual([[1, 2, 3, 4]]); // 5 and 6 wait for the delay
    await new Promise((r) => setTimeout(r, 50));
    await finishAll();
    expect(batches).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
    expect(await Promise.all(results)).toEqual(["out1", "out2", "out3", "out4", "out5", "out6"]);
  });

  it("cuts at the largest preferred size reached and keeps shapes apart", async () => {
    const { batcher, batches, finishAll } = setup({ maxBatchSize: 8, preferred: [2, 4], delayMs: 0, runs: 1 });
    const held = batcher.submit({ id: 0, rows: 1, key: "hold" }); // occupies the one instance
    const rest = [1, 2, 3, 4, 5].map((id) => batcher.submit({ id, rows: 1, key: id % 2 === 0 ? "b" : "a" }));
    await finishAll();
    await Promise.all([held, ...rest]);
    expect(batches[0]).toEqual([0]);
    expect(batches.slice(1).map((b) => b.every((id) => id % 2 === b[0]! % 2))).toEqual(
      batches.slice(1).map(() => true),
    );
    expect(batches.slice(1).flat().sort()).toEqual([1, 2, 3, 4, 5]);
    expect(batches[1]).toEqual([1, 3]); // a: three waiting, cut at preferred 2
  });

  it("retries a failed batch one request at a time, so only the bad request fails", async () => {
    const { batcher, batches, finishAll } = setup({ maxBatchSize: 3, delayMs: 0, runs: 1 });
    const held = batcher.submit({ id: 0, rows: 1 });
    const results = [1, 2, 3].map((id) =>
      batcher.submit({ id, rows: 1, bad: id === 2 }).then(
        (v) => v,
        (e: Error) => e.message,
      ),
    );
    for (let i = 0; i < 6; i++) await finishAll();
    await held;
    expect(await Promise.all(results)).toEqual(["out1", "bad row", "out3"]);
    expect(batches).toEqual([[0], [1, 2, 3], [1], [2], [3]]);
  });

  it("refuses past the queue bound and requests larger than a batch, and drains on close", async () => {
    const { batcher, finishAll } = setup({ maxBatchSize: 2, queue: 2, delayMs: 10_000, runs: 1 });
    const a = batcher.submit({ id: 1, rows: 1 });
    const b = batcher.submit({ id: 2, rows: 1 }); // full batch: runs at once, queue empty again
    const c = batcher.submit({ id: 3, rows: 1 });
    const d = batcher.submit({ id: 4, rows: 1 });
    await expect(batcher.submit({ id: 5, rows: 1 })).rejects.toBeInstanceOf(QueueFullError);
    await expect(batcher.submit({ id: 6, rows: 3 })).rejects.toThrow(/does not fit max_batch_size 2/);
    const closed = batcher.close();
    await expect(batcher.submit({ id: 7, rows: 1 })).rejects.toThrow(/unloaded/);
    for (let i = 0; i < 4; i++) await finishAll();
    await closed;
    expect(await Promise.all([a, b, c, d])).toEqual(["out1", "out2", "out3", "out4"]);
  });
});
