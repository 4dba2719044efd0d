// KvManager: the scheduler-facing KV accounting over one unified llama.cpp pool. Pure: it decides, and hands the
// backend the KvOps (copy, remove) that make llama.cpp's cells match its decisions before the next decode.
//
// Model: a block is `blockSize` cells. A running sequence holds a llama sequence id (slot) and a block table.
// Full blocks are registered in the prefix cache by chain hash; a new sequence attaches its longest cached prefix
// by copying those cells (seq_cp: no compute, no memory) from any slot that holds them. A finished sequence whose
// cached blocks no other slot holds is parked: it keeps its slot, so the cells stay, until LRU eviction removes
// them. Accounting counts a shared block once, as llama.cpp stores it once, so as long as every decoded token
// has a block, llama_decode never lacks cells.
import { BlockPool, type KvBlock } from "./block-pool.js";
import { blockHashAt } from "./block-hash.js";
import { PrefixCache } from "./prefix-cache.js";
import { SlotPool } from "./slot-pool.js";
import type {
  Admission,
  AdmitParams,
  BlockHash,
  BlockId,
  BlockTable,
  KvAllocator,
  KvOp,
  KvStats,
  SlotId,
} from "./types.js";

export interface KvManagerOptions {
  readonly numBlocks: number;
  readonly blockSize?: number;
  /** llama sequence ids available (running plus parked sequences). */
  readonly numSlots: number;
  /** Blocks kept free at admission so running sequences can grow (vLLM keeps 1%). */
  readonly watermarkBlocks?: number;
  readonly enablePrefixCaching?: boolean;
  /**
   * Cells kept for the prefix cache once no running sequence holds them, while one sequence runs; with N running,
   * a 1/N share, enforced whenever a sequence ends. llama.cpp attends over every cell of the unified pool up to
   * the highest one in use, masking the rest, so on CPU each kept cell costs time for every running sequence at
   * every step (at 32 sequences, 4096 kept cells cost a third of the throughput). Unbounded by default.
   */
  readonly retainedTokens?: number;
}

interface SeqTable extends BlockTable {
  readonly blockIds: BlockId[];
  numCommittedBlocks: number;
  lastHash: BlockHash | null;
}

export class KvManager implements KvAllocator {
  readonly blockSize: number;
  readonly #pool: BlockPool;
  readonly #cache: PrefixCache;
  readonly #slots: SlotPool;
  readonly #watermark: number;
  readonly #prefixCaching: boolean;
  readonly #retainedTokens: number;
  #ops: KvOp[] = [];
  #queries = 0;
  #hits = 0;

  constructor({
    numBlocks,
    blockSize = 16,
    numSlots,
    watermarkBlocks = Math.ceil(numBlocks * 0.01),
    enablePrefixCaching = true,
    retainedTokens = Infinity,
  }: KvManagerOptions) {
    if (!(Number.isInteger(blockSize) && blockSize > 0))
      throw new RangeError(`blockSize must be a positive integer, got ${blockSize}`);
    if (!(Number.isInteger(watermarkBlocks) && watermarkBlocks >= 0))
      throw new RangeError(`watermarkBlocks must be a non-negative integer, got ${watermarkBlocks}`);
    if (!(retainedTokens >= 0)) throw new RangeError(`retainedTokens must be non-negative, got ${retainedTokens}`);
    this.blockSize = blockSize;
    this.#pool = new BlockPool(numBlocks);
    this.#cache = new PrefixCache(blockSize);
    this.#slots = new SlotPool(numSlots);
    this.#watermark = watermarkBlocks;
    this.#prefixCaching = enablePrefixCaching;
    this.#retainedTokens = retainedTokens;
  }

  get numFreeBlocks(): number {
    return this.#pool.numFree;
  }
  get numBlocksInUse(): number {
    return this.#pool.numBlocks - this.#pool.numFree;
  }

  blocksFor(numTokens: number): number {
    return Math.ceil(numTokens / this.blockSize);
  }

  fits(numTokens: number): boolean {
    return this.blocksFor(numTokens) <= this.#pool.numBlocks;
  }

