// TextEmbedder: sentence embeddings from an ONNX text model (BERT-style: input_ids, attention_mask,
// token_type_ids in; token vectors or pooled vectors out). Texts are tokenized with the model's tokenizer.json,
// batched across requests by the model's dynamic batcher, padded to the batch's longest input (or a fixed
// length), then pooled over real tokens (mean) or taken at [CLS], and L2-normalized when configured.
import type { HfTokenizer } from "../../backend/onnx/hf-tokenizer.js";
import type { OnnxModel, Tensor } from "../../backend/onnx/onnx-model.js";
import { allocate } from "../../backend/onnx/tensors.js";
import type { Metrics } from "../../ops/metrics.js";
import { BatchedRunner } from "./batched-runner.js";
import { InvalidRequestError } from "../errors.js";
import { ModelConfigError, type ResolvedConfig, type ResolvedTensor, type TextSettings } from "./model-config.js";
import { l2Normalize } from "../vectors.js";

const TEXT_INPUTS = ["input_ids", "attention_mask", "token_type_ids"] as const;
type TextInput = (typeof TEXT_INPUTS)[number];

export interface Embeddings {
  readonly vectors: Float32Array[];
  readonly promptTokens: number;
}

interface Layout {
  readonly inputs: readonly ResolvedTensor[];
  readonly output: string;
  /** The output is [batch, tokens, dim] (pooled here) rather than [batch, dim]. */
  readonly perToken: boolean;
  readonly dimensions: number | null;
  /** Every input padded to this many tokens; null pads to the batch's longest. */
  readonly fixedLength: number | null;
  readonly maxTokens: number | null;
}

function layoutOf(name: string, config: ResolvedConfig, settings: TextSettings, tokenizer: HfTokenizer): Layout {
  for (const input of config.inputs) {
    if (!TEXT_INPUTS.includes(input.name as TextInput))
      throw new ModelConfigError(
        name,
        `a text model takes ${TEXT_INPUTS.join(", ")}; its input '${input.name}' is none of them`,
      );
    if (input.datatype !== "INT64" && input.datatype !== "INT32")
      throw new ModelConfigError(name, `text input '${input.name}' must be INT64 or INT32, not ${input.datatype}`);
    if (input.dims.length !== 1)
      throw new ModelConfigError(
        name,
        `text input '${input.name}' must have dims [tokens], not [${input.dims.join(", ")}]`,
      );
  }
  if (!config.inputs.some((i) => i.name === "input_ids"))
    throw new ModelConfigError(name, "a text model needs an input named input_ids");
  const outputName = settings.output ?? config.outputs[0]?.name;
  const output = config.outputs.find((o) => o.name === outputName);
  if (output?.datatype !== "FP32")
    throw new ModelConfigError(name, `embedding output '${outputName}' must be an FP32 output of the model`);
  if (output.dims.length !== 1 && output.dims.length !== 2)
    throw new ModelConfigError(
      name,
      `embedding output '${output.name}' must be [dim] or [tokens, dim], not [${output.dims.join(", ")}]`,
    );
  const perToken = output.dims.length === 2;
  if (perToken && settings.pooling === "none")
    throw new ModelConfigError(
      name,
      `output '${output.name}' holds one vector per token, so it needs pooling mean or cls`,
    );
  if (!perToken && settings.pooling !== "none")
    throw new ModelConfigError(name, `output '${output.name}' is already pooled; set pooling to none`);
  const modelLength = config.inputs.map((i) => i.dims[0]!).find((d) => d !== -1) ?? null;
  const maxTokens = settings.maxSequenceLength ?? modelLength ?? tokenizer.truncationLength;
  if (modelLength !== null && maxTokens !== modelLength)
    throw new ModelConfigError(
      name,
      `the model takes exactly ${modelLength} tokens but max_sequence_length is ${maxTokens}`,
    );
  const dimension = output.dims[output.dims.length - 1]!;
  return {
    inputs: config.inputs,
    output: output.name,
    perToken,
    dimensions: dimension === -1 ? null : dimension,
    fixedLength: modelLength ?? (settings.padding === "fixed" ? maxTokens : null),
    maxTokens,
  };
}

