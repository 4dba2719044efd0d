// EmbeddingCache: one vector per input, keyed by the input's content (its tokens) and the model version, so a text
// embedded once is never computed again by any replica, whatever request it comes in.
import type { CacheMetrics } from "../ops/cache-metrics.js";
import type { CachePolicy } from "./policy.js";
import { cacheKeyOf } from "./keys.js";
import type { CacheStore } from "./store.js";

export interface CachedEmbeddings {
  readonly vectors: Float32Array[];
  /** Inputs answered from the cache. */
  readonly hits: number;
}

const toBase64 = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");

function fromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, "base64");
  // Copied out: a Buffer's byte offset need not be a multiple of 4.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export class EmbeddingCache {
  readonly #store: CacheStore;
  readonly #metrics: CacheMetrics | undefined;

  constructor(store: CacheStore, { metrics }: { metrics?: CacheMetrics } = {}) {
    this.#store = store;
    this.#metrics = metrics;
  }

  /** Vectors of `inputs` (token ids), from the cache where it has them and from `compute` for the rest. */
  async embed(
    modelVersion: string,
    inputs: readonly Int32Array[],
    compute: (missing: Int32Array[]) => Promise<Float32Array[]>,
    policy: CachePolicy,
  ): Promise<CachedEmbeddings> {
    const keys = inputs.map((tokens) =>
      cacheKeyOf("embedding", new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength), modelVersion),
    );
    const cached = policy.read ? await this.#store.getMany(keys) : keys.map(() => null);
    const missing = inputs.flatMap((tokens, i) => (cached[i] ? [] : [{ i, tokens }]));
    const hits = inputs.length - missing.length;
    this.#metrics?.lookup("embedding", true, hits);
    this.#metrics?.lookup("embedding", false, missing.length);
    const computed = missing.length > 0 ? await compute(missing.map((m) => m.tokens)) : [];
    const vectors = cached.map((text) => (text ? fromBase64(text) : null));
    missing.forEach(({ i }, k) => {
      vectors[i] = computed[k]!;
    });
    if (policy.write && missing.length > 0)
      await this.#store.setMany(missing.map(({ i }, k) => [keys[i]!, toBase64(computed[k]!)] as const));
    return { vectors: vectors as Float32Array[], hits };
  }
}
