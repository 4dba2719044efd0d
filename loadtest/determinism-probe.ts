// Where batch-dependence comes from: one sequence is teacher-forced through the same tokens under different
// neighbours, chunkings, KV layouts and kernels, and its log-probabilities are compared with a solo run in the same
// configuration (max |difference| over the top 8 candidates of every position; 0 means bit-identical). It drives
// LlamaContext directly, so only llama.cpp's arithmetic is measured, not the scheduler.
// usage: npm run probe:determinism -- [--models stories260K,tiny,smollm2-135m] [--tokens 48] [--threads 2]
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PRESETS } from "../models/presets.js";
import { synthModel } from "../models/synth-model.js";
import type { LlamaContext } from "../src/backend/llama/llama-context.js";
import { LlamaModel } from "../src/backend/llama/llama-model.js";
import type { SequenceSampler, StepResult } from "../src/backend/types.js";
import { samplingParams } from "../src/sampling-params.js";
import { root } from "./server-process.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "stories260K,tiny" },
    tokens: { type: "string", default: "48" },
    threads: { type: "string", default: "2" },
    layouts: { type: "string", default: "unified,per-sequence" },
    flash: { type: "string", default: "off,on" },
  },
});
const numTokens = Number(values.tokens);
const TOP = 8;

function modelPath(name: string): string {
  if (name === "stories260K") return join(root, "..", "shared", "models", "stories260K.gguf");
  const path = join(root, "models", `${name}.gguf`);
  const preset = PRESETS[name as keyof typeof PRESETS];
  if (!preset) throw new Error(`unknown model ${name}`);
  if (!existsSync(path)) synthModel({ preset, name, out: path });
  return path;
}

/** `pad`: a row (or logits) there only to shape the micro-batch, left out of the trace. */
type TokenRow = { token: number; pos: number; seq: number; out: boolean; pad?: boolean };
/** A row of a step, or a KV op ([code, seqA, seqB, fromPos, toPos], see KvOpCode) run before it. */
type Row = TokenRow | { op: number[] };
type Trace = Map<number, number>[];

interface Setup {
  readonly layout: "unified" | "per-sequence";
  readonly flash: "on" | "off";
  readonly threads: number;
}

/**
 * Runs `steps` (lists of rows) on a fresh context, then the steps `more` makes from the trace so far until it returns
 * null; returns, per position of seq 0, its top candidates.
 */
async function run(
  model: LlamaModel,
  setup: Setup,
  steps: Row[][],
  more: (trace: Trace) => Row[] | null = () => null,
): Promise<Trace> {
  const context: LlamaContext = await model.createContext({
    kvTokens: 4 * 1024,
    maxSequences: 4,
    kvUnified: setup.layout === "unified",
    flashAttention: setup.flash,
    threads: setup.threads,
    batchTokens: 512,
  });
  const samplers: SequenceSampler[] = [];
  const trace: Trace = [];
  try {
    const queue = [...steps];
    for (let step = queue.shift() ?? more(trace); step; step = queue.shift() ?? more(trace)) {
      const rows = step.filter((r): r is TokenRow => !("op" in r));
      const ops = step.flatMap((r) => ("op" in r ? r.op : []));
      const outputs = rows.map((r, i) => ({ r, i })).filter(({ r }) => r.out);
      // A fresh greedy sampler per row: teacher forcing, so no sampler state may carry over.
      const rowSamplers = outputs.map(() => context.createSampler(samplingParams({ temperature: 0 })));
      samplers.push(...rowSamplers);
      const result: StepResult = await context.step({
        tokens: Int32Array.from(rows, (r) => r.token),
        positions: Int32Array.from(rows, (r) => r.pos),
        seqIds: Int32Array.from(rows, (r) => r.seq),
        outputRows: Int32Array.from(outputs, ({ i }) => i),
        samplers: rowSamplers,
        topLogprobs: Int32Array.from(outputs, () => TOP),
        ...(ops.length > 0 ? { kvOps: Int32Array.from(ops) } : {}),
      });
      let offset = 0;
      outputs.forEach(({ r }, j) => {
        const count = result.topCounts[j]!;
        if (r.seq === 0 && !r.pad) {
          const top = new Map<number, number>();
          for (let k = 0; k < count; k++) top.set(result.topTokens[offset + k]!, result.topLogprobs[offset + k]!);
          trace[r.pos] = top;
        }
        offset += count;
      });
    }
  } finally {
    for (const s of samplers) s.dispose();
    await context.dispose();
  }
  return trace;
}

