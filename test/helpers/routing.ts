// A server started from a --config file over real models: a temporary model repository (Triton's NAME/VERSION/
// layout) holding copies of the shared stories260K and the synthetic tiny model, the YAML file beside it, and a
// logger that keeps the server's log lines for the assertions on what routing logged.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { type RunningServer, startServer } from "../../src/compose/server.js";
import type { ConfigInput } from "../../src/config.js";
import type { Logger } from "../../src/ops/logger.js";
import type { RouteRequest } from "../../src/routing/types.js";
import { STORIES_260K, sharedModel, tinyModel } from "./models.js";

export interface LogLine {
  readonly level: string;
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface RoutingServer extends RunningServer {
  readonly client: OpenAI;
  /** The repository folder; the config file is `${dir}/loom.yaml`. */
  readonly dir: string;
  readonly configPath: string;
  readonly logs: LogLine[];
}

/** Copies a model file into the repository as NAME/VERSION/model.gguf; returns its path. */
export function putVersion(dir: string, name: string, version: number, source: string): string {
  const folder = join(dir, name, String(version));
  mkdirSync(folder, { recursive: true });
  const path = join(folder, "model.gguf");
  copyFileSync(source, path);
  return path;
}

/**
 * A repository with story@1 and story@2 (both stories260K, the second a copy in its own version folder) and tiny@1
 * (the synthetic tiny model: another size, another vocabulary).
 */
function makeRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), "loom-routing-"));
  putVersion(dir, "story", 1, sharedModel(STORIES_260K));
  putVersion(dir, "story", 2, sharedModel(STORIES_260K));
  putVersion(dir, "tiny", 1, tinyModel());
  return dir;
}

/** Starts a server from `yaml` written to DIR/loom.yaml; models without a path come from DIR's layout. */
export async function startRoutingServer(
  yaml: string,
  { dir = makeRepository(), overrides = {} }: { dir?: string; overrides?: Partial<ConfigInput> } = {},
): Promise<RoutingServer> {
  const configPath = join(dir, "loom.yaml");
  writeFileSync(configPath, yaml);
  const logs: LogLine[] = [];
  const logger: Logger = {
    log: (level, event, fields = {}) => {
      logs.push({ level, event, ...fields });
    },
  } as Logger;
  const running = await startServer(
    { configFile: configPath, modelRepository: dir, port: 0, threads: 1, logLevel: "warn", ...overrides },
    { processMetrics: false, logger },
  );
  const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 60_000 });
  return { ...running, close: (graceMs?: number) => running.close(graceMs), client, dir, configPath, logs };
}

/** The value of a metric series in Prometheus text, matching every label given; 0 when absent. */
export async function metricValue(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.split(" ").at(-1));
  }
  return total;
}

/** A response's JSON body, loosely typed for assertions. */
export const jsonOf = async (response: Response): Promise<any> => response.json();

/** POSTs JSON; returns the status, headers and parsed body. */
export async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, body: json };
}

/** A routing request for the decision functions alone: route `assistant`, no user, nothing special asked for. */
export const routeRequest = (fields: Partial<RouteRequest> = {}): RouteRequest => ({
  model: "assistant",
  user: null,
  header: () => undefined,
  stream: false,
  tools: false,
  jsonSchema: false,
  logprobs: false,
  greedy: false,
  promptTokens: () => 0,
  ...fields,
});
