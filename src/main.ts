// Process entry: Config -> model servings -> Hono app -> listening server; SIGTERM/SIGINT stop it cleanly.
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { createApp } from "./api/app.js";
import { parseServeArgs } from "./cli.js";
import { loadConfig, type Config, type ConfigInput } from "./config.js";
import { loadLlmServing } from "./serving/load-llm.js";
import { ModelRegistry } from "./serving/registry.js";

export interface RunningServer {
  /** http://host:port, with the port actually bound (config port 0 picks a free one). */
  readonly url: string;
  readonly config: Config;
  readonly registry: ModelRegistry;
  /** Stops accepting connections, cancels what is running and frees the models. */
  close(): Promise<void>;
}

export async function startServer(input: ConfigInput): Promise<RunningServer> {
  const config = loadConfig(input);
  const registry = new ModelRegistry();
  registry.add(await loadLlmServing(config));
  let accepting = true;
  const app = createApp({ registry, apiKeys: config.apiKeys, maxBodyBytes: config.maxBodyBytes, isReady: () => accepting });
  let server: ServerType;
  try {
    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
      s.once("error", reject);
    });
  } catch (error) {
    await registry.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    config,
    registry,
    async close() {
      accepting = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await registry.close();
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
    },
  };
}

/** `loom serve MODEL [options]` until SIGTERM or SIGINT. */
export async function main(argv: readonly string[]): Promise<void> {
  const running = await startServer(parseServeArgs(argv, process.env));
  const served = running.registry.list().map((m) => `${m.name} (${m.model.info.description}, max_model_len ${m.maxModelLen})`).join(", ");
  console.log(`loom: serving ${served} at ${running.url}/v1`);
  const stop = (signal: string) => {
    console.log(`loom: ${signal}, shutting down`);
    running.close().then(() => process.exit(0), (error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}
