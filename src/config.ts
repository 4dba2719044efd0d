// Config: every server option in one table: its key, command-line flag, environment variable, help line, and its
// zod schema (type, range and default). The CLI's parser and help (cli.ts), the environment mapping and the config
// schema are all built from it, so they cannot drift apart. A leaf module.
import { z } from "zod";
import { DECODING_OPTIONS } from "./config-decoding.js";
import { JOB_OPTIONS } from "./config-jobs.js";
import { ROUTING_OPTIONS } from "./config-routing.js";

/** How one option appears outside the code: `--flag ARG`, its LOOM_* variable and its help line. */
export interface OptionCli {
  readonly flag: `--${string}`;
  /** The value's name in the help; absent for a switch (a boolean flag without a value). */
  readonly arg?: string;
  readonly env: `LOOM_${string}`;
  readonly help: string;
  /** Parses one NAME=PATH-style value into the schema's element type; strings pass through by default. */
  readonly parseValue?: (text: string) => unknown;
}

export interface OptionSpec<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  readonly cli: OptionCli;
  /** "model": a model of a --config file may set its own value (engine, KV and limit options). */
  readonly scope?: "model";
}

const option = <S extends z.ZodType>(schema: S, cli: OptionCli): OptionSpec<S> => ({ schema, cli });
const modelOption = <S extends z.ZodType>(schema: S, cli: OptionCli): OptionSpec<S> => ({
  schema,
  cli,
  scope: "model",
});

/** `NAME=PATH` (a LoRA adapter loaded at start-up). */
function namedPath(text: string): { name: string; path: string } {
  const at = text.indexOf("=");
  if (at <= 0 || at === text.length - 1) throw new Error(`expected NAME=PATH, got '${text}'`);
  return { name: text.slice(0, at), path: text.slice(at + 1) };
}

const count = (min: number) => z.number().int().min(min);