function maxDifference(a: Trace, b: Trace): number {
  let worst = 0;
  a.forEach((top, pos) => {
    const other = b[pos];
    if (!other) throw new Error(`position ${pos} missing (${[...b.keys()].filter((k) => b[k]).join()})`);
    for (const [token, lp] of top) {
      const lp2 = other.get(token);
      if (lp2 !== undefined) worst = Math.max(worst, Math.abs(lp - lp2));
    }
  });
  return worst;
}

const prefill = (seq: number, tokens: readonly number[], from: number, chunk: number): Row[][] => {
  const steps: Row[][] = [];
  for (let i = from; i < tokens.length; i += chunk) {
    const end = Math.min(tokens.length, i + chunk);
    steps.push(tokens.slice(i, end).map((token, k) => ({ token, pos: i + k, seq, out: i + k === tokens.length - 1 })));
  }
  return steps;
};

/**
 * Decode steps of seq 0 over `forced` (each row's logits kept), with one row of every neighbour per step; rows in
 * sequence id order, as the per-sequence layout sends them (llama.cpp joins only increasing ids in one micro-batch).
 */
function decode(forced: readonly number[], start: number, neighbours: { seq: number; tokens: number[] }[]): Row[][] {
  return forced.map((token, i) => [
    { token, pos: start + i, seq: 0, out: true },
    ...neighbours.map(({ seq, tokens }) => ({
      token: tokens[i % tokens.length]!,
      pos: tokens.length + i,
      seq,
      out: true,
    })),
  ]);
}

/** The solo greedy continuation of `prompt`: the tokens every configuration is forced through. */
async function greedyContinuation(model: LlamaModel, setup: Setup, prompt: number[]): Promise<number[]> {
  const forced: number[] = [];
  await run(model, setup, prefill(0, prompt, 0, prompt.length), (trace) => {
    const top = trace[prompt.length - 1 + forced.length]!;
    forced.push([...top.entries()].sort((x, y) => y[1] - x[1])[0]![0]);
    return forced.length === numTokens
      ? null
      : [{ token: forced.at(-1)!, pos: prompt.length + forced.length - 1, seq: 0, out: true }];
  });
  return forced;
}

/** Seq 1 computes `prefix` plus other tokens; seq 0 takes its first `prefix.length` cells as a prefix-cache hit. */
function copyPrefix(setup: Setup, prefix: readonly number[], rest: readonly number[]): Row[][] {
  const copy: Row[] =
    setup.layout === "unified"
      ? [{ op: [0, 1, 0, 0, prefix.length] }]
      : [{ op: [0, 1, 0, 0, -1] }, { op: [1, 0, 0, prefix.length, -1] }];
  return [...prefill(1, [...prefix, ...rest], 0, prefix.length + rest.length), copy];
}

/** Query rows from which llama.cpp's CPU flash attention takes its tiled kernel (GGML_FA_TILE_Q). */
const TILED_ATTENTION_ROWS = 64;

const isToken = (r: Row): r is TokenRow => !("op" in r);

/** Rows of one chunk in pieces of fewer than TILED_ATTENTION_ROWS rows, none of them a single row. */
function pieces(rows: TokenRow[]): TokenRow[][] {
  const out: TokenRow[][] = [];
  for (let i = 0; i < rows.length; ) {
    const rest = rows.length - i;
    const size = rest <= TILED_ATTENTION_ROWS - 1 ? rest : rest === TILED_ATTENTION_ROWS ? rest - 2 : 63;
    out.push(rows.slice(i, i + size));
    i += size;
  }
  return out;
}

/** A micro-batch with one output gets a second one (the row before it), so the output matrix never has one row. */
function twoOutputs(rows: TokenRow[]): TokenRow[] {
  const outputs = rows.filter((r) => r.out).length;
  if (outputs !== 1) return rows;
  const at = rows.findIndex((r) => r.out);
  return rows.map((r, k) => (k === (at > 0 ? at - 1 : 1) ? { ...r, out: true, pad: true } : r));
}

/**
 * The batch-invariant recipe: sequences that send one row share a micro-batch, every row with logits (a lone one gets
 * a throwaway second row at the next position, removed before the next step); every longer chunk goes alone, in
 * pieces below the tiled-attention size, none a single row; no micro-batch has a single output.
 */
