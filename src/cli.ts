// The `loom` command line, built from the option table in config.ts: commander parses flags and renders the help;
// a flag wins over its LOOM_* variable, which wins over the schema's default. Each value given is checked against
// its option's schema here, so an error names what the user set (the flag or the variable); defaults and checks
// across options are the schema's (loadConfig).
import { Command, CommanderError, Option } from "commander";
import { type ConfigInput, ConfigError, type OptionSpec, SERVE_OPTIONS } from "./config.js";

type Env = Readonly<Record<string, string | undefined>>;

/** --help or -h was asked: the help text is the message, and the CLI exits 0 after printing it. */
export class HelpRequested extends ConfigError {
  constructor(help: string) {
    super(help);
    this.name = "HelpRequested";
  }
}

const unwrap = (schema: unknown): unknown => {
  let s = schema as { def?: { type?: string; innerType?: unknown } };
  while (s.def?.type === "default" || s.def?.type === "optional") s = s.def.innerType as typeof s;
  return s;
};

const typeOf = (spec: OptionSpec): string | undefined => (unwrap(spec.schema) as { def?: { type?: string } }).def?.type;

/** The schema's default, for the help line; undefined when the option has none. */
function defaultOf(spec: OptionSpec): unknown {
  const parsed = spec.schema.safeParse(undefined);
  return parsed.success ? parsed.data : undefined;
}

function helpLine(spec: OptionSpec): string {
  const fallback = defaultOf(spec);
  const shown = Array.isArray(fallback) ? (fallback.length > 0 ? fallback.join(",") : undefined) : fallback;
  return `${spec.cli.help} (env ${spec.cli.env}${shown === undefined ? "" : `, default ${String(shown)}`})`;
}

/** One value of an option from its text (a flag's argument, or one comma-separated part of a variable). */
function parseText(key: string, spec: OptionSpec, text: string, from: string): unknown {
  const type = typeOf(spec);
  const element =
    type === "array" ? (unwrap(spec.schema) as { def: { element: OptionSpec["schema"] } }).def.element : null;
  const scalar = element ? typeOf({ schema: element, cli: spec.cli }) : type;
  try {
    if (spec.cli.parseValue) return spec.cli.parseValue(text);
    if (scalar === "number") {
      if (!/^-?\d+(\.\d+)?$/.test(text.trim())) throw new Error(`expected a number, got '${text}'`);
      return Number(text);
    }
    if (scalar === "boolean") {
      if (!/^(1|0|true|false|yes|no)$/i.test(text)) throw new Error(`expected true or false, got '${text}'`);
      return /^(1|true|yes)$/i.test(text);
    }
    return text;
  } catch (error) {
    throw new ConfigError(`${from} (${key}): ${(error as Error).message}`);
  }
}

/** Adds the table's options to a command (flags in table order). */
function addOptions(command: Command, table: Readonly<Record<string, OptionSpec>>): Command {
  for (const spec of Object.values(table)) {
    const isList = typeOf(spec) === "array";
    const flag = spec.cli.arg === undefined ? spec.cli.flag : `${spec.cli.flag} <${spec.cli.arg}>`;
    const option = new Option(flag, helpLine(spec));
    if (isList) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    command.addOption(option);
  }
  return command;
}

/** Throws ConfigError naming `from` (a flag or a variable) when `value` is not one the option's schema takes. */
function checked(key: string, spec: OptionSpec, value: unknown, from: string): unknown {
  const parsed = spec.schema.safeParse(value);
  if (!parsed.success)
    throw new ConfigError(`${from} (${key}): ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  return value;
}

/** The table's values from parsed flags, then from the environment for options no flag gave. */
function readOptions(command: Command, table: Readonly<Record<string, OptionSpec>>, env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const { value, from } = readOption(command, key, spec, env);
    if (value !== undefined) out[key] = checked(key, spec, value, from);
  }
  return out;
}

/** One option's value and where it came from (its flag or its variable); undefined when neither gave it. */
function readOption(command: Command, key: string, spec: OptionSpec, env: Env): { value: unknown; from: string } {
  const values = command.opts<Record<string, unknown>>();
  const { flag, env: variable } = spec.cli;
  const attribute = new Option(flag).attributeName();
  // Commander gives a --no-x switch a default of true; only what the command line said counts as given.
  const given = command.getOptionValueSource(attribute) === "cli" ? values[attribute] : undefined;
  const isList = typeOf(spec) === "array";
  if (spec.cli.arg === undefined) {
    // A switch: its flag sets the value it names (--no-x: false), its variable any boolean text.
    if (given !== undefined) return { value: !flag.startsWith("--no-"), from: flag };
    if (env[variable] !== undefined) return { value: parseText(key, spec, env[variable]!, variable), from: variable };
  } else if (given !== undefined) {
    const value = isList
      ? (given as string[]).map((v) => parseText(key, spec, v, flag))
      : parseText(key, spec, given as string, flag);
    return { value, from: flag };
  } else if (env[variable] !== undefined && env[variable] !== "") {
    const text = env[variable]!;
    const value = isList
      ? text.split(",").map((v) => parseText(key, spec, v.trim(), variable))
      : parseText(key, spec, text, variable);
    return { value, from: variable };
  }
  return { value: undefined, from: flag };
}

/** A command that throws instead of exiting, so callers (and tests) decide what a parse error does. */
function strictCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .showHelpAfterError(false)
    .allowExcessArguments(false);
}

function serveCommand(): Command {
  return addOptions(
    strictCommand(
      "loom serve",
      "Serve a GGUF model over the OpenAI API (and classic ONNX models over KServe v2)",
    ).argument(
      "[model]",
      "the GGUF file to serve, or hf:OWNER/REPO:QUANT, hf:OWNER/REPO/FILE.gguf or an https URL of one " +
        "(optional with --config, whose file lists the models)",
    ),
    SERVE_OPTIONS,
  );
}

/**
 * `loom serve MODEL [options]` (or `loom serve --config FILE [options]`) and the environment as a ConfigInput; throws
 * ConfigError (HelpRequested on --help).
 */
export function parseServeArgs(argv: readonly string[], env: Env = {}): ConfigInput {
  const [command, ...rest] = argv;
  const serve = serveCommand();
  if (command !== "serve") throw new ConfigError("usage: loom serve MODEL [options] (see loom serve --help)");
  try {
    serve.parse(rest, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.help")
        throw new HelpRequested(serve.helpInformation());
      throw new ConfigError(`${error.message.replace(/^error: /, "")} (see loom serve --help)`);
    }
    throw error;
  }
  const options = readOptions(serve, SERVE_OPTIONS, env);
  const model = serve.args[0];
  if (model === undefined && options.configFile === undefined)
    throw new ConfigError("missing required argument 'model' (or --config FILE; see loom serve --help)");
  return { ...(model === undefined ? {} : { model }), ...options } as ConfigInput;
}
