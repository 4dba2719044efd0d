// chainHash: the identity of a full block, so equal prefixes under the same adapter map to the same blocks.
import { createHash } from "node:crypto";
import type { BlockHash } from "./types.js";

/** sha256 over (parent hash, adapter id, tokens): collisions would silently share wrong KV, so no weak hash. */
function chainHash(parent: BlockHash | null, tokens: ArrayLike<number>, adapterId: number): BlockHash {
  const hash = createHash("sha256");
  hash.update(parent ?? "root");
  const header = new Int32Array([adapterId, tokens.length]);
  hash.update(new Uint8Array(header.buffer));
  hash.update(new Uint8Array(Int32Array.from(tokens).buffer));
  return hash.digest("base64");
}

/** The chain hash of full block `index` of `tokens` (blocks of `blockSize`), given its parent's hash. */
export function blockHashAt(
  parent: BlockHash | null,
  tokens: ArrayLike<number>,
  index: number,
  blockSize: number,
  adapterId: number,
): BlockHash {
  const start = index * blockSize;
  return chainHash(parent, Array.prototype.slice.call(tokens, start, start + blockSize) as number[], adapterId);
}

/** A cached prefix: the chain hashes of its full blocks and what the lookup knew of each, in position order. */
export interface KnownPrefix<T> {
  readonly hashes: BlockHash[];
  readonly found: T[];
}

/**
 * The longest run of full blocks from the start of `tokens` that `lookup` knows, never reaching the last token
 * (its logits must be computed to sample). Both KV layouts key their prefix caches this way.
 */
export function longestKnownPrefix<T>(
  tokens: ArrayLike<number>,
  { adapterId, blockSize }: { adapterId: number; blockSize: number },
  lookup: (hash: BlockHash) => T | undefined,
): KnownPrefix<T> {
  const hashes: BlockHash[] = [];
  const found: T[] = [];
  const maxBlocks = Math.floor((tokens.length - 1) / blockSize);
  for (let index = 0; index < maxBlocks; index++) {
    const hash = blockHashAt(hashes.at(-1) ?? null, tokens, index, blockSize, adapterId);
    const value = lookup(hash);
    if (value === undefined) break;
    hashes.push(hash);
    found.push(value);
  }
  return { hashes, found };
}
