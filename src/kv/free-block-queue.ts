// FreeBlockQueue: the blocks no running sequence holds, least recently used first, with O(1) removal from the
// middle (a cached block that gets a prefix hit leaves the queue). An intrusive doubly linked list over ids.
import type { BlockId } from "./types.js";

export class FreeBlockQueue {
  readonly #prev: Int32Array;
  readonly #next: Int32Array;
  readonly #inQueue: Uint8Array;
  #head = -1;
  #tail = -1;
  #length = 0;

  constructor(numBlocks: number) {
    this.#prev = new Int32Array(numBlocks).fill(-1);
    this.#next = new Int32Array(numBlocks).fill(-1);
    this.#inQueue = new Uint8Array(numBlocks);
  }

  get length(): number {
    return this.#length;
  }

  has(id: BlockId): boolean {
    return this.#inQueue[id] === 1;
  }

  /** The least recently used block, without removing it. */
  peek(): BlockId | undefined {
    return this.#head === -1 ? undefined : this.#head;
  }

  /** Appends as the most recently used. */
  push(id: BlockId): void {
    if (this.#inQueue[id]) throw new Error(`block ${id} is already in the free queue`);
    this.#inQueue[id] = 1;
    this.#prev[id] = this.#tail;
    this.#next[id] = -1;
    if (this.#tail === -1) this.#head = id;
    else this.#next[this.#tail] = id;
    this.#tail = id;
    this.#length++;
  }

  remove(id: BlockId): void {
    if (!this.#inQueue[id]) throw new Error(`block ${id} is not in the free queue`);
    const prev = this.#prev[id]!,
      next = this.#next[id]!;
    if (prev === -1) this.#head = next;
    else this.#next[prev] = next;
    if (next === -1) this.#tail = prev;
    else this.#prev[next] = prev;
    this.#inQueue[id] = 0;
    this.#length--;
  }

  popLeastRecent(): BlockId | undefined {
    const id = this.peek();
    if (id !== undefined) this.remove(id);
    return id;
  }

  /** Ids from least to most recently used (for tests and stats). */
  ids(): BlockId[] {
    const out: BlockId[] = [];
    for (let id = this.#head; id !== -1; id = this.#next[id]!) out.push(id);
    return out;
  }
}
