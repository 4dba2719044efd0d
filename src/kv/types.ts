// KV accounting types. Blocks are units of `blockSize` cells of the one unified llama.cpp pool.

export type BlockId = number;
/** Chain hash of a full block: its parent's hash, its tokens and its adapter. */
export type BlockHash = string;
/** A llama.cpp sequence id, the handle by which cells are shared, copied and removed. */
export type SlotId = number;

/** What the backend must do to the pool before the next decode, in order. */
export type KvOp =
  | { readonly kind: "copy"; readonly srcSlot: SlotId; readonly dstSlot: SlotId; readonly fromPos: number; readonly toPos: number }
  | { readonly kind: "remove"; readonly slot: SlotId; readonly fromPos: number; readonly toPos: number };

/** A sequence's hold on the pool: its llama sequence id and the blocks behind its positions, in order. */
export interface BlockTable {
  readonly slot: SlotId;
  readonly blockIds: readonly BlockId[];
  readonly adapterId: number;
}

export interface KvStats {
  readonly numBlocks: number;
  readonly blockSize: number;
  /** Blocks held by at least one running sequence. */
  readonly numUsedBlocks: number;
  /** Blocks no running sequence holds, kept for the prefix cache and evictable. */
  readonly numCachedBlocks: number;
  readonly numFreeBlocks: number;
  readonly prefixCacheQueries: number;
  readonly prefixCacheHits: number;
  readonly numParkedSlots: number;
}
