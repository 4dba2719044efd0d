// Per-request cache control with the standard Cache-Control request directives (RFC 9111): no-cache answers fresh
// (and stores the answer), no-store neither reads nor writes.
import { isGreedy } from "../sampling-params.js";

export interface CachePolicy {
  /** May the answer come from the cache? */
  readonly read: boolean;
  /** May a fresh answer be stored? */
  readonly write: boolean;
}

export function cachePolicy(cacheControl: string | undefined): CachePolicy {
  const directives = new Set((cacheControl ?? "").split(",").map((d) => d.trim().toLowerCase().split("=")[0]));
  if (directives.has("no-store")) return { read: false, write: false };
  return { read: !directives.has("no-cache"), write: true };
}

/**
 * Whether a generation request always gives the same answer for the same model: greedy (`isGreedy`: temperature 0
 * or below vLLM's sampling epsilon) or seeded. Only those are cached; anything else would freeze one sample of a
 * random process.
 */
export function isDeterministic(body: {
  readonly temperature?: number | null;
  readonly seed?: number | null;
}): boolean {
  return isGreedy(body.temperature) || (body.seed !== undefined && body.seed !== null);
}
