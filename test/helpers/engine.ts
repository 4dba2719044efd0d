// A real engine over a real LlamaContext, sized for tests, and a helper that runs one request to its end.
import type { LlamaContext } from "../../src/backend/llama/llama-context.js";
import type { LlamaModel } from "../../src/backend/llama/llama-model.js";
import { type DraftPreparer, Engine } from "../../src/engine/engine.js";
import type { StepEvent } from "../../src/engine/events.js";
import type { Request } from "../../src/engine/request.js";
import { deterministicSetup, deterministicSteps } from "../../src/compose/deterministic.js";
import { KV_LAYOUTS } from "../../src/compose/kv-layout.js";
import type { KvAllocator } from "../../src/kv/types.js";
import { samplingParams, type SamplingParams } from "../../src/sampling-params.js";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import type { BackgroundPolicy } from "../../src/scheduler/background.js";
import type { Speculation } from "../../src/scheduler/speculation.js";

export interface TestEngine {
  readonly engine: Engine;
  readonly kv: KvAllocator;
  readonly context: LlamaContext;
  close(): Promise<void>;
}

/**
 * A unified pool by default; `perSequence` gives each of `maxRunning` sequences a stream of kvTokens / maxRunning
 * cells. `speculation` plans verify chunks; `deterministic` composes as --deterministic does (a stream per sequence,
 * batch-invariant steps, no filler rows). `background` holds background sequences to a share of each step.
 */
export async function startEngine(
  model: LlamaModel,
  {
    kvTokens = 4096,
    blockSize = 16,
    maxBatchTokens = 256,
    maxRunning = 32,
    retainedTokens = Infinity,
    perSequence = false,
    speculation,
    drafter,
    deterministic = false,
    background,
  }: {
    kvTokens?: number;
    blockSize?: number;
    maxBatchTokens?: number;
    maxRunning?: number;
    retainedTokens?: number;
    perSequence?: boolean;
    speculation?: Speculation;
    drafter?: DraftPreparer;
    deterministic?: boolean;
    background?: BackgroundPolicy;
  } = {},
): Promise<TestEngine> {
  const params = { kvTokens, maxRunning, blockSize, enablePrefixCaching: true, prefixCacheTokens: retainedTokens };
  const layout = KV_LAYOUTS[perSequence || deterministic ? "per-sequence" : "unified"];
  const context = await model.createContext({
    kvTokens,
    ...layout.contextOptions(params),
    threads: 1,
    batchTokens: maxBatchTokens,
    ...(deterministic ? deterministicSetup({ kvLayout: "auto", flashAttention: "auto" }).contextOptions : {}),
  });
  const { kv, shape } = layout.build(params, context);
  const scheduler = new Scheduler({
    kv,
    shape: deterministic ? deterministicSteps : shape,
    ...(speculation ? { speculation } : {}),
    maxBatchTokens,
    maxRunning,
    maxModelLen: context.cellsPerSequence,
    endOfGenerationTokens: model.info.endOfGenerationTokens,
    ...(background ? { background } : {}),
  });
  const engine = new Engine({ backend: context, scheduler, kv, ...(drafter ? { drafter } : {}) });
  return {
    engine,
    kv,
    context,
    close: async () => {
      await engine.close();
      await context.dispose();
    },
  };
}

/** 32 prompts of different lengths that share their beginnings, tokenized by `model`. */
export function varyingPrompts(model: LlamaModel): Int32Array[] {
  return Array.from({ length: 32 }, (_, i) =>
    model.tokenize(`Once upon a time ${"there was a dog ".repeat(i % 7)}and ${i}`),
  );
}

let nextId = 0;

export function greedyRequest(
  promptTokens: ArrayLike<number>,
  params: Partial<SamplingParams> = {},
  extra: Partial<Request> = {},
): Request {
  return {
    requestId: `test-${nextId++}`,
    promptTokens,
    params: samplingParams({ temperature: 0, maxTokens: 16, ...params }),
    ...extra,
  };
}

export interface Outcome {
  readonly tokens: number[][];
  readonly finished: Extract<StepEvent, { type: "finished" }>[];
}

export async function collect(events: AsyncIterable<StepEvent>): Promise<Outcome> {
  const tokens: number[][] = [];
  const finished: Extract<StepEvent, { type: "finished" }>[] = [];
  for await (const event of events) {
    if (event.type === "token") (tokens[event.index] ??= []).push(event.token);
    else finished[event.index] = event;
  }
  return { tokens, finished };
}
