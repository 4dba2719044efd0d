// KV accounting types. Blocks are units of `blockSize` cells: of the one unified llama.cpp pool, or of a
// sequence's own stream.

export type BlockId = number;
/** Chain hash of a full block: its parent's hash, its tokens and its adapter. */
export type BlockHash = string;
/** A llama.cpp sequence id, the handle by which cells are shared, copied and removed. */
export type SlotId = number;

/** What the backend must do to the pool before the next decode, in order. */
export type KvOp =
  | {
      readonly kind: "copy";
      readonly srcSlot: SlotId;
      readonly dstSlot: SlotId;
      readonly fromPos: number;
      readonly toPos: number;
    }
  | { readonly kind: "remove"; readonly slot: SlotId; readonly fromPos: number; readonly toPos: number };

/** A throwaway token in an idle slot's stream, there only to join two runs of slots into one micro-batch. */
export interface FillerRow {
  readonly slot: SlotId;
  readonly position: number;
}

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

export interface AdmitParams {
  /** Every token the sequence has (prompt, plus output when it was preempted). */
  readonly tokens: ArrayLike<number>;
  readonly adapterId: number;
  /** The most tokens beyond the cached prefix this step may compute. */
  readonly maxNewTokens: number;
}

export interface Admission {
  readonly table: BlockTable;
  readonly numCachedTokens: number;
}

/**
 * What the scheduler asks of KV memory, whatever its layout (KvManager: unified pool; StreamKvManager: a stream per
 * sequence).
 */
export interface KvAllocator {
  readonly blockSize: number;
  /** Whether one sequence of this many tokens can ever be held. */
  fits(numTokens: number): boolean;
  /** A slot, the longest cached prefix, and room for up to `maxNewTokens` more; null when memory or slots lack. */
  admit(params: AdmitParams): Admission | null;
  /** Ensures room for `numTokens` tokens; false (and nothing allocated) when memory lacks. */
  grow(table: BlockTable, numTokens: number): boolean;
  /**
   * Drops the sequence's cells at positions from `numTokens` on, and the blocks past those positions: the rejected
   * drafts of a speculative step. Never reaches below the committed (computed) tokens.
   */
  truncate(table: BlockTable, numTokens: number): void;
  /** Registers the sequence's newly full, computed blocks in the prefix cache. */
  commit(table: BlockTable, tokens: ArrayLike<number>, numComputedTokens: number): void;
  /** The one release path of a sequence's memory, whatever the reason it ends or is preempted. */
  free(table: BlockTable): void;
  /** The KV operations decided since the last call, to run before the next decode. */
  takeOps(): KvOp[];
  stats(): KvStats;
}

/**
 * Throwaway rows that join runs of slots into one micro-batch, for layouts where llama.cpp computes each run of
 * consecutive sequence ids as its own micro-batch (five idle slots among 28 decode rows more than doubled a step's
 * time on CPU). At most `maxRows` filler rows for idle slots between `slots` (sorted), where they cost less than the
 * micro-batch the gap would add; their cells are removed before the next step. A slot holding a sequence that the
 * step leaves out is never filled.
 */
export interface GapFiller {
  fillGaps(slots: readonly SlotId[], maxRows: number): FillerRow[];
}
