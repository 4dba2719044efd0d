// loadModels: the classic repository and the LLM of the config, loaded into a server's (or a worker's) registry,
// with the engine's liveness as a readiness check.
import type { Config } from "../config.js";
import type { HealthState } from "../ops/health.js";
import type { Logger } from "../ops/logger.js";
import type { Metrics } from "../ops/metrics.js";
import type { ModelRepository } from "../serving/classic/model-repository.js";
import type { ModelRegistry } from "../serving/llm/registry.js";
import { loadLlmServing } from "./llm.js";
import { defaultModelCache, resolveModelSource } from "./model-source.js";

export interface LoadModelsOptions {
  readonly registry: ModelRegistry;
  readonly repository: ModelRepository;
  readonly health: HealthState;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** On failure, frees what was loaded and rethrows. */
export async function loadModels(config: Config, { registry, repository, health, metrics, logger }: LoadModelsOptions) {
  try {
    await repository.loadAll();
    // A model given as hf:OWNER/REPO:QUANT or a URL is downloaded (or found in the cache) first.
    const source = await resolveModelSource(config.model, {
      cacheDir: config.modelCacheDir ?? defaultModelCache(),
      offline: config.offline,
      logger,
      progressBar: process.stderr.isTTY,
    });
    const servedModelName = config.servedModelName ?? [source.name];
    const serving = await loadLlmServing({ ...config, model: source.path, servedModelName }, { metrics, logger });
    registry.add(serving);
    health.addCheck(() =>
      serving.engine.failure ? `the engine of ${serving.name} stopped: ${serving.engine.failure.message}` : null,
    );
  } catch (error) {
    await registry.close();
    await repository.close();
    throw error;
  }
}
