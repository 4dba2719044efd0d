// CircuitBreaker: one target of one route. Closed, it lets everything through and counts consecutive failures
// (errors and timeouts); at the threshold it opens, and for the cool-down nothing goes to the target. Then it is
// half-open: up to `probes` requests at a time go through as probes; a probe that succeeds closes it, one that
// fails opens it for another cool-down. (Envoy's consecutive-failure outlier detection, Hystrix's half-open probes.)

export type BreakerState = "closed" | "open" | "half_open";

/** A request let through; settle it once with how it went. */
export interface BreakerPermit {
  readonly probe: boolean;
}

export interface BreakerOptions {
  readonly failures: number;
  readonly cooldownMs: number;
  readonly probes: number;
  readonly now?: () => number;
}

export class CircuitBreaker {
  readonly #failures: number;
  readonly #cooldownMs: number;
  readonly #probes: number;
  readonly #now: () => number;
  #consecutive = 0;
  #openedAt: number | null = null;
  #probing = 0;

  constructor({ failures, cooldownMs, probes, now = performance.now.bind(performance) }: BreakerOptions) {
    if (!(Number.isInteger(failures) && failures > 0)) throw new RangeError(`failures must be a positive integer`);
    if (!(cooldownMs > 0)) throw new RangeError(`cooldownMs must be positive, got ${cooldownMs}`);
    if (!(Number.isInteger(probes) && probes > 0)) throw new RangeError(`probes must be a positive integer`);
    this.#failures = failures;
    this.#cooldownMs = cooldownMs;
    this.#probes = probes;
    this.#now = now;
  }

  get state(): BreakerState {
    if (this.#openedAt === null) return "closed";
    return this.#now() - this.#openedAt < this.#cooldownMs ? "open" : "half_open";
  }

  /** Milliseconds until an open breaker lets probes through; 0 unless open. */
  get retryAfterMs(): number {
    return this.state === "open" ? this.#cooldownMs - (this.#now() - this.#openedAt!) : 0;
  }

  /** A permit when a request may go to the target now; null while open, or while half-open with all probes out. */
  acquire(): BreakerPermit | null {
    const state = this.state;
    if (state === "closed") return { probe: false };
    if (state === "open" || this.#probing >= this.#probes) return null;
    this.#probing++;
    return { probe: true };
  }

  /** How a permitted request went: true succeeded, false failed, null neither (cancelled: no verdict). */
  settle(permit: BreakerPermit, ok: boolean | null): void {
    if (permit.probe) {
      this.#probing--;
      if (ok === true) this.#close();
      else if (ok === false) this.#open();
      return;
    }
    // A request let through while closed that ends after the breaker opened says nothing new.
    if (this.#openedAt !== null || ok === null) return;
    if (ok) this.#consecutive = 0;
    else if (++this.#consecutive >= this.#failures) this.#open();
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#consecutive = 0;
  }

  #close(): void {
    this.#openedAt = null;
    this.#consecutive = 0;
  }
}
