// BatchService: the Batch API's requests (create, retrieve, list, cancel). Creating a batch stores it as
// "validating" and queues its validation and its expiry on the control queue; workers do the rest (batch-control.ts,
// batch-lines.ts), so any replica can answer for a batch any worker is running.
import { ConflictError, InvalidRequestError } from "../serving/errors.js";
import {
  type Batch,
  type BatchRecord,
  type ControlJob,
  controlJobId,
  TERMINAL_STATUSES,
  toBatch,
  windowSeconds,
} from "./batch-record.js";
import { NotFoundError } from "./errors.js";
import { JOB_ENDPOINTS } from "./executor.js";
import type { FileService } from "./files.js";
import { listPage } from "./files.js";
import { newId, nowSeconds } from "./ids.js";
import type { WorkQueue } from "./queue.js";
import { assertAvailable, type JobStore } from "./store.js";

export interface CreateBatch {
  readonly input_file_id: string;
  readonly endpoint: string;
  readonly completion_window: string;
  readonly metadata?: Readonly<Record<string, string>> | null;
}

/** Loom's extension: a batch's own webhook endpoint, named in its metadata (beside the server's). */
const WEBHOOK_METADATA_KEY = "webhook_url";

/** Control jobs retry a few times (e.g. across a Redis restart) before they give up. */
export const CONTROL_ATTEMPTS = 8;

export interface BatchServiceOptions {
  readonly store: JobStore;
  readonly files: FileService;
  readonly control: WorkQueue<ControlJob>;
  /** The server's webhook endpoints, which every batch notifies. */
  readonly webhookUrls: readonly string[];
}

export class BatchService {
  readonly #store: JobStore;
  readonly #files: FileService;
  readonly #control: WorkQueue<ControlJob>;
  readonly #webhookUrls: readonly string[];

  constructor({ store, files, control, webhookUrls }: BatchServiceOptions) {
    this.#store = store;
    this.#files = files;
    this.#control = control;
    this.#webhookUrls = webhookUrls;
  }

  async create(input: CreateBatch): Promise<Batch> {
    assertAvailable(this.#store);
    if (!JOB_ENDPOINTS.includes(input.endpoint)) {
      throw new InvalidRequestError(
        `endpoint '${input.endpoint}' is not supported for batches; use one of ${JOB_ENDPOINTS.join(", ")}`,
        { param: "endpoint" },
      );
    }
    const seconds = windowSeconds(input.completion_window);
    if (seconds === null)
      throw new InvalidRequestError("completion_window must be '24h' (or a duration such as '30m')", {
        param: "completion_window",
      });
    const file = await this.#files.retrieve(input.input_file_id).catch((error: unknown) => {
      throw error instanceof NotFoundError ? new NotFoundError("File", input.input_file_id, "input_file_id") : error;
    });
    if (file.purpose !== "batch")
      throw new InvalidRequestError(`file ${file.id} has purpose '${file.purpose}', not 'batch'`, {
        param: "input_file_id",
      });
    const ownWebhook = input.metadata?.[WEBHOOK_METADATA_KEY];
    if (ownWebhook !== undefined && !isHttpUrl(ownWebhook))
      throw new InvalidRequestError(`metadata.${WEBHOOK_METADATA_KEY} must be an http or https URL`, {
        param: "metadata",
      });
    const created = nowSeconds();
    const record: BatchRecord = {
      id: newId("batch_"),
      object: "batch",
      endpoint: input.endpoint,
      model: null,
      errors: null,
      input_file_id: file.id,
      completion_window: input.completion_window,
      status: "validating",
      output_file_id: null,
      error_file_id: null,
      created_at: created,
      in_progress_at: null,
      expires_at: created + seconds,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: input.metadata ?? null,
      webhook_urls: ownWebhook ? [...this.#webhookUrls, ownWebhook] : [...this.#webhookUrls],
      expiring: false,
    };
    await this.#store.create("batch", record.id, { ...record });
    await this.#control.add([
      {
        data: { kind: "validate", batchId: record.id },
        options: { jobId: controlJobId("validate", record.id), attempts: CONTROL_ATTEMPTS },
      },
      {
        data: { kind: "expire", batchId: record.id },
        options: { jobId: controlJobId("expire", record.id), delayMs: seconds * 1000, attempts: CONTROL_ATTEMPTS },
      },
    ]);
    return toBatch(record, { completed: 0, failed: 0 });
  }

  async retrieve(id: string): Promise<Batch> {
    const record = await this.#record(id);
    // A finished batch keeps its final counts in its record; a running one counts its stored results.
    if (TERMINAL_STATUSES.includes(record.status)) return toBatch(record, record.request_counts);
    return toBatch(record, await this.#store.resultCounts(id));
  }

  async list({ after, limit }: { after: string | null; limit: number }) {
    assertAvailable(this.#store);
    const page = await this.#store.list("batch", after, limit);
    const batches = await Promise.all(page.ids.map((id) => this.retrieve(id).catch(() => null)));
    return listPage(
      batches.filter((b): b is Batch => b !== null),
      page.hasMore,
    );
  }

  /**
   * Moves a validating or running batch to "cancelling" and queues its finalization, which ends lines still in
   * flight, writes what finished to the output file and the rest (code batch_cancelled) to the error file.
   */
  async cancel(id: string): Promise<Batch> {
    const record = await this.#record(id);
    if (record.status === "cancelling" || record.status === "cancelled") return this.retrieve(id);
    const moved = await this.#store.update("batch", id, { status: "cancelling", cancelling_at: nowSeconds() }, [
      "validating",
      "in_progress",
    ]);
    if (!moved) {
      const now = await this.#record(id);
      throw new ConflictError(`batch ${id} cannot be cancelled: its status is ${now.status}`);
    }
    await this.#store.publishCancel(id);
    await this.#control.add([
      {
        data: { kind: "finalize", batchId: id },
        options: { jobId: controlJobId("finalize", id), attempts: CONTROL_ATTEMPTS },
      },
    ]);
    return this.retrieve(id);
  }

  async #record(id: string): Promise<BatchRecord> {
    assertAvailable(this.#store);
    const record = await this.#store.get("batch", id);
    if (!record) throw new NotFoundError("Batch", id, "batch_id");
    return record as unknown as BatchRecord;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}
