// SlotPool: llama sequence ids. A running sequence holds one; a finished sequence whose cached blocks no one
// else holds is parked, keeping its id so its cells stay in the pool, until its blocks are evicted or its id is
// needed (least recently parked first).
import type { BlockId, SlotId } from "./types.js";

export class SlotPool {
  readonly #numSlots: number;
  readonly #free: SlotId[];
  /** Parked slots and the cached blocks each still holds, least recently parked first (Map keeps order). */
  readonly #parked = new Map<SlotId, Set<BlockId>>();

  constructor(numSlots: number) {
    if (!(Number.isInteger(numSlots) && numSlots > 0))
      throw new RangeError(`numSlots must be a positive integer, got ${numSlots}`);
    this.#numSlots = numSlots;
    this.#free = Array.from({ length: numSlots }, (_, i) => numSlots - 1 - i);
  }

  get numFree(): number {
    return this.#free.length;
  }
  get numParked(): number {
    return this.#parked.size;
  }
  /** Slots of running sequences: neither free nor parked. */
  get numRunning(): number {
    return this.#numSlots - this.#free.length - this.#parked.size;
  }

  takeFree(): SlotId | undefined {
    return this.#free.pop();
  }

  release(slot: SlotId): void {
    this.#free.push(slot);
  }

  park(slot: SlotId, blockIds: Iterable<BlockId>): void {
    this.#parked.set(slot, new Set(blockIds));
  }

  oldestParked(): SlotId | undefined {
    return this.#parked.keys().next().value;
  }

  /** The blocks a parked slot holds; the slot is no longer parked. */
  unpark(slot: SlotId): Set<BlockId> {
    const blocks = this.#parked.get(slot);
    if (!blocks) throw new Error(`slot ${slot} is not parked`);
    this.#parked.delete(slot);
    return blocks;
  }

  /** A parked slot lost one block to eviction; true when it holds nothing any more. */
  dropBlock(slot: SlotId, blockId: BlockId): boolean {
    const blocks = this.#parked.get(slot);
    if (!blocks) throw new Error(`slot ${slot} is not parked`);
    blocks.delete(blockId);
    return blocks.size === 0;
  }
}
