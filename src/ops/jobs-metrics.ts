// Metrics of asynchronous work: job queues (depth and age, read from the queues at scrape time), batch lines in
// progress and their latency, webhook deliveries. loom:* names: vLLM has none of these.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** One queue's numbers, as the jobs layer reports them (a structural copy, so ops imports nothing above it). */
export interface QueueSnapshot {
  readonly queue: string;
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly oldestWaitingSeconds: number | null;
}

const LINE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640];

export class JobsMetrics {
  #readQueues: (() => Promise<readonly QueueSnapshot[]>) | null = null;
  readonly #linesInProgress: Gauge<string>;
  readonly #lineSeconds: Histogram<string>;
  readonly #webhookAttempts: Counter<string>;
  readonly #webhooksAbandoned: Counter<string>;

  constructor(registry: Registry) {
    const readQueues = () => this.#readQueues?.().catch(() => []) ?? Promise.resolve([]);
    // Read at scrape time from the queues, so nothing keeps them up to date between scrapes.
    new Gauge({
      name: "loom:job_queue_depth",
      help: "Jobs in a queue by state (waiting, active, delayed), across every worker of the deployment.",
      labelNames: ["queue", "state"],
      registers: [registry],
      async collect() {
        this.reset();
        for (const q of await readQueues())
          for (const state of ["waiting", "active", "delayed"] as const) this.set({ queue: q.queue, state }, q[state]);
      },
    });
    new Gauge({
      name: "loom:job_queue_oldest_waiting_seconds",
      help: "Age of the oldest job waiting in a queue (0 when none waits).",
      labelNames: ["queue"],
      registers: [registry],
      async collect() {
        this.reset();
        for (const q of await readQueues()) this.set({ queue: q.queue }, q.oldestWaitingSeconds ?? 0);
      },
    });
    this.#linesInProgress = new Gauge({
      name: "loom:batch_lines_in_progress",
      help: "Batch lines and background requests this process is running.",
      registers: [registry],
    });
    this.#lineSeconds = new Histogram({
      name: "loom:batch_line_duration_seconds",
      help: "Time to run one batch line or background request, by outcome (completed: a 2xx answer).",
      labelNames: ["outcome"],
      buckets: LINE_BUCKETS,
      registers: [registry],
    });
    this.#webhookAttempts = new Counter({
      name: "loom:webhook_delivery_attempts_total",
      help: "Webhook delivery attempts by outcome (success: a 2xx answer).",
      labelNames: ["outcome"],
      registers: [registry],
    });
    this.#webhooksAbandoned = new Counter({
      name: "loom:webhook_deliveries_abandoned_total",
      help: "Webhook events given up on after retrying for the configured time.",
      registers: [registry],
    });
  }

  /** The function /metrics calls to read every queue's depth and age. */
  readQueuesWith(read: () => Promise<readonly QueueSnapshot[]>): void {
    this.#readQueues = read;
  }

  /** Marks a line started; the returned function records its end. */
  lineStarted(): (outcome: "completed" | "failed") => void {
    this.#linesInProgress.inc();
    const started = performance.now();
    return (outcome) => {
      this.#linesInProgress.dec();
      this.#lineSeconds.observe({ outcome }, (performance.now() - started) / 1000);
    };
  }

  webhookAttempt(ok: boolean): void {
    this.#webhookAttempts.inc({ outcome: ok ? "success" : "failure" });
  }

  webhookAbandoned(): void {
    this.#webhooksAbandoned.inc();
  }
}
