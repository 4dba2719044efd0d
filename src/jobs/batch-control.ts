// The control queue's handlers, which move a batch through OpenAI's statuses. Each is idempotent and guarded by a
// compare-and-set on the status, so a handler re-run after a crash, or two workers racing, end in one state:
//   validate:  validating -> in_progress (lines stored and queued), or -> failed (errors with line numbers)
//   finalize:  in_progress -> finalizing -> completed; cancelling -> cancelled; finalizing (expiring) -> expired;
//              lines without a result get one (batch_cancelled / batch_expired), then the output and error files
//   expire:    validating -> expired; in_progress -> finalizing (expiring), then finalize
import { type BatchLine, parseBatchInput } from "./batch-input.js";
import {
  type BatchRecord,
  type BatchStatus,
  type ControlJob,
  controlJobId,
  type LineJob,
  lineJobId,
  TERMINAL_STATUSES,
} from "./batch-record.js";
import { CONTROL_ATTEMPTS } from "./batches.js";
import type { FileService } from "./files.js";
import { derivedId, newId, nowSeconds } from "./ids.js";
import type { JobHandler, WorkQueue } from "./queue.js";
import type { JobStore } from "./store.js";
import type { WebhookEmitter } from "./webhooks.js";

/** OpenAI's limit on requests per batch. */
const MAX_BATCH_LINES = 50_000;
/** A line is retried this often (overload, a Redis hiccup) before it is written to the error file. */
const LINE_ATTEMPTS = 12;

export interface BatchControlOptions {
  readonly store: JobStore;
  readonly files: FileService;
  readonly control: WorkQueue<ControlJob>;
  readonly lines: WorkQueue<LineJob>;
  readonly webhooks: WebhookEmitter;
  readonly isServedModel: (model: string) => boolean;
}

export function batchControlHandler(options: BatchControlOptions): JobHandler<ControlJob> {
  return async ({ data }) => {
    const record = (await options.store.get("batch", data.batchId)) as BatchRecord | null;
    if (!record) return;
    if (TERMINAL_STATUSES.includes(record.status)) {
      // A job that ended the batch and is run again (its worker died after the status changed, before it
      // finished) sends the event again: at least once; receivers deduplicate by the event id.
      if (ENDED_BY[data.kind].includes(record.status))
        await options.webhooks.emit(`batch.${record.status as "failed"}`, record.id, record.webhook_urls);
      return;
    }
    if (data.kind === "validate") await validate(options, record);
    else if (data.kind === "expire") await expire(options, record);
    else await finalize(options, record);
  };
}

/** The terminal statuses each kind of control job moves a batch to. */
const ENDED_BY: Record<ControlJob["kind"], readonly BatchStatus[]> = {
  validate: ["failed"],
  expire: ["expired"],
  finalize: ["completed", "cancelled", "expired"],
};

/** Queues a batch's finalization (deduplicated by job id while one is pending). */
export function queueFinalize(control: WorkQueue<ControlJob>, batchId: string): Promise<void> {
  return control.add([
    {
      data: { kind: "finalize", batchId },
      options: { jobId: controlJobId("finalize", batchId), attempts: CONTROL_ATTEMPTS },
    },
  ]);
}

async function validate(options: BatchControlOptions, record: BatchRecord): Promise<void> {
  const { store } = options;
  if (record.status === "cancelling") return queueFinalize(options.control, record.id);
  if (record.status === "in_progress") return queueLines(options.lines, record.id, record.request_counts.total);
  if (record.status !== "validating") return;
  const bytes = await options.files.content(record.input_file_id).catch(() => null);
  const parsed =
    bytes === null
      ? {
          ok: false as const,
          errors: [
            {
              code: "file_not_found",
              message: `The input file ${record.input_file_id} no longer exists.`,
              param: "input_file_id",
              line: null,
            },
          ],
        }
      : parseBatchInput(bytes, {
          endpoint: record.endpoint,
          isServedModel: options.isServedModel,
          maxLines: MAX_BATCH_LINES,
        });
  if (!parsed.ok) {
    const failed = { status: "failed", failed_at: nowSeconds(), errors: { object: "list", data: parsed.errors } };
    if (await store.update("batch", record.id, failed, ["validating"]))
      await options.webhooks.emit("batch.failed", record.id, record.webhook_urls);
    return;
  }
  await store.putLines(
    record.id,
    parsed.lines.map((line: BatchLine) => JSON.stringify(line)),
  );
  const total = parsed.lines.length;
  const started = {
    status: "in_progress",
    in_progress_at: nowSeconds(),
    model: parsed.model,
    request_counts: { total, completed: 0, failed: 0 },
  };
  // Lines are queued only once the batch runs, so a worker never meets a line of a batch still validating.
  if (await store.update("batch", record.id, started, ["validating"]))
    await queueLines(options.lines, record.id, total);
}

