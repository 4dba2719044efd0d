// The in-process queue: the same contract as the BullMQ queue (job-id deduplication, retries until attempts run
// out, shutdown hands running jobs back), asserted on exact outcomes.
import { describe, expect, it } from "vitest";
import { MemoryQueue } from "../../../src/jobs/memory-queue.js";
import { ReturnToQueue } from "../../../src/jobs/queue.js";
import type { Logger } from "../../../src/ops/logger.js";

const silentLogger: Logger = { log() {} };

const queue = () => new MemoryQueue<string>("test", { backoff: { baseMs: 1, capMs: 1 }, logger: silentLogger });
const settle = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

describe("MemoryQueue", () => {
  it("runs each job id once while it is queued, first in first out", async () => {
    const q = queue();
    const seen: string[] = [];
    await q.add(["a", "b", "a"].map((data, i) => ({ data: `${data}${i}`, options: { jobId: data } })));
    const worker = q.work(async (job) => void seen.push(job.data), 1);
    await settle();
    expect(seen).toEqual(["a0", "b1"]);
    await q.add([{ data: "a3", options: { jobId: "a" } }]);
    await settle();
    expect(seen).toEqual(["a0", "b1", "a3"]);
    await worker.close(0);
  });

  it("retries a failing job until its attempts run out, telling the handler which attempt it is", async () => {
    const q = queue();
    const attempts: [number, number][] = [];
    q.work(async (job) => {
      attempts.push([job.attemptsMade, job.maxAttempts]);
      throw new Error("no");
    }, 1);
    await q.add([{ data: "x", options: { jobId: "x", attempts: 3 } }]);
    await settle(100);
    expect(attempts).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
    ]);
    expect((await q.stats()).waiting + (await q.stats()).delayed).toBe(0);
  });

  it("on close past the grace period aborts running jobs with reason shutdown; returned jobs wait for the next worker", async () => {
    const q = queue();
    const reasons: unknown[] = [];
    const worker = q.work(
      (_job, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener("abort", () => {
            reasons.push(signal.reason);
            reject(new ReturnToQueue());
          }),
        ),
      2,
    );
    await q.add(["a", "b", "c"].map((id) => ({ data: id, options: { jobId: id } })));
    await settle();
    expect(await q.stats()).toMatchObject({ waiting: 1, active: 2 });
    await worker.close(0);
    expect(reasons).toEqual(["shutdown", "shutdown"]);
    expect(await q.stats()).toMatchObject({ waiting: 3, active: 0 });
    const order: string[] = [];
    const next = q.work(async (job) => void order.push(job.data), 1);
    await settle();
    expect(order.sort()).toEqual(["a", "b", "c"]);
    await next.close(0);
  });
});
