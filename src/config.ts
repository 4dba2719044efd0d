// Config: every server option, its default and its validation. A leaf module.
import { z } from "zod";

export const ConfigSchema = z.object({
  model: z.string().min(1),
  servedModelName: z.string().min(1).optional(),
  host: z.string().default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(8080),
  /** KV cells in all: one pool shared by all sequences, or split evenly into one stream per sequence. */
  kvTokens: z.number().int().min(64).default(16384),
  /**
   * unified: one pool, prefixes shared in place, any sequence may use any cell. per-sequence: a stream of
   * kvTokens / maxRunning cells per sequence (llama-server's layout): on CPU much faster decoding of many
   * sequences at once, since attention scans one stream instead of the whole pool; prefixes are shared by copying.
   */
  kvLayout: z.enum(["unified", "per-sequence"]).default("unified"),
  blockSize: z.number().int().min(1).max(256).default(16),
  maxRunning: z.number().int().min(1).max(200).default(64),
  /** Token budget of one step: decode tokens plus prefill chunks. */
  maxBatchTokens: z.number().int().min(16).default(512),
  /** Most tokens (prompt and output) of one sequence; defaults to the smaller of the pool and the model's training context. */
  maxModelLen: z.number().int().min(16).optional(),
  threads: z.number().int().min(1).optional(),
  /** Threads for steps of more than one token (llama.cpp's n_threads_batch); defaults to threads. */
  threadsBatch: z.number().int().min(1).optional(),
  gpuLayers: z.number().int().min(-1).default(0),
  flashAttention: z.enum(["auto", "on", "off"]).default("auto"),
  apiKeys: z.array(z.string().min(1)).default([]),
  chatTemplateFile: z.string().optional(),
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(32 * 1024 * 1024),
  enablePrefixCaching: z.boolean().default(true),
  /** KV cells kept for finished requests' prompts while one sequence runs, shared out among running sequences (KvManagerOptions.retainedTokens). */
  prefixCacheTokens: z.number().int().min(0).default(2048),
  /** Sequences allowed to wait for admission per model; more are refused with 429 and Retry-After. */
  maxWaiting: z.number().int().min(1).default(512),
  /** Default per-request timeout in seconds (a request may set its own); 0 disables it. */
  requestTimeoutSeconds: z.number().min(0).default(600),
  /** On SIGTERM, how long running requests may go on before they are cancelled. */
  shutdownGraceSeconds: z.number().min(0).default(30),
  logLevel: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  /** LoRA adapters loaded at start-up (from any path: the operator named them). */
  loras: z.array(z.object({ name: z.string().min(1), path: z.string().min(1) })).default([]),
  /** Folders run-time adapter loads may read from; none disables run-time loading. */
  loraDirs: z.array(z.string().min(1)).default([]),
  maxLoras: z.number().int().min(1).default(8),
  /** Keys for the adapter load/unload routes; without any, the API keys (if set) guard them too. */
  adminKeys: z.array(z.string().min(1)).default([]),
  /** Triton-style repository of classic (ONNX) models: NAME/config.json and NAME/VERSION/model.onnx. */
  modelRepository: z.string().min(1).default("models"),
  /** onnxruntime intra-op threads per model instance; one leaves the other core to the event loop on small machines. */
  onnxThreads: z.number().int().min(1).default(1),
  /** Where hf: URIs and URLs given as the model are downloaded to (default: compose/model-source.ts). */
  modelCacheDir: z.string().min(1).optional(),
  /** Resolve a model URI from the cache only, never the network. */
  offline: z.boolean().default(false),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Validated config with defaults filled; throws with every invalid option named. */
export function loadConfig(input: ConfigInput): Config {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new RangeError(
      `invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}
