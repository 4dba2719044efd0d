// startLlms: the LLMs of a server. The command line's MODEL is served as before, under its own name; a config
// file's models are loaded as versions (NAME@VERSION) through the LLM repository, each with the server's options
// under its own; all of them count against the memory budget. The repository then loads, reloads and unloads
// versions at run time (the admin API).
import type { Config } from "../config.js";
import { ConfigError } from "../config.js";
import type { HealthState } from "../ops/health.js";
import type { Logger } from "../ops/logger.js";
import type { Metrics } from "../ops/metrics.js";
import type { Routing } from "../routing/routing.js";
import { ModelLoadError } from "../serving/errors.js";
import { LlmRepository, type VersionSource } from "../serving/llm/llm-repository.js";
import { MemoryBudget, modelBytes } from "../serving/llm/memory-budget.js";
import type { ModelRegistry } from "../serving/llm/registry.js";
import { loadLlmServing } from "./llm.js";
import { defaultModelCache, resolveModelSource } from "./model-source.js";

export interface LlmServices {
  readonly registry: ModelRegistry;
  readonly routing: Routing;
  readonly health: HealthState;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface Llms {
  readonly repository: LlmRepository;
  /** Loads the models; on failure frees what was loaded and throws (a ConfigError for a start-up problem). */
  load(): Promise<void>;
}

/** The LLM repository of a server, and the start-up load of its models (after the server listens). */
export function buildLlms(
  config: Config,
  declared: readonly VersionSource[],
  { registry, routing, health, metrics, logger }: LlmServices,
): Llms {
  const budget = new MemoryBudget(config.memoryBudget ?? null);
  const sourceOptions = {
    cacheDir: config.modelCacheDir ?? defaultModelCache(),
    offline: config.offline,
    logger,
    progressBar: process.stderr.isTTY,
  };
  const repository = new LlmRepository({
    dir: config.modelRepository,
    registry,
    budget,
    logger,
    metrics,
    declared,
    unloadGuard: (id) => routing.referencedBy(id),
    load: async (source, admit) => {
      const file = await resolveModelSource(source.path, sourceOptions);
      const served = [`${source.name}@${source.version}`];
      return loadLlmServing(
        { ...config, ...source.options, model: file.path, servedModelName: served },
        {
          metrics,
          logger,
          admit,
        },
      );
    },
  });
  health.addCheck(() => {
    const failed = registry.list().find((s) => s.engine.failure);
    return failed ? `the engine of ${failed.name} stopped: ${failed.engine.failure!.message}` : null;
  });
  const loadCommandLineModel = async () => {
    if (config.model === undefined) return;
    const source = await resolveModelSource(config.model, sourceOptions);
    const model = { model: source.path, servedModelName: config.servedModelName ?? [source.name] };
    const serving = await loadLlmServing(
      { ...config, ...model },
      {
        metrics,
        logger,
        // Served for the server's whole life: its share of the budget is never given back.
        admit: (info, kvTokens) => void budget.reserve(model.servedModelName[0]!, modelBytes(info, kvTokens)),
      },
    );
    registry.add(serving);
  };
  return {
    repository,
    async load() {
      try {
        await loadCommandLineModel();
        await repository.loadDeclared();
      } catch (error) {
        await registry.close();
        if (error instanceof ModelLoadError) throw new ConfigError(error.message);
        throw error;
      }
    },
  };
}
