// Embedder: pooled, L2-normalized sentence embeddings from a generative GGUF, as llama-server's --embeddings does.
// Its context is separate from the generation pool (pooling needs whole inputs in one micro-batch) and is created
// on first use, so a server that never embeds pays nothing for it.
import type { LlamaContext } from "../../backend/llama/llama-context.js";
import type { LlamaModel } from "../../backend/llama/llama-model.js";
import { InvalidRequestError } from "../errors.js";
import { l2Normalize } from "../vectors.js";

export interface EmbedderOptions {
  readonly model: LlamaModel;
  /** Most tokens one input may have. */
  readonly maxInputTokens: number;
  readonly threads?: number;
}

export class Embedder {
  readonly #model: LlamaModel;
  readonly #maxInputTokens: number;
  readonly #threads: number | undefined;
  #context: Promise<LlamaContext> | null = null;

  constructor({ model, maxInputTokens, threads }: EmbedderOptions) {
    if (!(Number.isInteger(maxInputTokens) && maxInputTokens > 0))
      throw new RangeError(`maxInputTokens must be a positive integer, got ${maxInputTokens}`);
    this.#model = model;
    this.#maxInputTokens = maxInputTokens;
    this.#threads = threads;
  }

  get maxInputTokens(): number {
    return this.#maxInputTokens;
  }

  async embed(inputs: readonly Int32Array[]): Promise<Float32Array[]> {
    inputs.forEach((tokens, i) => {
      if (tokens.length === 0) throw new InvalidRequestError(`input ${i} is empty`, { param: "input" });
      if (tokens.length > this.#maxInputTokens) {
        throw new InvalidRequestError(
          `input ${i} has ${tokens.length} tokens; the most one input may have is ${this.#maxInputTokens}`,
          { param: "input", code: "context_length_exceeded" },
        );
      }
    });
    const context = await this.#open();
    return (await context.embed(inputs)).map(l2Normalize);
  }

  async close(): Promise<void> {
    const context = this.#context;
    this.#context = null;
    if (context) await (await context).dispose();
  }

  #open(): Promise<LlamaContext> {
    this.#context ??= this.#model.createContext({
      kvTokens: this.#maxInputTokens,
      batchTokens: this.#maxInputTokens,
      microBatchTokens: this.#maxInputTokens,
      maxSequences: 16,
      embeddings: true,
      pooling: "mean",
      ...(this.#threads === undefined ? {} : { threads: this.#threads }),
    });
    this.#context.catch(() => {
      this.#context = null;
    });
    return this.#context;
  }
}
