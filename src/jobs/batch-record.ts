// The Batch object: OpenAI's wire shape, the stored record behind it (with Loom's own bookkeeping fields), the
// status machine, and the jobs of the control queue that move a batch through it.
import type { BatchError } from "./batch-input.js";
import type { ResultCounts } from "./store.js";

export type BatchStatus =
  | "validating"
  | "failed"
  | "in_progress"
  | "finalizing"
  | "completed"
  | "expired"
  | "cancelling"
  | "cancelled";

export const TERMINAL_STATUSES: readonly BatchStatus[] = ["failed", "completed", "expired", "cancelled"];

/** OpenAI's Batch object. */
export interface Batch {
  readonly id: string;
  readonly object: "batch";
  readonly endpoint: string;
  readonly model: string | null;
  readonly errors: { readonly object: "list"; readonly data: readonly BatchError[] } | null;
  readonly input_file_id: string;
  readonly completion_window: string;
  readonly status: BatchStatus;
  readonly output_file_id: string | null;
  readonly error_file_id: string | null;
  readonly created_at: number;
  readonly in_progress_at: number | null;
  readonly expires_at: number;
  readonly finalizing_at: number | null;
  readonly completed_at: number | null;
  readonly failed_at: number | null;
  readonly expired_at: number | null;
  readonly cancelling_at: number | null;
  readonly cancelled_at: number | null;
  readonly request_counts: { readonly total: number; readonly completed: number; readonly failed: number };
  readonly metadata: Readonly<Record<string, string>> | null;
}

/** What is stored: the Batch, plus where its webhooks go and whether its window ran out. */
export interface BatchRecord extends Batch {
  readonly webhook_urls: readonly string[];
  readonly expiring: boolean;
}

/** A job of the control queue: check the input and queue the lines; write the output files; end an overdue batch. */
export interface ControlJob {
  readonly kind: "validate" | "finalize" | "expire";
  readonly batchId: string;
}

/** A job of the lines queue: line `index` (from 0) of a batch's input. */
export interface LineJob {
  readonly batchId: string;
  readonly index: number;
}

export const controlJobId = (kind: ControlJob["kind"], batchId: string) => `${kind}.${batchId}`;
export const lineJobId = (batchId: string, index: number) => `${batchId}.${index}`;

/** The wire object: live result counts, without the stored bookkeeping. */
export function toBatch(record: BatchRecord, counts: ResultCounts): Batch {
  const { webhook_urls: _urls, expiring: _expiring, ...batch } = record;
  return { ...batch, request_counts: { total: record.request_counts.total, ...counts } };
}

/** A completion window in seconds: OpenAI's "24h", or (Loom's extension) any "<n>s", "<n>m" or "<n>h". */
export function windowSeconds(window: string): number | null {
  const match = /^([1-9]\d{0,6})(s|m|h)$/.exec(window);
  if (!match) return null;
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as "s" | "m" | "h"];
}
