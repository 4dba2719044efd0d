// buildModels: what a server (or a worker) serves. The classic repository's models; the command line's MODEL under
// its own name, as before; a config file's models as versions (NAME@VERSION) through the LLM repository, each with
// the server's options under its own; all of the LLMs counted against the memory budget; and the config file's
// routes, watched for changes. The repository then loads, reloads and unloads versions at run time (admin API).
import { ConfigError, type Config } from "../config.js";
import type { HealthState } from "../ops/health.js";
import type { Logger } from "../ops/logger.js";
import type { Metrics } from "../ops/metrics.js";
import { RouteConfigError } from "../routing/config.js";
import { Routing } from "../routing/routing.js";
import type { ModelRepository } from "../serving/classic/model-repository.js";
import { ModelLoadError } from "../serving/errors.js";
import { LlmRepository } from "../serving/llm/llm-repository.js";
import { MemoryBudget, modelBytes } from "../serving/llm/memory-budget.js";
import type { ModelRegistry } from "../serving/llm/registry.js";
import type { ConfigFile } from "./config-file.js";
import { watchConfigFile } from "./config-watch.js";
import { loadLlmServing } from "./llm.js";
import { defaultModelCache, resolveModelSource } from "./model-source.js";

export interface LoadModelsOptions {
  readonly registry: ModelRegistry;
  readonly repository: ModelRepository;
  readonly health: HealthState;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface Models {
  readonly routing: Routing;
  readonly llmRepository: LlmRepository;
  /** Loads every model and puts the file's routes in force; on failure frees what was loaded and throws. */
  load(): Promise<void>;
  /** Stops watching the config file and frees the versions still draining (the registry closes the rest). */
  close(): Promise<void>;
}

/** Builds what `load()` fills, so the app can be made (and listen) before any model loads. */
export function buildModels(config: Config, file: ConfigFile | null, options: LoadModelsOptions): Models {
  const { registry, repository, health, metrics, logger } = options;
  const routing = new Routing({ registry, logger, metricsRegistry: metrics.registry });
  const budget = new MemoryBudget(config.memoryBudget ?? null);
  // A model given as hf:OWNER/REPO:QUANT or a URL is downloaded (or found in the cache) first.
  const sourceOptions = {
    cacheDir: config.modelCacheDir ?? defaultModelCache(),
    offline: config.offline,
    logger,
    progressBar: process.stderr.isTTY,
  };
  const llmRepository = new LlmRepository({
    dir: config.modelRepository,
    registry,
    budget,
    logger,
    metrics,
    declared: file?.models ?? [],
    unloadGuard: (id) => routing.referencedBy(id),
    load: async (source, admit) => {
      const { path } = await resolveModelSource(source.path, sourceOptions);
      const servedModelName = [`${source.name}@${source.version}`];
      return loadLlmServing({ ...config, ...source.options, model: path, servedModelName }, { metrics, logger, admit });
    },
  });
  health.addCheck(() => {
    const failed = registry.list().find((s) => s.engine.failure);
    return failed ? `the engine of ${failed.name} stopped: ${failed.engine.failure!.message}` : null;
  });
  const loadCommandLineModel = async () => {
    if (config.model === undefined) return;
    const source = await resolveModelSource(config.model, sourceOptions);
    const servedModelName = config.servedModelName ?? [source.name];
    const serving = await loadLlmServing(
      { ...config, model: source.path, servedModelName },
      {
        metrics,
        logger,
        // Served for the server's whole life: its share of the budget is never given back.
        admit: (info, kvTokens) => void budget.reserve(servedModelName[0]!, modelBytes(info, kvTokens)),
      },
    );
    registry.add(serving);
  };
  let unwatch: (() => void) | null = null;
  return {
    routing,
    llmRepository,
    async load() {
      try {
        await repository.loadAll();
        await loadCommandLineModel();
        await llmRepository.loadDeclared();
        if (file) routing.replace(file.routes, file.path);
      } catch (error) {
        await registry.close();
        await repository.close();
        if (error instanceof ModelLoadError) throw new ConfigError(error.message);
        if (error instanceof RouteConfigError) throw new ConfigError(`${file?.path}: ${error.message}`);
        throw error;
      }
      if (file) unwatch = watchConfigFile(file, routing, logger);
    },
    async close() {
      unwatch?.();
      await llmRepository.close();
    },
  };
}
