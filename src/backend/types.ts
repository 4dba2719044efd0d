// The backend seam: flat arrays in, sampled tokens out. The backend knows nothing of scheduling.
import type { SamplingParams } from "../sampling-params.js";

/** KV operation codes of Batch.kvOps, each op being 5 integers: [code, seqA, seqB, fromPos, toPos]. */
export const KvOpCode = { copy: 0, remove: 1, keep: 2, clear: 3 } as const;
export const KV_OP_WIDTH = 5;

/** A sequence's sampler state (penalty history, grammar position, RNG). Opaque to everything but its backend. */
export interface SequenceSampler {
  dispose(): void;
}

/** A loaded LoRA adapter, opaque to everything but its backend. */
export interface AdapterHandle {
  dispose(): void;
}

export interface Batch {
  readonly tokens: Int32Array;
  readonly positions: Int32Array;
  readonly seqIds: Int32Array;
  /** Increasing row indices whose logits are sampled. */
  readonly outputRows: Int32Array;
  /** One sampler per output row. */
  readonly samplers: readonly SequenceSampler[];
  /**
   * Speculative decoding, per output row: how many of the next output rows (the next rows of its sequence) verify
   * drafts. Such a row's sampled token is compared with the next row's input token (the draft): on a mismatch the
   * rows after it are not sampled (token -1, no error), so the sequence's sampler sees only the tokens it keeps.
   */
  readonly draftsAfter?: Int32Array;
  /** Per output row: -1 no logprobs, 0 the sampled token's only, N also the top N. */
  readonly topLogprobs?: Int32Array;
  /** KV operations applied before decoding, in order (see KvOpCode). */
  readonly kvOps?: Int32Array;
  /** Replaces the active adapter set before decoding; absent leaves it as it is. */
  readonly adapters?: readonly AdapterHandle[];
  readonly adapterScales?: Float32Array;
  /**
   * The step's turn at compute shared with other models (lower first, vLLM's convention): the lowest priority of
   * the sequences it carries. Default 0.
   */
  readonly priority?: number;
}

export interface RowError {
  readonly outputIndex: number;
  readonly code: string;
  readonly message: string;
}

export interface StepResult {
  /** One per output row; -1 where that row failed (see errors) or was not sampled (see Batch.draftsAfter). */
  readonly tokens: Int32Array;
  /** Log-probability of each sampled token; NaN where not asked for. */
  readonly sampledLogprobs: Float32Array;
  /** How many top alternatives each output row has in topTokens/topLogprobs. */
  readonly topCounts: Int32Array;
  readonly topTokens: Int32Array;
  readonly topLogprobs: Float32Array;
  readonly errors: readonly RowError[];
  readonly decodeMs: number;
  readonly sampleMs: number;
  /** One past the highest KV cell in use after the step: the span each token's attention scans; -1 if unknown. */
  readonly kvSpanCells: number;
}

export interface KvUsage {
  /** Cells holding at least one sequence's token; -1 when the model's memory is not a plain KV cache. */
  readonly usedCells: number;
  /** One past the highest cell in use (see StepResult.kvSpanCells); -1 as usedCells. */
  readonly spanCells: number;
  readonly totalCells: number;
  readonly posMin: Int32Array;
  readonly posMax: Int32Array;
}

export interface ModelInfo {
  readonly architecture: string;
  readonly name: string;
  readonly description: string;
  readonly parameterCount: number;
  readonly sizeBytes: number;
  readonly contextLengthTrain: number;
  readonly embeddingSize: number;
  readonly layerCount: number;
  readonly headCount: number;
  readonly headCountKv: number;
  readonly hasEncoder: boolean;
  readonly isRecurrent: boolean;
  readonly vocabSize: number;
  readonly bosToken: number;
  readonly eosToken: number;
  readonly eotToken: number;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly endOfGenerationTokens: Int32Array;
  readonly chatTemplate: string | null;
}

/** What the engine drives: one batched decode step at a time, and the per-sequence samplers the steps use. */
export interface LlmBackend {
  step(batch: Batch): Promise<StepResult>;
  /** Throws (a native error with code LOOM_INVALID_GRAMMAR) when the params' grammar does not compile. */
  createSampler(params: SamplingParams): SequenceSampler;
}
