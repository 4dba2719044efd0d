// MemoryQueue: the WorkQueue of a server without Redis. First in, first out, with the same job-id deduplication,
// retries with backoff, delays and shutdown returns as the BullMQ queue; jobs live in this process.
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

interface MemoryJob<T> {
  readonly id: string;
  readonly data: T;
  readonly maxAttempts: number;
  attemptsMade: number;
  readyAtMs: number;
  timer: NodeJS.Timeout | null;
  controller: AbortController | null;
}

export class MemoryQueue<T> implements WorkQueue<T> {
  readonly name: string;
  readonly #backoff: Backoff;
  readonly #logger: Logger;
  readonly #jobs = new Map<string, MemoryJob<T>>();
  readonly #ready: MemoryJob<T>[] = [];
  readonly #active = new Set<MemoryJob<T>>();
  #handler: JobHandler<T> | null = null;
  #concurrency = 0;
  #settled: (() => void) | null = null;

  constructor(name: string, { backoff, logger }: { backoff: Backoff; logger: Logger }) {
    this.name = name;
    this.#backoff = backoff;
    this.#logger = logger;
  }

  async add(jobs: readonly Enqueued<T>[]): Promise<void> {
    for (const { data, options } of jobs) {
      if (this.#jobs.has(options.jobId)) continue;
      const job: MemoryJob<T> = {
        id: options.jobId,
        data,
        maxAttempts: options.attempts ?? 1,
        attemptsMade: 0,
        readyAtMs: Date.now(),
        timer: null,
        controller: null,
      };
      this.#jobs.set(job.id, job);
      this.#schedule(job, options.delayMs ?? 0);
    }
  }

  async stats(): Promise<QueueStats> {
    const delayed = [...this.#jobs.values()].filter((job) => job.timer !== null).length;
    const oldest = this.#ready[0];
    return {
      waiting: this.#ready.length,
      active: this.#active.size,
      delayed,
      oldestWaitingSeconds: oldest ? (Date.now() - oldest.readyAtMs) / 1000 : null,
    };
  }

  work(handler: JobHandler<T>, concurrency: number): QueueWorker {
    if (this.#handler) throw new Error(`queue ${this.name} already has a worker in this process`);
    this.#handler = handler;
    this.#concurrency = concurrency;
    this.#pump();
    return {
      close: (graceMs) => this.#closeWorker(graceMs),
    };
  }

  async close(): Promise<void> {
    for (const job of this.#jobs.values()) if (job.timer) clearTimeout(job.timer);
  }

  #schedule(job: MemoryJob<T>, delayMs: number): void {
    if (delayMs <= 0) {
      job.readyAtMs = Date.now();
      this.#ready.push(job);
      this.#pump();
      return;
    }
    job.timer = setTimeout(() => {
      job.timer = null;
      this.#schedule(job, 0);
    }, delayMs);
  }

  #pump(): void {
    while (this.#handler && this.#active.size < this.#concurrency && this.#ready.length > 0)
      this.#run(this.#ready.shift()!);
  }

  #run(job: MemoryJob<T>): void {
    const handler = this.#handler!;
    job.controller = new AbortController();
    this.#active.add(job);
    const attempt = { id: job.id, data: job.data, attemptsMade: job.attemptsMade, maxAttempts: job.maxAttempts };
    handler(attempt, job.controller.signal)
      .then(
        () => this.#jobs.delete(job.id),
        (error: unknown) => this.#failed(job, error),
      )
      .finally(() => {
        job.controller = null;
        this.#active.delete(job);
        if (this.#active.size === 0) this.#settled?.();
        this.#pump();
      });
  }

  #failed(job: MemoryJob<T>, error: unknown): void {
    if (error instanceof ReturnToQueue) {
      // Kept in front for the next worker; nothing runs it again in this process once its worker is closed.
      this.#ready.unshift(job);
      return;
    }
    job.attemptsMade++;
    const message = error instanceof Error ? error.message : String(error);
    if (job.attemptsMade >= job.maxAttempts) {
      this.#jobs.delete(job.id);
      this.#logger.log("error", "job_failed", {
        queue: this.name,
        job_id: job.id,
        attempts: job.attemptsMade,
        message,
      });
      return;
    }
    this.#logger.log("warn", "job_retry", { queue: this.name, job_id: job.id, attempt: job.attemptsMade, message });
    this.#schedule(job, backoffMs(job.attemptsMade, this.#backoff));
  }

  async #closeWorker(graceMs: number): Promise<void> {
    this.#handler = null;
    if (this.#active.size === 0) return;
    const settled = new Promise<void>((resolve) => {
      this.#settled = resolve;
    });
    if (!(await settlesWithin(settled, graceMs))) {
      for (const job of this.#active) job.controller?.abort("shutdown");
      await settled;
    }
  }
}
