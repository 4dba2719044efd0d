// `loom worker MODEL.gguf --redis URL [options]` to a ConfigInput: the options of `loom serve` (the model, engine,
// cache and job options matter; --host and --port do not), with --redis required, since a worker only works a
// shared queue. Parsing only, like cli.ts.
import { HelpRequested, parseServeArgs } from "./cli.js";
import { ConfigError, type ConfigInput } from "./config.js";

const WORKER_HELP = `Usage: loom worker <model> --redis URL [options]

Runs batch lines and background requests from the Redis queues with the same models, engine and options as
loom serve, without an HTTP listener (--host and --port are ignored; --batch-concurrency defaults to
--max-running). SIGTERM or SIGINT: lines in hand finish for --shutdown-grace seconds, the rest go back to the queue.

`;

/** Throws ConfigError for what it cannot read or a missing --redis; HelpRequested for --help. */
export function parseWorkerArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}) {
  let input: ConfigInput;
  try {
    input = parseServeArgs(["serve", ...argv], env);
  } catch (error) {
    if (error instanceof HelpRequested)
      throw new HelpRequested(WORKER_HELP + error.message.replace(/^Usage: loom serve[^\n]*\n/, "Options:\n"));
    if (error instanceof ConfigError) throw new ConfigError(error.message.replace(/loom serve/g, "loom worker"));
    throw error;
  }
  if (input.redisUrl === undefined)
    throw new ConfigError("loom worker needs --redis URL (or LOOM_REDIS_URL): it works the deployment's shared queues");
  return input;
}
