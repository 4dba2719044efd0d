// BullQueue: the WorkQueue on Redis with BullMQ. A worker holds a lock on each job it runs and renews it; when a
// worker dies (SIGKILL, lost machine) its locks expire and BullMQ's stalled-job check puts those jobs back for any
// other worker. Keys live under `loom:queue:{name}:*`.
import { once } from "node:events";
import { type Job, Queue, WaitingError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { settlesWithin } from "../ops/deadline.js";
import type { Logger } from "../ops/logger.js";
import {
  type Backoff,
  backoffMs,
  type Enqueued,
  type JobHandler,
  type QueueStats,
  type QueueWorker,
  ReturnToQueue,
  type WorkQueue,
} from "./queue.js";

const PREFIX = "loom:queue";
/** addBulk in slices, so enqueuing a 50,000-line batch does not build one huge pipeline. */
const ADD_CHUNK = 1000;
/**
 * How often a job may be found stalled (its worker gone) before BullMQ gives up on it. Above one so a line survives
 * a couple of crashed workers; bounded so a job that kills every worker that takes it stops doing so.
 */
const MAX_STALLED = 5;
/** While Redis is away every queue errors on every reconnect attempt: one log line per queue per this long. */
const ERROR_LOG_INTERVAL_MS = 30_000;
/** After the grace period, how long lines in hand get to go back to the queue before the close stops waiting. */
const HAND_BACK_MS = 5000;

export interface BullQueueOptions {
  /** The producer connection (fails fast while Redis is away). */
  readonly connection: Redis;
  /** A connection for workers, which BullMQ requires to wait for reconnects (maxRetriesPerRequest: null). */
  readonly workerConnection: Redis;
  readonly backoff: Backoff;
  /** A running job whose worker stopped renewing its lock for this long is handed to another worker. */
  readonly lockMs: number;
  readonly logger: Logger;
}

export class BullQueue<T> implements WorkQueue<T> {
  readonly name: string;
  readonly #queue: Queue;
  readonly #options: BullQueueOptions;
  #lastErrorLogMs = Number.NEGATIVE_INFINITY;

  constructor(name: string, options: BullQueueOptions) {
    this.name = name;
    this.#options = options;
    this.#queue = new Queue(name, {
      connection: options.connection,
      prefix: PREFIX,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: { count: 1000 } },
    });
    this.#queue.on("error", (error) => this.#logError(error));
  }

  async add(jobs: readonly Enqueued<T>[]): Promise<void> {
    for (let start = 0; start < jobs.length; start += ADD_CHUNK) {
      await this.#queue.addBulk(
        jobs.slice(start, start + ADD_CHUNK).map(({ data, options }) => ({
          name: this.name,
          data,
          opts: {
            jobId: options.jobId,
            ...(options.delayMs ? { delay: options.delayMs } : {}),
            attempts: options.attempts ?? 1,
            backoff: { type: "loom" },
          },
        })),
      );
    }
  }

  async stats(): Promise<QueueStats> {
    const counts = await this.#queue.getJobCounts("wait", "prioritized", "active", "delayed");
    const [oldest] = await this.#queue.getJobs(["wait"], 0, 0, true);
    return {
      waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      oldestWaitingSeconds: oldest ? (Date.now() - oldest.timestamp) / 1000 : null,
    };
  }

  work(handler: JobHandler<T>, concurrency: number): QueueWorker {
    const controllers = new Map<string, AbortController>();
    const { backoff, lockMs } = this.#options;
    const worker = new Worker(
      this.name,
      async (job: Job, token?: string) => {
        const controller = new AbortController();
        controllers.set(job.id!, controller);
        try {
          const attempt = {
            id: job.id!,
            data: job.data as T,
            attemptsMade: job.attemptsMade,
            maxAttempts: job.opts.attempts ?? 1,
          };
          await handler(attempt, controller.signal);
        } catch (error) {
          if (!(error instanceof ReturnToQueue)) throw error;
          // BullMQ's documented way to hand a job back without counting an attempt.
          await job.moveToWait(token);
          throw new WaitingError();
        } finally {
          controllers.delete(job.id!);
        }
      },
      {
        connection: this.#options.workerConnection,
        prefix: PREFIX,
        concurrency,
        lockDuration: lockMs,
        stalledInterval: lockMs,
        maxStalledCount: MAX_STALLED,
        settings: { backoffStrategy: (attemptsMade: number) => backoffMs(attemptsMade, backoff) },
      },
    );
    worker.on("error", (error) => this.#logError(error));
    worker.on("failed", (job, error) => {
      if (!job || error instanceof WaitingError) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      this.#options.logger.log(final ? "error" : "warn", final ? "job_failed" : "job_retry", {
        queue: this.name,
        job_id: job.id ?? null,
        attempt: job.attemptsMade,
        message: error.message,
      });
    });
    return { close: (graceMs) => this.#closeWorker(worker, controllers, graceMs) };
  }

  async close(): Promise<void> {
    await this.#queue.close();
  }

  /**
   * BullMQ's graceful close waits for its blocking connection to end, which never happens while ioredis is
   * reconnecting: with Redis away it would hold the process forever. Without Redis nothing in hand can be handed
   * back anyway, so the close is forced (or, when Redis leaves mid-close, no longer awaited); BullMQ's stalled-job
   * check returns those lines to the queue once their locks expire.
   */
  async #closeWorker(worker: Worker, controllers: Map<string, AbortController>, graceMs: number): Promise<void> {
    const connection = this.#options.workerConnection;
    const abortInHand = () => {
      for (const controller of controllers.values()) controller.abort("shutdown");
    };
    const warn = (event: string) =>
      this.#options.logger.log("warn", event, { queue: this.name, in_hand: controllers.size });
    if (connection.status !== "ready") {
      warn("queue_close_forced");
      abortInHand();
      await worker.close(true);
      return;
    }
    let done = false;
    const closed = worker.close().finally(() => {
      done = true;
    });
    const redisLeft = new AbortController();
    const left = once(connection, "close", { signal: redisLeft.signal });
    left.catch(() => {});
    await settlesWithin(Promise.race([closed, left]), graceMs);
    redisLeft.abort();
    if (done) return;
    abortInHand();
    if (connection.status === "ready" && (await settlesWithin(closed, HAND_BACK_MS))) return;
    warn("queue_close_abandoned");
  }

  #logError(error: Error): void {
    if (Date.now() - this.#lastErrorLogMs < ERROR_LOG_INTERVAL_MS) return;
    this.#lastErrorLogMs = Date.now();
    this.#options.logger.log("warn", "queue_error", { queue: this.name, message: error.message });
  }
}
