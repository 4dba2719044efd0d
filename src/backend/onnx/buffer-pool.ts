// Recycles the buffers of batched inputs. A fresh buffer of megabytes costs more than the copy that fills it (its
// pages are new to the process every time, and the external memory hurries the garbage collector), so buffers
// that the session threads hand back after a run wait here for the next batch of the same size.

/** Buffers under this size come cheaply from V8's allocator and are not kept. */
const MIN_POOLED_BYTES = 64 * 1024;

export class BufferPool {
  readonly #buffers: ArrayBuffer[] = [];
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** A buffer of exactly `byteLength` bytes, whose contents are left over from its last use. */
  take(byteLength: number): ArrayBuffer {
    const index = this.#buffers.findIndex((b) => b.byteLength === byteLength);
    return index < 0 ? new ArrayBuffer(byteLength) : this.#buffers.splice(index, 1)[0]!;
  }

  /** Keeps a buffer nobody uses any more; the least recently given go first when the pool is full. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength < MIN_POOLED_BYTES) return;
    this.#buffers.push(buffer);
    if (this.#buffers.length > this.#capacity) this.#buffers.shift();
  }
}
