// Triton-style model configuration (config.json beside the versions of a model in the repository), validated,
// and completed from the ONNX file: what the config leaves out is read from the model, and what it states must
// agree with the model, so a mismatch refuses the model at load rather than failing its first request.
import { z } from "zod";
import type { OnnxModel, TensorSpec } from "../backend/onnx/onnx-model.js";
import { KSERVE_DATATYPES, type KserveDatatype } from "../backend/onnx/tensors.js";

const TensorConfig = z.object({
  name: z.string().min(1),
  datatype: z.enum(KSERVE_DATATYPES as [KserveDatatype, ...KserveDatatype[]]).optional(),
  dims: z.array(z.number().int().min(-1)).optional(),
});

export const ModelConfigSchema = z.object({
  name: z.string().min(1).optional(),
  platform: z.literal("onnxruntime_onnx").optional(),
  max_batch_size: z.number().int().min(0).default(0),
  input: z.array(TensorConfig).optional(),
  output: z.array(TensorConfig).optional(),
  dynamic_batching: z.object({
    preferred_batch_size: z.array(z.number().int().min(1)).default([]),
    max_queue_delay_microseconds: z.number().int().min(0).default(0),
    max_queue_size: z.number().int().min(1).default(1024),
  }).optional(),
  instance_group: z.array(z.object({ count: z.number().int().min(1).default(1), kind: z.enum(["KIND_CPU", "KIND_GPU", "KIND_AUTO"]).default("KIND_CPU") })).default([{ count: 1, kind: "KIND_CPU" }]),
  version_policy: z.union([
    z.object({ latest: z.object({ num_versions: z.number().int().min(1) }) }),
    z.object({ all: z.object({}) }),
    z.object({ specific: z.object({ versions: z.array(z.number().int().min(1)).min(1) }) }),
  ]).default({ latest: { num_versions: 1 } }),
}).strict();
export type ModelConfigInput = z.input<typeof ModelConfigSchema>;
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

export interface ResolvedTensor {
  readonly name: string;
  readonly datatype: KserveDatatype;
  /** Without the batch axis when maxBatchSize > 0; -1 for any size. */
  readonly dims: readonly number[];
}

export interface ResolvedConfig {
  readonly name: string;
  readonly maxBatchSize: number;
  readonly inputs: readonly ResolvedTensor[];
  readonly outputs: readonly ResolvedTensor[];
  readonly batching: { readonly preferredBatchSizes: readonly number[]; readonly maxQueueDelayMs: number; readonly maxQueueSize: number } | null;
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
  if (!parsed.success) throw new ModelConfigError(name, `invalid config.json: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  if (parsed.data.name !== undefined && parsed.data.name !== name) throw new ModelConfigError(name, `config.json names it '${parsed.data.name}' but its folder is '${name}'`);
  return parsed.data;
}

function resolveTensors(model: string, kind: "input" | "output", stated: ModelConfig["input"], actual: readonly TensorSpec[], maxBatchSize: number): ResolvedTensor[] {
  const byName = new Map(actual.map((t) => [t.name, t]));
  const list: z.infer<typeof TensorConfig>[] = stated ?? actual.map((t) => ({ name: t.name }));
  if (stated && kind === "input" && stated.length !== actual.length) {
    throw new ModelConfigError(model, `config.json lists ${stated.length} inputs but the model has ${actual.length} (${actual.map((t) => t.name).join(", ")})`);
  }
  return list.map((t) => {
    const spec = byName.get(t.name);
    if (!spec) throw new ModelConfigError(model, `${kind} '${t.name}' is not in the model (it has ${actual.map((a) => a.name).join(", ")})`);
    const datatype = t.datatype ?? spec.datatype;
    if (!datatype) throw new ModelConfigError(model, `${kind} '${t.name}' has an element type Loom cannot serve`);
    if (spec.datatype && spec.datatype !== datatype) throw new ModelConfigError(model, `${kind} '${t.name}' is ${spec.datatype} in the model, not ${datatype}`);
    let modelDims = spec.shape;
    if (modelDims && maxBatchSize > 0) {
      if (modelDims.length === 0 || modelDims[0] !== -1) throw new ModelConfigError(model, `max_batch_size is ${maxBatchSize} but ${kind} '${t.name}' has no dynamic batch axis (shape [${modelDims.join(", ")}])`);
      modelDims = modelDims.slice(1);
    }
    const dims = t.dims ?? modelDims;
    if (!dims) throw new ModelConfigError(model, `${kind} '${t.name}': the model does not state its shape, so config.json must give dims`);
    if (modelDims) {
      const agrees = modelDims.length === dims.length && modelDims.every((d, i) => d === -1 || d === dims[i]);
      if (!agrees) throw new ModelConfigError(model, `${kind} '${t.name}' has dims [${dims.join(", ")}] in config.json but [${modelDims.join(", ")}] in the model`);
    }
    return { name: t.name, datatype, dims };
  });
}

export function resolveConfig(name: string, config: ModelConfig, model: Pick<OnnxModel, "inputs" | "outputs">): ResolvedConfig {
  const batching = config.dynamic_batching;
  if (batching && config.max_batch_size === 0) throw new ModelConfigError(name, "dynamic_batching needs max_batch_size > 0");
  for (const size of batching?.preferred_batch_size ?? []) {
    if (size > config.max_batch_size) throw new ModelConfigError(name, `preferred_batch_size ${size} exceeds max_batch_size ${config.max_batch_size}`);
  }
  const kinds = new Set(config.instance_group.map((g) => g.kind));
  return {
    name,
    maxBatchSize: config.max_batch_size,
    inputs: resolveTensors(name, "input", config.input, model.inputs, config.max_batch_size),
    outputs: resolveTensors(name, "output", config.output, model.outputs, config.max_batch_size),
    batching: batching ? { preferredBatchSizes: batching.preferred_batch_size, maxQueueDelayMs: batching.max_queue_delay_microseconds / 1000, maxQueueSize: batching.max_queue_size } : null,
    instances: config.instance_group.reduce((sum, g) => sum + g.count, 0),
    device: kinds.has("KIND_GPU") ? "cuda" : "cpu",
  };
}

/** Versions to serve from those on disk, by the version policy. */
export function selectVersions(policy: ModelConfig["version_policy"], onDisk: readonly number[]): number[] {
  const sorted = [...onDisk].sort((a, b) => b - a);
  if ("latest" in policy) return sorted.slice(0, policy.latest.num_versions);
  if ("all" in policy) return sorted;
  return sorted.filter((v) => policy.specific.versions.includes(v));
}
