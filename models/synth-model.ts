// Writes a llama-architecture GGUF with deterministic random weights, a real tokenizer and a chat template (ChatML
// unless the caller gives a model family's own, with the marker tokens that template writes).
import { GgmlType, GgufType, readGgufMetadata, writeGguf, type GgufValue, type TensorSpec } from "./gguf.js";
import type { Preset } from "./presets.js";
import { vocabFile } from "./vocab.js";
import { encode, randomValues, seedFromName } from "./weights.js";

const USER_DEFINED_TOKEN = 4;
const CONTROL_TOKEN = 3;

/** The chat side of a model: its template and the tokens its vocabulary must hold as single tokens. */
export interface ChatSetup {
  readonly template: string;
  /** Added as control tokens where the vocabulary lacks them: matched as special text, rendered only as such. */
  readonly controlTokens: readonly string[];
  /** Added as user-defined tokens, always matched and rendered as text (Qwen's <tool_call> and <think> are). */
  readonly userTokens?: readonly string[];
  /** End of a turn: the end-of-generation token. */
  readonly eot: string;
  readonly bos?: string;
  readonly eos?: string;
}

/** ChatML, the template synthetic models carry unless a chat family's real template is asked for. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const CHATML: ChatSetup = {
  template: CHATML_TEMPLATE,
  controlTokens: ["<|im_start|>", "<|im_end|>"],
  eot: "<|im_end|>",
};

// Logits get a standard deviation of about this many units, so the greedy choice wins by clear margins and does
// not flip with the small numeric differences between batch compositions.
const LOGIT_STD = 20;
const WEIGHT_STD = 0.02;

function tokenizerMetadata(preset: Preset, chat: ChatSetup): { entries: Map<string, GgufValue>; vocabSize: number } {
  const source = readGgufMetadata(vocabFile(preset.vocab));
  const entries = new Map<string, GgufValue>();
  // The vocabulary files carry their model's templates (tokenizer.chat_template.tool_use, ...); only ours is kept.
  for (const [key, value] of source) {
    if (key.startsWith("tokenizer.") && !key.startsWith("tokenizer.chat_template")) entries.set(key, value);
  }
  entries.delete("tokenizer.chat_templates");
  const tokens = [...(entries.get("tokenizer.ggml.tokens")!.value as string[])];
  const types = [...(entries.get("tokenizer.ggml.token_type")!.value as number[])];
  const scores = entries.get("tokenizer.ggml.scores");
  const known = new Set(tokens);
  const added: string[] = [];
  for (const [list, type] of [
    [chat.controlTokens, CONTROL_TOKEN],
    [chat.userTokens ?? [], USER_DEFINED_TOKEN],
  ] as const) {
    for (const token of list.filter((t) => !known.has(t))) {
      known.add(token);
      tokens.push(token);
      types.push(type);
      added.push(token);
    }
  }
  entries.set("tokenizer.ggml.tokens", { type: GgufType.ARRAY, elementType: GgufType.STRING, value: tokens });
  entries.set("tokenizer.ggml.token_type", { type: GgufType.ARRAY, elementType: GgufType.I32, value: types });
  if (scores) {
    const values = [...(scores.value as number[]), ...added.map(() => 0)];
    entries.set("tokenizer.ggml.scores", { type: GgufType.ARRAY, elementType: GgufType.F32, value: values });
  }
  const id = (token: string) => ({ type: GgufType.U32, value: tokens.indexOf(token) });
  entries.set("tokenizer.ggml.eot_token_id", id(chat.eot));
  if (chat.bos) entries.set("tokenizer.ggml.bos_token_id", id(chat.bos));
  if (chat.eos) entries.set("tokenizer.ggml.eos_token_id", id(chat.eos));
  entries.set("tokenizer.chat_template", { type: GgufType.STRING, value: chat.template });
  return { entries, vocabSize: tokens.length };
}

export interface SynthModelOptions {
  readonly preset: Preset;
  readonly name: string;
  readonly out: string;
  readonly seed?: number;
  readonly weightType?: GgmlType;
  /** Default: ChatML on the preset's vocabulary. */
  readonly chat?: ChatSetup;
}

export function synthModel({
  preset,
  name,
  out,
  seed = 42,
  weightType = preset.weightType,
  chat = CHATML,
}: SynthModelOptions): void {
  const { entries: tokenizer, vocabSize } = tokenizerMetadata(preset, chat);
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