export class TextEmbedder {
  readonly #tokenizer: HfTokenizer;
  readonly #settings: TextSettings;
  readonly #layout: Layout;
  readonly #model: OnnxModel;
  readonly #maxBatchSize: number;
  readonly #runner: BatchedRunner<readonly number[][], Float32Array[]>;

  constructor({
    name,
    version,
    config,
    settings,
    tokenizer,
    model,
    metrics,
  }: {
    name: string;
    version: number;
    config: ResolvedConfig;
    settings: TextSettings;
    tokenizer: HfTokenizer;
    model: OnnxModel;
    metrics?: Metrics;
  }) {
    this.#tokenizer = tokenizer;
    this.#settings = settings;
    this.#layout = layoutOf(name, config, settings, tokenizer);
    this.#model = model;
    this.#maxBatchSize = config.maxBatchSize;
    this.#runner = new BatchedRunner<readonly number[][], Float32Array[]>({
      name,
      version,
      config,
      metrics,
      rowsOf: (texts) => texts.length,
      keyOf: () => "",
      run: (batch) => this.#runBatch(batch),
    });
  }

  /** The embedding's length, when the model states it. */
  get dimensions(): number | null {
    return this.#layout.dimensions;
  }

  async embed(texts: readonly string[]): Promise<Embeddings> {
    const tokenized = texts.map((text, i) => {
      if (text.length === 0) throw new InvalidRequestError(`input ${i} is empty`, { param: "input" });
      return this.#tokenizer.encode(text, this.#layout.maxTokens ?? Number.POSITIVE_INFINITY);
    });
    const chunks: number[][][] = [];
    for (let start = 0; start < tokenized.length; start += this.#maxBatchSize)
      chunks.push(tokenized.slice(start, start + this.#maxBatchSize));
    const vectors = (await Promise.all(chunks.map((chunk) => this.#runner.submit(chunk)))).flat();
    return { vectors, promptTokens: tokenized.reduce((sum, ids) => sum + ids.length, 0) };
  }

  async close(): Promise<void> {
    await this.#runner.close();
  }

  async #runBatch(batch: readonly (readonly number[][])[]): Promise<Float32Array[][]> {
    const rows = batch.flat();
    const length = this.#layout.fixedLength ?? Math.max(...rows.map((ids) => ids.length));
    const feeds: Record<string, Tensor> = {};
    for (const input of this.#layout.inputs) {
      const data = allocate(input.datatype, rows.length * length);
      rows.forEach((ids, r) => {
        for (let t = 0; t < ids.length; t++) {
          const value = input.name === "input_ids" ? ids[t]! : input.name === "attention_mask" ? 1 : 0;
          if (data instanceof BigInt64Array) data[r * length + t] = BigInt(value);
          else data[r * length + t] = value;
        }
      });
      feeds[input.name] = { datatype: input.datatype, shape: [rows.length, length], data };
    }
    const output = (await this.#model.run(feeds, [this.#layout.output]))[this.#layout.output]!;
    const vectors = rows.map((ids, r) => this.#vectorOf(output, r, ids.length));
    const perRequest: Float32Array[][] = [];
    let row = 0;
    for (const texts of batch) {
      perRequest.push(vectors.slice(row, row + texts.length));
      row += texts.length;
    }
    return perRequest;
  }

  #vectorOf(output: Tensor, row: number, tokens: number): Float32Array {
    const data = output.data as Float32Array;
    const dim = output.shape[output.shape.length - 1]!;
    let vector: Float32Array;
    if (!this.#layout.perToken) vector = data.slice(row * dim, (row + 1) * dim);
    else {
      const rowStart = row * output.shape[1]! * dim;
      if (this.#settings.pooling === "cls") vector = data.slice(rowStart, rowStart + dim);
      else {
        vector = new Float32Array(dim);
        for (let t = 0; t < tokens; t++) for (let k = 0; k < dim; k++) vector[k]! += data[rowStart + t * dim + k]!;
        for (let k = 0; k < dim; k++) vector[k]! /= tokens;
      }
    }
    return this.#settings.normalize ? l2Normalize(vector) : vector;
  }
}
