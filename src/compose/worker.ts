// `loom worker`: the job workers of `loom serve` without HTTP. Loads the same models, builds the same app (never
// listening: batch lines run through it in-process) and works the shared Redis queues until SIGTERM or SIGINT.
import { type ConfigInput, loadConfig } from "../config.js";
import { jsonLogger, type Logger } from "../ops/logger.js";
import { parseWorkerArgs } from "../worker-cli.js";
import { assemble } from "./assemble.js";
import { loadServeConfig } from "./config-file.js";

interface RunningWorker {
  /** Lines in hand finish for up to `graceMs` (the configured grace by default), the rest go back to the queue. */
  close(graceMs?: number): Promise<void>;
}

async function startWorker(input: ConfigInput, { logger }: { logger?: Logger } = {}): Promise<RunningWorker> {
  const { config, file } = await loadServeConfig(input);
  const log = logger ?? jsonLogger(config.logLevel);
  const { registry, health, repository, services, models, app } = assemble(config, file, {
    logger: log,
    processMetrics: false,
  });
  try {
    await models.load();
  } catch (error) {
    await services.close();
    throw error;
  }
  health.serving();
  services.startWorkers(app, config.batchConcurrency ?? config.maxRunning);
  let closing: Promise<void> | null = null;
  return {
    close(graceMs = config.shutdownGraceSeconds * 1000) {
      closing ??= (async () => {
        await services.stopWorkers(graceMs);
        health.draining();
        await registry.close();
        await models.close();
        await repository.close();
        await services.close();
      })();
      return closing;
    },
  };
}

/** `loom worker ...` until SIGTERM or SIGINT. */
export async function workerMain(argv: readonly string[]): Promise<void> {
  const input = parseWorkerArgs(argv, process.env);
  const logger = jsonLogger(loadConfig(input).logLevel);
  const worker = await startWorker(input, { logger });
  const models = input.model ?? input.configFile;
  logger.log("info", "worker_started", { model: models });
  console.log(`loom: worker for ${models} is taking jobs`);
  const stop = (signal: string) => {
    logger.log("info", "shutdown", { signal });
    worker.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.log("error", "shutdown_failed", { message: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}
