// ResponseCache: whole JSON answers of deterministic chat and completion requests, stored byte for byte, keyed by
// the endpoint, the model version (with its adapter) and the canonical request.
import type { CacheMetrics } from "../ops/cache-metrics.js";
import { cacheKeyOf, canonicalJson } from "./keys.js";
import type { CacheStore } from "./store.js";

export class ResponseCache {
  readonly #store: CacheStore;
  readonly #metrics: CacheMetrics | undefined;

  constructor(store: CacheStore, { metrics }: { metrics?: CacheMetrics } = {}) {
    this.#store = store;
    this.#metrics = metrics;
  }

  /** `canonicalRequest` should hold only what decides the answer (not stream, user, priority, timeout). */
  keyOf(endpoint: string, canonicalRequest: unknown, modelVersion: string): string {
    return cacheKeyOf("response", canonicalJson({ endpoint, request: canonicalRequest }), modelVersion);
  }

  /** The stored answer's exact text, or null; counted as a hit or a miss. */
  async lookup(key: string): Promise<string | null> {
    const [value] = await this.#store.getMany([key]);
    this.#metrics?.lookup("response", value !== null && value !== undefined);
    return value ?? null;
  }

  async store(key: string, json: string): Promise<void> {
    await this.#store.setMany([[key, json]]);
  }
}
