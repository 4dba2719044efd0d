// The cost of constrained sampling per decode step: B sequences decode TG tokens together, each with no grammar, a
// structured-output grammar (llama.cpp's json_schema_to_grammar) or a tool-call grammar of llama.cpp's chat layer as
// Loom tightens it (`required`: the output is the calls from its first token; a named tool: exactly one call, then
// only end-of-generation). Prints ms per step (decode, sample) and tokens/s per mode, and the slowdown against free
// generation (issue 17's target: under 10% at batch 8). On a random-weight model the grammar rejects most first
// picks, so every such step masks the whole vocabulary: an upper bound of what a trained model pays. A sequence
// whose grammar is complete starts over, so every step samples under the grammar.
// usage: npm run bench:grammar -- --model models/smollm2-135m.gguf [--batch 8] [--tg 64] [--threads 2]
import { parseArgs } from "node:util";
import { chatTemplateSource } from "../models/vocab.js";
import { ChatTemplates, jsonSchemaToGrammar, type ToolChoice } from "../src/backend/llama/chat-layer.js";
import type { LlamaContext } from "../src/backend/llama/llama-context.js";
import { LlamaModel } from "../src/backend/llama/llama-model.js";
import type { NativeSampler } from "../src/backend/llama/addon.js";
import { type SamplingParams, samplingParams } from "../src/sampling-params.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "models/smollm2-135m.gguf" },
    batch: { type: "string", default: "8" },
    tg: { type: "string", default: "64" },
    threads: { type: "string", default: "2" },
    template: { type: "string", default: "Qwen-Qwen2.5-7B-Instruct" },
  },
});
const batch = Number(values.batch);
const tg = Number(values.tg);
const model = await LlamaModel.load(values.model);

const schema = {
  type: "object",
  properties: { summary: { type: "string" }, tags: { type: "array", items: { type: "string" } } },
  required: ["summary", "tags"],
};
const parameters = { type: "object", properties: { query: { type: "string" }, limit: { type: "integer" } } };
const tools = ["search", "fetch"].map((name) => ({ type: "function" as const, function: { name, parameters } }));
const templates = ChatTemplates.create(model, chatTemplateSource(values.template));
const toolGrammar = (toolChoice: ToolChoice) =>
  templates.apply({ messages: [{ role: "user", content: "Find papers on paged attention." }], tools, toolChoice })
    .grammar;
const MODES: readonly { name: string; params: Partial<SamplingParams> }[] = [
  { name: "free", params: {} },
  { name: "json schema", params: { grammar: jsonSchemaToGrammar(schema) } },
  { name: "tool call (required)", params: { grammar: toolGrammar("required") } },
  { name: "tool call (named)", params: { grammar: toolGrammar({ type: "function", function: { name: "fetch" } }) } },
];

function sampler(context: LlamaContext, mode: (typeof MODES)[number]): NativeSampler {
  return context.createSampler(samplingParams({ temperature: 0, ...mode.params }));
}

const results: { mode: string; decodeMsPerStep: number; sampleMsPerStep: number; tokensPerSecond: number }[] = [];
for (const mode of MODES) {
  const context = await model.createContext({
    kvTokens: batch * (tg + 8) + 64,
    maxSequences: batch,
    threads: Number(values.threads),
  });
  const samplers = Array.from({ length: batch }, () => sampler(context, mode));
  const seqs = Int32Array.from({ length: batch }, (_, i) => i);
  let last = new Int32Array(batch).fill(model.tokenize("Hi", { addSpecial: false })[0]!);
  let decodeMs = 0;
  let sampleMs = 0;
  const started = performance.now();
  for (let step = 0; step < tg; step++) {
    const result = await context.step({
      tokens: last,
      positions: new Int32Array(batch).fill(step),
      seqIds: seqs,
      outputRows: seqs,
      samplers,
    });
    decodeMs += result.decodeMs;
    sampleMs += result.sampleMs;
    // A sequence whose grammar completed (or failed) starts over with a fresh sampler; the throughput is what counts.
    for (const { outputIndex } of result.errors) samplers[outputIndex] = sampler(context, mode);
    last = Int32Array.from(result.tokens, (t) => (t < 0 || model.isEndOfGeneration(t) ? last[0]! : t));
  }
  const seconds = (performance.now() - started) / 1000;
  results.push({
    mode: mode.name,
    decodeMsPerStep: decodeMs / tg,
    sampleMsPerStep: sampleMs / tg,
    tokensPerSecond: (batch * tg) / seconds,
  });
  await context.dispose();
}
const free = results[0]!.tokensPerSecond;
for (const r of results) {
  const slower = ((free / r.tokensPerSecond - 1) * 100).toFixed(1);
  const perStep = `decode ${r.decodeMsPerStep.toFixed(2)} ms  sample ${r.sampleMsPerStep.toFixed(2)} ms per step`;
  console.log(`${r.mode.padEnd(22)} ${r.tokensPerSecond.toFixed(1).padStart(8)} t/s  ${perStep}  (${slower}% slower)`);
}
console.log(JSON.stringify({ model: values.model, batch, tg, results }));
model.dispose();
