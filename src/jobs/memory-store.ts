// MemoryJobStore: the JobStore of a server without Redis. State lives and dies with the process.
import { EventEmitter } from "node:events";
import type { JobStore, Page, RecordKind, ResultCounts, StoredRecord, StoredResult } from "./store.js";

interface BatchData {
  lines: (string | null)[];
  readonly results: Map<string, string>;
  readonly counts: { completed: number; failed: number };
}

export class MemoryJobStore implements JobStore {
  readonly #records = new Map<RecordKind, Map<string, StoredRecord>>();
  readonly #blobs = new Map<string, Buffer>();
  readonly #batches = new Map<string, BatchData>();
  readonly #events = new EventEmitter();

  unavailableReason(): string | null {
    return null;
  }

  async create(kind: RecordKind, id: string, record: StoredRecord): Promise<void> {
    this.#kind(kind).set(id, structuredClone(record));
  }

  async get(kind: RecordKind, id: string): Promise<StoredRecord | null> {
    const record = this.#kind(kind).get(id);
    return record ? structuredClone(record) : null;
  }

  async update(kind: RecordKind, id: string, patch: StoredRecord, ifStatusIn?: readonly string[]): Promise<boolean> {
    const record = this.#kind(kind).get(id);
    if (!record || (ifStatusIn && !ifStatusIn.includes(record.status as string))) return false;
    Object.assign(record, structuredClone(patch));
    return true;
  }

  async remove(kind: RecordKind, id: string): Promise<boolean> {
    return this.#kind(kind).delete(id);
  }

  async list(kind: RecordKind, after: string | null, limit: number): Promise<Page> {
    const newestFirst = [...this.#kind(kind).keys()].reverse();
    const start = after === null ? 0 : newestFirst.indexOf(after) + 1;
    const ids = newestFirst.slice(start, start + limit);
    return { ids, hasMore: start + limit < newestFirst.length };
  }

  async putBlob(key: string, bytes: Uint8Array): Promise<void> {
    this.#blobs.set(key, Buffer.from(bytes));
  }

  async getBlob(key: string): Promise<Buffer | null> {
    return this.#blobs.get(key) ?? null;
  }

  async deleteBlob(key: string): Promise<void> {
    this.#blobs.delete(key);
  }

  async putLines(batchId: string, lines: readonly string[]): Promise<void> {
    this.#batch(batchId).lines = [...lines];
  }

  async getLine(batchId: string, index: number): Promise<string | null> {
    return this.#batch(batchId).lines[index] ?? null;
  }

  async getLines(batchId: string, count: number): Promise<(string | null)[]> {
    const { lines } = this.#batch(batchId);
    return Array.from({ length: count }, (_, i) => lines[i] ?? null);
  }

  async storeResult(
    batchId: string,
    customId: string,
    outcome: keyof ResultCounts,
    line: string,
  ): Promise<StoredResult> {
    const batch = this.#batch(batchId);
    const stored = !batch.results.has(customId);
    if (stored) {
      batch.results.set(customId, line);
      batch.counts[outcome]++;
    }
    return { stored, ...batch.counts };
  }

  async hasResult(batchId: string, customId: string): Promise<boolean> {
    return this.#batch(batchId).results.has(customId);
  }

  async getResults(batchId: string): Promise<Map<string, string>> {
    return new Map(this.#batch(batchId).results);
  }

  async resultCounts(batchId: string): Promise<ResultCounts> {
    return { ...this.#batch(batchId).counts };
  }

  async dropBatchData(batchId: string): Promise<void> {
    this.#batches.delete(batchId);
  }

  async publishCancel(id: string): Promise<void> {
    this.#events.emit("cancel", id);
  }

  onCancel(listener: (id: string) => void): void {
    this.#events.on("cancel", listener);
  }

  async close(): Promise<void> {
    this.#events.removeAllListeners();
  }

  #kind(kind: RecordKind): Map<string, StoredRecord> {
    let records = this.#records.get(kind);
    if (!records) this.#records.set(kind, (records = new Map()));
    return records;
  }

  #batch(batchId: string): BatchData {
    let batch = this.#batches.get(batchId);
    if (!batch)
      this.#batches.set(batchId, (batch = { lines: [], results: new Map(), counts: { completed: 0, failed: 0 } }));
    return batch;
  }
}
