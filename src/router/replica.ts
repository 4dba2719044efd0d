// Replica: what the router knows about one upstream server: whether it takes traffic (active health probes of
// /health/ready, plus passive outlier ejection when a request to it fails at the connection or protocol level, in
// the manner of Envoy's outlier detection), its load as scraped from its /metrics, and the requests in flight to it.

/** Scraped from the replica's GET /metrics (vLLM's gauges), summed over its models. */
export interface ReplicaLoad {
  readonly running: number;
  readonly waiting: number;
  /** 0..1, the fullest model's. */
  readonly kvUsage: number;
  /** Base model names (the `model_name` label values). */
  readonly models: readonly string[];
}

/**
 * healthy: takes traffic. unknown: not probed yet. not-ready: its probe failed or it answered 503 (loading,
 * draining). ejected: a request to it failed at the connection or protocol level; no traffic until `ejectedUntilMs`
 * and a passing probe after it.
 */
export type ReplicaState = "unknown" | "healthy" | "not-ready" | "ejected";

/** What policies read: a replica's URL and load, no methods. */
export interface ReplicaView {
  readonly url: string;
  /** Requests this router has sent to it that have not finished. */
  readonly inFlight: number;
  readonly load: ReplicaLoad | null;
}

/** The load policies compare: the router's in-flight count, or the replica's queue when other clients add to it. */
export function loadOf(replica: ReplicaView): number {
  const scraped = replica.load ? replica.load.running + replica.load.waiting : 0;
  return Math.max(replica.inFlight, scraped);
}

/** Consecutive probe timeouts before a replica that still accepts connections is taken out. */
const TIMEOUTS_TO_FAIL = 2;
/** Repeated ejections double the ejection time up to this many times. */
const MAX_EJECTION_DOUBLINGS = 5;

export class Replica implements ReplicaView {
  readonly url: string;
  #state: ReplicaState = "unknown";
  #inFlight = 0;
  #load: ReplicaLoad | null = null;
  #ejectedUntilMs = 0;
  #consecutiveEjections = 0;
  #probeTimeouts = 0;
  #lastProblem: string | null = null;

  constructor(url: string) {
    this.url = url;
  }

  get state(): ReplicaState {
    return this.#state;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get load(): ReplicaLoad | null {
    return this.#load;
  }

  get lastProblem(): string | null {
    return this.#lastProblem;
  }

  get routable(): boolean {
    return this.#state === "healthy";
  }

  /** One request started; the returned function ends it (call it exactly once). */
  begin(): () => void {
    this.#inFlight += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#inFlight -= 1;
    };
  }

  /** A probe of /health/ready answered 200. Re-admits a not-ready replica, and an ejected one after its time. */
  probePassed(nowMs: number): void {
    this.#probeTimeouts = 0;
    if (this.#state === "ejected" && nowMs < this.#ejectedUntilMs) return;
    if (this.#state !== "healthy") this.#lastProblem = null;
    this.#state = "healthy";
  }

  /** A probe failed: `timeout` counts towards TIMEOUTS_TO_FAIL; anything else (503, refused) takes it out now. */
  probeFailed(reason: string, { timeout = false }: { timeout?: boolean } = {}): void {
    if (timeout && ++this.#probeTimeouts < TIMEOUTS_TO_FAIL && this.#state === "healthy") return;
    this.#lastProblem = reason;
    if (this.#state !== "ejected") this.#state = "not-ready";
  }

  /** The replica said it cannot take requests (503 while draining or loading): out until a probe passes. */
  notReady(reason: string): void {
    this.#lastProblem = reason;
    if (this.#state === "healthy" || this.#state === "unknown") this.#state = "not-ready";
  }

  /** A request failed at the connection or protocol level: out for the ejection time, doubled per repeat. */
  eject(reason: string, nowMs: number, ejectionMs: number): void {
    if (this.#state === "ejected" && nowMs < this.#ejectedUntilMs) return;
    this.#lastProblem = reason;
    this.#state = "ejected";
    this.#ejectedUntilMs = nowMs + ejectionMs * 2 ** Math.min(this.#consecutiveEjections, MAX_EJECTION_DOUBLINGS);
    this.#consecutiveEjections += 1;
  }

  /** A request got a well-formed response: the ejection streak ends. */
  succeeded(): void {
    this.#consecutiveEjections = 0;
  }

  updateLoad(load: ReplicaLoad | null): void {
    this.#load = load;
  }

  /** JSON for GET /router/replicas. */
  toJSON(): Record<string, unknown> {
    return {
      url: this.url,
      state: this.#state,
      in_flight: this.#inFlight,
      load: this.#load,
      last_problem: this.#lastProblem,
    };
  }
}
