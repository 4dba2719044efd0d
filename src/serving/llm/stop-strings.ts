// StopMatcher: finds stop strings in streamed text. Text that could be the start of a stop string is held back,
// so a stop string is never emitted, not even partly; a full match ends the text just before it.

export interface StopResult {
  /** Text safe to emit now. */
  readonly text: string;
  /** True when a stop string matched; `text` then ends where the stop string began. */
  readonly stopped: boolean;
  /** The stop string that matched (the earliest in the text), when one did. */
  readonly matched?: string;
}

export class StopMatcher {
  readonly #stops: readonly string[];
  readonly #longest: number;
  #pending = "";

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s.length > 0);
    this.#longest = Math.max(0, ...this.#stops.map((s) => s.length));
  }

  push(delta: string): StopResult {
    if (this.#stops.length === 0) return { text: delta, stopped: false };
    const text = this.#pending + delta;
    let first = -1;
    let matched = "";
    for (const stop of this.#stops) {
      const at = text.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
        matched = stop;
      }
    }
    if (first >= 0) {
      this.#pending = "";
      return { text: text.slice(0, first), stopped: true, matched };
    }
    const hold = this.#partialSuffixLength(text);
    this.#pending = text.slice(text.length - hold);
    return { text: text.slice(0, text.length - hold), stopped: false };
  }

  /** Held-back text, released when generation ends for another reason. */
  flush(): string {
    const text = this.#pending;
    this.#pending = "";
    return text;
  }

  // The longest suffix of `text` that is a proper prefix of some stop string.
  #partialSuffixLength(text: string): number {
    for (let length = Math.min(this.#longest - 1, text.length); length > 0; length--) {
      const suffix = text.slice(text.length - length);
      if (this.#stops.some((stop) => stop.startsWith(suffix))) return length;
    }
    return 0;
  }
}
