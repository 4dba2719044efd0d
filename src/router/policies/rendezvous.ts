// Rendezvous (highest random weight) hashing: every replica gets a score for a key and the key goes to the highest.
// Adding or removing a replica moves only the keys whose top replica it is, and routers sharing the replica list
// agree on every key without sharing state (Thaler and Ravishankar, 1998).
import { createHash } from "node:crypto";

function score(key: string, url: string): bigint {
  return createHash("sha256").update(url).update("\0").update(key).digest().readBigUInt64BE(0);
}

/** `items` from the highest score for `key` to the lowest. */
export function rendezvousOrder<T extends { readonly url: string }>(key: string, items: readonly T[]): T[] {
  const scored = items.map((item) => ({ item, score: score(key, item.url) }));
  scored.sort((a, b) => (a.score > b.score ? -1 : a.score < b.score ? 1 : 0));
  return scored.map(({ item }) => item);
}
