// The weighted choice of a split, a rollout's stage and a shadow's sample, from one number u in [0, 1): a hash of
// the request's sticky key (the same key always lands on the same variant while the weights stay) or a random
// draw. Entries take consecutive ranges in their order, so raising the weight of the first entry (a rollout's
// candidate) moves only keys from the others to it, never back.
import { createHash } from "node:crypto";

/** A key's place in [0, 1), per route: SHA-256 of route and key, its first 32 bits. */
export function stickyPoint(route: string, key: string): number {
  return createHash("sha256").update(route).update("\u0000").update(key).digest().readUInt32BE(0) / 2 ** 32;
}

/** The index of the entry whose range holds u; weights are relative (need not sum to 1), at least one above 0. */
export function pickWeighted(weights: readonly number[], u: number): number {
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (!(total > 0)) throw new RangeError("a split needs a weight above 0");
  let edge = 0;
  for (let i = 0; i < weights.length; i++) {
    edge += weights[i]! / total;
    if (u < edge && weights[i]! > 0) return i;
  }
  // u within rounding of 1: the last entry with weight.
  return weights.findLastIndex((w) => w > 0);
}
