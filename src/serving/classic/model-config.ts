// Triton-style model configuration (config.json beside the versions of a model in the repository), validated,
// and completed from the ONNX file: what the config leaves out is read from the model, and what it states must
// agree with the model, so a mismatch refuses the model at load rather than failing its first request.
import { z } from "zod";
import type { OnnxModel, TensorSpec } from "../../backend/onnx/onnx-model.js";
import { KSERVE_DATATYPES, type KserveDatatype } from "../../backend/onnx/tensors.js";

const TensorConfig = z.object({
  name: z.string().min(1),
  datatype: z.enum(KSERVE_DATATYPES as [KserveDatatype, ...KserveDatatype[]]).optional(),
  dims: z.array(z.number().int().min(-1)).optional(),
});

const ModelConfigSchema = z
  .object({
    name: z.string().min(1).optional(),
    platform: z.literal("onnxruntime_onnx").optional(),
    max_batch_size: z.number().int().min(0).default(0),
    input: z.array(TensorConfig).optional(),
    output: z.array(TensorConfig).optional(),
    dynamic_batching: z
      .object({
        preferred_batch_size: z.array(z.number().int().min(1)).default([]),
        max_queue_delay_microseconds: z.number().int().min(0).default(0),
        max_queue_size: z.number().int().min(1).default(1024),
      })
      .optional(),
    instance_group: z
      .array(
        z.object({
          count: z.number().int().min(1).default(1),
          kind: z.enum(["KIND_CPU", "KIND_GPU", "KIND_AUTO"]).default("KIND_CPU"),
        }),
      )
      .default([{ count: 1, kind: "KIND_CPU" }]),
    /** Triton's free-form parameters; Loom reads the text-model settings below from them. */
    parameters: z.record(z.string(), z.object({ string_value: z.string() })).default({}),
    version_policy: z
      .union([
        z.object({ latest: z.object({ num_versions: z.number().int().min(1) }) }),
        z.object({ all: z.object({}) }),
        z.object({ specific: z.object({ versions: z.array(z.number().int().min(1)).min(1) }) }),
      ])
      .default({ latest: { num_versions: 1 } }),
  })
  .strict();
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

export interface ResolvedTensor {
  readonly name: string;
  readonly datatype: KserveDatatype;
  /** Without the batch axis when maxBatchSize > 0; -1 for any size. */
  readonly dims: readonly number[];
}

/**
 * Settings of a text model: its tokenizer.json turns strings into the model's input_ids (and attention_mask,
 * token_type_ids).
 */
export interface TextSettings {
  /** The tokenizer file, relative to the model's folder. */
  readonly tokenizer: string;
  /**
   * How token vectors become one embedding: mean over real tokens, the first ([CLS]) token, or none when the model
   * pools itself.
   */
  readonly pooling: "mean" | "cls" | "none";
  readonly normalize: boolean;
  /**
   * Longer inputs are truncated to this many tokens (special tokens kept); null: tokenizer.json's truncation, else the
   * model's limit.
   */
  readonly maxSequenceLength: number | null;
  /** "longest" pads a batch to its longest input; "fixed" pads every input to maxSequenceLength. */
  readonly padding: "longest" | "fixed";
  /**
   * The output holding token vectors [batch, tokens, dim] or pooled ones [batch, dim]; null: the model's first output.
   */
  readonly output: string | null;
}

const TEXT_PARAMETERS = new Set([
  "tokenizer",
  "pooling",
  "normalize",
  "max_sequence_length",
  "padding",
  "embedding_output",
]);

/**
 * Text settings from the config's parameters; null when the model has no tokenizer (neither named nor beside
 * config.json).
 */
export function textSettings(name: string, config: ModelConfig, hasDefaultTokenizer: boolean): TextSettings | null {
  const params = Object.fromEntries(Object.entries(config.parameters).map(([key, value]) => [key, value.string_value]));
  for (const key of Object.keys(params)) {
    if (!TEXT_PARAMETERS.has(key))
      throw new ModelConfigError(name, `unknown parameter '${key}'; Loom reads ${[...TEXT_PARAMETERS].join(", ")}`);
  }
  const tokenizer = params.tokenizer ?? (hasDefaultTokenizer ? "tokenizer.json" : undefined);
  if (tokenizer === undefined) {
    if (Object.keys(params).length > 0)
      throw new ModelConfigError(
        name,
        `text parameters (${Object.keys(params).join(", ")}) ` +
          "need a tokenizer.json beside config.json or a 'tokenizer' parameter",
      );
    return null;
  }
  const oneOf = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const value = params[key] ?? fallback;
    if (!allowed.includes(value as T))
      throw new ModelConfigError(name, `parameter '${key}' is '${value}'; it must be one of ${allowed.join(", ")}`);
    return value as T;
  };
  const maxLength = params.max_sequence_length;
  if (maxLength !== undefined && !/^[1-9]\d*$/.test(maxLength))
    throw new ModelConfigError(name, `parameter 'max_sequence_length' must be a positive integer, got '${maxLength}'`);
  const padding = oneOf("padding", ["longest", "fixed"] as const, "longest");
  if (padding === "fixed" && maxLength === undefined)
    throw new ModelConfigError(name, "padding 'fixed' needs max_sequence_length");
  if (config.max_batch_size === 0)
    throw new ModelConfigError(
      name,
      "a text model needs max_batch_size > 0: its inputs are batches of token sequences",
    );
  return {
    tokenizer,
    pooling: oneOf("pooling", ["mean", "cls", "none"] as const, "mean"),
    normalize: oneOf("normalize", ["true", "false"] as const, "true") === "true",
    maxSequenceLength: maxLength === undefined ? null : Number(maxLength),
    padding,
    output: params.embedding_output ?? null,
  };
}

