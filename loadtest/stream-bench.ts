// Raw step times of the per-sequence KV layout (a llama.cpp stream per sequence), for the costs the scheduler
// plans around: llama.cpp computes each run of consecutive sequence ids in a batch as its own micro-batch, so
// idle slots between running ones split a step; a throwaway row in each idle slot joins it again; and short
// prefill chunks spread over many streams attend through a slower kernel than long ones.
// usage: npm run bench:streams -- [--model models/smollm2-135m.gguf] [--threads 2] [--context 128] [--repeats 5]
import { parseArgs } from "node:util";
import { LlamaModel } from "../src/backend/llama/llama-model.js";
import { KV_OP_WIDTH, KvOpCode } from "../src/backend/types.js";
import { samplingParams } from "../src/sampling-params.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "models/smollm2-135m.gguf" },
    threads: { type: "string", default: "2" },
    context: { type: "string", default: "128" },
    repeats: { type: "string", default: "5" },
  },
});
const NUM_STREAMS = 32;
const context = Number(values.context);
const model = await LlamaModel.load(values.model);
const ctx = await model.createContext({
  kvTokens: NUM_STREAMS * 1024,
  maxSequences: NUM_STREAMS,
  kvUnified: false,
  threads: Number(values.threads),
  batchTokens: 2048,
  microBatchTokens: 512,
});
const samplers = Array.from({ length: NUM_STREAMS }, () => ctx.createSampler(samplingParams({ temperature: 0 })));

/** Rows of one step: `numTokens` tokens of stream `slot`, sampled at the end unless it is a filler. */
interface Rows {
  readonly slot: number;
  readonly numTokens: number;
  readonly filler?: boolean;
}

const lengths = new Array<number>(NUM_STREAMS).fill(0);
async function step(rows: readonly Rows[], kvOps?: Int32Array): Promise<number> {
  const tokens: number[] = [],
    positions: number[] = [],
    seqIds: number[] = [],
    outputRows: number[] = [],
    rowSamplers = [];
  for (const { slot, numTokens, filler } of rows) {
    for (let i = 0; i < numTokens; i++) {
      tokens.push(100 + ((lengths[slot]! * 7919 + slot) % 1000));
      positions.push(lengths[slot]!++);
      seqIds.push(slot);
    }
    if (!filler) {
      outputRows.push(tokens.length - 1);
      rowSamplers.push(samplers[slot]!);
    }
  }
  const start = performance.now();
  await ctx.step({
    tokens: Int32Array.from(tokens),
    positions: Int32Array.from(positions),
    seqIds: Int32Array.from(seqIds),
    outputRows: Int32Array.from(outputRows),
    samplers: rowSamplers,
    ...(kvOps ? { kvOps } : {}),
  });
  return performance.now() - start;
}

// Every stream first holds `context` tokens; each measured step starts from there again.
for (let slot = 0; slot < NUM_STREAMS; slot++) await step([{ slot, numTokens: context }]);
const truncateAll = () => {
  const ops = new Int32Array(NUM_STREAMS * KV_OP_WIDTH);
  for (let slot = 0; slot < NUM_STREAMS; slot++) ops.set([KvOpCode.remove, slot, 0, context, -1], slot * KV_OP_WIDTH);
  lengths.fill(context);
  return ops;
};

const decode = (slots: number[]) => slots.map((slot) => ({ slot, numTokens: 1 }));
const all = [...Array(NUM_STREAMS).keys()];
const idle = (slot: number) => slot % 6 === 5; // five idle slots spread over 32: six runs of consecutive ids
const scenarios: Record<string, Rows[]> = {
  "decode 32 rows, one run": decode(all),
  "decode 27 rows, one run": decode(all.slice(0, 27)),
  "decode 27 rows, six runs": decode(all.filter((s) => !idle(s))),
  "decode 27 rows + 5 fillers": all.map((slot) => ({ slot, numTokens: 1, ...(idle(slot) ? { filler: true } : {}) })),
  "prefill 4 x 121 + 28 decode": [
    ...decode(all.slice(0, 28)),
    ...[28, 29, 30, 31].map((slot) => ({ slot, numTokens: 121 })),
  ],
  "prefill 16 x 30 + 16 decode": [
    ...decode(all.slice(0, 16)),
    ...all.slice(16).map((slot) => ({ slot, numTokens: 30 })),
  ],
};

console.log(
  `per-sequence streams: ${NUM_STREAMS}, ${context} tokens each before every step, ${values.threads} threads; median ms of ${values.repeats}`,
);
const results: Record<string, number> = {};
for (const [name, rows] of Object.entries(scenarios)) {
  const times: number[] = [];
  for (let i = 0; i < Number(values.repeats); i++) {
    await step([], truncateAll());
    times.push(await step(rows));
  }
  times.sort((a, b) => a - b);
  results[name] = times[Math.floor(times.length / 2)]!;
  console.log(
    `${name.padEnd(30)} ${results[name]!.toFixed(1).padStart(8)} ms   (${times.map((t) => t.toFixed(0)).join(" ")})`,
  );
}
console.log(JSON.stringify({ model: values.model, context, threads: Number(values.threads), medianMs: results }));
await ctx.dispose();
model.dispose();
