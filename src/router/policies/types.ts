// The seam between the router and its routing policies: a policy orders the replicas that take traffic for one
// request (the first is tried first, the rest are the retry order) and names the decision it took, for metrics.
import type { ReplicaView } from "../replica.js";
import type { RoutingKey } from "../request-key.js";

/**
 * round_robin, least_load: the policy's only kind of decision. affinity / adapter_affinity: the least loaded replica
 * that already served the key, or for a new key the least loaded one. affinity_overflow / adapter_overflow: the least
 * loaded replica, because each one that served the key carried too much more load than it. no_key: a prefix-policy
 * request without prompt or adapter, sent to the least loaded.
 */
type RoutingDecision =
  | "round_robin"
  | "least_load"
  | "affinity"
  | "affinity_overflow"
  | "adapter_affinity"
  | "adapter_overflow"
  | "no_key";

export interface RoutingChoice<R extends ReplicaView = ReplicaView> {
  /** Every replica given, best first. */
  readonly order: readonly R[];
  readonly decision: RoutingDecision;
}

export interface RoutingPolicy {
  /** `replicas` is non-empty: the ones taking traffic now. */
  choose<R extends ReplicaView>(key: RoutingKey, replicas: readonly R[]): RoutingChoice<R>;
}
