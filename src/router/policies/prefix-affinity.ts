// Prefix affinity with bounded load: requests that start alike (the same tenant's system prompt) or name the same
// LoRA adapter hash to the same replica, where their KV blocks or the adapter already sit. A replica whose load
// exceeds the least loaded one's by more than `absThreshold` requests and by more than `relThreshold` times passes
// the key to the next replica in the key's rendezvous order: SGLang's cache-aware router balances with the same two
// thresholds, and keeping the overflow on the key's second choice warms one more cache rather than all of them.
import { loadOf, type ReplicaView } from "../replica.js";
import type { RoutingKey } from "../request-key.js";
import { byLoad } from "./least-load.js";
import { rendezvousOrder } from "./rendezvous.js";
import type { RoutingChoice, RoutingPolicy } from "./types.js";

export interface PrefixAffinityOptions {
  readonly absThreshold: number;
  readonly relThreshold: number;
}

export class PrefixAffinityPolicy implements RoutingPolicy {
  readonly #absThreshold: number;
  readonly #relThreshold: number;

  constructor({ absThreshold, relThreshold }: PrefixAffinityOptions) {
    if (!(absThreshold >= 0)) throw new RangeError(`absThreshold must be >= 0, got ${absThreshold}`);
    if (!(relThreshold >= 1)) throw new RangeError(`relThreshold must be >= 1, got ${relThreshold}`);
    this.#absThreshold = absThreshold;
    this.#relThreshold = relThreshold;
  }

  choose<R extends ReplicaView>(key: RoutingKey, replicas: readonly R[]): RoutingChoice<R> {
    // The adapter decides over the prompt: one replica serving every request of an adapter keeps it resident and
    // lets the scheduler batch them together (it serves one adapter group per step).
    const hashKey =
      key.adapter !== null ? `adapter\0${key.adapter}` : key.prefix !== null ? `prefix\0${key.prefix}` : null;
    if (hashKey === null) return { order: byLoad(replicas), decision: "no_key" };
    const order = rendezvousOrder(hashKey, replicas);
    const minLoad = Math.min(...replicas.map(loadOf));
    const first = order.findIndex((r) => !this.#overloaded(loadOf(r), minLoad));
    const spilled = first > 0;
    const decision =
      key.adapter !== null
        ? spilled
          ? "adapter_overflow"
          : "adapter_affinity"
        : spilled
          ? "affinity_overflow"
          : "affinity";
    return { order: [...order.slice(first), ...order.slice(0, first)], decision };
  }

  #overloaded(load: number, minLoad: number): boolean {
    return load - minLoad > this.#absThreshold && load > minLoad * this.#relThreshold;
  }
}