function queueLines(lines: WorkQueue<LineJob>, batchId: string, total: number): Promise<void> {
  return lines.add(
    Array.from({ length: total }, (_, index) => ({
      data: { batchId, index },
      options: { jobId: lineJobId(batchId, index), attempts: LINE_ATTEMPTS },
    })),
  );
}

async function expire(options: BatchControlOptions, record: BatchRecord): Promise<void> {
  const { store } = options;
  if (await store.update("batch", record.id, { status: "expired", expired_at: nowSeconds() }, ["validating"]))
    return options.webhooks.emit("batch.expired", record.id, record.webhook_urls);
  const moved = await store.update(
    "batch",
    record.id,
    { status: "finalizing", finalizing_at: nowSeconds(), expiring: true },
    ["in_progress"],
  );
  if (moved) {
    await store.publishCancel(record.id);
    await queueFinalize(options.control, record.id);
  }
}

async function finalize(options: BatchControlOptions, record: BatchRecord): Promise<void> {
  const { store } = options;
  const total = record.request_counts.total;
  let end: BatchStatus;
  if (record.status === "cancelling") end = "cancelled";
  else if (record.status === "finalizing") end = record.expiring ? "expired" : "completed";
  else if (record.status === "in_progress") {
    const counts = await store.resultCounts(record.id);
    if (counts.completed + counts.failed < total) return; // not done: a spurious trigger
    if (
      !(await store.update("batch", record.id, { status: "finalizing", finalizing_at: nowSeconds() }, ["in_progress"]))
    )
      return;
    end = "completed";
  } else return;
  const inputs = (await store.getLines(record.id, total)).map((line) =>
    line === null ? null : (JSON.parse(line) as BatchLine),
  );
  if (end !== "completed")
    await fillUnfinished(store, record.id, inputs, end === "cancelled" ? "batch_cancelled" : "batch_expired");
  const files = await writeOutputs(options.files, record.id, inputs, await store.getResults(record.id));
  const counts = { total, ...(await store.resultCounts(record.id)) };
  const ended = { status: end, [`${end}_at`]: nowSeconds(), request_counts: counts, ...files };
  if (
    !(await store.update("batch", record.id, ended, [record.status === "in_progress" ? "finalizing" : record.status]))
  )
    return;
  await options.webhooks.emit(`batch.${end as "completed" | "cancelled" | "expired"}`, record.id, record.webhook_urls);
  await store.dropBatchData(record.id);
}

/** Lines that never finished get an error line; a line finishing at this moment loses the race (first write wins). */
async function fillUnfinished(store: JobStore, batchId: string, inputs: (BatchLine | null)[], code: string) {
  const message =
    code === "batch_cancelled"
      ? "The batch was cancelled before this request executed."
      : "This request could not be executed before the completion window expired.";
  for (const input of inputs) {
    if (input === null || (await store.hasResult(batchId, input.custom_id))) continue;
    const line = { id: newId("batch_req_"), custom_id: input.custom_id, response: null, error: { code, message } };
    await store.storeResult(batchId, input.custom_id, "failed", JSON.stringify(line));
  }
}

/** The output file (2xx answers) and the error file (the rest), in input order; ids derive from the batch. */
async function writeOutputs(
  files: FileService,
  batchId: string,
  inputs: (BatchLine | null)[],
  results: Map<string, string>,
) {
  const output: string[] = [];
  const errors: string[] = [];
  for (const input of inputs) {
    const line = input && results.get(input.custom_id);
    if (!line) continue;
    const status = (JSON.parse(line) as { response: { status_code: number } | null }).response?.status_code;
    (status !== undefined && status >= 200 && status < 300 ? output : errors).push(line);
  }
  const write = async (lines: string[], kind: string) =>
    lines.length === 0
      ? null
      : (
          await files.put(derivedId("file-", batchId, kind), {
            filename: `${batchId}_${kind}.jsonl`,
            purpose: "batch_output",
            bytes: Buffer.from(`${lines.join("\n")}\n`),
          })
        ).id;
  return { output_file_id: await write(output, "output"), error_file_id: await write(errors, "error") };
}
