// BackgroundGate: background sequences (batch lines, shadows) fill spare capacity only. While foreground work is
// about (a foreground sequence running or waiting in this scheduler, or another engine's foreground turn at the
// compute they share, within the last holdMs) the background ones share at most stepTokens of a step; otherwise they
// take what they like. The cap is what keeps an interactive request's TTFT: the step it waits for and the step that
// prefills it carry a few background rows, not sixteen decodes and a 512-token prefill. The hold covers the gaps
// between interactive requests, so one that arrives after a short lull does not find a full background step in
// flight. vLLM has priorities but no such cap (on a GPU a few more decode rows cost little); on a CPU every row costs.
import type { Sequence } from "./sequence.js";

/** Which sequences are background and how much of a step they get while foreground work is about. */
export interface BackgroundPolicy {
  /** Sequences of this priority or above are background (batch lines are 10, shadows 1000; requests default to 0). */
  readonly priority: number;
  /**
   * Tokens (at least 1) that background sequences share in one step while foreground work is about: never none, so
   * a batch always moves and a step is never planned empty while background work waits.
   */
  readonly stepTokens: number;
  /** Milliseconds that foreground work counts as about after it was last seen. */
  readonly holdMs: number;
  /**
   * When another engine sharing this engine's compute (models on the CPU) last asked for a foreground turn, on the
   * scheduler's clock (ms); -Infinity if never.
   */
  readonly foregroundElsewhereMs?: () => number;
}

export class BackgroundGate {
  readonly #policy: BackgroundPolicy | null;
  #lastForegroundMs = Number.NEGATIVE_INFINITY;
  /** Tokens the background sequences may still take in the step being planned. */
  #left = Number.POSITIVE_INFINITY;

  /** With no policy every sequence is foreground and nothing is capped. */
  constructor(policy: BackgroundPolicy | null) {
    if (policy && !(Number.isInteger(policy.stepTokens) && policy.stepTokens >= 1))
      throw new RangeError(`background stepTokens must be a positive integer, got ${policy.stepTokens}`);
    this.#policy = policy;
  }

  /** Starts planning a step at `nowMs`, over every sequence the scheduler holds (its running and waiting ones). */
  open(nowMs: number, ...held: Iterable<Sequence>[]): void {
    const policy = this.#policy;
    if (!policy) return;
    const here = held.some((sequences) => {
      for (const seq of sequences) if (seq.priority < policy.priority) return true;
      return false;
    });
    if (here) this.#lastForegroundMs = nowMs;
    const last = Math.max(this.#lastForegroundMs, policy.foregroundElsewhereMs?.() ?? Number.NEGATIVE_INFINITY);
    // Foreground work here now holds background back whatever the hold (0 included); the hold only stretches it.
    this.#left = here || nowMs - last < policy.holdMs ? policy.stepTokens : Number.POSITIVE_INFINITY;
  }

  isBackground(seq: Sequence): boolean {
    return this.#policy !== null && seq.priority >= this.#policy.priority;
  }

  /** The part of `budget` that `seq` may take in this step. */
  cap(seq: Sequence, budget: number): number {
    return this.isBackground(seq) ? Math.min(budget, this.#left) : budget;
  }

  /** Counts `numTokens` planned for `seq` against the background's share. */
  take(seq: Sequence, numTokens: number): void {
    if (this.isBackground(seq)) this.#left -= numTokens;
  }
}
