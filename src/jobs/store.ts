// JobStore: the state every replica and worker must see (files, batches, background requests, a batch's input lines
// and results), behind one interface with two implementations: Redis (shared, durable with AOF) and memory (one
// process, for a single `npm start`). Keys are namespaced `loom:{kind}:{id}`.
import { JobsUnavailableError } from "./errors.js";

/** The kinds of record; each is listed newest first under its own index. */
export type RecordKind = "file" | "batch" | "request";

export type StoredRecord = Record<string, unknown>;

export interface Page {
  readonly ids: readonly string[];
  readonly hasMore: boolean;
}

export interface ResultCounts {
  readonly completed: number;
  readonly failed: number;
}

export interface StoredResult extends ResultCounts {
  /** False when this custom_id already had a result: the first write wins, so each appears once in the output. */
  readonly stored: boolean;
}

export interface JobStore {
  /** Null while usable; otherwise why not (e.g. Redis unreachable). */
  unavailableReason(): string | null;

  create(kind: RecordKind, id: string, record: StoredRecord): Promise<void>;
  get(kind: RecordKind, id: string): Promise<StoredRecord | null>;
  /**
   * Sets `patch`'s fields atomically, only when the record exists and (if `ifStatusIn` is given) its `status` is one
   * of those; false otherwise. This compare-and-set is how concurrent workers agree on a batch's state.
   */
  update(kind: RecordKind, id: string, patch: StoredRecord, ifStatusIn?: readonly string[]): Promise<boolean>;
  remove(kind: RecordKind, id: string): Promise<boolean>;
  /** Ids newest first, starting after `after` (a cursor id; unknown: from the start). */
  list(kind: RecordKind, after: string | null, limit: number): Promise<Page>;

  putBlob(key: string, bytes: Uint8Array): Promise<void>;
  getBlob(key: string): Promise<Buffer | null>;
  deleteBlob(key: string): Promise<void>;

  /** A batch's validated input lines, by index from 0. */
  putLines(batchId: string, lines: readonly string[]): Promise<void>;
  getLine(batchId: string, index: number): Promise<string | null>;
  getLines(batchId: string, count: number): Promise<(string | null)[]>;

  /** Records a line's output once per custom_id and counts it as completed or failed. */
  storeResult(batchId: string, customId: string, outcome: keyof ResultCounts, line: string): Promise<StoredResult>;
  hasResult(batchId: string, customId: string): Promise<boolean>;
  getResults(batchId: string): Promise<Map<string, string>>;
  resultCounts(batchId: string): Promise<ResultCounts>;
  /** Deletes a finished batch's lines and results (its output files hold them now). */
  dropBatchData(batchId: string): Promise<void>;

  /** Tells every process (this one included) that the job `id` was cancelled. */
  publishCancel(id: string): Promise<void>;
  onCancel(listener: (id: string) => void): void;

  close(): Promise<void>;
}

/** Throws JobsUnavailableError (503) with the reason while the store cannot be used. */
export function assertAvailable(store: JobStore): void {
  const reason = store.unavailableReason();
  if (reason !== null) throw new JobsUnavailableError(`the jobs API is unavailable: ${reason}`);
}
