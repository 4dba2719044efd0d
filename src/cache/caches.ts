// The caches a server runs with, built by the composition root: a response cache (opt-in), an embedding cache, and
// the function that names the version of what a model computes with, which every cache key carries.
import type { Redis } from "ioredis";
import type { EmbeddingCache } from "./embedding-cache.js";
import type { ResponseCache } from "./response-cache.js";
import { type CacheStore, LruCacheStore, NearCacheStore, RedisCacheStore } from "./store.js";

export interface Caches {
  /** Null when response caching is off. */
  readonly responses: ResponseCache | null;
  /** Null when embedding caching is off. */
  readonly embeddings: EmbeddingCache | null;
  /**
   * The version of what `model` (a served model, or an adapter by its request name) computes with; it changes with
   * the model file, its chat template, its context length or the adapter file, so a reload never reads stale entries.
   */
  readonly versionOf: (model: string) => Promise<string>;
}

/**
 * An LRU of `maxBytes` in this process, in front of Redis when the deployment has one (shared by every replica): a
 * hit this process has seen costs no round trip.
 */
export function cacheStore({
  redis,
  maxBytes,
  ttlSeconds,
}: {
  redis: Redis | null;
  maxBytes: number;
  ttlSeconds: number;
}): CacheStore {
  const local = new LruCacheStore({ maxBytes, ttlSeconds });
  return redis ? new NearCacheStore(local, new RedisCacheStore(redis, { ttlSeconds })) : local;
}
