// A short batched generation on the default model: the start command until the HTTP server lands.
// usage: tsx src/demo.ts [MODEL.gguf]
import { join } from "node:path";
import { loadAddon } from "./backend/llama/addon.js";
import { LlamaModel } from "./backend/llama/llama-model.js";
import { samplingParams } from "./sampling-params.js";

const path = process.argv[2] ?? join(import.meta.dirname, "..", "models", "tiny.gguf");
const { init, variant } = loadAddon();
const model = await LlamaModel.load(path);
const context = await model.createContext({ kvTokens: 2048, maxSequences: 8 });
console.log(`${model.info.description} from ${path} on ${variant} (${init.devices.map((d) => d.name).join(", ")}), ${context.threads} threads`);

const prompts = ["Once upon a time", "The meaning of life is", "Here is a recipe for bread:", "In the year 3000,"];
const samplers = prompts.map(() => context.createSampler(samplingParams({ temperature: 0 })));
const promptTokens = prompts.map((p) => model.tokenize(p));
const outputs: number[][] = prompts.map(() => []);
const started = performance.now();
let result = await context.step({
  tokens: Int32Array.from(promptTokens.flatMap((t) => [...t])),
  positions: Int32Array.from(promptTokens.flatMap((t) => [...t.keys()])),
  seqIds: Int32Array.from(promptTokens.flatMap((t, seq) => Array<number>(t.length).fill(seq))),
  outputRows: Int32Array.from(promptTokens.map((_, i) => promptTokens.slice(0, i + 1).reduce((n, t) => n + t.length, 0) - 1)),
  samplers,
});
const steps = 32;
for (let step = 0; step < steps; step++) {
  result.tokens.forEach((token, seq) => outputs[seq]!.push(token));
  if (step === steps - 1) break;
  result = await context.step({
    tokens: Int32Array.from(outputs.map((o) => o.at(-1)!)),
    positions: Int32Array.from(promptTokens.map((t) => t.length + step)),
    seqIds: Int32Array.from(prompts.keys()),
    outputRows: Int32Array.from(prompts.keys()),
    samplers,
  });
}
const seconds = (performance.now() - started) / 1000;
prompts.forEach((prompt, i) => console.log(`${JSON.stringify(prompt)} -> ${JSON.stringify(model.detokenize(Int32Array.from(outputs[i]!)))}`));
console.log(`${prompts.length * steps} tokens in ${seconds.toFixed(2)} s (${((prompts.length * steps) / seconds).toFixed(0)} tokens/s); the default model has random weights, so its text is noise`);
await context.dispose();
model.dispose();
