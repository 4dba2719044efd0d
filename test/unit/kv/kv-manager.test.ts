// The KV manager with 11 blocks of 4 tokens: exact block ids, reference counts, parking, eviction order and ops.
import { describe, expect, it } from "vitest";
import { KvManager } from "../../../src/kv/kv-manager.js";

const tokens = (n: number, from = 100) => Array.from({ length: n }, (_, i) => from + i);
const kv = () => new KvManager({ numBlocks: 11, blockSize: 4, numSlots: 4, watermarkBlocks: 0 });

describe("KvManager", () => {
  it("admits into the least recently used blocks and the next free slot", () => {
    const m = kv();
    const a = m.admit({ tokens: tokens(10), adapterId: 0, maxNewTokens: 16 })!;
    expect(a).toMatchObject({ numCachedTokens: 0, table: { slot: 0, blockIds: [0, 1, 2] } });
    expect(m.stats()).toMatchObject({ numUsedBlocks: 3, numFreeBlocks: 8, numCachedBlocks: 0 });
    expect(m.takeOps()).toEqual([]);
  });

  it("allocates only the chunk's blocks but reserves the whole prompt at admission", () => {
    const m = kv();
    expect(m.admit({ tokens: tokens(45), adapterId: 0, maxNewTokens: 8 })).toBeNull(); // 12 blocks > 11
    const a = m.admit({ tokens: tokens(40), adapterId: 0, maxNewTokens: 8 })!;
    expect(a.table.blockIds).toEqual([0, 1]);
    expect(m.grow(a.table, 16)).toBe(true);
    expect(a.table.blockIds).toEqual([0, 1, 2, 3]);
    expect(m.grow(a.table, 48)).toBe(false);
    expect(a.table.blockIds).toEqual([0, 1, 2, 3]);
  });

  it("parks a finished sequence's cached blocks and shares them with the next by copying from its slot", () => {
    const m = kv();
    const prompt = tokens(10);
    const a = m.admit({ tokens: prompt, adapterId: 0, maxNewTokens: 16 })!;
    m.commit(a.table, prompt, 10);
    m.free(a.table);
    expect(m.takeOps()).toEqual([{ kind: "remove", slot: 0, fromPos: 8, toPos: -1 }]);
    expect(m.stats()).toMatchObject({ numUsedBlocks: 0, numCachedBlocks: 2, numFreeBlocks: 9, numParkedSlots: 1 });
    expect(m.freeQueueIds()).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 2, 1, 0]);

    const b = m.admit({ tokens: [...tokens(8), 7, 7, 7], adapterId: 0, maxNewTokens: 16 })!;
    expect(b.numCachedTokens).toBe(8);
    expect(b.table).toMatchObject({ slot: 1, blockIds: [0, 1, 3] });
    expect(m.takeOps()).toEqual([{ kind: "copy", srcSlot: 0, dstSlot: 1, fromPos: 0, toPos: 8 }]);
    expect(m.stats()).toMatchObject({
      numUsedBlocks: 3,
      numCachedBlocks: 0,
      prefixCacheQueries: 21,
      prefixCacheHits: 8,
    });
  });

  it("never serves the last token from the cache, and keys blocks by adapter", () => {
    const m = kv();
    const prompt = tokens(8);
    const a = m.admit({ tokens: prompt, adapterId: 0, maxNewTokens: 16 })!;
    m.commit(a.table, prompt, 8);
    m.free(a.table);
    expect(m.admit({ tokens: prompt, adapterId: 0, maxNewTokens: 16 })!.numCachedTokens).toBe(4);
    expect(m.admit({ tokens: prompt, adapterId: 3, maxNewTokens: 16 })!.numCachedTokens).toBe(0);
  });

  it("evicts least recently used cached blocks, removing their cells from the parked slot", () => {
    const m = kv();
    const prompt = tokens(8);
    const a = m.admit({ tokens: prompt, adapterId: 0, maxNewTokens: 16 })!;
    m.commit(a.table, prompt, 8);
    m.free(a.table); // blocks 0,1 cached, parked under slot 0
    m.takeOps();
    const big = m.admit({ tokens: tokens(40, 500), adapterId: 0, maxNewTokens: 40 })!;
    expect(big.table.blockIds).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 1]);
    expect(m.takeOps()).toEqual([{ kind: "remove", slot: 0, fromPos: 4, toPos: 8 }]);
    expect(m.grow(big.table, 44)).toBe(true);
    expect(big.table.blockIds.at(-1)).toBe(0);
    expect(m.takeOps()).toEqual([{ kind: "remove", slot: 0, fromPos: 0, toPos: 4 }]);
    expect(m.stats()).toMatchObject({ numParkedSlots: 0, numCachedBlocks: 0, numFreeBlocks: 0 });
  });

  it("frees the oldest parked slot when every slot is taken", () => {
    const m = new KvManager({ numBlocks: 11, blockSize: 4, numSlots: 2, watermarkBlocks: 0 });
    for (const from of [100, 200]) {
      const s = m.admit({ tokens: tokens(5, from), adapterId: 0, maxNewTokens: 8 })!;
      m.commit(s.table, tokens(5, from), 5);
      m.free(s.table);
    }
    m.takeOps();
    expect(m.stats().numParkedSlots).toBe(2);
    const c = m.admit({ tokens: tokens(5, 100), adapterId: 0, maxNewTokens: 8 })!;
    // Slot 0 (holding the 100.. prefix) is the oldest parked, so its prefix is lost before the lookup.
    expect(c).toMatchObject({ numCachedTokens: 0, table: { slot: 0 } });
    expect(m.takeOps()).toEqual([{ kind: "remove", slot: 0, fromPos: 0, toPos: -1 }]);
  });

  it("returns every block after any mix of sequences ends", () => {
    const m = kv();
    const shared = tokens(12);
    const tables = [0, 1, 2].map((i) => {
      const t = [...shared, i];
      const a = m.admit({ tokens: t, adapterId: 0, maxNewTokens: 16 })!;
      m.commit(a.table, t, t.length);
      return a.table;
    });
    for (const t of tables) m.free(t);
    expect(m.numBlocksInUse).toBe(0);
    expect(m.stats().numUsedBlocks).toBe(0);
  });
});

