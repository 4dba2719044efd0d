// Ring: the latest `capacity` items, oldest first. Charts keep their points here, so a page left open for days holds
// as many points as one open for ten minutes.

export class Ring<T> {
  readonly capacity: number;
  readonly #items: T[] = [];
  /** Index of the oldest item once the ring is full. */
  #start = 0;
  #pushed = 0;

  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length;
  }

  /** Items pushed since the ring was made, those overwritten included. */
  get pushed(): number {
    return this.#pushed;
  }

  /** Appends `item`, overwriting the oldest one when full. */
  push(item: T): void {
    this.#pushed++;
    if (this.#items.length < this.capacity) {
      this.#items.push(item);
      return;
    }
    this.#items[this.#start] = item;
    this.#start = (this.#start + 1) % this.capacity;
  }

  /** The newest item, if any. */
  last(): T | undefined {
    if (this.#items.length === 0) return undefined;
    return this.#items[(this.#start + this.#items.length - 1) % this.#items.length];
  }

  /** `read` of every item, oldest first, in a new array. */
  map<U>(read: (item: T) => U): U[] {
    const out = new Array<U>(this.#items.length);
    for (let i = 0; i < this.#items.length; i++) out[i] = read(this.#items[(this.#start + i) % this.#items.length]!);
    return out;
  }
}