export interface ResolvedConfig {
  readonly name: string;
  readonly maxBatchSize: number;
  readonly inputs: readonly ResolvedTensor[];
  readonly outputs: readonly ResolvedTensor[];
  readonly batching: {
    readonly preferredBatchSizes: readonly number[];
    readonly maxQueueDelayMs: number;
    readonly maxQueueSize: number;
  } | null;
  readonly instances: number;
  readonly device: "cpu" | "cuda";
}

export class ModelConfigError extends Error {
  constructor(model: string, message: string) {
    super(`model '${model}': ${message}`);
    this.name = "ModelConfigError";
  }
}

export function parseModelConfig(name: string, json: unknown): ModelConfig {
  const parsed = ModelConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ModelConfigError(name, `invalid config.json: ${issues.join("; ")}`);
  }
  if (parsed.data.name !== undefined && parsed.data.name !== name)
    throw new ModelConfigError(name, `config.json names it '${parsed.data.name}' but its folder is '${name}'`);
  return parsed.data;
}

function resolveTensors(
  model: string,
  kind: "input" | "output",
  stated: ModelConfig["input"],
  actual: readonly TensorSpec[],
  maxBatchSize: number,
): ResolvedTensor[] {
  const byName = new Map(actual.map((t) => [t.name, t]));
  const list: z.infer<typeof TensorConfig>[] = stated ?? actual.map((t) => ({ name: t.name }));
  if (stated && kind === "input" && stated.length !== actual.length) {
    throw new ModelConfigError(
      model,
      `config.json lists ${stated.length} inputs but the model has ${actual.length} ` +
        `(${actual.map((t) => t.name).join(", ")})`,
    );
  }
  return list.map((t) => {
    const spec = byName.get(t.name);
    if (!spec)
      throw new ModelConfigError(
        model,
        `${kind} '${t.name}' is not in the model (it has ${actual.map((a) => a.name).join(", ")})`,
      );
    const datatype = t.datatype ?? spec.datatype;
    if (!datatype) throw new ModelConfigError(model, `${kind} '${t.name}' has an element type Loom cannot serve`);
    if (spec.datatype && spec.datatype !== datatype)
      throw new ModelConfigError(model, `${kind} '${t.name}' is ${spec.datatype} in the model, not ${datatype}`);
    let modelDims = spec.shape;
    if (modelDims && maxBatchSize > 0) {
      if (modelDims.length === 0 || modelDims[0] !== -1)
        throw new ModelConfigError(
          model,
          `max_batch_size is ${maxBatchSize} but ${kind} '${t.name}' has no dynamic batch axis ` +
            `(shape [${modelDims.join(", ")}])`,
        );
      modelDims = modelDims.slice(1);
    }
    const dims = t.dims ?? modelDims;
    if (!dims)
      throw new ModelConfigError(
        model,
        `${kind} '${t.name}': the model does not state its shape, so config.json must give dims`,
      );
    if (modelDims) {
      const agrees = modelDims.length === dims.length && modelDims.every((d, i) => d === -1 || d === dims[i]);
      if (!agrees)
        throw new ModelConfigError(
          model,
          `${kind} '${t.name}' has dims [${dims.join(", ")}] in config.json but [${modelDims.join(", ")}] in the model`,
        );
    }
    return { name: t.name, datatype, dims };
  });
}

/** Sessions to run side by side and where: Triton's instance groups summed, on the GPU when any group asks for it. */
export function instanceGroup(config: ModelConfig): { readonly instances: number; readonly device: "cpu" | "cuda" } {
  return {
    instances: config.instance_group.reduce((sum, g) => sum + g.count, 0),
    device: config.instance_group.some((g) => g.kind === "KIND_GPU") ? "cuda" : "cpu",
  };
}

export function resolveConfig(
  name: string,
  config: ModelConfig,
  model: Pick<OnnxModel, "inputs" | "outputs">,
): ResolvedConfig {
  const batching = config.dynamic_batching;
  if (batching && config.max_batch_size === 0)
    throw new ModelConfigError(name, "dynamic_batching needs max_batch_size > 0");
  for (const size of batching?.preferred_batch_size ?? []) {
    if (size > config.max_batch_size)
      throw new ModelConfigError(name, `preferred_batch_size ${size} exceeds max_batch_size ${config.max_batch_size}`);
  }
  return {
    name,
    maxBatchSize: config.max_batch_size,
    inputs: resolveTensors(name, "input", config.input, model.inputs, config.max_batch_size),
    outputs: resolveTensors(name, "output", config.output, model.outputs, config.max_batch_size),
    batching: batching
      ? {
          preferredBatchSizes: batching.preferred_batch_size,
          maxQueueDelayMs: batching.max_queue_delay_microseconds / 1000,
          maxQueueSize: batching.max_queue_size,
        }
      : null,
    ...instanceGroup(config),
  };
}

/** Versions to serve from those on disk, by the version policy. */
export function selectVersions(policy: ModelConfig["version_policy"], onDisk: readonly number[]): number[] {
  const sorted = [...onDisk].sort((a, b) => b - a);
  if ("latest" in policy) return sorted.slice(0, policy.latest.num_versions);
  if ("all" in policy) return sorted;
  return sorted.filter((v) => policy.specific.versions.includes(v));
}
