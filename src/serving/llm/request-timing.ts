// RequestTiming: when a request's tokens arrived, for TTFT, inter-token gaps and end-to-end latency.

export class RequestTiming {
  readonly #startMs = performance.now();
  readonly #lastTokenMs: (number | null)[];
  ttftMs: number | null = null;
  /** Longest wait for admission among the request's sequences. */
  queueMs: number | null = null;
  readonly gapsMs: number[] = [];

  constructor(numSequences: number) {
    this.#lastTokenMs = new Array<number | null>(numSequences).fill(null);
  }

  token(index: number): void {
    const now = performance.now();
    this.ttftMs ??= now - this.#startMs;
    const last = this.#lastTokenMs[index];
    if (last !== null && last !== undefined) this.gapsMs.push(now - last);
    this.#lastTokenMs[index] = now;
  }

  queued(queueMs: number | null): void {
    if (queueMs !== null) this.queueMs = Math.max(this.queueMs ?? 0, queueMs);
  }

  elapsedMs(): number {
    return performance.now() - this.#startMs;
  }
}
