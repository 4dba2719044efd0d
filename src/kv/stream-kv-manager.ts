// StreamKvManager: KV accounting when llama.cpp gives every sequence id its own stream of `cellsPerSlot` cells
// (kv_unified = false). Attention then scans only a sequence's own stream instead of the whole occupied pool,
// which on CPU makes wide batches much cheaper; the price is memory. A stream is reserved whole, so a sequence
// can never outgrow it, and a prefix is shared by copying: llama.cpp copies streams whole, and the copy's cells
// past the prefix are then removed. A new sequence always goes to the lowest idle slot, which keeps running
// sequences on consecutive ids; a finished sequence's stream stays as prefix cache until then. When the idle slot
// itself holds the longest cached prefix the new sequence keeps it and copies nothing.
import { blockHashAt, longestKnownPrefix } from "./block-hash.js";
import type {
  GapFiller,
  Admission,
  AdmitParams,
  BlockHash,
  BlockTable,
  FillerRow,
  KvAllocator,
  KvOp,
  KvStats,
  SlotId,
} from "./types.js";

/**
 * Longest run of idle slots filled with throwaway rows. A filler row costs about as much as a decode row (~2 ms
 * in a 32-row step of the 135M model on 2 CPU cores), an extra micro-batch about 16 ms.
 */
const MAX_FILLED_GAP = 6;

export interface StreamKvManagerOptions {
  /** llama sequence ids, one stream each: running sequences and finished ones kept as prefix cache. */
  readonly numSlots: number;
  readonly cellsPerSlot: number;
  readonly blockSize?: number;
  readonly enablePrefixCaching?: boolean;
}

interface StreamTable extends BlockTable {
  readonly blockIds: number[];
  lastHash: BlockHash | null;
}

interface Stream {
  /** Chain hashes of the computed full blocks the stream holds, in position order. */
  readonly hashes: BlockHash[];
  table: StreamTable | null;
}

export class StreamKvManager implements KvAllocator, GapFiller {
  readonly blockSize: number;
  readonly #cellsPerSlot: number;
  readonly #blocksPerSlot: number;
  readonly #prefixCaching: boolean;
  readonly #streams: Stream[];
  /** Finished slots still holding cached blocks. */
  readonly #parked = new Set<SlotId>();
  /** The slots whose streams hold each cached block (holding a block means holding its whole prefix). */
  readonly #holders = new Map<BlockHash, Set<SlotId>>();
  #ops: KvOp[] = [];
  /** Removals of this step's filler cells, issued with the next step's ops. */
  #afterStep: KvOp[] = [];
  #queries = 0;
  #hits = 0;

  constructor({ numSlots, cellsPerSlot, blockSize = 16, enablePrefixCaching = true }: StreamKvManagerOptions) {
    if (!(Number.isInteger(numSlots) && numSlots > 0))
      throw new RangeError(`numSlots must be a positive integer, got ${numSlots}`);
    if (!(Number.isInteger(blockSize) && blockSize > 0))
      throw new RangeError(`blockSize must be a positive integer, got ${blockSize}`);
    if (!(Number.isInteger(cellsPerSlot) && cellsPerSlot >= blockSize))
      throw new RangeError(`cellsPerSlot must be an integer of at least blockSize, got ${cellsPerSlot}`);
    this.blockSize = blockSize;
    this.#cellsPerSlot = cellsPerSlot;
    this.#blocksPerSlot = Math.floor(cellsPerSlot / blockSize);
    this.#prefixCaching = enablePrefixCaching;
    this.#streams = Array.from({ length: numSlots }, () => ({ hashes: [], table: null }));
  }

  fits(numTokens: number): boolean {
    return numTokens <= this.#cellsPerSlot;
  }