  /**
   * Admits a sequence: a slot, its longest cached prefix (never the last token, whose logits must be computed),
   * and blocks for up to `maxNewTokens` more. Null when the free blocks do not cover the uncached rest of the
   * tokens plus the watermark, or no slot can be had.
   */
  admit({ tokens, adapterId, maxNewTokens }: AdmitParams): Admission | null {
    if (this.#slots.numFree === 0 && !this.#freeParkedSlot()) return null;
    const { hashes, found: cachedIds } = this.#prefixCaching
      ? this.#cache.longestCachedPrefix(tokens, adapterId)
      : { hashes: [], found: [] };
    const unheldHits = cachedIds.filter((id) => this.#pool.isFree(id)).length;
    const reserve = this.blocksFor(tokens.length) - cachedIds.length;
    if (this.#pool.numFree - unheldHits < reserve + this.#watermark) return null;

    const slot = this.#slots.takeFree()!;
    const table: SeqTable = {
      slot,
      blockIds: [...cachedIds],
      adapterId,
      numCommittedBlocks: cachedIds.length,
      lastHash: hashes.at(-1) ?? null,
    };
    for (const id of cachedIds) this.#pool.acquire(id);
    this.#copyCachedBlocks(cachedIds, slot);
    const numCachedTokens = cachedIds.length * this.blockSize;
    const grown = this.grow(table, numCachedTokens + Math.min(maxNewTokens, tokens.length - numCachedTokens));
    if (!grown) throw new Error("admission reserved blocks it then could not allocate");
    this.#queries += tokens.length;
    this.#hits += numCachedTokens;
    return { table, numCachedTokens };
  }

  /** Ensures blocks for `numTokens` tokens; false (and nothing allocated) when the free blocks do not suffice. */
  grow(table: BlockTable, numTokens: number): boolean {
    const seq = table as SeqTable;
    const needed = this.blocksFor(numTokens) - seq.blockIds.length;
    if (needed <= 0) return true;
    if (this.#pool.numFree < needed) return false;
    for (let i = 0; i < needed; i++) {
      const id = this.#pool.takeFree((block) => this.#evict(block))!;
      const block = this.#pool.block(id);
      block.startPos = seq.blockIds.length * this.blockSize;
      block.holders.add(seq.slot);
      seq.blockIds.push(id);
    }
    return true;
  }

  /** Rejected drafts: their cells go, and blocks wholly past `numTokens` return to the free queue. */
  truncate(table: BlockTable, numTokens: number): void {
    const seq = table as SeqTable;
    this.#ops.push({ kind: "remove", slot: seq.slot, fromPos: numTokens, toPos: -1 });
    while (seq.blockIds.length > Math.max(this.blocksFor(numTokens), seq.numCommittedBlocks)) {
      const id = seq.blockIds.pop()!;
      this.#pool.block(id).holders.delete(seq.slot);
      this.#pool.release(id);
    }
  }

  /** Registers the sequence's newly full, computed blocks in the prefix cache. */
  commit(table: BlockTable, tokens: ArrayLike<number>, numComputedTokens: number): void {
    if (!this.#prefixCaching) return;
    const seq = table as SeqTable;
    while ((seq.numCommittedBlocks + 1) * this.blockSize <= numComputedTokens) {
      const index = seq.numCommittedBlocks;
      const hash = blockHashAt(seq.lastHash, tokens, index, this.blockSize, seq.adapterId);
      const id = seq.blockIds[index]!;
      if (this.#cache.insert(hash, id)) this.#pool.block(id).hash = hash;
      seq.lastHash = hash;
      seq.numCommittedBlocks++;
    }
  }

  /** The one release path of a sequence's blocks, whatever the reason it ends or is preempted. */
  free(table: BlockTable): void {
    const seq = table as SeqTable;
    const blocks = seq.blockIds.map((id) => this.#pool.block(id));
    const mustPark = blocks.some((b) => b.hash !== null && b.holders.size === 1);
    if (mustPark) {
      const kept = blocks.filter((b) => b.hash !== null);
      blocks.forEach((block, i) => {
        if (block.hash !== null) return;
        block.holders.delete(seq.slot);
        this.#ops.push({
          kind: "remove",
          slot: seq.slot,
          fromPos: block.startPos,
          toPos: i === blocks.length - 1 ? -1 : block.startPos + this.blockSize,
        });
      });
      this.#slots.park(
        seq.slot,
        kept.map((b) => b.blockId),
      );
    } else {
      for (const block of blocks) block.holders.delete(seq.slot);
      this.#ops.push({ kind: "remove", slot: seq.slot, fromPos: 0, toPos: -1 });
      this.#slots.release(seq.slot);
    }
    // Released tail first, so a sequence's last blocks are the first evicted.
    for (let i = seq.blockIds.length - 1; i >= 0; i--) this.#pool.release(seq.blockIds[i]!);
    seq.blockIds.length = 0;
    this.#trimRetained();
  }

  /** The KV operations decided since the last call, to run before the next decode. */
  takeOps(): KvOp[] {
    const ops = this.#ops;
    this.#ops = [];
    return ops;
  }

  stats(): KvStats {
    return {
      numBlocks: this.#pool.numBlocks,
      blockSize: this.blockSize,
      numUsedBlocks: this.#pool.numBlocks - this.#pool.numFree,
      numCachedBlocks: this.#pool.numCachedUnheld,
      numFreeBlocks: this.#pool.numFree - this.#pool.numCachedUnheld,
      prefixCacheQueries: this.#queries,
      prefixCacheHits: this.#hits,
      numParkedSlots: this.#slots.numParked,
    };
  }

  /** Block ids free for allocation, least recently used first. */
  freeQueueIds(): BlockId[] {
    return this.#pool.freeQueueIds();
  }

  #trimRetained(): void {
    const maxBlocks = Math.floor(this.#retainedTokens / Math.max(1, this.#slots.numRunning) / this.blockSize);
    while (this.#pool.numCachedUnheld > maxBlocks) this.#pool.evictLeastRecentCached((block) => this.#evict(block));
  }

  // Copies each cached block from one of its holders, in coalesced position ranges.
  #copyCachedBlocks(blockIds: readonly BlockId[], dst: SlotId): void {
    let pending: { srcSlot: SlotId; fromPos: number; toPos: number } | null = null;
    for (const id of blockIds) {
      const block = this.#pool.block(id);
      const src: SlotId =
        pending && block.holders.has(pending.srcSlot) ? pending.srcSlot : block.holders.values().next().value!;
      if (pending && pending.srcSlot === src && pending.toPos === block.startPos) {
        pending.toPos += this.blockSize;
      } else {
        if (pending) this.#ops.push({ kind: "copy", dstSlot: dst, ...pending });
        pending = { srcSlot: src, fromPos: block.startPos, toPos: block.startPos + this.blockSize };
      }
      block.holders.add(dst);
    }
    if (pending) this.#ops.push({ kind: "copy", dstSlot: dst, ...pending });
  }

  // A cached block taken for reuse: its cells leave every parked slot that holds them.
  #evict(block: KvBlock): void {
    this.#cache.delete(block.hash!, block.blockId);
    for (const slot of block.holders) {
      this.#ops.push({ kind: "remove", slot, fromPos: block.startPos, toPos: block.startPos + this.blockSize });
      if (this.#slots.dropBlock(slot, block.blockId)) {
        this.#slots.unpark(slot);
        this.#slots.release(slot);
      }
    }
    block.hash = null;
    block.holders.clear();
  }

  // Frees the least recently parked slot; the blocks only it held lose their cells and leave the cache.
  #freeParkedSlot(): boolean {
    const slot = this.#slots.oldestParked();
    if (slot === undefined) return false;
    this.#ops.push({ kind: "remove", slot, fromPos: 0, toPos: -1 });
    for (const id of this.#slots.unpark(slot)) {
      const block = this.#pool.block(id);
      block.holders.delete(slot);
      if (block.holders.size === 0) {
        this.#cache.delete(block.hash!, id);
        this.#pool.uncache(id);
      }
    }
    this.#slots.release(slot);
    return true;
  }
}
