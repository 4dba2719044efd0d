// loadLlmServing: a GGUF file to a running LlmServing (model, KV pool in the configured layout, its KV manager,
// scheduler, engine), sized by the config.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { LlamaContext } from "../backend/llama/llama-context.js";
import { gpuDevices, isNativeError } from "../backend/llama/addon.js";
import { LlamaModel } from "../backend/llama/llama-model.js";
import type { ModelInfo } from "../backend/types.js";
import { type Config, ConfigError } from "../config.js";
import { Engine, type StepObservation } from "../engine/engine.js";
import type { Logger } from "../ops/logger.js";
import type { Metrics } from "../ops/metrics.js";
import { Scheduler } from "../scheduler/scheduler.js";
import { AdapterRegistry } from "../serving/llm/adapters.js";
import type { ChatFormat } from "../serving/llm/chat.js";
import { LlamaChatFormat } from "../serving/llm/llama-chat-format.js";
import { LlmServing } from "../serving/llm/llm-serving.js";
import { defaultKvTokens, gpuLayersFor } from "./device.js";
import { deterministicSetup, deterministicSteps } from "./deterministic.js";
import { chooseKvLayout, KV_LAYOUTS } from "./kv-layout.js";
import { type LoadedSpeculation, loadSpeculation } from "./speculation.js";
import { backgroundPolicy } from "./background.js";

function defaultModelName(path: string): string {
  return basename(path).replace(/\.gguf$/i, "");
}

/** Compiled before any context exists, so a template that does not parse stops startup with nothing to undo. */
function chatFormatOf(model: LlamaModel, overrideSource: string | undefined, origin: string | undefined): ChatFormat {
  try {
    return new LlamaChatFormat(model, overrideSource);
  } catch (error) {
    if (!isNativeError(error, "LOOM_CHAT_TEMPLATE_INVALID")) throw error;
    throw new ConfigError(
      `${origin} does not parse as a Jinja template (${error.message}); pass another with --chat-template FILE`,
    );
  }
}

export interface LoadServices {
  readonly metrics?: Metrics;
  readonly logger: Logger;
  /** Runs once the weights are loaded, before the KV pool is made; throws to refuse the load (memory budget). */
  readonly admit?: (info: ModelInfo, kvTokens: number) => void;
}

/** The options one model loads with: the server's, or a config file's model entry over them, and its file. */
export type ModelConfig = Config & { readonly model: string };

export async function loadLlmServing(
  config: ModelConfig,
  { metrics, logger, admit }: LoadServices,
): Promise<LlmServing> {
  const templateOverride =
    config.chatTemplateFile === undefined ? undefined : await readFile(config.chatTemplateFile, "utf8");
  const gpuLayers = gpuLayersFor(config.gpuLayers, gpuDevices());
  const model = await LlamaModel.load(config.model, { gpuLayers });
  let context: LlamaContext | undefined;
  let spec: LoadedSpeculation = {};
  try {
    const memory =
      config.kvTokens === undefined
        ? defaultKvTokens(model.info, {
            devices: gpuDevices(),
            gpuLayers,
            maxRunning: config.maxRunning,
            blockSize: config.blockSize,
          })
        : { kvTokens: config.kvTokens, reason: "--kv-tokens" };
    const sized = { ...config, kvTokens: memory.kvTokens };
    admit?.(model.info, sized.kvTokens);
    const chatFormat = chatFormatOf(model, templateOverride, config.chatTemplateFile);
    const deterministic = config.deterministic ? deterministicSetup(config) : null;
    const kvLayout =
      deterministic?.kvLayout ??
      chooseKvLayout(config.kvLayout, { ...sized, contextLengthTrain: model.info.contextLengthTrain });
    const layout = KV_LAYOUTS[kvLayout.name];
    context = await model.createContext({
      kvTokens: sized.kvTokens,
      ...layout.contextOptions(sized),
      batchTokens: config.maxBatchTokens,
      flashAttention: config.flashAttention,
      ...deterministic?.contextOptions,
      ...(config.threads === undefined ? {} : { threads: config.threads }),
      ...(config.threadsBatch === undefined ? {} : { threadsBatch: config.threadsBatch }),
    });
    const maxModelLen = config.maxModelLen ?? Math.min(context.cellsPerSequence, model.info.contextLengthTrain);
    const tooLong = layout.checkMaxModelLen(maxModelLen, sized, context);
    if (tooLong !== null) throw new ConfigError(tooLong);
    const { kv, shape } = layout.build(sized, context);
    const maxRunning = Math.min(config.maxRunning, context.maxSequences);
    spec = await loadSpeculation(config, {
      vocabSize: model.info.vocabSize,
      kvTokens: sized.kvTokens,
      maxRunning,
      gpuLayers,
    });
    const scheduler = new Scheduler({
      kv,
      shape: deterministic ? deterministicSteps : shape,
      ...(spec.speculation ? { speculation: spec.speculation } : {}),
      maxBatchTokens: config.maxBatchTokens,
      maxRunning,
      maxModelLen,
      endOfGenerationTokens: model.info.endOfGenerationTokens,
      background: backgroundPolicy(config, context.sharedCompute),
    });
    const [name = defaultModelName(config.model), ...aliases] = config.servedModelName ?? [];
    const adapters = new AdapterRegistry({
      model,
      modelName: name,
      loraDirs: config.loraDirs,
      maxLoras: config.maxLoras,
      ...(metrics ? { metrics } : {}),
    });
    for (const lora of config.loras) await adapters.load(lora.name, lora.path, { trusted: true });
    const engine = new Engine({
      backend: context,
      scheduler,
      kv,
      resolveAdapter: (adapterId) => adapters.resolve(adapterId),
      ...(spec.drafter ? { drafter: spec.drafter } : {}),
      ...(metrics
        ? {
            onStep: (step: StepObservation) =>
              metrics.observeStep(name, step.numTokens, step.stepMs / 1000, step.schedulerMs / 1000),
          }
        : {}),
    });
    metrics?.addModel(name, () => {
      const stats = engine.stats();
      const names = (ids: readonly number[]) => [...new Set(ids.map((id) => adapters.nameOf(id) ?? `adapter-${id}`))];
      return {
        ...stats,
        lora: {
          maxLoras: config.maxLoras,
          running: names(stats.adapterIds.running),
          waiting: names(stats.adapterIds.waiting),
        },
        cacheConfig: { layout: kvLayout.name, enablePrefixCaching: config.enablePrefixCaching },
      };
    });
    return new LlmServing({
      name,
      kvLayout,
      placement: {
        gpuLayers,
        devices: gpuLayers === 0 ? [] : gpuDevices().map((d) => `${d.name} (${d.description})`),
        kvTokens: memory.kvTokens,
        kvTokensReason: memory.reason,
      },
      aliases,
      model,
      engine,
      context,
      maxModelLen,
      chatFormat,
      maxWaiting: config.maxWaiting,
      defaultTimeoutMs: config.requestTimeoutSeconds * 1000,
      logger,
      adapters,
      ...(metrics ? { metrics } : {}),
    });
  } catch (error) {
    await spec.drafter?.close();
    await context?.dispose();
    model.dispose();
    throw error;
  }
}