/** Every option of `loom serve` (and of the commands that load models the same way). */
export const SERVE_OPTIONS = {
  servedModelName: option(z.array(z.string().min(1)).min(1).optional(), {
    flag: "--served-model-name",
    arg: "NAME",
    env: "LOOM_SERVED_MODEL_NAME",
    help: "model name in the API (repeatable: every name is an alias; default: the file's base name)",
  }),
  host: option(z.string().default("127.0.0.1"), {
    flag: "--host",
    arg: "HOST",
    env: "LOOM_HOST",
    help: "address to listen on",
  }),
  port: option(z.number().int().min(0).max(65535).default(8080), {
    flag: "--port",
    arg: "N",
    env: "LOOM_PORT",
    help: "port to listen on (0 picks a free one)",
  }),
  kvTokens: modelOption(count(64).optional(), {
    flag: "--kv-tokens",
    arg: "N",
    env: "LOOM_KV_TOKENS",
    help:
      "KV cells in all: one pool shared by all sequences, or split evenly into a stream per sequence (default: " +
      "32768 on the CPU; on a GPU, what 80% of its free memory holds after the weights)",
  }),
  kvLayout: modelOption(z.enum(["auto", "unified", "per-sequence"]).default("auto"), {
    flag: "--kv-layout",
    arg: "LAYOUT",
    env: "LOOM_KV_LAYOUT",
    help:
      "per-sequence (a stream of kv-tokens / max-running cells per sequence, llama-server's -np layout: attention " +
      "scans one stream, much faster at high concurrency), unified (one pool, prefixes shared in place, any " +
      "sequence may use any cell: for long or varied lengths), or auto: per-sequence when each stream holds the " +
      "model's context or at least 1024 tokens (and --max-model-len), unified otherwise",
  }),
  blockSize: modelOption(z.number().int().min(1).max(256).default(16), {
    flag: "--block-size",
    arg: "N",
    env: "LOOM_BLOCK_SIZE",
    help: "tokens per KV block: the unit of KV accounting and prefix sharing",
  }),
  maxRunning: modelOption(z.number().int().min(1).max(256).default(32), {
    flag: "--max-running",
    arg: "N",
    env: "LOOM_MAX_RUNNING",
    help: "most sequences decoding at once",
  }),
  maxBatchTokens: modelOption(count(16).default(512), {
    flag: "--max-batch-tokens",
    arg: "N",
    env: "LOOM_MAX_BATCH_TOKENS",
    help: "token budget of one step: decode tokens plus prefill chunks",
  }),
  maxModelLen: modelOption(count(16).optional(), {
    flag: "--max-model-len",
    arg: "N",
    env: "LOOM_MAX_MODEL_LEN",
    help:
      "most tokens (prompt and output) of one sequence " +
      "(default: the smaller of a sequence's KV cells and the model's training context)",
  }),
  threads: modelOption(count(1).optional(), {
    flag: "--threads",
    arg: "N",
    env: "LOOM_THREADS",
    help: "llama.cpp compute threads (default: all cores on 2, one less above)",
  }),
  threadsBatch: modelOption(count(1).optional(), {
    flag: "--threads-batch",
    arg: "N",
    env: "LOOM_THREADS_BATCH",
    help:
      "threads for steps of more than one token (default: --threads); a single-token step is memory-bound, so on " +
      "few cores --threads 1 --threads-batch 2 leaves a core to HTTP at concurrency 1",
  }),
  gpuLayers: modelOption(z.number().int().min(-1).optional(), {
    flag: "--gpu-layers",
    arg: "N",
    env: "LOOM_GPU_LAYERS",
    help:
      "layers offloaded to the GPU, -1 for all (default: all when the installed llama.cpp has a GPU backend, " +
      "else 0)",
  }),
  flashAttention: modelOption(z.enum(["auto", "on", "off"]).default("auto"), {
    flag: "--flash-attention",
    arg: "MODE",
    env: "LOOM_FLASH_ATTENTION",
    help: "llama.cpp's flash attention: auto, on or off",
  }),
  apiKeys: option(z.array(z.string().min(1)).default([]), {
    flag: "--api-key",
    arg: "KEY",
    env: "LOOM_API_KEY",
    help: "require 'Authorization: Bearer KEY' (or x-api-key) on the API (repeatable)",
  }),
  chatTemplateFile: modelOption(z.string().min(1).optional(), {
    flag: "--chat-template",
    arg: "FILE",
    env: "LOOM_CHAT_TEMPLATE",
    help: "a Jinja chat template replacing the model's own",
  }),
  maxBodyBytes: option(count(1024).default(32 * 1024 * 1024), {
    flag: "--max-body-bytes",
    arg: "N",
    env: "LOOM_MAX_BODY_BYTES",
    help: "largest accepted request body, in bytes",
  }),
  enablePrefixCaching: modelOption(z.boolean().default(true), {
    flag: "--no-prefix-caching",
    env: "LOOM_PREFIX_CACHING",
    help: "do not share prompt prefixes between requests",
  }),
  prefixCacheTokens: modelOption(count(0).default(2048), {
    flag: "--prefix-cache-tokens",
    arg: "N",
    env: "LOOM_PREFIX_CACHE_TOKENS",
    help: "KV cells kept for finished requests' prompts while one sequence runs, divided among running sequences",
  }),
  maxWaiting: modelOption(count(1).default(512), {
    flag: "--max-waiting",
    arg: "N",
    env: "LOOM_MAX_WAITING",
    help: "sequences allowed to wait per model; beyond it requests get 429 with Retry-After",
  }),
  requestTimeoutSeconds: modelOption(z.number().min(0).default(600), {
    flag: "--request-timeout",
    arg: "S",
    env: "LOOM_REQUEST_TIMEOUT",
    help: "default per-request timeout in seconds (a request may set its own `timeout`), 0 for none",
  }),
  shutdownGraceSeconds: option(z.number().min(0).default(30), {
    flag: "--shutdown-grace",
    arg: "S",
    env: "LOOM_SHUTDOWN_GRACE",
    help: "seconds running requests get to finish on SIGTERM before they are cancelled",
  }),
  enableForceIncludeUsage: option(z.boolean().default(false), {
    flag: "--enable-force-include-usage",
    env: "LOOM_ENABLE_FORCE_INCLUDE_USAGE",
    help: "end every stream with a usage chunk, asked for or not (vLLM's switch, for clients that never ask)",
  }),
  logLevel: option(z.enum(["debug", "info", "warn", "error", "silent"]).default("info"), {
    flag: "--log-level",
    arg: "LEVEL",
    env: "LOOM_LOG_LEVEL",
    help: "debug, info, warn, error or silent (JSON lines on stderr)",
  }),
  llamaLogLevel: option(z.enum(["debug", "info", "warn", "error", "silent"]).default("silent"), {
    flag: "--llama-log-level",
    arg: "LEVEL",
    env: "LOOM_LLAMA_LOG",
    help: "llama.cpp's own log level (its lines go to stderr as they are)",
  }),
  loras: modelOption(z.array(z.object({ name: z.string().min(1), path: z.string().min(1) })).default([]), {
    flag: "--lora",
    arg: "NAME=PATH",
    env: "LOOM_LORA",
    help: "a LoRA adapter loaded at start-up, served as model NAME (repeatable)",
    parseValue: namedPath,
  }),
  loraDirs: modelOption(z.array(z.string().min(1)).default([]), {
    flag: "--lora-dir",
    arg: "DIR",
    env: "LOOM_LORA_DIR",
    help: "a folder run-time adapter loads may read from (repeatable; none: run-time loads are refused)",
  }),
  maxLoras: modelOption(count(1).default(8), {
    flag: "--max-loras",
    arg: "N",
    env: "LOOM_MAX_LORAS",
    help: "adapters resident at once; idle ones beyond it are unloaded",
  }),
  adminKeys: option(z.array(z.string().min(1)).default([]), {
    flag: "--admin-key",
    arg: "KEY",
    env: "LOOM_ADMIN_KEY",
    help: "a key for the admin routes (adapter loading); without one, the API keys guard them (repeatable)",
  }),
  ui: option(z.boolean().default(true), {
    flag: "--no-ui",
    env: "LOOM_UI",
    help: "do not serve the web dashboard and playground at / and /ui",
  }),
  modelRepository: option(z.string().min(1).default("models"), {
    flag: "--model-repository",
    arg: "DIR",
    env: "LOOM_MODEL_REPOSITORY",
    help:
      "Triton-style repository of classic (ONNX) models served over KServe v2: " +
      "NAME/config.json, NAME/VERSION/model.onnx",
  }),
  onnxThreads: option(count(1).default(1), {
    flag: "--onnx-threads",
    arg: "N",
    env: "LOOM_ONNX_THREADS",
    help: "onnxruntime intra-op threads per model instance",
  }),
  modelCacheDir: option(z.string().min(1).optional(), {
    flag: "--model-cache",
    arg: "DIR",
    env: "LOOM_MODEL_CACHE",
    help: "where a model given as hf:OWNER/REPO:QUANT, hf:... or a URL is downloaded (default ~/.cache/loom/models)",
  }),
  offline: option(z.boolean().default(false), {
    flag: "--offline",
    env: "LOOM_OFFLINE",
    help: "take a model URI only from the model cache, never from the network",
  }),
  ...DECODING_OPTIONS,
  ...JOB_OPTIONS,
  ...ROUTING_OPTIONS,
} as const;

