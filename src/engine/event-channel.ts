// EventChannel: a push-to-pull queue; the engine pushes a request's events, the request's consumer iterates.
export class EventChannel<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #waiter: ((result: IteratorResult<T>) => void) | null = null;
  #ended = false;
  readonly #onReturn: () => void;

  /** `onReturn` runs when the consumer stops iterating before the end (a client that went away). */
  constructor(onReturn: () => void) {
    this.#onReturn = onReturn;
  }

  push(item: T): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const resolve = this.#waiter;
      this.#waiter = null;
      resolve({ value: item, done: false });
    } else {
      this.#items.push(item);
    }
  }

  end(): void {
    this.#ended = true;
    if (this.#waiter && this.#items.length === 0) {
      const resolve = this.#waiter;
      this.#waiter = null;
      resolve({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.#waiter = resolve;
        });
      },
      return: () => {
        if (!this.#ended) {
          this.#ended = true;
          this.#onReturn();
        }
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