function batchInvariant(steps: Row[][]): Row[][] {
  const out: Row[][] = [];
  let removals: Row[] = [];
  for (const step of steps) {
    const rows = step.filter(isToken);
    const seqs = [...new Set(rows.map((r) => r.seq))];
    const single = rows.filter((r) => rows.filter((o) => o.seq === r.seq).length === 1);
    const decodeGroup: Row[] = [...removals, ...step.filter((r) => !isToken(r))];
    removals = [];
    decodeGroup.push(...single.map((r) => (r.out ? r : { ...r, out: true, pad: true })));
    if (single.length === 1) {
      const row = single[0]!;
      decodeGroup.push({ token: row.token, pos: row.pos + 1, seq: row.seq, out: true, pad: true });
      removals.push({ op: [1, row.seq, 0, row.pos + 1, -1] });
    }
    if (decodeGroup.length > 0) out.push(decodeGroup);
    for (const seq of seqs) {
      const chunk = rows.filter((r) => r.seq === seq);
      if (chunk.length > 1) out.push(...pieces(chunk).map(twoOutputs));
    }
  }
  return out;
}

async function probe(name: string, model: LlamaModel, setup: Setup, text: string): Promise<void> {
  const prompt = [...model.tokenize(text)];
  const others = ["The little dog ran", "Tom and Sue went to the park. They saw a big", "One day"].map((t) => [
    ...model.tokenize(t),
  ]);
  const forced = await greedyContinuation(model, setup, prompt);
  const decodeSolo = decode(forced.slice(0, -1), prompt.length, []);
  const neighbours = others.map((tokens, k) => ({ seq: k + 1, tokens }));
  const othersFirst = neighbours.flatMap(({ seq, tokens }) => prefill(seq, tokens, 0, tokens.length));
  const decodeBeside = decode(forced.slice(0, -1), prompt.length, neighbours);
  const full = [...prompt, ...forced];
  const cut = prompt.length - 5;
  const whole = prefill(0, prompt, 0, prompt.length);
  const scenarios: Record<string, Row[][]> = {
    "solo run again": [...whole, ...decodeSolo],
    "decoding beside 3 neighbours": [...othersFirst, ...whole, ...decodeBeside],
    "alone, after others' cells": [...othersFirst, ...whole, ...decodeSolo],
    "prefill beside another prompt": [
      [
        ...prompt.map((token, pos) => ({ token, pos, seq: 0, out: pos === prompt.length - 1 })),
        ...others[1]!.map((token, pos) => ({ token, pos, seq: 2, out: false })),
      ],
      ...decodeSolo,
    ],
    "prefill in chunks of 64": [...prefill(0, prompt, 0, 64), ...decodeSolo],
    "prefill in chunks of 5": [...prefill(0, prompt, 0, 5), ...decodeSolo],
    "prefill one row a step": [...prefill(0, prompt, 0, 1), ...decodeSolo],
    "prefix computed by another sequence": [
      ...copyPrefix(setup, prompt.slice(0, cut), others[1]!),
      ...prefill(0, prompt, cut, prompt.length),
      ...decodeSolo,
    ],
    "output rows computed in one pass": [
      full.slice(0, -1).map((token, pos) => ({ token, pos, seq: 0, out: pos >= prompt.length - 1 })),
    ],
  };
  const reference = await run(model, setup, [...whole, ...decodeSolo]);
  const invariantReference = await run(model, setup, batchInvariant([...whole, ...decodeSolo]));
  const plain: Record<string, number> = {};
  const invariant: Record<string, number> = {};
  for (const [label, steps] of Object.entries(scenarios)) {
    plain[label] = maxDifference(reference, await run(model, setup, steps));
    invariant[label] = maxDifference(invariantReference, await run(model, setup, batchInvariant(steps)));
  }
  const row = { model: name, ...setup, promptTokens: prompt.length };
  console.log(JSON.stringify({ ...row, batches: "as sent", ...plain }));
  console.log(JSON.stringify({ ...row, batches: "batch-invariant recipe", ...invariant }));
}

const STORY =
  "Once upon a time, there was a little girl named Lily. She liked to play in the park with her dog Max. " +
  "One day, Lily and Max saw a big red ball under a tree. Lily wanted to play with the ball, but it was stuck. ";
for (const name of values.models.split(",")) {
  const model = await LlamaModel.load(modelPath(name));
  try {
    for (const text of [STORY.slice(0, 58), STORY.repeat(3)])
      for (const layout of values.layouts.split(",") as Setup["layout"][])
        for (const flash of values.flash.split(",") as Setup["flash"][])
          await probe(name, model, { layout, flash, threads: Number(values.threads) }, text);
  } finally {
    model.dispose();
  }
}
