// Prefix affinity with bounded load: requests that start alike (the same tenant's system prompt) or name the same
// LoRA adapter go to a replica that already served that key, where its KV blocks or the adapter sit. The policy
// remembers, per key, the replicas it sent the key to (its owners; an approximation of their caches, as SGLang's
// cache-aware router keeps a tree of what it routed where) and picks the least loaded owner. A key's first request,
// or one whose owners all carry more than `absThreshold` requests and more than `relThreshold` times the least loaded
// replica's (SGLang's two thresholds), goes to the least loaded replica, which becomes an owner too: a hot tenant
// ends up warm on as many replicas as its load needs, and new tenants fill the idle replicas. Placing keys by hashing
// alone left 6 of 8 tenants, 78% of the requests, on one of two replicas, spilling all the time (npm run
// bench:router). Ties go to the key's rendezvous order, so routers that share no state still agree when idle.
import { LRUCache } from "lru-cache";
import { loadOf, type ReplicaView } from "../replica.js";
import type { RoutingKey } from "../request-key.js";
import { byLoad } from "./least-load.js";
import { rendezvousOrder } from "./rendezvous.js";
import type { RoutingChoice, RoutingPolicy } from "./types.js";

export interface PrefixAffinityOptions {
  readonly absThreshold: number;
  readonly relThreshold: number;
  /** Keys whose owners are remembered (least recently used forgotten first); 100 000 by default. */
  readonly maxKeys?: number;
  /** How long an owner is remembered after it was last chosen for a key, in ms (a replica's cache moves on). */
  readonly ownerTtlMs?: number;
}

export class PrefixAffinityPolicy implements RoutingPolicy {
  readonly #absThreshold: number;
  readonly #relThreshold: number;
  /** Key -> the URLs of the replicas it was sent to. */
  readonly #owners: LRUCache<string, Set<string>>;

  constructor({ absThreshold, relThreshold, maxKeys = 100_000, ownerTtlMs = 10 * 60_000 }: PrefixAffinityOptions) {
    if (!(absThreshold >= 0)) throw new RangeError(`absThreshold must be >= 0, got ${absThreshold}`);
    if (!(relThreshold >= 1)) throw new RangeError(`relThreshold must be >= 1, got ${relThreshold}`);
    this.#absThreshold = absThreshold;
    this.#relThreshold = relThreshold;
    this.#owners = new LRUCache({ max: maxKeys, ttl: ownerTtlMs, updateAgeOnGet: true });
  }

  choose<R extends ReplicaView>(key: RoutingKey, replicas: readonly R[]): RoutingChoice<R> {
    // The adapter decides over the prompt: replicas serving every request of an adapter keep it resident and let the
    // scheduler batch them together (it serves one adapter group per step).
    const hashKey =
      key.adapter !== null ? `adapter\0${key.adapter}` : key.prefix !== null ? `prefix\0${key.prefix}` : null;
    // Least loaded first; among equals, the key's rendezvous order (no key: the caller's order).
    const order = byLoad(hashKey === null ? replicas : rendezvousOrder(hashKey, replicas));
    if (hashKey === null) return { order, decision: "no_key" };
    const minLoad = loadOf(order[0]!);
    const owners = this.#owners.get(hashKey) ?? new Set<string>();
    const routableOwners = order.filter((r) => owners.has(r.url));
    const owner = routableOwners.find((r) => !this.#overloaded(loadOf(r), minLoad));
    const chosen = owner ?? order[0]!;
    owners.add(chosen.url);
    this.#owners.set(hashKey, owners);
    const spilled = owner === undefined && routableOwners.length > 0;
    const decision =
      key.adapter !== null
        ? spilled
          ? "adapter_overflow"
          : "adapter_affinity"
        : spilled
          ? "affinity_overflow"
          : "affinity";
    return { order: [chosen, ...order.filter((r) => r !== chosen)], decision };
  }

  #overloaded(load: number, minLoad: number): boolean {
    return load - minLoad > this.#absThreshold && load > minLoad * this.#relThreshold;
  }
}