  admit({ tokens, adapterId, maxNewTokens }: AdmitParams): Admission | null {
    const slot = this.#lowestIdleSlot();
    if (slot === undefined) return null;
    const cached = this.#prefixCaching
      ? longestKnownPrefix(tokens, { adapterId, blockSize: this.blockSize }, (hash) => this.#holders.get(hash))
      : { hashes: [], found: [] };
    const holders: ReadonlySet<SlotId> = cached.found.at(-1) ?? new Set();
    const numCachedTokens = cached.hashes.length * this.blockSize;
    const wasParked = this.#parked.delete(slot);
    if (holders.has(slot)) {
      this.#truncate(slot, cached.hashes.length);
    } else {
      if (wasParked) this.#truncate(slot, 0);
      const source = holders.values().next().value;
      if (source !== undefined) {
        this.#ops.push({ kind: "copy", srcSlot: source, dstSlot: slot, fromPos: 0, toPos: -1 });
        this.#ops.push({ kind: "remove", slot, fromPos: numCachedTokens, toPos: -1 });
        for (const hash of cached.hashes) this.#hold(hash, slot);
      }
    }
    const stream = this.#streams[slot]!;
    const table: StreamTable = { slot, blockIds: [], adapterId, lastHash: stream.hashes.at(-1) ?? null };
    stream.table = table;
    this.grow(table, numCachedTokens + Math.min(maxNewTokens, tokens.length - numCachedTokens));
    this.#queries += tokens.length;
    this.#hits += numCachedTokens;
    return { table, numCachedTokens };
  }

  grow(table: BlockTable, numTokens: number): boolean {
    if (!this.fits(numTokens)) return false;
    const seq = table as StreamTable;
    while (seq.blockIds.length * this.blockSize < numTokens)
      seq.blockIds.push(seq.slot * this.#blocksPerSlot + seq.blockIds.length);
    return true;
  }

  truncate(table: BlockTable, numTokens: number): void {
    const seq = table as StreamTable;
    this.#ops.push({ kind: "remove", slot: seq.slot, fromPos: numTokens, toPos: -1 });
    const keep = Math.max(Math.ceil(numTokens / this.blockSize), this.#streams[seq.slot]!.hashes.length);
    seq.blockIds.length = Math.min(seq.blockIds.length, keep);
  }

  commit(table: BlockTable, tokens: ArrayLike<number>, numComputedTokens: number): void {
    if (!this.#prefixCaching) return;
    const seq = table as StreamTable;
    const { hashes } = this.#streams[seq.slot]!;
    while ((hashes.length + 1) * this.blockSize <= numComputedTokens) {
      const hash = blockHashAt(seq.lastHash, tokens, hashes.length, this.blockSize, seq.adapterId);
      this.#hold(hash, seq.slot);
      seq.lastHash = hash;
    }
  }

  free(table: BlockTable): void {
    const { slot } = table;
    const stream = this.#streams[slot]!;
    stream.table = null;
    (table as StreamTable).blockIds.length = 0;
    if (stream.hashes.length > 0) {
      this.#ops.push({ kind: "remove", slot, fromPos: stream.hashes.length * this.blockSize, toPos: -1 });
      this.#parked.add(slot);
    } else {
      this.#ops.push({ kind: "remove", slot, fromPos: 0, toPos: -1 });
    }
  }

  fillGaps(slots: readonly SlotId[], maxRows: number): FillerRow[] {
    const fillers: FillerRow[] = [];
    for (let i = 1; i < slots.length; i++) {
      const gap: FillerRow[] = [];
      for (let slot = slots[i - 1]! + 1; slot < slots[i]!; slot++)
        gap.push({ slot, position: this.#streams[slot]!.hashes.length * this.blockSize });
      // A slot between two planned ones is idle, or holds a sequence this step leaves out (a background one held
      // back, or one past the budget): a filler there would write over its cells, so that gap stays a gap.
      if (
        gap.length > MAX_FILLED_GAP ||
        fillers.length + gap.length > maxRows ||
        gap.some((row) => row.position >= this.#cellsPerSlot || this.#streams[row.slot]!.table !== null)
      )
        continue;
      for (const row of gap) this.#afterStep.push({ kind: "remove", slot: row.slot, fromPos: row.position, toPos: -1 });
      fillers.push(...gap);
    }
    return fillers;
  }

  takeOps(): KvOp[] {
    const ops = this.#ops;
    this.#ops = this.#afterStep;
    this.#afterStep = [];
    return ops;
  }

  stats(): KvStats {
    let used = 0,
      cached = 0;
    for (const stream of this.#streams) {
      if (stream.table) used += stream.table.blockIds.length;
      else cached += stream.hashes.length;
    }
    const numBlocks = this.#streams.length * this.#blocksPerSlot;
    return {
      numBlocks,
      blockSize: this.blockSize,
      numUsedBlocks: used,
      numCachedBlocks: cached,
      numFreeBlocks: numBlocks - used - cached,
      prefixCacheQueries: this.#queries,
      prefixCacheHits: this.#hits,
      numParkedSlots: this.#parked.size,
    };
  }

  // The lowest slot no sequence runs in, empty or parked: running sequences stay on consecutive ids, so llama.cpp
  // decodes them in few micro-batches. A stream copy (a few milliseconds) costs less than the extra micro-batch
  // that taking over a parked stream further up would add to every step of the sequence's life.
  #lowestIdleSlot(): SlotId | undefined {
    const slot = this.#streams.findIndex((stream) => stream.table === null);
    return slot < 0 ? undefined : slot;
  }

  #hold(hash: BlockHash, slot: SlotId): void {
    let holders = this.#holders.get(hash);
    if (!holders) this.#holders.set(hash, (holders = new Set()));
    holders.add(slot);
    this.#streams[slot]!.hashes.push(hash);
  }

  // Keeps the stream's first `numBlocks` cached blocks and drops its other cells.
  #truncate(slot: SlotId, numBlocks: number): void {
    const { hashes } = this.#streams[slot]!;
    for (const hash of hashes.splice(numBlocks)) {
      const holders = this.#holders.get(hash)!;
      holders.delete(slot);
      if (holders.size === 0) this.#holders.delete(hash);
    }
    this.#ops.push({ kind: "remove", slot, fromPos: numBlocks * this.blockSize, toPos: -1 });
  }
}
