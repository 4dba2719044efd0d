// The --config file (LOOM_CONFIG): YAML with the server's options at the top level, its models, and its routes.
// Every key comes from the option table (config.ts): an option's key is its flag without the dashes in snake_case
// (--max-running: max_running, --no-prefix-caching: prefix_caching), at the top level for any option, in a model's
// entry for the options a model may set on its own (engine, KV and limits). Flags and LOOM_* variables win over the
// file. Routes are left to routing to check (routing/config.ts).
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { type Config, type ConfigInput, ConfigError, loadConfig, type OptionSpec, SERVE_OPTIONS } from "../config.js";
import type { VersionSource } from "../serving/llm/llm-repository.js";

/** An option's key in the file: its flag without `--` (and without `no-` for a switch), snake_case. */
export function fileKey(spec: OptionSpec): string {
  return spec.cli.flag.replace(/^--(no-)?/, "").replaceAll("-", "_");
}

const OPTIONS = Object.entries(SERVE_OPTIONS as Record<string, OptionSpec>).filter(([key]) => key !== "configFile");
const SERVER_KEYS = new Map(OPTIONS.map(([key, spec]) => [fileKey(spec), { key, spec }]));
const MODEL_KEYS = new Map(
  OPTIONS.filter(([, spec]) => spec.scope === "model").map(([key, spec]) => [fileKey(spec), { key, spec }]),
);
const URI = /^(hf:|huggingface:|https?:\/\/)/i;

export interface ConfigFile {
  readonly path: string;
  readonly text: string;
  /** The top-level options, by config key. */
  readonly server: Partial<ConfigInput>;
  /** The models, each version with its own options (by config key, validated). */
  readonly models: VersionSource[];
  /** The `routes` list as parsed, for routing to check. */
  readonly routes: unknown;
}

type Keyed = Map<string, { readonly key: string; readonly spec: OptionSpec }>;

/** Validates `entries` against the options `known` allows; the values come out by config key. */
function options(entries: [string, unknown][], known: Keyed, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of entries) {
    const option = known.get(name);
    if (!option) throw new ConfigError(`${where}: unknown key '${name}' (known: ${[...known.keys()].join(", ")})`);
    const parsed = option.spec.schema.safeParse(value);
    if (!parsed.success) throw new ConfigError(`${where}.${name}: ${parsed.error.issues[0]!.message}`);
    out[option.key] = parsed.data;
  }
  return out;
}

function modelEntry(raw: unknown, i: number, file: string): VersionSource {
  const where = `${file}: models[${i}]`;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new ConfigError(`${where}: expected a mapping with name and path`);
  const { name, path, version = 1, ...rest } = raw as Record<string, unknown>;
  if (typeof name !== "string" || !/^[^@:\s]+$/.test(name))
    throw new ConfigError(
      `${where}.name: expected a model name without '@', ':' or spaces, got ${JSON.stringify(name)}`,
    );
  if (path !== undefined && (typeof path !== "string" || path === ""))
    throw new ConfigError(`${where}.path: expected a file path or model URI`);
  if (!(Number.isInteger(version) && (version as number) >= 1))
    throw new ConfigError(`${where}.version: expected a whole number from 1, got ${JSON.stringify(version)}`);
  const located =
    path === undefined ? {} : { path: URI.test(path) || isAbsolute(path) ? path : resolve(dirname(file), path) };
  return { name, version: version as number, ...located, options: options(Object.entries(rest), MODEL_KEYS, where) };
}

/** The file's text as a ConfigFile; throws ConfigError naming the file, the place and the reason. */
export function parseConfigFile(text: string, path: string): ConfigFile {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`${path} does not parse as YAML: ${(error as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new ConfigError(`${path}: expected a mapping with models, routes and server options`);
  const { models = [], routes = [], ...rest } = doc as Record<string, unknown>;
  if (!Array.isArray(models)) throw new ConfigError(`${path}: models must be a list`);
  const entries = models.map((m, i) => modelEntry(m, i, path));
  const seen = new Set<string>();
  for (const { name, version } of entries) {
    if (seen.has(`${name}@${version}`))
      throw new ConfigError(`${path}: model ${name} version ${version} is given twice`);
    seen.add(`${name}@${version}`);
  }
  const server = options(Object.entries(rest), SERVER_KEYS, path) as Partial<ConfigInput>;
  return { path, text, server, models: entries, routes };
}

async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  return parseConfigFile(text, path);
}

/** The config of `loom serve` (or `loom worker`): the --config file's options under the flags and variables. */
export async function loadServeConfig(input: ConfigInput): Promise<{ config: Config; file: ConfigFile | null }> {
  const file = input.configFile === undefined ? null : await readConfigFile(input.configFile);
  return { config: loadConfig({ ...file?.server, ...input }), file };
}
