// The lines queue's handler: runs one input line through the executor at batch priority and records its output
// line once per custom_id (first write wins, so a line re-run after a crash never appears twice). Overload and
// draining (429, 503) are retried with backoff; any other answer is the line's result: 2xx to the output file, the
// rest to the error file, as OpenAI does. The last line to finish queues the batch's finalization.
import type { JobsMetrics } from "../ops/jobs-metrics.js";
import type { BatchLine } from "./batch-input.js";
import { queueFinalize } from "./batch-control.js";
import type { BatchRecord, ControlJob, LineJob } from "./batch-record.js";
import type { CancelRegistry } from "./cancels.js";
import { BATCH_PRIORITY, type Executor, isTransientStatus, unrunnableInJob } from "./executor.js";
import { newId } from "./ids.js";
import { type JobHandler, ReturnToQueue, type WorkQueue } from "./queue.js";
import type { JobStore, ResultCounts } from "./store.js";

export interface BatchLinesOptions {
  readonly store: JobStore;
  readonly control: WorkQueue<ControlJob>;
  readonly executor: Executor;
  readonly cancels: CancelRegistry;
  readonly metrics?: JobsMetrics;
}

/** One line of the output or error file, in OpenAI's shape. */
interface OutputLine {
  readonly id: string;
  readonly custom_id: string;
  readonly response: {
    readonly status_code: number;
    readonly request_id: string | null;
    readonly body: unknown;
  } | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export function batchLinesHandler({
  store,
  control,
  executor,
  cancels,
  metrics,
}: BatchLinesOptions): JobHandler<LineJob> {
  return async (job, queueSignal) => {
    const { batchId, index } = job.data;
    const record = (await store.get("batch", batchId)) as BatchRecord | null;
    // Lines of a cancelled, expiring or deleted batch are accounted for by its finalization.
    if (record?.status !== "in_progress") return;
    const text = await store.getLine(batchId, index);
    if (text === null) throw new Error(`line ${index} of ${batchId} is missing from the store`);
    const line = JSON.parse(text) as BatchLine;
    let counts: ResultCounts;
    // A line whose result was stored before its worker died is not run again, but the finalization may be owed.
    if (await store.hasResult(batchId, line.custom_id)) counts = await store.resultCounts(batchId);
    else {
      const output = await run(line, record.endpoint, job.attemptsMade + 1 >= job.maxAttempts);
      if (output === null) return;
      const outcome = isSuccess(output) ? "completed" : "failed";
      counts = await store.storeResult(batchId, line.custom_id, outcome, JSON.stringify(output));
    }
    if (counts.completed + counts.failed >= record.request_counts.total) await queueFinalize(control, batchId);

    /** The line's output line; null when the batch was cancelled meanwhile (its finalization writes the line). */
    async function run(line: BatchLine, endpoint: string, lastAttempt: boolean): Promise<OutputLine | null> {
      const refusal = unrunnableInJob(line.body);
      if (refusal !== null) return errorResponse(line.custom_id, 400, refusal);
      const { signal, release } = cancels.track(batchId, queueSignal);
      const done = metrics?.lineStarted();
      let outcome: "completed" | "failed" = "failed";
      try {
        const result = await executor(endpoint, line.body, { priority: BATCH_PRIORITY, signal });
        if (signal.aborted) return aborted(signal);
        if (isTransientStatus(result.status) && !lastAttempt)
          throw new Error(`the server answered ${result.status}; retrying the line later`);
        if (result.status >= 200 && result.status < 300) outcome = "completed";
        return {
          id: newId("batch_req_"),
          custom_id: line.custom_id,
          response: { status_code: result.status, request_id: result.requestId, body: result.body },
          error: null,
        };
      } catch (error) {
        if (signal.aborted) return aborted(signal);
        if (!lastAttempt) throw error;
        return errorResponse(line.custom_id, 500, `the request failed: ${(error as Error).message}`);
      } finally {
        release();
        done?.(outcome);
      }
    }
  };
}

function aborted(signal: AbortSignal): null {
  // A worker shutting down hands the line back for another; a cancel leaves it to the finalization.
  if (signal.reason === "shutdown") throw new ReturnToQueue();
  return null;
}

function isSuccess(output: OutputLine): boolean {
  const status = output.response?.status_code ?? 0;
  return status >= 200 && status < 300;
}

/** A line refused before or after running, with OpenAI's error body. */
function errorResponse(customId: string, status: number, message: string): OutputLine {
  const type = status >= 500 ? "server_error" : "invalid_request_error";
  return {
    id: newId("batch_req_"),
    custom_id: customId,
    response: { status_code: status, request_id: null, body: { error: { message, type, param: null, code: null } } },
    error: null,
  };
}
