// BlockPool: every block's reference count, cached identity and holders. Unheld blocks wait in two queues: plain
// free blocks, and blocks that still cache a prefix, least recently used first. Allocation takes a plain block
// before it evicts a cached one, since both free the same memory and only eviction loses a prefix.
import { FreeBlockQueue } from "./free-block-queue.js";
import type { BlockHash, BlockId, SlotId } from "./types.js";

export interface KvBlock {
  readonly blockId: BlockId;
  /** Running sequences whose block tables include this block. */
  refCount: number;
  /** Set once the block is full and registered in the prefix cache. */
  hash: BlockHash | null;
  /** Position of the block's first token; every holder has this block's cells at the same positions. */
  startPos: number;
  /** llama sequence ids whose cells these are: running sequences and parked ones. */
  readonly holders: Set<SlotId>;
}

export class BlockPool {
  readonly #blocks: KvBlock[];
  readonly #plain: FreeBlockQueue;
  readonly #cached: FreeBlockQueue;

  constructor(numBlocks: number) {
    if (!(Number.isInteger(numBlocks) && numBlocks > 0))
      throw new RangeError(`numBlocks must be a positive integer, got ${numBlocks}`);
    this.#blocks = Array.from({ length: numBlocks }, (_, blockId) => ({
      blockId,
      refCount: 0,
      hash: null,
      startPos: 0,
      holders: new Set<SlotId>(),
    }));
    this.#plain = new FreeBlockQueue(numBlocks);
    this.#cached = new FreeBlockQueue(numBlocks);
    for (let id = 0; id < numBlocks; id++) this.#plain.push(id);
  }

  get numBlocks(): number {
    return this.#blocks.length;
  }
  /** Blocks a new allocation can take: plain free ones and cached ones no running sequence holds. */
  get numFree(): number {
    return this.#plain.length + this.#cached.length;
  }
  /** Unheld blocks that still cache a prefix. */
  get numCachedUnheld(): number {
    return this.#cached.length;
  }

  block(id: BlockId): KvBlock {
    const block = this.#blocks[id];
    if (!block) throw new RangeError(`no block ${id}`);
    return block;
  }

  isFree(id: BlockId): boolean {
    return this.#plain.has(id) || this.#cached.has(id);
  }

  /** Takes a plain free block, else the least recently used cached one after `evict` has run on it. */
  takeFree(evict: (block: KvBlock) => void): BlockId | undefined {
    let id = this.#plain.popLeastRecent();
    if (id === undefined) {
      id = this.#cached.popLeastRecent();
      if (id === undefined) return undefined;
      evict(this.#blocks[id]!);
    }
    this.#blocks[id]!.refCount = 1;
    return id;
  }

  /** Evicts the least recently used unheld cached block, which becomes plain free; false when there is none. */
  evictLeastRecentCached(evict: (block: KvBlock) => void): boolean {
    const id = this.#cached.popLeastRecent();
    if (id === undefined) return false;
    evict(this.#blocks[id]!);
    this.#plain.push(id);
    return true;
  }

  /** A prefix hit: the block gains a running user, leaving its queue if it was unheld. */
  acquire(id: BlockId): void {
    const block = this.block(id);
    if (this.#cached.has(id)) this.#cached.remove(id);
    else if (this.#plain.has(id)) this.#plain.remove(id);
    block.refCount++;
  }

  /** Drops one running user; an unheld block joins its queue as the most recently used. */
  release(id: BlockId): void {
    const block = this.block(id);
    if (block.refCount <= 0) throw new Error(`block ${id} released more often than acquired`);
    if (--block.refCount === 0) (block.hash === null ? this.#plain : this.#cached).push(id);
  }

  /** Forgets a block's cached identity (its cells are gone); an unheld one becomes plain free. */
  uncache(id: BlockId): void {
    const block = this.block(id);
    if (this.#cached.has(id)) {
      this.#cached.remove(id);
      this.#plain.push(id);
    }
    block.hash = null;
    block.holders.clear();
  }

  /** Unheld block ids in the order allocation takes them: plain ones, then cached ones least recently used first. */
  freeQueueIds(): BlockId[] {
    return [...this.#plain.ids(), ...this.#cached.ids()];
  }
}
