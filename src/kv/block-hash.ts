// chainHash: the identity of a full block, so equal prefixes under the same adapter map to the same blocks.
import { createHash } from "node:crypto";
import type { BlockHash } from "./types.js";

/** sha256 over (parent hash, adapter id, tokens): collisions would silently share wrong KV, so no weak hash. */
export function chainHash(parent: BlockHash | null, tokens: ArrayLike<number>, adapterId: number): BlockHash {
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
