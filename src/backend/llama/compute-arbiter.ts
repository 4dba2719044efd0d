// ComputeArbiter: turns at the process's one native compute. Contexts of models on the CPU share one ggml
// threadpool and a native lock around every graph (native/src/compute.h); the arbiter hands out the turn in JS, so
// at most one of their computes is in flight and no libuv worker sits blocked on the native lock. Turns go by
// priority (lower first, vLLM's convention: interactive 0, batch lines 10, shadows 1000), then in arrival order,
// so engines alternate and a shadow's or batch line's step never goes before a waiting interactive one. A turn
// released by a step of higher priority than the first waiter's is held back for one event-loop turn: an engine
// asks for its next step's turn in the microtasks after its last one settles, so without the pause a shadow or
// batch step would slip in between every two interactive steps and halve their pace.

/** What the arbiter has done, for tests and diagnostics. */
export interface ComputeArbiterStats {
  /** Computes run() has started and not yet seen settle. */
  readonly inFlight: number;
  /** The most computes ever in flight at once: 1 while the turns work. */
  readonly maxInFlight: number;
  /** Computes waiting for the turn now. */
  readonly waiting: number;
  /** Turns handed out in all. */
  readonly grants: number;
  /** Turns that had to wait for another compute to finish. */
  readonly contended: number;
}

interface Waiter {
  readonly priority: number;
  readonly order: number;
  readonly grant: () => void;
}

export class ComputeArbiter {
  // Waiters sorted by (priority, order); a handful at most (one per engine, draft and embedding context).
  readonly #waiters: Waiter[] = [];
  #held = false;
  /** The priority of the turn held now (of the last one when none is). */
  #heldPriority = 0;
  #inFlight = 0;
  #order = 0;
  #maxInFlight = 0;
  #grants = 0;
  #contended = 0;
  /** Per priority watched (askedBelow): when a turn below it was last asked for (performance.now() ms). */
  readonly #lastBelow = new Map<number, number>();

  /**
   * Asks for the turn at `priority` (lower first). Returns null when the turn is granted at once (nobody holds it:
   * no promise, no extra event-loop turn), else a promise that resolves once it is this caller's. Either way the
   * caller must call release() exactly once when its compute has settled.
   */
  acquire(priority: number): Promise<void> | null {
    for (const watched of this.#lastBelow.keys())
      if (priority < watched) this.#lastBelow.set(watched, performance.now());
    const first = this.#waiters[0];
    if (!this.#held && (!first || first.priority > priority)) {
      this.#take(priority);
      return null;
    }
    return new Promise<void>((grant) => {
      const waiter = { priority, order: this.#order++, grant };
      let at = this.#waiters.length;
      while (at > 0 && this.#waiters[at - 1]!.priority > priority) at--;
      this.#waiters.splice(at, 0, waiter);
    });
  }

  /** Gives the turn back; the first waiter (lowest priority value, then earliest) gets it. */
  release(): void {
    if (!this.#held) throw new Error("ComputeArbiter.release() without a turn held");
    this.#held = false;
    const first = this.#waiters[0];
    if (!first) return;
    if (first.priority > this.#heldPriority) setImmediate(() => this.#grantNext());
    else this.#grantNext();
  }

  #grantNext(): void {
    const next = this.#held ? undefined : this.#waiters.shift();
    if (!next) return;
    this.#contended++;
    this.#take(next.priority);
    next.grant();
  }

  /** Runs `compute` in a turn at `priority`, releasing it when the compute settles. */
  async run<T>(priority: number, compute: () => Promise<T>): Promise<T> {
    const wait = this.acquire(priority);
    if (wait) await wait;
    this.#maxInFlight = Math.max(this.#maxInFlight, ++this.#inFlight);
    try {
      return await compute();
    } finally {
      this.#inFlight--;
      this.release();
    }
  }

  /**
   * Watches turns below `priority` from now on: the reader gives when one was last asked for or is held, in
   * performance.now() milliseconds (the engines' clock), -Infinity before any. Background work elsewhere reads it
   * to stay out of foreground work's way (scheduler/background.ts). One entry per priority watched, whatever
   * priorities clients send.
   */
  askedBelow(priority: number): () => number {
    if (!this.#lastBelow.has(priority)) this.#lastBelow.set(priority, Number.NEGATIVE_INFINITY);
    return () => (this.#held && this.#heldPriority < priority ? performance.now() : this.#lastBelow.get(priority)!);
  }

  stats(): ComputeArbiterStats {
    return {
      inFlight: this.#inFlight,
      maxInFlight: this.#maxInFlight,
      waiting: this.#waiters.length,
      grants: this.#grants,
      contended: this.#contended,
    };
  }

  #take(priority: number): void {
    this.#held = true;
    this.#heldPriority = priority;
    this.#grants++;
  }
}

/** The arbiter every context of a model on the CPU computes under: one per process, like the native pool. */
export const cpuCompute = new ComputeArbiter();
