// Jobs: the jobs layer assembled over one backend (Redis or memory): the Files, Batch and background-request
// services the API calls, and the workers a process runs (`loom serve` beside HTTP, `loom worker` alone).
import type { JobsMetrics, QueueSnapshot } from "../ops/jobs-metrics.js";
import type { Logger } from "../ops/logger.js";
import type { JobsBackend } from "./backends.js";
import { BackgroundService, type BackgroundJob, backgroundHandler } from "./background.js";
import { batchControlHandler } from "./batch-control.js";
import { batchLinesHandler } from "./batch-lines.js";
import type { ControlJob, LineJob } from "./batch-record.js";
import { BatchService } from "./batches.js";
import { CancelRegistry } from "./cancels.js";
import type { Executor } from "./executor.js";
import { FileService } from "./files.js";
import type { Backoff, QueueWorker, WorkQueue } from "./queue.js";
import { webhookDeliveryHandler } from "./webhook-delivery.js";
import { type Delivery, WebhookEmitter } from "./webhooks.js";

const WORK_BACKOFF: Backoff = { baseMs: 1000, capMs: 30_000 };
/** Webhook retries: 1 s, 2 s, 4 s ... then hourly, until the retry window is spent. */
const WEBHOOK_BACKOFF: Backoff = { baseMs: 1000, capMs: 3_600_000 };
const CONTROL_CONCURRENCY = 4;
const WEBHOOK_CONCURRENCY = 8;
const WEBHOOK_TIMEOUT_MS = 10_000;

export interface JobsOptions {
  readonly backend: JobsBackend;
  readonly maxFileBytes: number;
  /** The server's webhook endpoints. */
  readonly webhookUrls: readonly string[];
  readonly webhookSecret: string | null;
  readonly webhookRetrySeconds: number;
  /** Whether a batch line may name this model (a served model or one of its adapters). */
  readonly isServedModel: (model: string) => boolean;
  readonly logger: Logger;
  readonly metrics?: JobsMetrics;
  readonly userAgent: string;
}

export interface WorkerOptions {
  readonly executor: Executor;
  /** Batch lines and background requests this process runs at once; 0 runs none (control and webhooks only). */
  readonly concurrency: number;
}

export interface JobWorkers {
  /** Stops taking jobs; running ones finish for up to `graceMs`, then go back to their queue. */
  close(graceMs: number): Promise<void>;
}

export class Jobs {
  readonly files: FileService;
  readonly batches: BatchService;
  readonly background: BackgroundService;
  readonly #options: JobsOptions;
  readonly #control: WorkQueue<ControlJob>;
  readonly #lines: WorkQueue<LineJob>;
  readonly #backgroundQueue: WorkQueue<BackgroundJob>;
  readonly #webhookQueue: WorkQueue<Delivery>;
  readonly #webhooks: WebhookEmitter;
  readonly #cancels: CancelRegistry;

  constructor(options: JobsOptions) {
    const { backend, webhookUrls } = options;
    this.#options = options;
    this.#control = backend.queue("control", WORK_BACKOFF);
    this.#lines = backend.queue("lines", WORK_BACKOFF);
    this.#backgroundQueue = backend.queue("background", WORK_BACKOFF);
    this.#webhookQueue = backend.queue("webhooks", WEBHOOK_BACKOFF);
    this.#webhooks = new WebhookEmitter(this.#webhookQueue, {
      retryWindowMs: options.webhookRetrySeconds * 1000,
      backoff: WEBHOOK_BACKOFF,
    });
    this.#cancels = new CancelRegistry(backend.store);
    this.files = new FileService(backend.store, { maxFileBytes: options.maxFileBytes });
    this.batches = new BatchService({ store: backend.store, files: this.files, control: this.#control, webhookUrls });
    this.background = new BackgroundService({ store: backend.store, queue: this.#backgroundQueue, webhookUrls });
  }

  /** Null while the jobs API can answer; otherwise why not (Redis unreachable). */
  unavailableReason(): string | null {
    return this.#options.backend.store.unavailableReason();
  }

  /** Every queue's depth and the age of its oldest waiting job, for /metrics. */
  async queueStats(): Promise<QueueSnapshot[]> {
    const queues = [this.#control, this.#lines, this.#backgroundQueue, this.#webhookQueue];
    return Promise.all(queues.map(async (q) => ({ queue: q.name, ...(await q.stats()) })));
  }

  /** Starts this process's workers. */
  startWorkers({ executor, concurrency }: WorkerOptions): JobWorkers {
    const { backend, metrics, logger } = this.#options;
    const store = backend.store;
    const workers: QueueWorker[] = [
      this.#control.work(
        batchControlHandler({
          store,
          files: this.files,
          control: this.#control,
          lines: this.#lines,
          webhooks: this.#webhooks,
          isServedModel: this.#options.isServedModel,
        }),
        CONTROL_CONCURRENCY,
      ),
      this.#webhookQueue.work(
        webhookDeliveryHandler({
          secret: this.#options.webhookSecret,
          retryWindowMs: this.#options.webhookRetrySeconds * 1000,
          timeoutMs: WEBHOOK_TIMEOUT_MS,
          logger,
          userAgent: this.#options.userAgent,
          ...(metrics ? { metrics } : {}),
        }),
        WEBHOOK_CONCURRENCY,
      ),
    ];
    if (concurrency > 0) {
      const shared = { store, executor, cancels: this.#cancels, ...(metrics ? { metrics } : {}) };
      workers.push(this.#lines.work(batchLinesHandler({ ...shared, control: this.#control }), concurrency));
      workers.push(this.#backgroundQueue.work(backgroundHandler({ ...shared, webhooks: this.#webhooks }), concurrency));
    }
    logger.log("info", "job_workers", { backend: backend.kind, concurrency });
    return { close: async (graceMs) => void (await Promise.all(workers.map((w) => w.close(graceMs)))) };
  }

  async close(): Promise<void> {
    await Promise.all([this.#control, this.#lines, this.#backgroundQueue, this.#webhookQueue].map((q) => q.close()));
    await this.#options.backend.close();
  }
}
