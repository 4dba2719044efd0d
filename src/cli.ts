// `loom serve MODEL.gguf [options]` to a ConfigInput; flags win over LOOM_* environment variables. Parsing only:
// validation and defaults live in config.ts.
import { parseArgs } from "node:util";
import type { ConfigInput } from "./config.js";

export const USAGE = `usage: loom serve MODEL [options]

  MODEL is a GGUF file, hf:OWNER/REPO:QUANT, hf:OWNER/REPO/FILE.gguf or an https URL (downloaded once into
  the model cache, resumably; HF_ENDPOINT names a Hugging Face mirror, HF_TOKEN authenticates)

  --host HOST                 address to listen on (LOOM_HOST, default 127.0.0.1)
  --port N                    port to listen on (LOOM_PORT, default 8080)
  --served-model-name NAME    model name in the API (default: the file's base name)
  --kv-tokens N               KV cells in all (LOOM_KV_TOKENS, default 16384)
  --kv-layout LAYOUT          unified (one shared pool) or per-sequence (a stream of kv-tokens / max-running
                              cells per sequence; faster at high concurrency on CPU) (LOOM_KV_LAYOUT, default unified)
  --max-running N             most sequences decoding at once (LOOM_MAX_RUNNING, default 64)
  --max-batch-tokens N        token budget of one step (LOOM_MAX_BATCH_TOKENS, default 512)
  --max-model-len N           most tokens of one sequence (default: min(kv tokens, training context))
  --block-size N              tokens per KV block (default 16)
  --threads N                 llama.cpp compute threads (LOOM_THREADS, default: measured rule)
  --threads-batch N           threads for steps of more than one token (LOOM_THREADS_BATCH, default --threads);
                              a single-token step is memory-bound, so on few cores --threads 1 --threads-batch 2
                              leaves a core to HTTP and the client at concurrency 1
  --gpu-layers N              layers offloaded to the GPU, -1 for all (LOOM_GPU_LAYERS, default 0)
  --flash-attention MODE      auto|on|off (LOOM_FLASH_ATTENTION, default auto)
  --api-key KEY               require 'Authorization: Bearer KEY' on /v1 (LOOM_API_KEY; repeatable)
  --chat-template FILE        a Jinja chat template replacing the model's own
  --max-body-bytes N          largest accepted request body (default 32 MiB)
  --no-prefix-caching         do not share prompt prefixes between requests
  --prefix-cache-tokens N     KV cells kept for finished requests' prompts while one sequence runs, divided
                              among running sequences (LOOM_PREFIX_CACHE_TOKENS, default 2048)
  --max-waiting N             sequences allowed to wait per model; beyond it 429 (LOOM_MAX_WAITING, default 512)
  --request-timeout S         default per-request timeout in seconds, 0 for none (LOOM_REQUEST_TIMEOUT, default 600)
  --shutdown-grace S          seconds running requests get to finish on SIGTERM (LOOM_SHUTDOWN_GRACE, default 30)
  --log-level LEVEL           debug|info|warn|error|silent (LOOM_LOG_LEVEL, default info)
  --lora NAME=PATH            a LoRA adapter loaded at start-up, served as model NAME (repeatable)
  --lora-dir DIR              a folder run-time adapter loads may read from (repeatable; none: run-time loads refused)
  --max-loras N               adapters resident at once; idle ones beyond it are unloaded (default 8)
  --admin-key KEY             a key for /v1/load_lora_adapter and /v1/unload_lora_adapter (repeatable)
  --model-repository DIR      classic ONNX models served over KServe v2 (LOOM_MODEL_REPOSITORY, default models)
  --onnx-threads N            onnxruntime intra-op threads per model instance (default 1)
  --model-cache DIR           where downloaded models are kept (LOOM_MODEL_CACHE, default ~/.cache/loom/models)
  --offline                   use a model URI only from the cache, never download (LOOM_OFFLINE=1)`;

