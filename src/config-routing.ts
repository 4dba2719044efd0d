// The options of a server that runs several models and routes between them (issue 18): the config file that lists
// the models, their versions and the routes, and the memory budget every loaded model counts against. A block of
// config.ts's option table, kept in its own leaf module.
import { z } from "zod";

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  ki: 2 ** 10,
  mi: 2 ** 20,
  gi: 2 ** 30,
  ti: 2 ** 40,
};

/** `8GiB`, `512MiB`, `2G`, `1.5gb` or a plain number of bytes; NaN when the text is none of these. */
export function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?\s*$/i.exec(text);
  const unit = UNITS[(match?.[2] ?? "").toLowerCase()];
  return match && unit !== undefined ? Math.round(Number(match[1]) * unit) : Number.NaN;
}

function bytesArgument(text: string): number {
  const bytes = parseBytes(text);
  if (!Number.isFinite(bytes)) throw new Error(`expected a size such as 8GiB, 512MiB or 1000000, got '${text}'`);
  return bytes;
}

export const ROUTING_OPTIONS = {
  configFile: {
    schema: z.string().min(1).optional(),
    cli: {
      flag: "--config",
      arg: "FILE",
      env: "LOOM_CONFIG",
      help:
        "a YAML file of models (name, path, version and their own engine options) and routes (split, shadow, " +
        "rollout, rules, cascade, fallback); its routes are watched and applied when the file changes",
    },
  },
  memoryBudget: {
    schema: z.preprocess((v) => (typeof v === "string" ? parseBytes(v) : v), z.number().int().min(1)).optional(),
    cli: {
      flag: "--memory-budget",
      arg: "BYTES",
      env: "LOOM_MEMORY_BUDGET",
      help:
        "memory all loaded LLMs may use together (GGUF size plus KV cells times bytes per cell), e.g. 8GiB; " +
        "a load past it is refused (default: no limit)",
      parseValue: bytesArgument,
    },
  },
} as const;
