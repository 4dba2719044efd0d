// Raw decode throughput of LlamaContext.step, measured as llama-batched-bench does: B sequences each prefill PP
// tokens, then decode TG tokens together; S_TG = B * TG / decode time. Unlike llama-batched-bench, every step
// here also samples (greedy over the whole vocabulary), as serving must.
// usage: npm run bench:step -- --model models/smollm2-135m.gguf [--threads 1,2] [--batches 1,8,32] [--pp 128] [--tg 64]
import { parseArgs } from "node:util";
import { LlamaModel } from "../src/backend/llama/llama-model.js";
import { samplingParams } from "../src/sampling-params.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "models/smollm2-135m.gguf" },
    threads: { type: "string", default: "1,2" },
    batches: { type: "string", default: "1,8,32" },
    pp: { type: "string", default: "128" },
    tg: { type: "string", default: "64" },
    poll: { type: "string" },
    "threads-batch": { type: "string" },
  },
});
const list = (s: string) => s.split(",").map(Number);
const pp = Number(values.pp),
  tg = Number(values.tg);

const model = await LlamaModel.load(values.model);
const rows: {
  threads: number;
  batch: number;
  ppTokensPerSecond: number;
  tgTokensPerSecond: number;
  decodeMsPerStep: number;
  sampleMsPerStep: number;
  stepMsPerStep: number;
}[] = [];
for (const threads of list(values.threads)) {
  for (const batch of list(values.batches)) {
    const context = await model.createContext({
      kvTokens: batch * (pp + tg) + 256,
      maxSequences: Math.max(batch, 1),
      threads,
      batchTokens: 2048,
      microBatchTokens: 512,
      ...(values.poll === undefined ? {} : { threadPoll: Number(values.poll) }),
      ...(values["threads-batch"] === undefined ? {} : { threadsBatch: Number(values["threads-batch"]) }),
    });
    const samplers = Array.from({ length: batch }, () => context.createSampler(samplingParams({ temperature: 0 })));
    const prompt = Int32Array.from({ length: pp }, (_, i) => 100 + ((i * 7919) % 1000));
    // Prefill in chunks of at most batchTokens, each sequence's last prompt token sampled.
    const ppStart = performance.now();
    let last: Int32Array = new Int32Array(batch);
    const flat = { tokens: [] as number[], positions: [] as number[], seqIds: [] as number[] };
    for (let seq = 0; seq < batch; seq++)
      prompt.forEach((t, p) => {
        flat.tokens.push(t);
        flat.positions.push(p);
        flat.seqIds.push(seq);
      });
    for (let from = 0; from < flat.tokens.length; from += context.batchTokens) {
      const to = Math.min(from + context.batchTokens, flat.tokens.length);
      const outputRows: number[] = [],
        rowSamplers = [];
      for (let i = from; i < to; i++)
        if (flat.positions[i] === pp - 1) {
          outputRows.push(i - from);
          rowSamplers.push(samplers[flat.seqIds[i]!]!);
        }
      const result = await context.step({
        tokens: Int32Array.from(flat.tokens.slice(from, to)),
        positions: Int32Array.from(flat.positions.slice(from, to)),
        seqIds: Int32Array.from(flat.seqIds.slice(from, to)),
        outputRows: Int32Array.from(outputRows),
        samplers: rowSamplers,
      });
      outputRows.forEach((row, j) => {
        last[flat.seqIds[from + row]!] = result.tokens[j]!;
      });
    }
    const ppSeconds = (performance.now() - ppStart) / 1000;
    const seqs = Int32Array.from({ length: batch }, (_, i) => i);
    const tgStart = performance.now();
    let decodeMs = 0,
      sampleMs = 0;
    for (let step = 0; step < tg; step++) {
      const result = await context.step({
        tokens: last,
        positions: new Int32Array(batch).fill(pp + step),
        seqIds: seqs,
        outputRows: seqs,
        samplers,
      });
      last = result.tokens;
      decodeMs += result.decodeMs;
      sampleMs += result.sampleMs;
    }
    const tgSeconds = (performance.now() - tgStart) / 1000;
    rows.push({
      threads,
      batch,
      ppTokensPerSecond: (batch * pp) / ppSeconds,
      tgTokensPerSecond: (batch * tg) / tgSeconds,
      decodeMsPerStep: decodeMs / tg,
      sampleMsPerStep: sampleMs / tg,
      stepMsPerStep: (tgSeconds * 1000) / tg,
    });
    const row = rows.at(-1)!;
    console.log(
      `threads ${threads} batch ${String(batch).padStart(2)}: S_PP ${row.ppTokensPerSecond.toFixed(1).padStart(8)} t/s  S_TG ${row.tgTokensPerSecond.toFixed(1).padStart(8)} t/s  (per step: ${row.stepMsPerStep.toFixed(2)} ms, decode ${row.decodeMsPerStep.toFixed(2)}, sample ${row.sampleMsPerStep.toFixed(2)})`,
    );
    await context.dispose();
  }
}
console.log(JSON.stringify({ model: values.model, pp, tg, rows }));
model.dispose();
