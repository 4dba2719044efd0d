// Shapes of the synthetic models. Vocabularies are the vocab-only GGUFs of the llama.cpp source bundle.
import { GgmlType } from "./gguf.js";

export interface Preset {
  readonly vocab: "llama-spm" | "gpt-2" | "llama-bpe" | "qwen2" | "deepseek-llm" | "command-r";
  readonly embeddingSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly ffnSize: number;
  readonly contextLength: number;
  readonly ropeFreqBase: number;
  readonly weightType: GgmlType;
}

export const PRESETS = {
  // The default model of `npm start` and the fast tests: 25 MB, made in about two seconds. F32, because F16
  // kernels round activations differently per batch shape and flip close greedy choices; its width differs from
  // stories260K's so that an adapter made for one is refused by the other.
  tiny: {
    vocab: "llama-spm",
    embeddingSize: 96,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    ffnSize: 256,
    contextLength: 4096,
    ropeFreqBase: 10000,
    weightType: GgmlType.F32,
  },
  // SmolLM2-135M's shape: the benchmark model.
  "smollm2-135m": {
    vocab: "gpt-2",
    embeddingSize: 576,
    layers: 30,
    heads: 9,
    kvHeads: 3,
    ffnSize: 1536,
    contextLength: 8192,
    ropeFreqBase: 100000,
    weightType: GgmlType.Q8_0,
  },
  // Llama-3.2-1B's shape (Llama 3's 128k vocabulary; the output matrix is its own tensor here, not tied to the
  // embeddings, so 1.5B parameters and 1.6 GB): the GPU benchmark model (npm run bench:gpu).
  "llama-3.2-1b": {
    vocab: "llama-bpe",
    embeddingSize: 2048,
    layers: 16,
    heads: 32,
    kvHeads: 8,
    ffnSize: 8192,
    contextLength: 131072,
    ropeFreqBase: 500000,
    weightType: GgmlType.Q8_0,
  },
  // The shape of the chat-family models (models/chat-families.ts), which take their family's vocabulary: as small as
  // llama.cpp runs, since large vocabularies (152k for Qwen) make the embedding and output matrices most of the file.
  "chat-tiny": {
    vocab: "qwen2",
    embeddingSize: 32,
    layers: 1,
    heads: 2,
    kvHeads: 1,
    ffnSize: 64,
    contextLength: 4096,
    ropeFreqBase: 10000,
    weightType: GgmlType.Q8_0,
  },
} satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;
