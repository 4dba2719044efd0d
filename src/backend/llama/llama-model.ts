// LlamaModel: a loaded GGUF model, its metadata and tokenizer, and the factory of its contexts and adapters.
import type { ModelInfo } from "../types.js";
import { gpuDevices, loadAddon, type NativeLoraAdapter, type NativeModel } from "./addon.js";
import { LlamaContext, type ContextOptions } from "./llama-context.js";

export interface LoadModelOptions {
  /** Layers offloaded to the GPU; -1 offloads all, 0 keeps the model on the CPU. */
  readonly gpuLayers?: number;
  readonly useMmap?: boolean;
}

export interface TokenizeOptions {
  /** Add BOS/EOS as the model's tokenizer asks. */
  readonly addSpecial?: boolean;
  /** Turn special-token text such as <|im_end|> into the special token rather than plain text. */
  readonly parseSpecial?: boolean;
}

export class LlamaModel {
  readonly path: string;
  readonly info: ModelInfo;
  /**
   * No layer offloaded (gpuLayers 0, or no GPU to offload to): its contexts compute on the CPU backend, on the
   * process-wide threadpool, taking turns with every other such context (compute-arbiter.ts).
   */
  readonly onCpu: boolean;
  readonly #native: NativeModel;
  readonly #eog: ReadonlySet<number>;

  private constructor(path: string, native: NativeModel, onCpu: boolean) {
    this.path = path;
    this.onCpu = onCpu;
    this.#native = native;
    this.info = native.info();
    this.#eog = new Set(this.info.endOfGenerationTokens);
  }

  /** Loads a GGUF file off the event loop. Rejects with code LOOM_MODEL_NOT_FOUND or LOOM_MODEL_INVALID. */
  static async load(path: string, options: LoadModelOptions = {}): Promise<LlamaModel> {
    const { addon } = loadAddon();
    const gpuLayers = options.gpuLayers ?? 0;
    return new LlamaModel(
      path,
      await addon.Model.load(path, { gpuLayers, useMmap: options.useMmap ?? true }),
      gpuLayers === 0 || gpuDevices().length === 0,
    );
  }

  /** The addon object, for the backend classes of this folder only. */
  get native(): NativeModel {
    return this.#native;
  }

  isEndOfGeneration(token: number): boolean {
    return this.#eog.has(token);
  }

  metadata(): Record<string, string> {
    return this.#native.metadata();
  }

  tokenize(text: string, { addSpecial = true, parseSpecial = false }: TokenizeOptions = {}): Int32Array {
    return this.#native.tokenize(text, addSpecial, parseSpecial);
  }

  /** The raw bytes of one token, which may be part of a multi-byte UTF-8 character. */
  tokenToBytes(token: number, { special = false }: { special?: boolean } = {}): Uint8Array {
    return this.#native.tokenToBytes(token, special);
  }

  detokenize(tokens: Int32Array, { removeSpecial = false, unparseSpecial = false } = {}): string {
    return this.#native.detokenize(tokens, removeSpecial, unparseSpecial);
  }

  createContext(options: ContextOptions = {}): Promise<LlamaContext> {
    return LlamaContext.create(this, options);
  }

  /** Loads a LoRA adapter GGUF for this model off the event loop; an adapter for another base is refused. */
  loadAdapter(path: string): Promise<NativeLoraAdapter> {
    return loadAddon().addon.LoraAdapter.load(this.#native, path);
  }

  /** Frees the weights once no context or adapter built on them is left; safe while a step runs. */
  dispose(): void {
    this.#native.dispose();
  }
}
