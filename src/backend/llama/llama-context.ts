// LlamaContext: the llama.cpp backend of the engine. One unified KV pool or a stream per sequence; every call
// runs on a worker thread, one at a time and in call order. A context of a model on the CPU computes (step,
// embed) only in its turn of the process-wide ComputeArbiter.
import { isGreedy, type SamplingParams } from "../../sampling-params.js";
import type { Batch, KvUsage, LlmBackend, StepResult } from "../types.js";
import {
  loadAddon,
  type NativeContext,
  type NativeContextOptions,
  type NativeSampler,
  type NativeSamplerOptions,
} from "./addon.js";
import { type ComputeArbiter, cpuCompute } from "./compute-arbiter.js";
import type { LlamaModel } from "./llama-model.js";
import { defaultThreads } from "./threads.js";

export type ContextOptions = NativeContextOptions;

function toNativeSamplerOptions(params: SamplingParams): NativeSamplerOptions {
  const biasTokens = [...params.logitBias.keys()];
  return {
    // The one place that says which temperatures are greedy (vLLM's epsilon); the native chain is greedy at 0.
    temperature: isGreedy(params.temperature) ? 0 : params.temperature,
    topK: params.topK,
    topP: params.topP,
    minP: params.minP,
    ...(params.seed === undefined ? {} : { seed: params.seed }),
    repeatPenalty: params.repetitionPenalty,
    presencePenalty: params.presencePenalty,
    frequencyPenalty: params.frequencyPenalty,
    ...(biasTokens.length > 0
      ? {
          logitBiasTokens: Int32Array.from(biasTokens),
          logitBiasValues: Float32Array.from(biasTokens.map((t) => params.logitBias.get(t)!)),
        }
      : {}),
    ...grammarOptions(params.grammar),
  };
}

function grammarOptions(grammar: SamplingParams["grammar"]): NativeSamplerOptions {
  if (grammar === null) return {};
  if (typeof grammar === "string") return { grammar };
  return {
    grammar: grammar.grammar,
    grammarLazy: grammar.lazy,
    grammarTriggers: grammar.triggers,
    grammarPrefill: grammar.prefill,
    thinkingStartTag: grammar.thinkingStartTag,
    thinkingEndTags: grammar.thinkingEndTags,
  };
}

export class LlamaContext implements LlmBackend {
  readonly model: LlamaModel;
  readonly #native: NativeContext;
  /** The turns this context computes in; null when it computes on threadpools of its own (a GPU model). */
  readonly #compute: ComputeArbiter | null;
  #tail: Promise<unknown> = Promise.resolve();
  #disposed = false;

  private constructor(model: LlamaModel, native: NativeContext) {
    this.model = model;
    this.#native = native;
    this.#compute = native.sharedCompute ? cpuCompute : null;
  }

  /** Rejects with code LOOM_CONTEXT_FAILED when the pool does not fit in memory. */
  static async create(model: LlamaModel, options: ContextOptions = {}): Promise<LlamaContext> {
    const { addon } = loadAddon();
    const threads = options.threads ?? defaultThreads();
    const native = await addon.Context.create(model.native, {
      ...options,
      threads,
      threadsBatch: options.threadsBatch ?? threads,
      sharedCompute: options.sharedCompute ?? model.onCpu,
    });
    return new LlamaContext(model, native);
  }

  get kvTokens(): number {
    return this.#native.kvTokens;
  }
  get batchTokens(): number {
    return this.#native.batchTokens;
  }
  get microBatchTokens(): number {
    return this.#native.microBatchTokens;
  }
  get maxSequences(): number {
    return this.#native.maxSequences;
  }
  get cellsPerSequence(): number {
    return this.#native.cellsPerSequence;
  }
  get threads(): number {
    return this.#native.threads;
  }
  get threadsBatch(): number {
    return this.#native.threadsBatch;
  }
  /** Whether this context takes turns at the process-wide CPU compute with the other contexts on the CPU. */
  get sharedCompute(): boolean {
    return this.#compute !== null;
  }

  /** Applies the batch's KV ops and adapters, decodes, and samples each output row with its sampler. */
  step(batch: Batch): Promise<StepResult> {
    // A step of KV ops alone computes no graph and needs no turn.
    const compute = batch.tokens.length > 0 ? this.#compute : null;
    if (!compute) return this.#serial(() => this.#native.step(batch));
    return this.#serial(() => compute.run(batch.priority ?? 0, () => this.#native.step(batch)));
  }

  inspect(seqIds: Int32Array = new Int32Array(0)): Promise<KvUsage> {
    return this.#serial(() => this.#native.inspect(seqIds));
  }

  /** Pooled embeddings, one per input; needs a context created with embeddings: true. */
  embed(inputs: readonly Int32Array[]): Promise<Float32Array[]> {
    const compute = this.#compute;
    if (!compute) return this.#serial(() => this.#native.embed(inputs));
    return this.#serial(() => compute.run(0, () => this.#native.embed(inputs)));
  }

  /** Built on the calling thread, so a bad grammar fails here, for its own request only. */
  createSampler(params: SamplingParams): NativeSampler {
    return new (loadAddon().addon.Sampler)(this.model.native, toNativeSamplerOptions(params));
  }

  /** Frees the pool after the calls already queued have run. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#tail;
    this.#native.dispose();
  }

  #serial<T>(call: () => Promise<T>): Promise<T> {
    if (this.#disposed)
      return Promise.reject(Object.assign(new Error("the context was disposed"), { code: "LOOM_DISPOSED" }));
    const run = this.#tail.then(call, call);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}
