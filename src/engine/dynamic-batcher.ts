// DynamicBatcher: Triton's dynamic batching for classic models. Requests queue per shape key (requests whose
// non-batch dims differ cannot share a batch); a batch closes when it reaches the largest size it can fill
// (max, or a preferred size), or when its oldest request has waited the queue delay, and runs when an instance
// is free. A batch that fails is retried one request at a time, so one bad request never fails its neighbours.

export interface BatcherOptions<I, O> {
  /** Most rows (batch-axis entries) in one run. */
  readonly maxBatchSize: number;
  readonly preferredBatchSizes?: readonly number[];
  readonly maxQueueDelayMs: number;
  /** Requests allowed to wait; more are refused. */
  readonly maxQueueSize: number;
  /** Runs in flight at once (instances). */
  readonly maxConcurrentRuns: number;
  readonly rowsOf: (input: I) => number;
  /** Inputs with different keys never share a batch. */
  readonly keyOf: (input: I) => string;
  readonly run: (inputs: readonly I[]) => Promise<O[]>;
  readonly onBatch?: (batch: {
    readonly rows: number;
    readonly queueMs: readonly number[];
    readonly computeMs: number;
  }) => void;
  readonly now?: () => number;
}

interface Item<I, O> {
  readonly input: I;
  readonly rows: number;
  readonly enqueuedMs: number;
  readonly resolve: (output: O) => void;
  readonly reject: (error: unknown) => void;
}

export class QueueFullError extends Error {
  constructor(size: number) {
    super(`the model's queue is full (${size} requests waiting); retry later`);
    this.name = "QueueFullError";
  }
}

export class DynamicBatcher<I, O> {
  readonly #options: BatcherOptions<I, O>;
  readonly #queues = new Map<string, Item<I, O>[]>();
  readonly #now: () => number;
  #queued = 0;
  #running = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  #closed = false;
  #onIdle: (() => void) | null = null;

  constructor(options: BatcherOptions<I, O>) {
    const { maxBatchSize, maxQueueDelayMs, maxQueueSize, maxConcurrentRuns } = options;
    if (!(Number.isInteger(maxBatchSize) && maxBatchSize > 0))
      throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
    if (!(maxQueueDelayMs >= 0)) throw new RangeError(`maxQueueDelayMs must be non-negative, got ${maxQueueDelayMs}`);
    if (!(Number.isInteger(maxQueueSize) && maxQueueSize > 0))
      throw new RangeError(`maxQueueSize must be a positive integer, got ${maxQueueSize}`);
    if (!(Number.isInteger(maxConcurrentRuns) && maxConcurrentRuns > 0))
      throw new RangeError(`maxConcurrentRuns must be a positive integer, got ${maxConcurrentRuns}`);
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  submit(input: I): Promise<O> {
    if (this.#closed) return Promise.reject(new Error("the model was unloaded"));
    const rows = this.#options.rowsOf(input);
    if (!(Number.isInteger(rows) && rows > 0 && rows <= this.#options.maxBatchSize)) {
      return Promise.reject(
        new RangeError(`a request of ${rows} rows does not fit max_batch_size ${this.#options.maxBatchSize}`),
      );
    }
    if (this.#queued >= this.#options.maxQueueSize) return Promise.reject(new QueueFullError(this.#queued));
    return new Promise<O>((resolve, reject) => {
      const key = this.#options.keyOf(input);
      const queue = this.#queues.get(key) ?? [];
      queue.push({ input, rows, enqueuedMs: this.#now(), resolve, reject });
      this.#queues.set(key, queue);
      this.#queued++;
      this.#pump();
    });
  }

  /** Refuses new requests, runs the queued ones without waiting out their delay, and resolves when all are done. */
  close(): Promise<void> {
    this.#closed = true;
    const idle = new Promise<void>((resolve) => {
      this.#onIdle = resolve;
    });
    this.#pump();
    return idle;
  }

  #pump(): void {
    while (this.#running < this.#options.maxConcurrentRuns) {
      const key = this.#readyKey();
      if (key === null) break;
      this.#dispatch(this.#take(key));
    }
    if (this.#closed && this.#queued === 0 && this.#running === 0) this.#onIdle?.();
    else this.#armTimer();
  }

  // The queue to run next: full enough, or past its delay; the one with the oldest request first.
  #readyKey(): string | null {
    const now = this.#now();
    let best: string | null = null;
    let bestAge = -1;
    for (const [key, queue] of this.#queues) {
      const rows = queue.reduce((sum, item) => sum + item.rows, 0);
      const age = now - queue[0]!.enqueuedMs;
      const full =
        rows >= this.#options.maxBatchSize || (this.#options.preferredBatchSizes ?? []).some((size) => rows === size);
      if ((full || this.#closed || age >= this.#options.maxQueueDelayMs) && age > bestAge) {
        best = key;
        bestAge = age;
      }
    }
    return best;
  }

  // Oldest requests first, up to max rows; cut at the largest preferred size reached, when there are any.
  #take(key: string): Item<I, O>[] {
    const queue = this.#queues.get(key)!;
    const batch: Item<I, O>[] = [];
    let rows = 0;
    while (queue.length > 0 && rows + queue[0]!.rows <= this.#options.maxBatchSize) {
      const item = queue.shift()!;
      batch.push(item);
      rows += item.rows;
    }
    const preferred = [...(this.#options.preferredBatchSizes ?? [])].sort((a, b) => b - a).find((size) => size <= rows);
    if (preferred !== undefined && preferred < rows) {
      let kept = 0;
      let cut = 0;
      while (cut < batch.length && kept + batch[cut]!.rows <= preferred) kept += batch[cut++]!.rows;
      if (cut > 0) queue.unshift(...batch.splice(cut));
    }
    if (queue.length === 0) this.#queues.delete(key);
    this.#queued -= batch.length;
    return batch;
  }

  #dispatch(batch: Item<I, O>[]): void {
    this.#running++;
    const started = this.#now();
    const queueMs = batch.map((item) => started - item.enqueuedMs);
    void this.#runBatch(batch).finally(() => {
      this.#options.onBatch?.({
        rows: batch.reduce((sum, item) => sum + item.rows, 0),
        queueMs,
        computeMs: this.#now() - started,
      });
      this.#running--;
      this.#pump();
    });
  }

  async #runBatch(batch: Item<I, O>[]): Promise<void> {
    try {
      const outputs = await this.#options.run(batch.map((item) => item.input));
      batch.forEach((item, i) => item.resolve(outputs[i]!));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      for (const item of batch) await this.#runBatch([item]);
    }
  }

  // Node timers have millisecond granularity and fire up to a millisecond late, which at low load would add as
  // much again to a 1-2 ms queue delay; the last millisecond is waited by yielding to the loop instead.
  #armTimer(): void {
    if (this.#timer || this.#queued === 0 || this.#running >= this.#options.maxConcurrentRuns) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const queue of this.#queues.values()) oldest = Math.min(oldest, queue[0]!.enqueuedMs);
    const waitMs = oldest + this.#options.maxQueueDelayMs - this.#now();
    const fire = () => {
      this.#timer = null;
      this.#pump();
    };
    this.#timer = waitMs >= 1 ? setTimeout(fire, Math.floor(waitMs)) : setImmediate(fire);
  }
}
