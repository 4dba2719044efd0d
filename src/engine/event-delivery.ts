// EventDelivery: hands a step's events to their requests' channels a slice at a time. Every push resumes a consumer
// whose whole chain (detokenize, stop strings, format, write to the socket) runs as microtasks, and the event loop
// reads no socket until they have all run: with 256 streams that is milliseconds in which a /metrics scrape (the
// Gateway API's endpoint picker scrapes every 50 ms and counts a stale answer as saturation) or a new request
// waits. Between slices the loop polls I/O. The engine plans its next step after the first slice, so the rest are
// delivered while that step computes (vLLM's asynchronous output processing); a consumer that stops its sequence
// then (a stop string) aborts it mid-step, and the token that step samples for it is dropped (apply-step.ts). One
// queue keeps every request's events in order.
import type { EventChannel } from "./event-channel.js";

/** Pushes delivered before the event loop gets to poll I/O again. */
export const DELIVERY_SLICE = 32;

interface Delivery<T> {
  readonly channel: EventChannel<T>;
  /** The item to push; null ends the channel. */
  readonly item: T | null;
}

export class EventDelivery<T> {
  readonly #queue: Delivery<T>[] = [];
  #head = 0;
  #scheduled = false;
  readonly #slice: number;

  constructor(slice = DELIVERY_SLICE) {
    if (!(Number.isInteger(slice) && slice > 0)) throw new RangeError(`slice must be a positive integer, got ${slice}`);
    this.#slice = slice;
  }

  /** Events queued and not yet pushed. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  push(channel: EventChannel<T>, item: T): void {
    this.#queue.push({ channel, item });
  }

  end(channel: EventChannel<T>): void {
    this.#queue.push({ channel, item: null });
  }

  /** Delivers a slice now, unless a slice is already scheduled (it will come to these in order); the rest later. */
  flush(): void {
    if (!this.#scheduled) this.#deliver();
  }

  readonly #deliver = (): void => {
    this.#scheduled = false;
    const stop = Math.min(this.#queue.length, this.#head + this.#slice);
    while (this.#head < stop) {
      const { channel, item } = this.#queue[this.#head++]!;
      if (item === null) channel.end();
      else channel.push(item);
    }
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
      return;
    }
    // Under steady load the queue may never empty: drop what was delivered once it dominates.
    if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    this.#scheduled = true;
    setImmediate(this.#deliver);
  };
}
