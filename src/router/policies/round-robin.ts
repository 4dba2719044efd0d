// Round-robin: each request starts one replica further along the list; the rest of the list is its retry order.
import type { ReplicaView } from "../replica.js";
import type { RoutingChoice, RoutingPolicy } from "./types.js";

/** `replicas` rotated left by `by`. */
export function rotate<T>(replicas: readonly T[], by: number): T[] {
  const start = by % replicas.length;
  return [...replicas.slice(start), ...replicas.slice(0, start)];
}

export class RoundRobinPolicy implements RoutingPolicy {
  #next = 0;

  choose<R extends ReplicaView>(_key: unknown, replicas: readonly R[]): RoutingChoice<R> {
    return { order: rotate(replicas, this.#next++), decision: "round_robin" };
  }
}
