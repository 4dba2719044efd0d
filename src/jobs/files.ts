// FileService: OpenAI's Files API over the JobStore. Metadata is a record at `loom:file:{id}`, content a blob at
// `loom:file:{id}:content`: with Redis every replica and worker reads the same files without a shared disk.
import { InvalidRequestError } from "../serving/errors.js";
import { NotFoundError, PayloadTooLargeError } from "./errors.js";
import { newId, nowSeconds } from "./ids.js";
import { assertAvailable, type JobStore } from "./store.js";

/** OpenAI's File object. */
export interface FileObject {
  readonly id: string;
  readonly object: "file";
  readonly bytes: number;
  readonly created_at: number;
  readonly filename: string;
  readonly purpose: string;
  readonly status: "processed";
  readonly expires_at: number | null;
  readonly status_details: null;
}

export interface ListPage<T> {
  readonly object: "list";
  readonly data: readonly T[];
  readonly first_id: string | null;
  readonly last_id: string | null;
  readonly has_more: boolean;
}

/** Uploads Loom accepts; the other purposes (fine-tune, assistants, ...) belong to APIs it does not serve. */
const UPLOAD_PURPOSES: readonly string[] = ["batch"];

const contentKey = (id: string) => `loom:file:${id}:content`;

export class FileService {
  readonly #store: JobStore;
  readonly maxFileBytes: number;

  constructor(store: JobStore, { maxFileBytes }: { maxFileBytes: number }) {
    if (!(Number.isInteger(maxFileBytes) && maxFileBytes > 0))
      throw new RangeError(`maxFileBytes must be a positive integer, got ${maxFileBytes}`);
    this.#store = store;
    this.maxFileBytes = maxFileBytes;
  }

  /** An upload; throws InvalidRequestError for a purpose Loom does not take and PayloadTooLargeError past the limit. */
  async create({ filename, purpose, bytes }: { filename: string; purpose: string; bytes: Uint8Array }) {
    if (!UPLOAD_PURPOSES.includes(purpose)) {
      throw new InvalidRequestError(`purpose '${purpose}' is not supported: this server takes files for 'batch'`, {
        param: "purpose",
      });
    }
    if (bytes.byteLength > this.maxFileBytes) throw this.tooLarge();
    return this.put(newId("file-"), { filename, purpose, bytes });
  }

  /** Stores a file under `id` (overwriting it: how a re-run finalization stays idempotent). */
  async put(id: string, { filename, purpose, bytes }: { filename: string; purpose: string; bytes: Uint8Array }) {
    assertAvailable(this.#store);
    const file: FileObject = {
      id,
      object: "file",
      bytes: bytes.byteLength,
      created_at: nowSeconds(),
      filename,
      purpose,
      status: "processed",
      expires_at: null,
      status_details: null,
    };
    await this.#store.putBlob(contentKey(id), bytes);
    await this.#store.create("file", id, { ...file });
    return file;
  }

  async retrieve(id: string): Promise<FileObject> {
    assertAvailable(this.#store);
    const record = await this.#store.get("file", id);
    if (!record) throw new NotFoundError("File", id, "file_id");
    return record as unknown as FileObject;
  }

  async content(id: string): Promise<Buffer> {
    await this.retrieve(id);
    const bytes = await this.#store.getBlob(contentKey(id));
    if (!bytes) throw new NotFoundError("File", id, "file_id");
    return bytes;
  }

  async delete(id: string): Promise<{ id: string; object: "file"; deleted: true }> {
    await this.retrieve(id);
    await this.#store.remove("file", id);
    await this.#store.deleteBlob(contentKey(id));
    return { id, object: "file", deleted: true };
  }

  /** Newest first, `limit` at most, only `purpose` when given. */
  async list({ after, limit, purpose }: { after: string | null; limit: number; purpose: string | null }) {
    assertAvailable(this.#store);
    const data: FileObject[] = [];
    let cursor = after;
    let hasMore = true;
    // A purpose filter may skip records, so pages are read until the list is full or the index ends.
    while (data.length < limit && hasMore) {
      const page = await this.#store.list("file", cursor, limit - data.length);
      for (const id of page.ids) {
        const file = (await this.#store.get("file", id)) as FileObject | null;
        if (file && (purpose === null || file.purpose === purpose)) data.push(file);
      }
      hasMore = page.hasMore;
      cursor = page.ids.at(-1) ?? cursor;
      if (page.ids.length === 0) break;
    }
    return listPage(data, hasMore);
  }

  tooLarge(): PayloadTooLargeError {
    return new PayloadTooLargeError(`the file is larger than this server's limit of ${this.maxFileBytes} bytes`);
  }
}

/** OpenAI's cursor page: the data, its first and last ids, and whether more follow. */
export function listPage<T extends { id: string }>(data: readonly T[], hasMore: boolean): ListPage<T> {
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore };
}
