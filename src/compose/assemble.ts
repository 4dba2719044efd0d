// The parts `loom serve` and `loom worker` build alike from a loaded config: registries, metrics, job services,
// models and routes, and the Hono app (served by `loom serve`, called in-process by the workers of both).
import { createApp } from "../api/app.js";
import type { Config } from "../config.js";
import { HealthState } from "../ops/health.js";
import type { Logger } from "../ops/logger.js";
import { Metrics } from "../ops/metrics.js";
import { ModelRepository } from "../serving/classic/model-repository.js";
import { ModelRegistry } from "../serving/llm/registry.js";
import type { ConfigFile } from "./config-file.js";
import { buildJobServices } from "./jobs.js";
import { buildModels } from "./models.js";

/** What `assemble` built; nothing is loaded or started yet (`models.load()`, `services.startWorkers()`). */
export interface Assembled {
  readonly registry: ModelRegistry;
  readonly health: HealthState;
  readonly metrics: Metrics;
  readonly repository: ModelRepository;
  readonly services: ReturnType<typeof buildJobServices>;
  readonly models: ReturnType<typeof buildModels>;
  readonly app: ReturnType<typeof createApp>;
}

/**
 * Builds the server's parts from `config` and the `--config` file (`null` without one). `processMetrics` puts the
 * process's own gauges (event-loop lag, memory) in /metrics.
 */
export function assemble(
  config: Config,
  file: ConfigFile | null,
  { logger, processMetrics }: { logger: Logger; processMetrics: boolean },
): Assembled {
  const registry = new ModelRegistry();
  const health = new HealthState();
  const metrics = new Metrics({ processMetrics });
  const repository = new ModelRepository({ dir: config.modelRepository, metrics, logger, threads: config.onnxThreads });
  const services = buildJobServices(config, { registry, repository, metrics, logger });
  const models = buildModels(config, file, { registry, repository, health, metrics, logger });
  const app = createApp({
    registry,
    routing: models.routing,
    llmRepository: models.llmRepository,
    routesConfigured: file !== null,
    responses: services.responses,
    repository,
    health,
    logger,
    metrics,
    config,
    jobs: services.jobs,
    caches: services.caches,
  });
  return { registry, health, metrics, repository, services, models, app };
}
