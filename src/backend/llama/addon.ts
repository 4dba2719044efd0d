// Loads native/build/Release/loom.node and declares its surface: the one typed view of the C++ addon.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GrammarTrigger } from "../../sampling-params.js";
import type { Batch, KvUsage, ModelInfo, StepResult } from "../types.js";

/** A ggml compute device: its name (CUDA0, Vulkan0, Metal, CPU), description and memory in bytes. */
export interface NativeDevice {
  readonly name: string;
  readonly description: string;
  readonly memoryFreeBytes: number;
  readonly memoryTotalBytes: number;
}

export interface NativeInitInfo {
  readonly devices: readonly NativeDevice[];
  readonly systemInfo: string;
  readonly supportsGpuOffload: boolean;
  readonly maxSequences: number;
}

export interface NativeModel {
  info(): ModelInfo;
  metadata(): Record<string, string>;
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  tokenToBytes(token: number, special: boolean): Uint8Array;
  detokenize(tokens: Int32Array, removeSpecial: boolean, unparseSpecial: boolean): string;
  dispose(): void;
}

export interface NativeSamplerOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  seed?: number;
  repeatPenalty?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  penaltyLastN?: number;
  logitBiasTokens?: Int32Array;
  logitBiasValues?: Float32Array;
  grammar?: string;
  grammarRoot?: string;
  /** The grammar waits for one of grammarTriggers before it constrains anything. */
  grammarLazy?: boolean;
  grammarTriggers?: readonly GrammarTrigger[];
  /** Text the grammar accepts before the first sampled token (a non-lazy chat-layer grammar's generation prompt). */
  grammarPrefill?: string;
  /** Thinking-block tags: a lazy grammar is not triggered inside a thinking block. */
  thinkingStartTag?: string;
  thinkingEndTags?: readonly string[];
}

export interface NativeSampler {
  accept(tokens: Int32Array): void;
  dispose(): void;
}

/**
 * The request of ChatTemplates.apply, serialized with JSON.stringify: OpenAI's chat fields as they arrive on the wire
 * (messages, tools, tool_choice, parallel_tool_calls) plus llama-server's (json_schema, grammar, enable_thinking,
 * reasoning_format, chat_template_kwargs) and now_ms, the time templates print as today's date.
 */
export interface NativeChatApplyRequest {
  messages: readonly unknown[];
  tools?: readonly unknown[];
  tool_choice?: unknown;
  parallel_tool_calls?: boolean;
  add_generation_prompt?: boolean;
  json_schema?: unknown;
  grammar?: string;
  enable_thinking?: boolean;
  reasoning_format?: "none" | "auto" | "deepseek" | "deepseek-legacy";
  chat_template_kwargs?: Record<string, unknown>;
  now_ms?: number;
}

/** llama.cpp's common_chat_params, with single-token trigger words resolved to token triggers. */
export interface NativeChatApplyResult {
  prompt: string;
  format: number;
  formatName: string;
  /** "" when nothing is constrained. */
  grammar: string;
  grammarLazy: boolean;
  grammarTriggers: GrammarTrigger[];
  preservedTokens: string[];
  /** The preserved tokens that are single tokens of this vocabulary. */
  preservedTokenIds: Int32Array;
  additionalStops: string[];
  generationPrompt: string;
  /** The serialized output parser (a PEG arena), "" for plain content. */
  parser: string;
  supportsThinking: boolean;
  thinkingStartTag: string;
  thinkingEndTags: string[];
}

export interface NativeChatTemplates {
  apply(requestJson: string): NativeChatApplyResult;
  source(variant?: "tool_use"): string;
  capabilities(): Record<string, boolean>;
}

export interface NativeChatParserParams {
  format: number;
  generationPrompt: string;
  parser: string;
}

export interface NativeChatMessage {
  content: string;
  reasoningContent: string;
  toolCalls: { id?: string; name: string; arguments: string }[];
}

export interface NativeChatParser {
  parse(text: string, isPartial: boolean): NativeChatMessage;
  complete(text: string): boolean;
}

export interface NativeLoraAdapter {
  metadata(): Record<string, string>;
  dispose(): void;
}

export interface NativeContextOptions {
  kvTokens?: number;
  batchTokens?: number;
  microBatchTokens?: number;
  maxSequences?: number;
  /** One KV pool shared by all sequences (default), or a stream of kvTokens / maxSequences cells per sequence. */
  kvUnified?: boolean;
  threads?: number;
  threadsBatch?: number;
  flashAttention?: "on" | "off" | "auto";
  kvCacheType?: "f32" | "f16" | "bf16" | "q8_0" | "q4_0" | "q4_1" | "q5_0" | "q5_1";
  embeddings?: boolean;
  pooling?: "none" | "mean" | "cls" | "last";
  /** How hard idle CPU compute threads poll for work, 0 (sleep) to 100 (spin). */
  threadPoll?: number;
  /**
   * Share the process-wide CPU threadpool and take turns computing with the other contexts that share it (default
   * true); false gives the context threadpools of its own.
   */
  sharedCompute?: boolean;
  /**
   * Deterministic mode: a row's logits do not depend on the other rows of its step (native/src/decode-calls.cpp);
   * needs flash attention, which it turns on.
   */
  batchInvariant?: boolean;
}