const FLAGS = {
  host: { type: "string" },
  port: { type: "string" },
  "served-model-name": { type: "string" },
  "kv-tokens": { type: "string" },
  "kv-layout": { type: "string" },
  "max-running": { type: "string" },
  "max-batch-tokens": { type: "string" },
  "max-model-len": { type: "string" },
  "block-size": { type: "string" },
  threads: { type: "string" },
  "threads-batch": { type: "string" },
  "gpu-layers": { type: "string" },
  "flash-attention": { type: "string" },
  "api-key": { type: "string", multiple: true },
  "chat-template": { type: "string" },
  "max-body-bytes": { type: "string" },
  "no-prefix-caching": { type: "boolean" },
  "prefix-cache-tokens": { type: "string" },
  "max-waiting": { type: "string" },
  "request-timeout": { type: "string" },
  "shutdown-grace": { type: "string" },
  "log-level": { type: "string" },
  lora: { type: "string", multiple: true },
  "lora-dir": { type: "string", multiple: true },
  "max-loras": { type: "string" },
  "admin-key": { type: "string", multiple: true },
  "model-repository": { type: "string" },
  "onnx-threads": { type: "string" },
  "model-cache": { type: "string" },
  offline: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw new RangeError(`--${name} must be an integer, got '${text}'`);
  return Number(text);
}

function namedPath(text: string): { name: string; path: string } {
  const at = text.indexOf("=");
  if (at <= 0 || at === text.length - 1) throw new RangeError(`--lora must be NAME=PATH, got '${text}'`);
  return { name: text.slice(0, at), path: text.slice(at + 1) };
}

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(text)) throw new RangeError(`--${name} must be a non-negative number, got '${text}'`);
  return Number(text);
}

/** Throws RangeError with the usage text for anything it cannot read. */
export function parseServeArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): ConfigInput {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof FLAGS; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new RangeError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new RangeError(USAGE);
  const [command, model, ...rest] = positionals;
  if (command !== "serve" || model === undefined || rest.length > 0) throw new RangeError(USAGE);
  const flag = (name: keyof typeof FLAGS, envName?: string) =>
    (values[name] as string | undefined) ?? (envName ? env[envName] : undefined);
  const config: Record<string, unknown> = {
    model,
    host: flag("host", "LOOM_HOST"),
    port: integer("port", flag("port", "LOOM_PORT")),
    servedModelName: flag("served-model-name", "LOOM_SERVED_MODEL_NAME"),
    kvTokens: integer("kv-tokens", flag("kv-tokens", "LOOM_KV_TOKENS")),
    kvLayout: flag("kv-layout", "LOOM_KV_LAYOUT"),
    maxRunning: integer("max-running", flag("max-running", "LOOM_MAX_RUNNING")),
    maxBatchTokens: integer("max-batch-tokens", flag("max-batch-tokens", "LOOM_MAX_BATCH_TOKENS")),
    maxModelLen: integer("max-model-len", flag("max-model-len", "LOOM_MAX_MODEL_LEN")),
    blockSize: integer("block-size", flag("block-size")),
    threads: integer("threads", flag("threads", "LOOM_THREADS")),
    threadsBatch: integer("threads-batch", flag("threads-batch", "LOOM_THREADS_BATCH")),
    gpuLayers: integer("gpu-layers", flag("gpu-layers", "LOOM_GPU_LAYERS")),
    flashAttention: flag("flash-attention", "LOOM_FLASH_ATTENTION"),
    apiKeys: values["api-key"] ?? (env.LOOM_API_KEY ? [env.LOOM_API_KEY] : undefined),
    chatTemplateFile: flag("chat-template", "LOOM_CHAT_TEMPLATE"),
    maxBodyBytes: integer("max-body-bytes", flag("max-body-bytes")),
    enablePrefixCaching: values["no-prefix-caching"] ? false : undefined,
    prefixCacheTokens: integer("prefix-cache-tokens", flag("prefix-cache-tokens", "LOOM_PREFIX_CACHE_TOKENS")),
    maxWaiting: integer("max-waiting", flag("max-waiting", "LOOM_MAX_WAITING")),
    requestTimeoutSeconds: number("request-timeout", flag("request-timeout", "LOOM_REQUEST_TIMEOUT")),
    shutdownGraceSeconds: number("shutdown-grace", flag("shutdown-grace", "LOOM_SHUTDOWN_GRACE")),
    logLevel: flag("log-level", "LOOM_LOG_LEVEL"),
    loras: values.lora?.map(namedPath),
    loraDirs: values["lora-dir"],
    maxLoras: integer("max-loras", flag("max-loras", "LOOM_MAX_LORAS")),
    modelRepository: flag("model-repository", "LOOM_MODEL_REPOSITORY"),
    onnxThreads: integer("onnx-threads", flag("onnx-threads")),
    adminKeys: values["admin-key"] ?? (env.LOOM_ADMIN_KEY ? [env.LOOM_ADMIN_KEY] : undefined),
    modelCacheDir: flag("model-cache", "LOOM_MODEL_CACHE"),
    offline: values.offline || env.LOOM_OFFLINE === "1" ? true : undefined,
  };
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as ConfigInput;
}
