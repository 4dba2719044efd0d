// Least-load: fewest requests running and waiting (the replica's own gauges, or this router's in-flight count when
// that is higher, since scrapes lag), then the emptiest KV cache; ties go round-robin so equal replicas alternate.
import { loadOf, type ReplicaView } from "../replica.js";
import { rotate } from "./round-robin.js";
import type { RoutingChoice, RoutingPolicy } from "./types.js";

/** `replicas` from least to most loaded; a stable sort, so the caller's order breaks ties. */
export function byLoad<R extends ReplicaView>(replicas: readonly R[]): R[] {
  return [...replicas].sort((a, b) => loadOf(a) - loadOf(b) || (a.load?.kvUsage ?? 0) - (b.load?.kvUsage ?? 0));
}

export class LeastLoadPolicy implements RoutingPolicy {
  #next = 0;

  choose<R extends ReplicaView>(_key: unknown, replicas: readonly R[]): RoutingChoice<R> {
    return { order: byLoad(rotate(replicas, this.#next++)), decision: "least_load" };
  }
}
