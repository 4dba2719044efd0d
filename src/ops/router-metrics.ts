// The router's own Prometheus metrics (loom:router_*), on its GET /metrics. Per replica: responses by status,
// upstream failures by kind, time to response headers and to the end of the response, requests in flight and
// whether it takes traffic; per policy: the routing decisions taken; and what the router answered itself.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * connect: refused or unreachable. protocol: the replica answered something that is not HTTP. reset: the connection
 * closed before the response headers. timeout: no headers within the upstream timeout. unavailable: it answered
 * 503 (loading or draining). overloaded: it answered 429.
 */
export type UpstreamFailure = "connect" | "protocol" | "reset" | "timeout" | "unavailable" | "overloaded";

/**
 * too_large: 413 for the body. no_replica: 503, none takes traffic. draining: 503, the router is shutting down.
 * exhausted: 502, every replica tried failed before answering.
 */
export type RouterRejection = "too_large" | "no_replica" | "draining" | "exhausted";

export interface ReplicaGaugeSource {
  readonly url: string;
  readonly inFlight: number;
  readonly routable: boolean;
}

export class RouterMetrics {
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: "loom:router_requests_total",
    help: "Responses forwarded from each replica, by status code.",
    labelNames: ["replica", "code"],
    registers: [this.registry],
  });
  readonly #failures = new Counter({
    name: "loom:router_upstream_failures_total",
    help: "Attempts on a replica that failed before a response could be forwarded, by kind.",
    labelNames: ["replica", "kind"],
    registers: [this.registry],
  });
  readonly #retries = new Counter({
    name: "loom:router_retries_total",
    help: "Requests tried again on another replica, before any byte was sent to the client.",
    registers: [this.registry],
  });
  readonly #headers = new Histogram({
    name: "loom:router_upstream_headers_seconds",
    help: "From forwarding a request to a replica to its response headers.",
    labelNames: ["replica"],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: "loom:router_request_duration_seconds",
    help: "From the request's arrival at the router to the end of the forwarded response.",
    labelNames: ["replica"],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly #decisions = new Counter({
    name: "loom:router_routing_decisions_total",
    help: "Routing decisions by policy and kind (affinity, affinity_overflow, adapter_affinity, least_load, ...).",
    labelNames: ["policy", "decision"],
    registers: [this.registry],
  });
  readonly #rejected = new Counter({
    name: "loom:router_rejected_total",
    help:
      "Requests the router answered itself: too_large (413), no_replica and draining (503), " +
      "exhausted (502: every replica tried failed).",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  #replicas: () => readonly ReplicaGaugeSource[] = () => [];

  constructor({ processMetrics = true }: { processMetrics?: boolean } = {}) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
    const read = () => this.#replicas();
    new Gauge({
      name: "loom:router_replica_in_flight",
      help: "Requests forwarded to the replica and not finished.",
      labelNames: ["replica"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of read()) this.set({ replica: r.url }, r.inFlight);
      },
    });
    new Gauge({
      name: "loom:router_replica_healthy",
      help: "1 while the replica takes traffic, 0 while it is not ready or ejected.",
      labelNames: ["replica"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of read()) this.set({ replica: r.url }, r.routable ? 1 : 0);
      },
    });
  }

  /** The replicas whose in-flight counts and states the gauges read at scrape time. */
  watchReplicas(read: () => readonly ReplicaGaugeSource[]): void {
    this.#replicas = read;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  response(replica: string, code: number, headersSeconds: number): void {
    this.#requests.inc({ replica, code: String(code) });
    this.#headers.observe({ replica }, headersSeconds);
  }

  finished(replica: string, seconds: number): void {
    this.#duration.observe({ replica }, seconds);
  }

  failure(replica: string, kind: UpstreamFailure): void {
    this.#failures.inc({ replica, kind });
  }

  retry(): void {
    this.#retries.inc();
  }

  decision(policy: string, decision: string): void {
    this.#decisions.inc({ policy, decision });
  }

  rejected(reason: RouterRejection): void {
    this.#rejected.inc({ reason });
  }
}
