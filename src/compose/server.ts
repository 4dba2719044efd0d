// startServer: the composition root. Config -> listening server -> model servings; close() drains and stops it.
// The server listens before the model loads, so startup probes can tell loading from dead.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { answerClientErrors } from "../api/client-errors.js";
import { setLlamaLogLevel } from "../backend/llama/addon.js";
import type { Config, ConfigInput } from "../config.js";
import { settlesWithin } from "../ops/deadline.js";
import type { HealthState } from "../ops/health.js";
import { jsonLogger, type Logger } from "../ops/logger.js";
import type { Metrics } from "../ops/metrics.js";
import type { Routing } from "../routing/routing.js";
import type { ModelRepository } from "../serving/classic/model-repository.js";
import type { LlmRepository } from "../serving/llm/llm-repository.js";
import type { ModelRegistry } from "../serving/llm/registry.js";
import { assemble } from "./assemble.js";
import { loadServeConfig } from "./config-file.js";

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
  const { config, file } = await loadServeConfig(input);
  setLlamaLogLevel(config.llamaLogLevel);
  const logger = options.logger ?? jsonLogger(config.logLevel);
  const { registry, health, metrics, repository, services, models, app } = assemble(config, file, {
    logger,
    processMetrics: options.processMetrics ?? true,
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
    s.once("error", reject);
  });
  answerClientErrors(server as Server);
  const closeListener = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  try {
    await models.load();
  } catch (error) {
    await services.close();
    await closeListener();
    throw error;
  }
  health.serving();
  // Batch lines fill spare capacity at low priority beside interactive traffic.
  services.startWorkers(app, config.batchConcurrency ?? Math.floor(config.maxRunning / 2));
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    config,
    registry,
    repository,
    llmRepository: models.llmRepository,
    routing: models.routing,
    health,
    metrics,
    close(graceMs = config.shutdownGraceSeconds * 1000) {
      closing ??= (async () => {
        // Workers stop taking lines first, so none starts only to be refused by the draining server.
        const workersStopped = services.stopWorkers(graceMs);
        health.draining();
        const servings = registry.list();
        for (const serving of servings) serving.stopAccepting();
        const drained = Promise.all(servings.map((s) => s.engine.drain()));
        await settlesWithin(drained, graceMs);
        await workersStopped;
        await registry.close();
        await models.close();
        await repository.close();
        await services.close();
        await closeListener();
      })();
      return closing;
    },
  };
}
