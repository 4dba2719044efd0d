// The per-sequence-stream KV manager with 3 streams of 16 cells and blocks of 4: slot choice, prefix take-over
// and copy, the ops that make llama.cpp's streams match, and the counters.
import { describe, expect, it } from "vitest";
import { StreamKvManager } from "../../../src/kv/stream-kv-manager.js";
import type { BlockTable } from "../../../src/kv/types.js";

const tokens = (n: number, from = 100) => Array.from({ length: n }, (_, i) => from + i);
const kv = (enablePrefixCaching = true) =>
  new StreamKvManager({ numSlots: 3, cellsPerSlot: 16, blockSize: 4, enablePrefixCaching });

/** Admits `prompt`, computes all of it, and frees the sequence: its stream stays as prefix cache. */
function runToEnd(m: StreamKvManager, prompt: number[]): BlockTable {
  const { table } = m.admit({ tokens: prompt, adapterId: 0, maxNewTokens: 64 })!;
  m.commit(table, prompt, prompt.length);
  m.free(table);
  return table;
}

describe("StreamKvManager", () => {
  it("holds a sequence only within one stream", () => {
    const m = kv();
    expect(m.fits(16)).toBe(true);
    expect(m.fits(17)).toBe(false);
    const { table } = m.admit({ tokens: tokens(10), adapterId: 0, maxNewTokens: 4 })!;
    expect(table.blockIds).toHaveLength(1);
    expect(m.grow(table, 16)).toBe(true);
    expect(table.blockIds).toHaveLength(4);
    expect(m.grow(table, 17)).toBe(false);
  });

  it("gives new sequences the lowest empty slot, and none once every stream runs", () => {
    const m = kv();
    const slots = [0, 1, 2].map(() => m.admit({ tokens: tokens(5), adapterId: 0, maxNewTokens: 8 })!.table.slot);
    expect(slots).toEqual([0, 1, 2]);
    expect(m.admit({ tokens: tokens(5), adapterId: 0, maxNewTokens: 8 })).toBeNull();
    expect(m.takeOps()).toEqual([]);
  });

  it("a new sequence goes to the lowest idle slot and keeps the part of that stream's prefix it shares", () => {
    const m = kv();
    runToEnd(m, tokens(10));
    expect(m.takeOps()).toEqual([{ kind: "remove", slot: 0, fromPos: 8, toPos: -1 }]);
    expect(m.stats()).toMatchObject({ numUsedBlocks: 0, numCachedBlocks: 2, numParkedSlots: 1 });

    const b = m.admit({ tokens: [...tokens(6), 7, 7], adapterId: 0, maxNewTokens: 64 })!;
    expect(b).toMatchObject({ numCachedTokens: 4, table: { slot: 0 } });
    expect(m.takeOps()).toEqual([{ kind: "remove", slot: 0, fromPos: 4, toPos: -1 }]);
    expect(m.stats()).toMatchObject({
      prefixCacheQueries: 10 + 8,
      prefixCacheHits: 4,
      numParkedSlots: 0,
      numCachedBlocks: 0,
    });
  });

  it("copies the longest prefix into the lowest idle slot from a parked stream further up, dropping what that slot held", () => {
    const m = kv();
    const a = m.admit({ tokens: tokens(8, 500), adapterId: 0, maxNewTokens: 64 })!;
    const b = m.admit({ tokens: tokens(10), adapterId: 0, maxNewTokens: 64 })!;
    m.commit(a.table, tokens(8, 500), 8);
    m.commit(b.table, tokens(10), 10);
    m.free(a.table);
    m.free(b.table);
    m.takeOps();
    const c = m.admit({ tokens: tokens(12), adapterId: 0, maxNewTokens: 64 })!;
    expect(c).toMatchObject({ numCachedTokens: 8, table: { slot: 0 } });
    expect(m.takeOps()).toEqual([
      { kind: "remove", slot: 0, fromPos: 0, toPos: -1 },
      { kind: "copy", srcSlot: 1, dstSlot: 0, fromPos: 0, toPos: -1 },
      { kind: "remove", slot: 0, fromPos: 8, toPos: -1 },
    ]);
    expect(m.admit({ tokens: tokens(9, 500), adapterId: 0, maxNewTokens: 64 })).toMatchObject({
      numCachedTokens: 0,
      table: { slot: 1 },
    });
  });

  it("copies a prefix out of a running sequence's stream, then drops the copy's cells past the prefix", () => {
    const m = kv();
    const prompt = tokens(10);
    const a = m.admit({ tokens: prompt, adapterId: 0, maxNewTokens: 64 })!;
    m.commit(a.table, prompt, 10);
    const b = m.admit({ tokens: [...tokens(9), 1, 2], adapterId: 0, maxNewTokens: 64 })!;
    expect(b).toMatchObject({ numCachedTokens: 8, table: { slot: 1 } });
    expect(m.takeOps()).toEqual([
      { kind: "copy", srcSlot: 0, dstSlot: 1, fromPos: 0, toPos: -1 },
      { kind: "remove", slot: 1, fromPos: 8, toPos: -1 },
    ]);
    // The copy holds the prefix too: it outlives the stream it came from.
    m.free(a.table);
    m.free(b.table);
    expect(m.admit({ tokens: tokens(12), adapterId: 0, maxNewTokens: 64 })!.numCachedTokens).toBe(8);
  });

  it("fills short gaps between a step's slots with throwaway rows past each idle stream's cache, removed before the next step", () => {
    const m = new StreamKvManager({ numSlots: 12, cellsPerSlot: 8, blockSize: 4 });
    const tables = Array.from(
      { length: 12 },
      (_, i) => m.admit({ tokens: tokens(5, 100 * i), adapterId: 0, maxNewTokens: 8 })!.table,
    );
    m.commit(tables[1]!, tokens(5, 100), 5);
    m.commit(tables[2]!, tokens(8, 200), 8);
    for (const slot of [1, 2, 3, 5, 6, 7, 8, 9, 10]) m.free(tables[slot]!);
    m.takeOps();
    // Gap 1-3 holds slot 2, whose stream is full, so it stays; gap 5-10 (six empty slots) is filled.
    const fillers = [5, 6, 7, 8, 9, 10].map((slot) => ({ slot, position: 0 }));
    expect(m.fillGaps([0, 4, 11], 5)).toEqual([]); // the step has room for five more rows only
    expect(m.fillGaps([0, 4, 11], 6)).toEqual(fillers);
    expect(m.takeOps()).toEqual([]);
    expect(m.takeOps()).toEqual(fillers.map(({ slot }) => ({ kind: "remove", slot, fromPos: 0, toPos: -1 })));
    // A parked stream's filler goes after its cached block; a gap of ten slots costs more than it saves.
    expect(m.fillGaps([0, 2], 6)).toEqual([{ slot: 1, position: 4 }]);
    expect(m.fillGaps([0, 11], 32)).toEqual([]);
  });

  it("never matches the last token, nor a prefix cached under another adapter", () => {
    const m = kv();
    runToEnd(m, tokens(8));
    expect(m.admit({ tokens: tokens(8), adapterId: 0, maxNewTokens: 64 })!.numCachedTokens).toBe(4);
    expect(m.admit({ tokens: tokens(9), adapterId: 3, maxNewTokens: 64 })!.numCachedTokens).toBe(0);
  });

  it("without prefix caching, a finished stream is emptied and its slot is free again", () => {
    const m = kv(false);
    runToEnd(m, tokens(10));
    expect(m.takeOps()).toEqual([{ kind: "remove", slot: 0, fromPos: 0, toPos: -1 }]);
    expect(m.stats()).toMatchObject({ numUsedBlocks: 0, numCachedBlocks: 0, numFreeBlocks: 12, numParkedSlots: 0 });
    expect(m.admit({ tokens: tokens(10), adapterId: 0, maxNewTokens: 64 })).toMatchObject({
      numCachedTokens: 0,
      table: { slot: 0 },
    });
  });
});
