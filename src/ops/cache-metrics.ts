// Cache metrics: lookups of the response and embedding caches by kind and result.
import { Counter, type Registry } from "prom-client";

export class CacheMetrics {
  readonly #lookups: Counter<string>;

  constructor(registry: Registry) {
    this.#lookups = new Counter({
      name: "loom:cache_lookups_total",
      help: "Response and embedding cache lookups by kind (response, embedding) and result (hit, miss).",
      labelNames: ["kind", "result"],
      registers: [registry],
    });
  }

  /** `count` lookups of `kind` (an embedding request looks up each input). */
  lookup(kind: string, hit: boolean, count = 1): void {
    if (count > 0) this.#lookups.inc({ kind, result: hit ? "hit" : "miss" }, count);
  }
}
