// A prefix decoded once and shared with seq_cp gives the same next tokens as decoding it for every sequence,
// and holds fewer KV cells.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { KvOpCode } from "../../src/backend/types.js";
import { samplingParams } from "../../src/sampling-params.js";
import { clearPool } from "../helpers/llama.js";
import { sharedModel, STORIES_260K } from "../helpers/models.js";

let model: LlamaModel;
let context: LlamaContext;
const SEQS = 8;

beforeAll(async () => {
  model = await LlamaModel.load(sharedModel(STORIES_260K));
  context = await model.createContext({ kvTokens: 4096, maxSequences: 16, threads: 1 });
});

afterAll(async () => {
  await context.dispose();
  model.dispose();
});

const range = (n: number, from = 0) => Int32Array.from({ length: n }, (_, i) => from + i);

it("shares a prefix with seq_cp: same next tokens as 8 separate prefills, far fewer cells", async () => {
  const prefix = model.tokenize("Once upon a time, there was a little girl named Lily. She loved to play");
  const suffixes = [" with", " in", " outside", " on", " and", " at", " all", " near"].map((s) =>
    model.tokenize(s, { addSpecial: false }),
  );
  const greedy = () => Array.from({ length: SEQS }, () => context.createSampler(samplingParams({ temperature: 0 })));
  const lastRows = (lengths: number[]) => {
    let at = -1;
    return Int32Array.from(lengths, (n) => (at += n));
  };

  // Reference: every sequence prefills prefix + suffix on its own.
  const full = suffixes.map((s) => Int32Array.from([...prefix, ...s]));
  const separate = await context.step({
    tokens: Int32Array.from(full.flatMap((t) => [...t])),
    positions: Int32Array.from(full.flatMap((t) => [...range(t.length)])),
    seqIds: Int32Array.from(full.flatMap((t, seq) => Array(t.length).fill(seq))),
    outputRows: lastRows(full.map((t) => t.length)),
    samplers: greedy(),
  });
  const separateCells = (await context.inspect()).usedCells;
  expect(separateCells).toBe(full.reduce((n, t) => n + t.length, 0));
  await clearPool(context);

  // Shared: the prefix is decoded once into sequence 0, copied to 1..7, and each sequence decodes its suffix.
  await context.step({
    tokens: prefix,
    positions: range(prefix.length),
    seqIds: new Int32Array(prefix.length),
    outputRows: new Int32Array(0),
    samplers: [],
  });
  const copies = Int32Array.from([...range(SEQS - 1, 1)].flatMap((dst) => [KvOpCode.copy, 0, dst, 0, -1]));
  const shared = await context.step({
    kvOps: copies,
    tokens: Int32Array.from(suffixes.flatMap((s) => [...s])),
    positions: Int32Array.from(suffixes.flatMap((s) => [...range(s.length, prefix.length)])),
    seqIds: Int32Array.from(suffixes.flatMap((s, seq) => Array(s.length).fill(seq))),
    outputRows: lastRows(suffixes.map((s) => s.length)),
    samplers: greedy(),
  });
  const usage = await context.inspect(range(SEQS));
  expect([...shared.tokens]).toEqual([...separate.tokens]);
  expect(usage.usedCells).toBe(prefix.length + suffixes.reduce((n, s) => n + s.length, 0));
  expect(usage.usedCells).toBeLessThan(separateCells / 4);
  expect([...usage.posMin]).toEqual(Array(SEQS).fill(0));
  expect([...usage.posMax]).toEqual(suffixes.map((s) => prefix.length + s.length - 1));

  // Removing a sequence's own tokens frees only its cells; the shared prefix stays while others hold it.
  await context.step({
    kvOps: Int32Array.of(KvOpCode.remove, 7, 0, 0, -1),
    tokens: new Int32Array(0),
    positions: new Int32Array(0),
    seqIds: new Int32Array(0),
    outputRows: new Int32Array(0),
    samplers: [],
  });
  expect((await context.inspect()).usedCells).toBe(usage.usedCells - suffixes[7]!.length);
  await clearPool(context);
  expect((await context.inspect()).usedCells).toBe(0);
});
