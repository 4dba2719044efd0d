// A model of llama.cpp's unified KV cells: each cell has one position, one token and the set of sequence ids that
// include it. It runs the KvOps the KV manager emits and checks decodes as llama.cpp does, so tests can assert
// that what the manager decided is what llama.cpp would hold.
import type { KvOp } from "../../src/kv/types.js";

interface Cell {
  readonly pos: number;
  readonly token: number;
  readonly slots: Set<number>;
}

export class CellPool {
  readonly capacity: number;
  readonly #cells = new Set<Cell>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get used(): number {
    return this.#cells.size;
  }

  apply(op: KvOp): void {
    const end = (to: number) => (to < 0 ? Infinity : to);
    if (op.kind === "copy") {
      for (const cell of this.#cells)
        if (cell.slots.has(op.srcSlot) && cell.pos >= op.fromPos && cell.pos < end(op.toPos))
          cell.slots.add(op.dstSlot);
    } else {
      for (const cell of this.#cells) {
        if (cell.slots.has(op.slot) && cell.pos >= op.fromPos && cell.pos < end(op.toPos)) {
          cell.slots.delete(op.slot);
          if (cell.slots.size === 0) this.#cells.delete(cell);
        }
      }
    }
  }

  /** Like llama_decode: a sequence's next position must follow its last one, and a free cell must exist. */
  decode(slot: number, pos: number, token: number): void {
    const held = this.tokensOf(slot);
    if (pos !== held.length) throw new Error(`slot ${slot}: position ${pos} does not follow ${held.length - 1}`);
    if (this.#cells.size >= this.capacity)
      throw new Error(`no free KV cell for slot ${slot} (capacity ${this.capacity})`);
    this.#cells.add({ pos, token, slots: new Set([slot]) });
  }

  /** The tokens a slot sees, by position; throws on a gap or a duplicate position. */
  tokensOf(slot: number): number[] {
    const cells = [...this.#cells].filter((c) => c.slots.has(slot)).sort((a, b) => a.pos - b.pos);
    cells.forEach((c, i) => {
      if (c.pos !== i) throw new Error(`slot ${slot} holds position ${c.pos} at index ${i}`);
    });
    return cells.map((c) => c.token);
  }
}
