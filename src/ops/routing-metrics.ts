// Routing's metrics (loom:route_*, loom:shadow_*, loom:cascade_*, loom:circuit_breaker_*, loom:rollout_*), on the
// server's one registry beside the request metrics, which carry `route` and `variant` labels themselves: what each
// policy decided, the shadows' comparisons, the cascades' escalations, the breakers' and rollouts' state.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type ShadowOutcome = "completed" | "failed" | "dropped" | "skipped";

/** Breaker states as gauge values. */
const BREAKER_VALUES = { closed: 0, open: 1, half_open: 2 } as const;

export interface RoutingGaugeSources {
  readonly breakers: () => readonly {
    readonly route: string;
    readonly target: string;
    readonly state: keyof typeof BREAKER_VALUES;
  }[];
  readonly rollouts: () => readonly { readonly route: string; readonly weight: number; readonly stage: number }[];
}

const RATIO_BUCKETS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

export class RoutingMetrics {
  readonly #decisions: Counter<string>;
  readonly #fallbacks: Counter<string>;
  readonly #escalations: Counter<string>;
  readonly #confidence: Histogram<string>;
  readonly #shadows: Counter<string>;
  readonly #comparisons: Counter<string>;
  readonly #similarity: Histogram<string>;
  readonly #rollbacks: Counter<string>;

  constructor(registry: Registry, sources: RoutingGaugeSources) {
    const registers = [registry];
    const counter = (name: string, help: string, labelNames: string[]) =>
      new Counter({ name, help, labelNames, registers });
    const histogram = (name: string, help: string, labelNames: string[]) =>
      new Histogram({ name, help, labelNames, buckets: RATIO_BUCKETS, registers });
    this.#decisions = counter("loom:route_requests_total", "Requests each route sent to each variant.", [
      "route",
      "variant",
      "target",
    ]);
    this.#fallbacks = counter("loom:route_fallbacks_total", "Requests sent to a route's fallback, by why.", [
      "route",
      "from",
      "to",
      "reason",
    ]);
    this.#escalations = counter("loom:cascade_escalations_total", "Cascade answers passed on to the next target.", [
      "route",
      "from",
      "to",
    ]);
    this.#confidence = histogram("loom:cascade_confidence", "Confidence of each cascade stage's answer.", [
      "route",
      "target",
    ]);
    this.#shadows = counter("loom:shadow_requests_total", "Sampled shadow requests by outcome.", [
      "route",
      "target",
      "outcome",
    ]);
    this.#comparisons = counter("loom:shadow_comparisons_total", "Shadow answers compared with the primary's.", [
      "route",
      "target",
      "match",
    ]);
    this.#similarity = histogram("loom:shadow_similarity", "Similarity of shadow and primary answers (0 to 1).", [
      "route",
      "target",
    ]);
    this.#rollbacks = counter("loom:rollout_rollbacks_total", "Rollout stages rolled back by a guard.", ["route"]);
    new Gauge({
      name: "loom:circuit_breaker_state",
      help: "Each route target's circuit breaker: 0 closed, 1 open, 2 half-open.",
      labelNames: ["route", "target"],
      registers,
      collect() {
        this.reset();
        for (const b of sources.breakers()) this.set({ route: b.route, target: b.target }, BREAKER_VALUES[b.state]);
      },
    });
    new Gauge({
      name: "loom:rollout_candidate_weight",
      help: "A rollout's share of traffic to its candidate, 0 to 1.",
      labelNames: ["route"],
      registers,
      collect() {
        this.reset();
        for (const r of sources.rollouts()) this.set({ route: r.route }, r.weight);
      },
    });
  }

  decision(route: string, variant: string, target: string): void {
    this.#decisions.inc({ route, variant, target });
  }

  fallback(route: string, from: string, to: string, reason: "breaker_open" | "failed"): void {
    this.#fallbacks.inc({ route, from, to, reason });
  }

  escalation(route: string, from: string, to: string): void {
    this.#escalations.inc({ route, from, to });
  }

  confidence(route: string, target: string, value: number): void {
    this.#confidence.observe({ route, target }, value);
  }

  shadow(route: string, target: string, outcome: ShadowOutcome): void {
    this.#shadows.inc({ route, target, outcome });
  }

  /** `match` is null when the requests were not greedy, so their texts need not match. */
  comparison(route: string, target: string, match: boolean | null, similarity: number): void {
    this.#comparisons.inc({ route, target, match: match === null ? "n/a" : String(match) });
    this.#similarity.observe({ route, target }, similarity);
  }

  rollback(route: string): void {
    this.#rollbacks.inc({ route });
  }
}
