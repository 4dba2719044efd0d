// PrefixCache: full blocks by chain hash; the longest cached prefix of a token sequence.
import { blockHashAt } from "./block-hash.js";
import type { BlockHash, BlockId } from "./types.js";

export interface CachedPrefix {
  readonly blockIds: readonly BlockId[];
  readonly hashes: readonly BlockHash[];
  readonly numTokens: number;
}

export const NO_CACHED_PREFIX: CachedPrefix = { blockIds: [], hashes: [], numTokens: 0 };

export class PrefixCache {
  readonly #blockSize: number;
  readonly #byHash = new Map<BlockHash, BlockId>();

  constructor(blockSize: number) {
    this.#blockSize = blockSize;
  }

  get size(): number {
    return this.#byHash.size;
  }

  /** The longest run of cached full blocks from the start of `tokens`, at most `maxTokens` long. */
  longestCachedPrefix(tokens: ArrayLike<number>, adapterId: number, maxTokens: number): CachedPrefix {
    const blockIds: BlockId[] = [];
    const hashes: BlockHash[] = [];
    let parent: BlockHash | null = null;
    for (let index = 0; (index + 1) * this.#blockSize <= maxTokens; index++) {
      const hash = blockHashAt(parent, tokens, index, this.#blockSize, adapterId);
      const blockId = this.#byHash.get(hash);
      if (blockId === undefined) break;
      blockIds.push(blockId);
      hashes.push(hash);
      parent = hash;
    }
    return { blockIds, hashes, numTokens: blockIds.length * this.#blockSize };
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
