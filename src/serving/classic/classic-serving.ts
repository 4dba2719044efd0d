// ClassicServing: one version of a classic (ONNX) model. Checks KServe v2 request tensors against the model's
// configuration, then runs them, through the dynamic batcher when the config asks for batching: inputs are
// concatenated on the batch axis and outputs split back in request order.
import type { HfTokenizer } from "../../backend/onnx/hf-tokenizer.js";
import type { OnnxModel, Tensor } from "../../backend/onnx/onnx-model.js";
import { elementCount, fromBytes, fromJson, type KserveDatatype } from "../../backend/onnx/tensors.js";
import type { Metrics } from "../../ops/metrics.js";
import { BatchedRunner } from "./batched-runner.js";
import { InvalidRequestError } from "../errors.js";
import type { ResolvedConfig, ResolvedTensor, TextSettings } from "./model-config.js";
import { TextEmbedder } from "./text-embedder.js";

export interface WireTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: string;
  /** JSON elements, flat or nested as the shape (KServe allows both); absent when the tensor came as binary data. */
  readonly data?: readonly unknown[];
  /** KServe binary tensor data: little-endian, row major. */
  readonly raw?: Uint8Array;
}

export interface InferRequest {
  readonly id?: string;
  readonly inputs: readonly WireTensor[];
  readonly outputs?: readonly { readonly name: string }[];
}

export interface InferResult {
  readonly outputs: readonly {
    readonly name: string;
    readonly datatype: KserveDatatype;
    readonly shape: readonly number[];
    readonly data: Tensor["data"];
  }[];
}

interface Checked {
  readonly feeds: Record<string, Tensor>;
  readonly rows: number;
}

export class ClassicServing {
  readonly name: string;
  readonly version: number;
  readonly config: ResolvedConfig;
  readonly createdSeconds = Math.floor(Date.now() / 1000);
  /** Present for text models: strings in, embeddings out, beside the raw-tensor path. */
  readonly embedder: TextEmbedder | null;
  readonly #model: OnnxModel;
  readonly #runner: BatchedRunner<Checked, Record<string, Tensor>>;
  readonly #metrics: Metrics | undefined;

  constructor({
    name,
    version,
    config,
    model,
    metrics,
    text,
  }: {
    name: string;
    version: number;
    config: ResolvedConfig;
    model: OnnxModel;
    metrics?: Metrics;
    text?: { settings: TextSettings; tokenizer: HfTokenizer };
  }) {
    this.name = name;
    this.version = version;
    this.config = config;
    this.embedder = text ? new TextEmbedder({ name, version, config, model, metrics, ...text }) : null;
    this.#model = model;
    this.#metrics = metrics;
    const outputNames = config.outputs.map((o) => o.name);
    this.#runner = new BatchedRunner<Checked, Record<string, Tensor>>({
      name,
      version,
      config,
      metrics,
      rowsOf: (c) => c.rows,
      keyOf: (c) => config.inputs.map((i) => c.feeds[i.name]!.shape.slice(1).join("x")).join("|"),
      run: (batch) => this.#runBatch(batch, outputNames),
    });
  }

  async infer(request: InferRequest): Promise<InferResult> {
    let ok = false;
    try {
      const checked = this.#check(request.inputs);
      const wanted = this.#wantedOutputs(request.outputs);
      const outputs = await this.#runner.submit(checked);
      ok = true;
      return { outputs: wanted.map((name) => ({ name, ...outputs[name]! })) };
    } finally {
      this.#metrics?.observeInferenceRequest(this.name, String(this.version), ok);
    }
  }

  /** New requests are refused; queued and running ones finish first. */
  async close(): Promise<void> {
    await this.embedder?.close();
    await this.#runner.close();
    await this.#model.dispose();
  }

  #wantedOutputs(requested: InferRequest["outputs"]): string[] {
    const names = this.config.outputs.map((o) => o.name);
    if (!requested || requested.length === 0) return names;
    for (const o of requested)
      if (!names.includes(o.name))
        throw new InvalidRequestError(`unknown output '${o.name}'; the model has ${names.join(", ")}`);
    return requested.map((o) => o.name);
  }

  #check(inputs: readonly WireTensor[]): Checked {
    const feeds: Record<string, Tensor> = {};
    let rows = 1;
    const batched = this.config.maxBatchSize > 0;
    for (const given of inputs)
      if (!this.config.inputs.some((i) => i.name === given.name))
        throw new InvalidRequestError(
          `unknown input '${given.name}'; the model takes ${this.config.inputs.map((i) => i.name).join(", ")}`,
        );
    this.config.inputs.forEach((spec, k) => {
      const matches = inputs.filter((i) => i.name === spec.name);
      if (matches.length !== 1)
        throw new InvalidRequestError(
          matches.length === 0
            ? `input '${spec.name}' is missing`
            : `input '${spec.name}' is given ${matches.length} times`,
        );
      const tensor = checkTensor(matches[0]!, spec, batched, this.config.maxBatchSize);
      if (batched) {
        if (k > 0 && tensor.shape[0] !== rows)
          throw new InvalidRequestError(
            `input '${spec.name}' has ${tensor.shape[0]} rows but the other inputs have ${rows}`,
          );
        rows = tensor.shape[0]!;
      }
      feeds[spec.name] = tensor;
    });
    return { feeds, rows };
  }

  async #runBatch(batch: readonly Checked[], outputNames: readonly string[]): Promise<Record<string, Tensor>[]> {
    if (batch.length === 1) return [await this.#model.run(batch[0]!.feeds, outputNames)];
    const feeds: Record<string, Tensor> = {};
    for (const spec of this.config.inputs) feeds[spec.name] = this.#concatRows(batch.map((c) => c.feeds[spec.name]!));
    const outputs = await this.#model.run(feeds, outputNames);
    return splitRows(
      outputs,
      batch.map((c) => c.rows),
    );
  }

  #concatRows(tensors: readonly Tensor[]): Tensor {
    const first = tensors[0]!;
    const rows = tensors.reduce((sum, t) => sum + t.shape[0]!, 0);
    const data = this.#model.newInput(
      first.datatype,
      tensors.reduce((sum, t) => sum + t.data.length, 0),
    );
    let offset = 0;
    for (const t of tensors) {
      data.set(t.data as never, offset);
      offset += t.data.length;
    }
    return { datatype: first.datatype, shape: [rows, ...first.shape.slice(1)], data };
  }
}