describe("KvManager retention", () => {
  const finish = (m: KvManager, prompt: number[]) => {
    const a = m.admit({ tokens: prompt, adapterId: 0, maxNewTokens: 64 })!;
    m.commit(a.table, prompt, prompt.length);
    m.free(a.table);
    return a.table;
  };

  it("allocates plain free blocks before it evicts a cached prefix", () => {
    const m = kv();
    finish(m, tokens(8)); // blocks 0,1 cached; 9 plain free
    m.takeOps();
    const other = m.admit({ tokens: tokens(36, 500), adapterId: 0, maxNewTokens: 36 })!;
    expect(other.table.blockIds).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(m.takeOps()).toEqual([]);
    expect(m.stats().numCachedBlocks).toBe(2);
  });

  it("keeps at most retainedTokens of finished prompts, the prefix blocks before the tail", () => {
    const m = new KvManager({ numBlocks: 11, blockSize: 4, numSlots: 4, watermarkBlocks: 0, retainedTokens: 8 });
    finish(m, tokens(17)); // 4 full blocks cached, then the budget of 2 blocks trims the tail ones
    expect(m.takeOps()).toEqual([
      { kind: "remove", slot: 0, fromPos: 16, toPos: -1 },
      { kind: "remove", slot: 0, fromPos: 12, toPos: 16 },
      { kind: "remove", slot: 0, fromPos: 8, toPos: 12 },
    ]);
    expect(m.stats()).toMatchObject({ numCachedBlocks: 2, numParkedSlots: 1 });
    expect(m.admit({ tokens: tokens(17), adapterId: 0, maxNewTokens: 64 })!.numCachedTokens).toBe(8);
  });

  it("shares the retention budget among the sequences still running when one ends", () => {
    const m = new KvManager({ numBlocks: 11, blockSize: 4, numSlots: 4, watermarkBlocks: 0, retainedTokens: 8 });
    finish(m, tokens(8, 100));
    m.takeOps();
    m.admit({ tokens: tokens(3, 300), adapterId: 0, maxNewTokens: 8 });
    m.admit({ tokens: tokens(3, 400), adapterId: 0, maxNewTokens: 8 });
    const third = m.admit({ tokens: tokens(3, 500), adapterId: 0, maxNewTokens: 8 })!;
    expect(m.stats().numCachedBlocks).toBe(2);
    m.free(third.table); // two still run: 4 cells each
    expect(m.stats().numCachedBlocks).toBe(1);
    expect(m.takeOps()).toEqual([
      { kind: "remove", slot: 3, fromPos: 0, toPos: -1 },
      { kind: "remove", slot: 0, fromPos: 4, toPos: 8 },
    ]);
  });
});
