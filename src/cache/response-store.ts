// Stored responses of the Responses API (`store: true`): what GET /v1/responses/{id} returns and what
// `previous_response_id` continues. In process by default; the interface is async so a Redis store can stand in
// where several replicas must see the same conversations (keys `loom:response:{id}`).

/** One stored response: the wire object, and the conversation items it was made from (as OpenAI's items). */
export interface StoredResponse {
  readonly response: Readonly<Record<string, unknown>>;
  /** The items this request gave (its `input`, with ids), for GET .../input_items. */
  readonly inputItems: readonly Readonly<Record<string, unknown>>[];
  /** The conversation before this request's input: earlier inputs and outputs of the chain, in order. */
  readonly history: readonly Readonly<Record<string, unknown>>[];
}

export interface ResponseStore {
  get(id: string): Promise<StoredResponse | null>;
  /** Stores or replaces a record (a background response is stored again as it progresses). */
  put(id: string, record: StoredResponse): Promise<void>;
  /** False when there was no such response. */
  delete(id: string): Promise<boolean>;
}

/** The in-process store: at most `maxEntries` responses, the least recently stored dropped first. */
export class MemoryResponseStore implements ResponseStore {
  readonly #entries = new Map<string, StoredResponse>();
  readonly #maxEntries: number;

  constructor(maxEntries = 10_000) {
    if (!(Number.isInteger(maxEntries) && maxEntries > 0))
      throw new Error(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.#maxEntries = maxEntries;
  }

  async get(id: string): Promise<StoredResponse | null> {
    return this.#entries.get(id) ?? null;
  }

  async put(id: string, record: StoredResponse): Promise<void> {
    this.#entries.delete(id);
    this.#entries.set(id, record);
    while (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }

  async delete(id: string): Promise<boolean> {
    return this.#entries.delete(id);
  }
}