export interface NativeContext {
  readonly kvTokens: number;
  readonly batchTokens: number;
  readonly microBatchTokens: number;
  readonly maxSequences: number;
  /** KV cells one sequence can use: kvTokens in a unified pool, its stream's size otherwise. */
  readonly cellsPerSequence: number;
  readonly threads: number;
  readonly threadsBatch: number;
  readonly embeddings: boolean;
  /** Whether the context computes on the process-wide CPU threadpool (see NativeContextOptions.sharedCompute). */
  readonly sharedCompute: boolean;
  step(batch: Batch): Promise<StepResult>;
  inspect(seqIds?: Int32Array): Promise<KvUsage>;
  embed(inputs: readonly Int32Array[]): Promise<Float32Array[]>;
  dispose(): void;
}

export interface NativeAddon {
  init(libDir: string): NativeInitInfo;
  setLogLevel(level: number): void;
  Model: {
    load(path: string, options: { gpuLayers?: number; useMmap?: boolean; vocabOnly?: boolean }): Promise<NativeModel>;
  };
  Context: { create(model: NativeModel, options: NativeContextOptions): Promise<NativeContext> };
  LoraAdapter: { load(model: NativeModel, path: string): Promise<NativeLoraAdapter> };
  Sampler: new (model: NativeModel, options: NativeSamplerOptions) => NativeSampler;
  ChatTemplates: new (model: NativeModel, overrideSource?: string) => NativeChatTemplates;
  ChatParser: new (params: NativeChatParserParams) => NativeChatParser;
  /** GBNF for a JSON schema (given as JSON text), by llama.cpp's json_schema_to_grammar. */
  jsonSchemaToGrammar(schemaJson: string): string;
}

/** An error from the addon: err.code names what went wrong (LOOM_MODEL_INVALID, LOOM_KV_FULL, ...). */
export interface NativeError extends Error {
  readonly code: string;
}

export function isNativeError(error: unknown, code?: string): error is NativeError {
  return (
    error instanceof Error &&
    typeof (error as NativeError).code === "string" &&
    (code === undefined || (error as NativeError).code === code)
  );
}

const LOG_LEVELS = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 } as const;
type LlamaLogLevel = keyof typeof LOG_LEVELS;

// src/backend/llama and dist/backend/llama are both three folders below the repository root.
const nativeBuildDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "native", "build");

let loaded: { addon: NativeAddon; init: NativeInitInfo; variant: string; libDir: string } | undefined;

/** The addon, loaded and initialised once per process. */
export function loadAddon(): { addon: NativeAddon; init: NativeInitInfo; variant: string; libDir: string } {
  if (loaded) return loaded;
  const manifestPath = join(nativeBuildDir, "loom-native.json");
  const addonPath = join(nativeBuildDir, "Release", "loom.node");
  if (!existsSync(manifestPath) || !existsSync(addonPath)) {
    throw new Error(`the native addon is not built (${addonPath} is missing): run npm ci, or npm run build:native`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { libDir: string; variant: string };
  const addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
  // Silent until the server applies its --llama-log-level: llama.cpp logs every tensor as a model loads.
  setLlamaLogLevel("silent", addon);
  loaded = { addon, init: addon.init(manifest.libDir), variant: manifest.variant, libDir: manifest.libDir };
  return loaded;
}

/**
 * The accelerators llama.cpp can offload to (CPU devices left out), with their memory as it is now: after a model
 * loaded, its weights count as used. Empty when the installed variant has no GPU backend.
 */
export function gpuDevices(): NativeDevice[] {
  const { addon, init, libDir } = loadAddon();
  if (!init.supportsGpuOffload) return [];
  // init() loads the backends once; called again, it reads the devices' memory afresh.
  return addon.init(libDir).devices.filter((d) => !/^cpu/i.test(d.name));
}

export function setLlamaLogLevel(level: LlamaLogLevel, addon: NativeAddon = loadAddon().addon): void {
  const value = LOG_LEVELS[level];
  if (value === undefined)
    throw new RangeError(`log level must be one of ${Object.keys(LOG_LEVELS).join(", ")}, got ${level}`);
  addon.setLogLevel(value);
}