type Schemas<T extends Record<string, OptionSpec>> = { [K in keyof T]: T[K]["schema"] };

function schemasOf<T extends Record<string, OptionSpec>>(table: T): Schemas<T> {
  return Object.fromEntries(Object.entries(table).map(([key, spec]) => [key, spec.schema])) as Schemas<T>;
}

export const ConfigSchema = z.object({
  /** The GGUF file to serve, or an hf: URI or URL of one (the positional argument; optional with --config). */
  model: z.string().min(1).optional(),
  ...schemasOf(SERVE_OPTIONS),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** An option, or a combination of options, the server cannot start with; the CLI prints it and exits with 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Validated config with defaults filled; throws ConfigError with every invalid option named (by its flag). */
export function loadConfig(input: ConfigInput): Config {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    const name = (key: PropertyKey | undefined) =>
      (SERVE_OPTIONS as Record<string, OptionSpec>)[String(key)]?.cli.flag ?? String(key);
    const issues = parsed.error.issues.map(
      (i) => `${name(i.path[0])}${i.path.length > 1 ? `.${i.path.slice(1).join(".")}` : ""}: ${i.message}`,
    );
    throw new ConfigError(`invalid configuration: ${issues.join("; ")}`);
  }
  if (parsed.data.model === undefined && parsed.data.configFile === undefined)
    throw new ConfigError("missing required argument 'model' (or --config FILE)");
  return parsed.data;
}
