// PrefixCache: full blocks by chain hash; the longest cached prefix of a token sequence.
import { type KnownPrefix, longestKnownPrefix } from "./block-hash.js";
import type { BlockHash, BlockId } from "./types.js";

export class PrefixCache {
  readonly #blockSize: number;
  readonly #byHash = new Map<BlockHash, BlockId>();

  constructor(blockSize: number) {
    this.#blockSize = blockSize;
  }

  get size(): number {
    return this.#byHash.size;
  }

  /** The longest cached prefix of `tokens` (see longestKnownPrefix), with the block holding each part. */
  longestCachedPrefix(tokens: ArrayLike<number>, adapterId: number): KnownPrefix<BlockId> {
    return longestKnownPrefix(tokens, { adapterId, blockSize: this.#blockSize }, (hash) => this.#byHash.get(hash));
  }

  /** Registers a block; false when an equal block is already cached (the new one stays uncached). */
  insert(hash: BlockHash, blockId: BlockId): boolean {
    if (this.#byHash.has(hash)) return false;
    this.#byHash.set(hash, blockId);
    return true;
  }

  delete(hash: BlockHash, blockId: BlockId): void {
    if (this.#byHash.get(hash) === blockId) this.#byHash.delete(hash);
  }
}
