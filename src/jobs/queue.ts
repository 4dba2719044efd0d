// WorkQueue: the one queue abstraction of the jobs layer. BullMQ implements it on Redis (stalled-job recovery, so a
// killed worker's jobs are picked up again; retries with backoff; jobs shared by every worker of the deployment);
// an in-process runner implements it without Redis. Handlers are idempotent: a job may run more than once.

interface QueuedJob<T> {
  readonly id: string;
  readonly data: T;
  /** Failed attempts before this one. */
  readonly attemptsMade: number;
  readonly maxAttempts: number;
}

interface EnqueueOptions {
  /** Adding a job whose id is already queued or running does nothing, so producers may repeat themselves. */
  readonly jobId: string;
  readonly delayMs?: number;
  /** Attempts in all (1: no retry). */
  readonly attempts?: number;
}

export interface Enqueued<T> {
  readonly data: T;
  readonly options: EnqueueOptions;
}

/**
 * Works one job. Returning completes it; throwing ReturnToQueue puts it back without counting an attempt; any
 * other error is a failed attempt, retried after a capped exponential backoff while attempts remain. `signal`
 * aborts with reason "shutdown" when the worker closes: the handler should throw ReturnToQueue.
 */
export type JobHandler<T> = (job: QueuedJob<T>, signal: AbortSignal) => Promise<void>;

/** Puts the job back in its queue unstarted, e.g. when a worker shuts down with it in hand. */
export class ReturnToQueue extends Error {
  constructor(reason = "returned to the queue") {
    super(reason);
    this.name = "ReturnToQueue";
  }
}

export interface QueueStats {
  /** Jobs ready to run, not yet taken. */
  readonly waiting: number;
  readonly active: number;
  /** Jobs scheduled for later (delays and retry backoff). */
  readonly delayed: number;
  /** Age of the oldest waiting job, null when none waits. */
  readonly oldestWaitingSeconds: number | null;
}

export interface Backoff {
  readonly baseMs: number;
  readonly capMs: number;
}

/** Delay before retry `attemptsMade` (1 after the first failure): base, 2 base, 4 base ... up to the cap. */
export function backoffMs(attemptsMade: number, { baseMs, capMs }: Backoff): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
}

export interface QueueWorker {
  /**
   * Stops taking jobs and lets running ones finish for up to `graceMs`, then aborts the rest with reason
   * "shutdown" so their handlers return them to the queue for another worker.
   */
  close(graceMs: number): Promise<void>;
}

export interface WorkQueue<T> {
  readonly name: string;
  add(jobs: readonly Enqueued<T>[]): Promise<void>;
  stats(): Promise<QueueStats>;
  /** Starts working this queue's jobs in this process, at most `concurrency` at once. */
  work(handler: JobHandler<T>, concurrency: number): QueueWorker;
  /** Closes the producer side (workers close on their own). */
  close(): Promise<void>;
}
