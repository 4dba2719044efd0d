// CacheStore: string values under `loom:cache:*` keys with a time to live, in Redis (shared by every replica) or in
// an in-process LRU bounded in bytes. A cache never holds a request up: Redis errors and timeouts read as misses
// and writes that fail are dropped.
import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";

export interface CacheStore {
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  setMany(entries: readonly (readonly [string, string])[]): Promise<void>;
}

export class LruCacheStore implements CacheStore {
  readonly #lru: LRUCache<string, string>;

  /** Holds at most `maxBytes` (UTF-16 code units of keys and values, twice over) for `ttlSeconds` each. */
  constructor({ maxBytes, ttlSeconds }: { maxBytes: number; ttlSeconds: number }) {
    this.#lru = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: (value, key) => 2 * (value.length + key.length),
      ttl: ttlSeconds * 1000,
    });
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    return keys.map((key) => this.#lru.get(key) ?? null);
  }

  async setMany(entries: readonly (readonly [string, string])[]): Promise<void> {
    for (const [key, value] of entries)
      if (2 * (key.length + value.length) <= this.#lru.maxSize) this.#lru.set(key, value);
  }
}

export class RedisCacheStore implements CacheStore {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;

  /** `redis` must fail fast (no offline queue, a command timeout): a cache lookup may not wait for Redis. */
  constructor(redis: Redis, { ttlSeconds }: { ttlSeconds: number }) {
    this.#redis = redis;
    this.#ttlSeconds = ttlSeconds;
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0 || this.#redis.status !== "ready") return keys.map(() => null);
    return this.#redis.mget(...keys).catch(() => keys.map(() => null));
  }

  async setMany(entries: readonly (readonly [string, string])[]): Promise<void> {
    if (entries.length === 0 || this.#redis.status !== "ready") return;
    const pipeline = this.#redis.pipeline();
    for (const [key, value] of entries) pipeline.set(key, value, "EX", this.#ttlSeconds);
    await pipeline.exec().catch(() => {});
  }
}

/**
 * An in-process LRU in front of another store (a near cache, like Redis's client-side caching): a key read or written
 * here is answered from this process's memory afterwards, with no round trip. Entries never change under a key (the
 * key carries the model version and the canonical request), so the one way to be stale is an entry the far store
 * dropped early (evicted, flushed), which this process keeps answering until its own TTL.
 */
export class NearCacheStore implements CacheStore {
  readonly #near: CacheStore;
  readonly #far: CacheStore;

  constructor(near: CacheStore, far: CacheStore) {
    this.#near = near;
    this.#far = far;
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    const near = await this.#near.getMany(keys);
    const missing = keys.filter((_, i) => near[i] === null);
    if (missing.length === 0) return near;
    const far = await this.#far.getMany(missing);
    await this.#near.setMany(missing.flatMap((key, i) => (far[i] === null ? [] : [[key, far[i]!] as const])));
    let next = 0;
    return near.map((value) => value ?? far[next++] ?? null);
  }

  async setMany(entries: readonly (readonly [string, string])[]): Promise<void> {
    await this.#near.setMany(entries);
    await this.#far.setMany(entries);
  }
}
