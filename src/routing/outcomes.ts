// OutcomeWindow: the requests a target of a route finished over the last window, for a rollout's guards: how many,
// how many failed, and the p99 of their time to first token and time per output token.

export interface Outcome {
  /** False for an error or a timeout. */
  readonly ok: boolean;
  readonly ttftMs: number | null;
  /** Mean time per output token after the first; null with fewer than two tokens. */
  readonly tpotMs: number | null;
}

export interface WindowStats {
  readonly count: number;
  readonly errorRate: number;
  readonly ttftP99Ms: number | null;
  readonly tpotP99Ms: number | null;
}

/** The 99th percentile (nearest rank) of the values; null for none. */
function p99(values: number[]): number | null {
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  return values[Math.max(0, Math.ceil(0.99 * values.length) - 1)]!;
}

export class OutcomeWindow {
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #entries: (Outcome & { readonly atMs: number })[] = [];

  constructor(windowMs: number, now: () => number, maxEntries = 10_000) {
    this.#windowMs = windowMs;
    this.#now = now;
    this.#maxEntries = maxEntries;
  }

  add(outcome: Outcome): void {
    this.#entries.push({ ...outcome, atMs: this.#now() });
    if (this.#entries.length > this.#maxEntries) this.#entries.shift();
  }

  clear(): void {
    this.#entries = [];
  }

  stats(): WindowStats {
    const since = this.#now() - this.#windowMs;
    this.#entries = this.#entries.filter((e) => e.atMs >= since);
    const entries = this.#entries;
    const failed = entries.filter((e) => !e.ok).length;
    const ok = entries.filter((e) => e.ok);
    return {
      count: entries.length,
      errorRate: entries.length === 0 ? 0 : failed / entries.length,
      ttftP99Ms: p99(ok.flatMap((e) => (e.ttftMs === null ? [] : [e.ttftMs]))),
      tpotP99Ms: p99(ok.flatMap((e) => (e.tpotMs === null ? [] : [e.tpotMs]))),
    };
  }
}
