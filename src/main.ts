// Process entry: `loom serve MODEL [options]` until SIGTERM or SIGINT, which drain and stop the server cleanly;
// `loom worker MODEL --redis URL [options]` runs job workers only.
// Help goes to stdout (exit 0); a usage or configuration error to stderr (exit 2).
import { HelpRequested, parseServeArgs } from "./cli.js";
import { startServer } from "./compose/server.js";
import { workerMain } from "./compose/worker.js";
import { ConfigError, loadConfig } from "./config.js";
import { jsonLogger } from "./ops/logger.js";

/** Runs the `loom` command; resolves once a server is up (it then runs until a signal stops it). */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await (argv[0] === "worker" ? workerMain(argv.slice(1)) : serve(argv));
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(error.message);
      process.exit(0);
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`loom: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function serve(argv: readonly string[]): Promise<void> {
  const input = parseServeArgs(argv, process.env);
  const logger = jsonLogger(loadConfig(input).logLevel);
  const running = await startServer(input, { logger });
  for (const m of running.registry.list()) {
    logger.log("info", "serving", {
      model: m.name,
      description: m.model.info.description,
      max_model_len: m.maxModelLen,
      gpu_layers: m.placement.gpuLayers,
      devices: m.placement.devices,
      kv_tokens: m.placement.kvTokens,
      kv_tokens_from: m.placement.kvTokensReason,
      kv_layout: m.kvLayout.name,
      kv_layout_reason: m.kvLayout.reason,
      threads: m.threads.single,
      threads_batch: m.threads.batch,
      url: `${running.url}/v1`,
    });
  }
  console.log(
    `loom: serving ${running.registry
      .list()
      .map((m) => m.name)
      .join(", ")} at ${running.url}/v1`,
  );
  if (running.config.ui) console.log(`loom: dashboard and playground at ${running.url}/`);
  const stop = (signal: string) => {
    logger.log("info", "shutdown", { signal, grace_seconds: running.config.shutdownGraceSeconds });
    running.close().then(
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
