// Process entry of `loom router`: parse the options, probe the replicas, listen; SIGTERM or SIGINT drains and exits.
// bin/loom.mjs loads this module instead of src/main.ts, so the router process never loads the server's layers
// (llama.cpp, onnxruntime).
import { ConfigError } from "../config.js";
import { jsonLogger } from "../ops/logger.js";
import { parseRouterArgs, type RouterOptions, RouterHelpRequested } from "./cli.js";
import { startRouter } from "./server.js";

/** `loom router [options]` until SIGTERM or SIGINT. Help goes to stdout (exit 0), option errors to stderr (exit 2). */
export async function main(argv: readonly string[]): Promise<void> {
  let options: RouterOptions;
  try {
    options = parseRouterArgs(argv, process.env);
  } catch (error) {
    if (error instanceof RouterHelpRequested) {
      process.stdout.write(`${error.message}\n`);
      process.exit(0);
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`loom router: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = jsonLogger(options.logLevel);
  const router = await startRouter(options, { logger });
  logger.log("info", "router_listening", {
    url: router.url,
    policy: options.policy,
    replicas: router.replicas.all.map((r) => ({ url: r.url, state: r.state })),
  });
  console.log(`loom: routing (${options.policy}) over ${router.replicas.all.length} replica(s) at ${router.url}/v1`);
  const stop = (signal: string) => {
    logger.log("info", "shutdown", { signal, grace_seconds: options.shutdownGraceSeconds });
    router.close().then(
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
