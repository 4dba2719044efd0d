// WaitingQueue: the one ordering policy of admission. Lower priority value first, then earlier arrival;
// preempted sequences before new arrivals of the same rank; waiting time raises a sequence's rank so a steady
// stream of high-priority arrivals cannot starve it.
import type { Sequence } from "./sequence.js";

export type WaitingOrder = (a: Sequence, b: Sequence, nowMs: number) => number;

/** One priority level gained per `agingMs` waited. */
export function agedPriorityOrder(agingMs: number): WaitingOrder {
  const rank = (s: Sequence, nowMs: number) => s.priority - Math.floor(Math.max(0, nowMs - s.arrivalMs) / agingMs);
  return (a, b, nowMs) =>
    rank(a, nowMs) - rank(b, nowMs) ||
    Number(b.numPreemptions > 0) - Number(a.numPreemptions > 0) ||
    a.arrivalMs - b.arrivalMs ||
    a.seqId - b.seqId;
}

export class WaitingQueue {
  readonly #order: WaitingOrder;
  readonly #items = new Set<Sequence>();

  constructor(order: WaitingOrder) {
    this.#order = order;
  }

  get length(): number {
    return this.#items.size;
  }

  push(seq: Sequence): void {
    this.#items.add(seq);
  }

  remove(seq: Sequence): boolean {
    return this.#items.delete(seq);
  }

  /** Admission order at `nowMs`. Sorted per plan, not kept in a heap: ranks change with time, queues are short. */
  ordered(nowMs: number): Sequence[] {
    return [...this.#items].sort((a, b) => this.#order(a, b, nowMs));
  }

  *[Symbol.iterator](): IterableIterator<Sequence> {
    yield* this.#items;
  }
}
