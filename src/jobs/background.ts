// BackgroundService: a request that runs off the connection. submit() stores it as "queued" and queues it; a worker
// runs its body through the executor and stores the answer; retrieve() polls; cancel() stops it wherever it runs.
// Built for /v1/responses `background: true` (which stores the response under its own resp_ id and serves its
// GET and cancel from here) and usable on its own for any endpoint of JOB_ENDPOINTS. Statuses are the Responses
// API's: queued, in_progress, completed, failed, cancelled.
import type { JobsMetrics } from "../ops/jobs-metrics.js";
import { ConflictError, InvalidRequestError } from "../serving/errors.js";
import type { CancelRegistry } from "./cancels.js";
import { NotFoundError } from "./errors.js";
import { type Executor, isTransientStatus, JOB_ENDPOINTS, unrunnableInJob } from "./executor.js";
import { newId, nowSeconds } from "./ids.js";
import { type JobHandler, ReturnToQueue, type WorkQueue } from "./queue.js";
import { assertAvailable, type JobStore } from "./store.js";
import type { WebhookEmitter } from "./webhooks.js";

type BackgroundStatus = "queued" | "in_progress" | "completed" | "failed" | "cancelled";

export interface BackgroundRequest {
  readonly id: string;
  readonly object: "background_request";
  readonly endpoint: string;
  readonly status: BackgroundStatus;
  readonly created_at: number;
  readonly started_at: number | null;
  readonly completed_at: number | null;
  /** The endpoint's answer once there is one: its status code, x-request-id and JSON body. */
  readonly response: {
    readonly status_code: number;
    readonly request_id: string | null;
    readonly body: unknown;
  } | null;
  /** Why it failed without an answer (every attempt threw). */
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly metadata: Readonly<Record<string, string>> | null;
}

/** Stored: the request body too, for whichever worker takes the job. */
interface StoredRequest extends BackgroundRequest {
  readonly body: Readonly<Record<string, unknown>>;
  readonly webhook_urls: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
}

export interface BackgroundJob {
  readonly id: string;
}

export interface SubmitBackground {
  readonly endpoint: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly metadata?: Readonly<Record<string, string>> | null;
  /** The caller's id (e.g. a resp_ id); a new bg_ id by default. */
  readonly id?: string;
  /** Headers the request runs with (the Responses route passes the response's id this way). */
  readonly headers?: Readonly<Record<string, string>>;
}

const ATTEMPTS = 12;

export class BackgroundService {
  readonly #store: JobStore;
  readonly #queue: WorkQueue<BackgroundJob>;
  readonly #webhookUrls: readonly string[];

  constructor({
    store,
    queue,
    webhookUrls,
  }: { store: JobStore; queue: WorkQueue<BackgroundJob>; webhookUrls: readonly string[] }) {
    this.#store = store;
    this.#queue = queue;
    this.#webhookUrls = webhookUrls;
  }

  async submit({
    endpoint,
    body,
    metadata = null,
    id = newId("bg_"),
    headers = {},
  }: SubmitBackground): Promise<BackgroundRequest> {
    assertAvailable(this.#store);
    const refusal = unrunnableInJob(body);
    if (refusal !== null) throw new InvalidRequestError(refusal, { param: "body" });
    if (!JOB_ENDPOINTS.includes(endpoint))
      throw new InvalidRequestError(
        `endpoint '${endpoint}' cannot run in the background; use one of ${JOB_ENDPOINTS.join(", ")}`,
        {
          param: "endpoint",
        },
      );
    const record: StoredRequest = {
      id,
      object: "background_request",
      endpoint,
      status: "queued",
      created_at: nowSeconds(),
      started_at: null,
      completed_at: null,
      response: null,
      error: null,
      metadata,
      body,
      webhook_urls: this.#webhookUrls,
      headers,
    };
    await this.#store.create("request", id, { ...record });
    await this.#queue.add([{ data: { id }, options: { jobId: id, attempts: ATTEMPTS } }]);
    return toWire(record);
  }

  async retrieve(id: string): Promise<BackgroundRequest> {
    return toWire(await this.#record(id));
  }

  /** Cancels a queued or running request (409 once it has ended); a running one is aborted where it runs. */
  async cancel(id: string): Promise<BackgroundRequest> {
    const record = await this.#record(id);
    if (record.status === "cancelled") return toWire(record);
    if (
      !(await this.#store.update("request", id, { status: "cancelled", completed_at: nowSeconds() }, [
        "queued",
        "in_progress",
      ]))
    )
      throw new ConflictError(
        `background request ${id} cannot be cancelled: its status is ${(await this.#record(id)).status}`,
      );
    await this.#store.publishCancel(id);
    return this.retrieve(id);
  }

  async #record(id: string): Promise<StoredRequest> {
    assertAvailable(this.#store);
    const record = await this.#store.get("request", id);
    if (!record) throw new NotFoundError("background request", id);
    return record as unknown as StoredRequest;
  }
}

function toWire(record: StoredRequest): BackgroundRequest {
  const { body: _body, webhook_urls: _urls, headers: _headers, ...wire } = record;
  return wire;
}

export interface BackgroundWorkerOptions {
  readonly store: JobStore;
  readonly executor: Executor;
  readonly cancels: CancelRegistry;
  readonly webhooks: WebhookEmitter;
  readonly metrics?: JobsMetrics;
}

/** Background requests run at the interactive priority: a client is waiting for them, just not on a socket. */
export function backgroundHandler({
  store,
  executor,
  cancels,
  webhooks,
  metrics,
}: BackgroundWorkerOptions): JobHandler<BackgroundJob> {
  return async (job, queueSignal) => {
    const record = (await store.get("request", job.data.id)) as StoredRequest | null;
    if (!record) return;
    // Run again after its worker died between storing the answer and finishing: the event goes out again.
    if (record.status === "completed" || record.status === "failed")
      return webhooks.emit(`response.${record.status}`, record.id, record.webhook_urls);
    if (record.status !== "queued" && record.status !== "in_progress") return;
    await store.update("request", record.id, { status: "in_progress", started_at: nowSeconds() }, [
      "queued",
      "in_progress",
    ]);
    const { signal, release } = cancels.track(record.id, queueSignal);
    const done = metrics?.lineStarted();
    let ok = false;
    try {
      const result = await executor(record.endpoint, record.body, {
        priority: 0,
        signal,
        headers: record.headers ?? {},
      });
      if (signal.aborted) {
        if (signal.reason === "shutdown") throw new ReturnToQueue();
        return;
      }
      if (isTransientStatus(result.status) && job.attemptsMade + 1 < job.maxAttempts)
        throw new Error(`the server answered ${result.status}; retrying later`);
      ok = result.status >= 200 && result.status < 300;
      const response = { status_code: result.status, request_id: result.requestId, body: result.body };
      const ended = { status: ok ? "completed" : "failed", completed_at: nowSeconds(), response };
      if (await store.update("request", record.id, ended, ["in_progress"]))
        await webhooks.emit(ok ? "response.completed" : "response.failed", record.id, record.webhook_urls);
    } catch (error) {
      if (signal.aborted && signal.reason === "shutdown") throw new ReturnToQueue();
      if (job.attemptsMade + 1 < job.maxAttempts) throw error;
      const failed = {
        status: "failed",
        completed_at: nowSeconds(),
        error: { code: "internal_error", message: (error as Error).message },
      };
      if (await store.update("request", record.id, failed, ["in_progress"]))
        await webhooks.emit("response.failed", record.id, record.webhook_urls);
    } finally {
      release();
      done?.(ok ? "completed" : "failed");
    }
  };
}
