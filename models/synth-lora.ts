// Writes a random (untrained) LoRA adapter GGUF whose shapes match a given llama-architecture base model.
import { GgmlType, GgufType, readGgufMetadata, writeGguf, type GgufValue, type TensorSpec } from "./gguf.js";
import { encode, randomValues, seedFromName } from "./weights.js";

export interface SynthLoraOptions {
  readonly base: string;
  readonly out: string;
  readonly rank?: number;
  readonly alpha?: number;
  readonly seed?: number;
  readonly std?: number;
}

export function synthLora({ base, out, rank = 4, alpha = 8, seed = 1234, std = 0.12 }: SynthLoraOptions): void {
  const meta = readGgufMetadata(base);
  const architecture = String(meta.get("general.architecture")?.value);
  const number = (key: string) => {
    const value = meta.get(`${architecture}.${key}`)?.value;
    if (typeof value !== "number") throw new Error(`${base} has no ${architecture}.${key}`);
    return value;
  };
  const embedding = number("embedding_length");
  const heads = number("attention.head_count");
  const kvHeads = number("attention.head_count_kv");
  const layers = number("block_count");
  const headDim = embedding / heads;
  const targets: [string, number][] = [
    ["attn_q", heads * headDim],
    ["attn_v", kvHeads * headDim],
  ];

  const metadata = new Map<string, GgufValue>([
    ["general.architecture", { type: GgufType.STRING, value: architecture }],
    ["general.type", { type: GgufType.STRING, value: "adapter" }],
    ["adapter.type", { type: GgufType.STRING, value: "lora" }],
    ["adapter.lora.alpha", { type: GgufType.F32, value: alpha }],
  ]);
  const tensors: TensorSpec[] = [];
  for (let layer = 0; layer < layers; layer++) {
    for (const [target, outSize] of targets) {
      for (const [suffix, dims] of [
        ["lora_a", [embedding, rank]],
        ["lora_b", [rank, outSize]],
      ] as const) {
        const name = `blk.${layer}.${target}.weight.${suffix}`;
        tensors.push({
          name,
          dims,
          type: GgmlType.F32,
          data: () => encode(randomValues(dims[0] * dims[1], std, seedFromName(seed, name)), GgmlType.F32),
        });
      }
    }
  }
  writeGguf(out, metadata, tensors);
}
