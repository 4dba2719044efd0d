// startServer: the composition root. Config -> listening server -> model servings; close() drains and stops it.
// The server listens before the model loads, so startup probes can tell loading from dead.
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { createApp } from "../api/app.js";
import { MemoryResponseStore } from "../cache/response-store.js";
import { setLlamaLogLevel } from "../backend/llama/addon.js";
import { loadConfig, type Config, type ConfigInput } from "../config.js";
import { HealthState } from "../ops/health.js";
import { jsonLogger, type Logger } from "../ops/logger.js";
import { Metrics } from "../ops/metrics.js";
import { ModelRepository } from "../serving/classic/model-repository.js";
import { Routing } from "../routing/routing.js";
import type { LlmRepository } from "../serving/llm/llm-repository.js";
import { ModelRegistry } from "../serving/llm/registry.js";
import { ConfigError } from "../config.js";
import { RouteConfigError } from "../routing/config.js";
import { readConfigFile } from "./config-file.js";
import { watchConfigFile } from "./config-watch.js";
import { buildLlms } from "./llm-models.js";

export interface RunningServer {
  /** http://host:port, with the port actually bound (config port 0 picks a free one). */
  readonly url: string;
  readonly config: Config;
  readonly registry: ModelRegistry;
  readonly repository: ModelRepository;
  /** The LLM versions: the config file's, and the repository's loaded at run time. */
  readonly llmRepository: LlmRepository;
  readonly routing: Routing;
  readonly health: HealthState;
  readonly metrics: Metrics;
  /**
   * Stops taking requests (ready turns 503), lets running ones finish for up to `graceMs` (the configured grace
   * by default), cancels the rest, frees the models and closes the listener.
   */
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  /** Process metrics (event loop lag, memory) in /metrics; tests starting several servers turn them off. */
  readonly processMetrics?: boolean;
}

export async function startServer(input: ConfigInput, options: StartOptions = {}): Promise<RunningServer> {
  // Flags and LOOM_* variables win over the file's options.
  const file = input.configFile === undefined ? null : await readConfigFile(input.configFile);
  const config = loadConfig({ ...file?.server, ...input });
  setLlamaLogLevel(config.llamaLogLevel);
  const logger = options.logger ?? jsonLogger(config.logLevel);
  const registry = new ModelRegistry();
  const health = new HealthState();
  const metrics = new Metrics({ processMetrics: options.processMetrics ?? true });
  const repository = new ModelRepository({ dir: config.modelRepository, metrics, logger, threads: config.onnxThreads });
  const routing = new Routing({ registry, logger, metricsRegistry: metrics.registry });
  const llms = buildLlms(config, file?.models ?? [], { registry, routing, health, metrics, logger });
  const app = createApp({
    registry,
    routing,
    llmRepository: llms.repository,
    routesConfigured: file !== null,
    responses: new MemoryResponseStore(),
    repository,
    health,
    logger,
    metrics,
    config,
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
    s.once("error", reject);
  });
  const closeListener = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  let unwatch: (() => void) | null = null;
  try {
    await repository.loadAll();
    await llms.load();
    if (file) {
      routing.replace(file.routes, file.path);
      unwatch = watchConfigFile(file, routing, logger);
    }
  } catch (error) {
    await registry.close();
    await repository.close();
    await closeListener();
    throw error instanceof RouteConfigError ? new ConfigError(`${file?.path}: ${error.message}`) : error;
  }
  health.serving();
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    config,
    registry,
    repository,
    llmRepository: llms.repository,
    routing,
    health,
    metrics,
    close(graceMs = config.shutdownGraceSeconds * 1000) {
      closing ??= (async () => {
        unwatch?.();
        health.draining();
        const servings = registry.list();
        for (const serving of servings) serving.stopAccepting();
        const drained = Promise.all(servings.map((s) => s.engine.drain()));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          drained,
          new Promise((resolve) => {
            timer = setTimeout(resolve, graceMs);
          }),
        ]);
        clearTimeout(timer);
        await registry.close();
        await llms.repository.close();
        await repository.close();
        await closeListener();
      })();
      return closing;
    },
  };
}
