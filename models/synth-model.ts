// Writes a llama-architecture GGUF with deterministic random weights, a real tokenizer and a ChatML template.
import { GgmlType, GgufType, readGgufMetadata, writeGguf, type GgufValue, type TensorSpec } from "./gguf.js";
import { CHATML_TEMPLATE } from "../src/serving/llm/chat-template.js";
import type { Preset } from "./presets.js";
import { vocabFile } from "./vocab.js";
import { encode, randomValues, seedFromName } from "./weights.js";

const CONTROL_TOKEN = 3;
const CHATML_TOKENS = ["<|im_start|>", "<|im_end|>"];

// Logits get a standard deviation of about this many units, so the greedy choice wins by clear margins and does
// not flip with the small numeric differences between batch compositions.
const LOGIT_STD = 20;
const WEIGHT_STD = 0.02;

function tokenizerMetadata(preset: Preset): { entries: Map<string, GgufValue>; vocabSize: number; imEnd: number } {
  const source = readGgufMetadata(vocabFile(preset.vocab));
  const entries = new Map<string, GgufValue>();
  for (const [key, value] of source) if (key.startsWith("tokenizer.")) entries.set(key, value);
  const tokens = [...(entries.get("tokenizer.ggml.tokens")!.value as string[])];
  const types = [...(entries.get("tokenizer.ggml.token_type")!.value as number[])];
  const scores = entries.get("tokenizer.ggml.scores");
  const missing = CHATML_TOKENS.filter((t) => !tokens.includes(t));
  for (const token of missing) {
    tokens.push(token);
    types.push(CONTROL_TOKEN);
  }
  entries.set("tokenizer.ggml.tokens", { type: GgufType.ARRAY, elementType: GgufType.STRING, value: tokens });
  entries.set("tokenizer.ggml.token_type", { type: GgufType.ARRAY, elementType: GgufType.I32, value: types });
  if (scores) {
    const values = [...(scores.value as number[]), ...missing.map(() => 0)];
    entries.set("tokenizer.ggml.scores", { type: GgufType.ARRAY, elementType: GgufType.F32, value: values });
  }
  const imEnd = tokens.indexOf("<|im_end|>");
  entries.set("tokenizer.ggml.eot_token_id", { type: GgufType.U32, value: imEnd });
  entries.set("tokenizer.chat_template", { type: GgufType.STRING, value: CHATML_TEMPLATE });
  return { entries, vocabSize: tokens.length, imEnd };
}

export interface SynthModelOptions {
  readonly preset: Preset;
  readonly name: string;
  readonly out: string;
  readonly seed?: number;
  readonly weightType?: GgmlType;
}

export function synthModel({ preset, name, out, seed = 42, weightType = preset.weightType }: SynthModelOptions): void {
  const { entries: tokenizer, vocabSize } = tokenizerMetadata(preset);
  const headDim = preset.embeddingSize / preset.heads;
  const u32 = (value: number): GgufValue => ({ type: GgufType.U32, value });
  const f32 = (value: number): GgufValue => ({ type: GgufType.F32, value });
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", { type: GgufType.STRING, value: "llama" }],
    ["general.name", { type: GgufType.STRING, value: name }],
    ["general.file_type", u32(weightType === GgmlType.Q8_0 ? 7 : weightType)],
    ["llama.context_length", u32(preset.contextLength)],
    ["llama.embedding_length", u32(preset.embeddingSize)],
    ["llama.block_count", u32(preset.layers)],
    ["llama.feed_forward_length", u32(preset.ffnSize)],
    ["llama.attention.head_count", u32(preset.heads)],
    ["llama.attention.head_count_kv", u32(preset.kvHeads)],
    ["llama.attention.layer_norm_rms_epsilon", f32(1e-5)],
    ["llama.rope.freq_base", f32(preset.ropeFreqBase)],
    ["llama.rope.dimension_count", u32(headDim)],
    ["llama.vocab_size", u32(vocabSize)],
    ...tokenizer,
  ]);

  const tensors: TensorSpec[] = [];
  const matrix = (tensorName: string, dims: [number, number], std: number, type = weightType) =>
    tensors.push({
      name: tensorName,
      dims,
      type,
      data: () => encode(randomValues(dims[0] * dims[1], std, seedFromName(seed, tensorName)), type),
    });
  const norm = (tensorName: string) =>
    tensors.push({
      name: tensorName,
      dims: [preset.embeddingSize],
      type: GgmlType.F32,
      data: () => encode(new Float32Array(preset.embeddingSize).fill(1), GgmlType.F32),
    });

  const n = preset.embeddingSize;
  matrix("token_embd.weight", [n, vocabSize], 1);
  norm("output_norm.weight");
  matrix("output.weight", [n, vocabSize], LOGIT_STD / Math.sqrt(n));
  for (let layer = 0; layer < preset.layers; layer++) {
    const blk = `blk.${layer}`;
    norm(`${blk}.attn_norm.weight`);
    matrix(`${blk}.attn_q.weight`, [n, preset.heads * headDim], WEIGHT_STD);
    matrix(`${blk}.attn_k.weight`, [n, preset.kvHeads * headDim], WEIGHT_STD);
    matrix(`${blk}.attn_v.weight`, [n, preset.kvHeads * headDim], WEIGHT_STD);
    matrix(`${blk}.attn_output.weight`, [preset.heads * headDim, n], WEIGHT_STD);
    norm(`${blk}.ffn_norm.weight`);
    matrix(`${blk}.ffn_gate.weight`, [n, preset.ffnSize], WEIGHT_STD);
    matrix(`${blk}.ffn_up.weight`, [n, preset.ffnSize], WEIGHT_STD);
    matrix(`${blk}.ffn_down.weight`, [preset.ffnSize, n], WEIGHT_STD);
  }
  writeGguf(out, metadata, tensors);
}
