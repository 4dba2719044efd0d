// BlockPool: every block's reference count, cached identity and holders, and the LRU queue of unheld blocks.
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
  readonly #free: FreeBlockQueue;
  #numCached = 0;

  constructor(numBlocks: number) {
    if (!(Number.isInteger(numBlocks) && numBlocks > 0)) throw new RangeError(`numBlocks must be a positive integer, got ${numBlocks}`);
    this.#blocks = Array.from({ length: numBlocks }, (_, blockId) => ({ blockId, refCount: 0, hash: null, startPos: 0, holders: new Set<SlotId>() }));
    this.#free = new FreeBlockQueue(numBlocks);
    for (let id = 0; id < numBlocks; id++) this.#free.push(id);
  }

  get numBlocks(): number { return this.#blocks.length; }
  /** Blocks a new allocation can take: plain free ones and cached ones no running sequence holds. */
  get numFree(): number { return this.#free.length; }
  /** Unheld blocks that still cache a prefix. */
  get numCachedUnheld(): number { return this.#numCached; }

  block(id: BlockId): KvBlock {
    const block = this.#blocks[id];
    if (!block) throw new RangeError(`no block ${id}`);
    return block;
  }

  isFree(id: BlockId): boolean {
    return this.#free.has(id);
  }

  /** Takes the least recently used free block; `evict` runs first when that block still caches a prefix. */
  takeFree(evict: (block: KvBlock) => void): BlockId | undefined {
    const id = this.#free.popLeastRecent();
    if (id === undefined) return undefined;
    const block = this.#blocks[id]!;
    if (block.hash !== null) {
      this.#numCached--;
      evict(block);
    }
    block.refCount = 1;
    return id;
  }

  /** A prefix hit: the block gains a running user, leaving the free queue if it was unheld. */
  acquire(id: BlockId): void {
    const block = this.block(id);
    if (this.#free.has(id)) {
      this.#free.remove(id);
      if (block.hash !== null) this.#numCached--;
    }
    block.refCount++;
  }

  /** Drops one running user; an unheld block joins the queue as the most recently used. */
  release(id: BlockId): void {
    const block = this.block(id);
    if (block.refCount <= 0) throw new Error(`block ${id} released more often than acquired`);
    if (--block.refCount === 0) {
      this.#free.push(id);
      if (block.hash !== null) this.#numCached++;
    }
  }

  /** Forgets an unheld block's cached identity (its cells are gone); it stays free. */
  uncache(id: BlockId): void {
    const block = this.block(id);
    if (block.hash !== null && block.refCount === 0) this.#numCached--;
    block.hash = null;
    block.holders.clear();
  }

  /** Free block ids, least recently used first. */
  freeQueueIds(): BlockId[] {
    return this.#free.ids();
  }
}