function checkTensor(given: WireTensor, spec: ResolvedTensor, batched: boolean, maxBatchSize: number): Tensor {
  if (given.datatype !== spec.datatype)
    throw new InvalidRequestError(`input '${spec.name}' must be ${spec.datatype}, got ${given.datatype}`);
  const shape = given.shape;
  const expected = batched ? [-1, ...spec.dims] : spec.dims;
  const agrees =
    shape.length === expected.length &&
    shape.every((d, i) => Number.isInteger(d) && d >= 0 && (expected[i] === -1 || expected[i] === d));
  if (!agrees)
    throw new InvalidRequestError(
      `input '${spec.name}' must have shape [${expected.map((d) => (d === -1 ? "-1" : d)).join(", ")}], ` +
        `got [${shape.join(", ")}]`,
    );
  if (batched && (shape[0]! < 1 || shape[0]! > maxBatchSize))
    throw new InvalidRequestError(
      `input '${spec.name}' has ${shape[0]} rows; the most is max_batch_size ${maxBatchSize}`,
    );
  let data: Tensor["data"];
  try {
    data = given.raw
      ? fromBytes(spec.datatype, given.raw)
      : fromJson(spec.datatype, (given.data ?? []).flat(Number.POSITIVE_INFINITY));
  } catch (error) {
    throw new InvalidRequestError(`input '${spec.name}': ${(error as Error).message}`);
  }
  const count = elementCount(shape);
  if (data.length !== count)
    throw new InvalidRequestError(
      `input '${spec.name}' has ${data.length} elements but its shape [${shape.join(", ")}] holds ${count}`,
    );
  return { datatype: spec.datatype, shape: [...shape], data };
}

function splitRows(outputs: Record<string, Tensor>, rowsPerRequest: readonly number[]): Record<string, Tensor>[] {
  const parts: Record<string, Tensor>[] = rowsPerRequest.map(() => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    const rowSize = elementCount(tensor.shape.slice(1));
    let row = 0;
    rowsPerRequest.forEach((rows, k) => {
      parts[k]![name] = {
        datatype: tensor.datatype,
        shape: [rows, ...tensor.shape.slice(1)],
        data: tensor.data.slice(row * rowSize, (row + rows) * rowSize),
      };
      row += rows;
    });
  }
  return parts;
}
