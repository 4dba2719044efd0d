// `loom router [options]` to RouterOptions: flags win over environment variables; defaults and validation with zod,
// as the server's own config does. Parsing only.
import { parseArgs } from "node:util";
import { z } from "zod";
import { ConfigError } from "../config.js";

/** --help or -h: the usage is the message; the command prints it and exits 0. */
export class RouterHelpRequested extends ConfigError {
  constructor() {
    super(ROUTER_USAGE);
    this.name = "RouterHelpRequested";
  }
}

const ROUTER_USAGE = `usage: loom router --replica URL [--replica URL ...] [options]

  --replica URL               a Loom (or any OpenAI-compatible) replica, e.g. http://10.0.0.5:8080 (repeatable;
                              LOOM_REPLICAS, comma-separated)
  --replicas-dns NAME:PORT    replicas are the addresses NAME resolves to, looked up again every --dns-interval
                              seconds (a Kubernetes headless Service) (LOOM_REPLICAS_DNS)
  --dns-interval S            seconds between DNS look-ups (default 5)
  --policy POLICY             prefix|least-load|round-robin (LOOM_ROUTER_POLICY, default prefix)
  --host HOST                 address to listen on (LOOM_HOST, default 127.0.0.1)
  --port N                    port to listen on (LOOM_PORT, default 8000)
  --prefix-chars N            leading prompt characters the prefix policy hashes (default 1024)
  --balance-abs-threshold N   prefix policy: a replica may carry this many more requests than the least loaded
                              before its keys spill to the next one (default 8)
  --balance-rel-threshold X   ... and more than X times the least loaded one's requests (default 1.5)
  --health-interval S         seconds between health and load probes of each replica (default 2)
  --health-timeout S          a probe slower than this fails (default 1)
  --ejection-time S           a replica that failed a request (refused, reset, garbage) gets no traffic for this
                              long, doubling with each consecutive ejection (default 10)
  --max-attempts N            replicas one request may be tried on before its first byte is sent (default 3)
  --max-body-bytes N          largest accepted request body; larger ones get 413 before any forwarding
                              (default 32 MiB)
  --upstream-timeout S        most seconds to wait for a replica's response headers, and between body chunks
                              (default 600)
  --shutdown-grace S          on SIGTERM, seconds in-flight requests get to finish (LOOM_SHUTDOWN_GRACE, default 30)
  --log-level LEVEL           debug|info|warn|error|silent (LOOM_LOG_LEVEL, default info)`;

const RouterOptionsSchema = z
  .object({
    replicas: z.array(z.url({ protocol: /^https?$/ })).default([]),
    /** NAME:PORT, e.g. loom-headless.default.svc.cluster.local:8080. */
    replicasDns: z
      .string()
      .regex(/^[^:\s]+:\d+$/, "must be NAME:PORT")
      .optional(),
    dnsIntervalSeconds: z.number().positive().default(5),
    policy: z.enum(["prefix", "least-load", "round-robin"]).default("prefix"),
    host: z.string().default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(8000),
    prefixChars: z.number().int().min(16).default(1024),
    balanceAbsThreshold: z.number().min(0).default(8),
    balanceRelThreshold: z.number().min(1).default(1.5),
    healthIntervalSeconds: z.number().positive().default(2),
    healthTimeoutSeconds: z.number().positive().default(1),
    ejectionSeconds: z.number().min(0).default(10),
    maxAttempts: z.number().int().min(1).default(3),
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(32 * 1024 * 1024),
    upstreamTimeoutSeconds: z.number().positive().default(600),
    shutdownGraceSeconds: z.number().min(0).default(30),
    logLevel: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  })
  .refine((o) => o.replicas.length > 0 || o.replicasDns !== undefined, {
    message: "name at least one replica: --replica URL, LOOM_REPLICAS or --replicas-dns NAME:PORT",
  });

export type RouterOptions = z.infer<typeof RouterOptionsSchema>;
export type RouterOptionsInput = z.input<typeof RouterOptionsSchema>;

const FLAGS = {
  replica: { type: "string", multiple: true },
  "replicas-dns": { type: "string" },
  "dns-interval": { type: "string" },
  policy: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  "prefix-chars": { type: "string" },
  "balance-abs-threshold": { type: "string" },
  "balance-rel-threshold": { type: "string" },
  "health-interval": { type: "string" },
  "health-timeout": { type: "string" },
  "ejection-time": { type: "string" },
  "max-attempts": { type: "string" },
  "max-body-bytes": { type: "string" },
  "upstream-timeout": { type: "string" },
  "shutdown-grace": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function numeric(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(text)) throw new ConfigError(`--${name} must be a non-negative number, got '${text}'`);
  return Number(text);
}

/** Validates an options object (from flags or from a test) into RouterOptions; ConfigError names what is wrong. */
export function routerOptions(input: RouterOptionsInput): RouterOptions {
  const parsed = RouterOptionsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ConfigError(`${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`);
}

/**
 * `router [options]` (argv after `loom`) to validated RouterOptions. Throws ConfigError for anything it cannot read
 * (the command prints it and exits 2), RouterHelpRequested for --help.
 */
export function parseRouterArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): RouterOptions {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof FLAGS; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${ROUTER_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new RouterHelpRequested();
  if (positionals.length !== 1 || positionals[0] !== "router") throw new ConfigError(ROUTER_USAGE);
  const flag = (name: keyof typeof FLAGS, envName?: string) =>
    (values[name] as string | undefined) ?? (envName ? env[envName] : undefined);
  const fromEnv = env.LOOM_REPLICAS?.split(",")
    .map((url) => url.trim())
    .filter((url) => url !== "");
  const input: Record<string, unknown> = {
    replicas: values.replica ?? fromEnv,
    replicasDns: flag("replicas-dns", "LOOM_REPLICAS_DNS"),
    dnsIntervalSeconds: numeric("dns-interval", flag("dns-interval")),
    policy: flag("policy", "LOOM_ROUTER_POLICY"),
    host: flag("host", "LOOM_HOST"),
    port: numeric("port", flag("port", "LOOM_PORT")),
    prefixChars: numeric("prefix-chars", flag("prefix-chars")),
    balanceAbsThreshold: numeric("balance-abs-threshold", flag("balance-abs-threshold")),
    balanceRelThreshold: numeric("balance-rel-threshold", flag("balance-rel-threshold")),
    healthIntervalSeconds: numeric("health-interval", flag("health-interval")),
    healthTimeoutSeconds: numeric("health-timeout", flag("health-timeout")),
    ejectionSeconds: numeric("ejection-time", flag("ejection-time")),
    maxAttempts: numeric("max-attempts", flag("max-attempts")),
    maxBodyBytes: numeric("max-body-bytes", flag("max-body-bytes")),
    upstreamTimeoutSeconds: numeric("upstream-timeout", flag("upstream-timeout")),
    shutdownGraceSeconds: numeric("shutdown-grace", flag("shutdown-grace", "LOOM_SHUTDOWN_GRACE")),
    logLevel: flag("log-level", "LOOM_LOG_LEVEL"),
  };
  return routerOptions(
    Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as RouterOptionsInput,
  );
}
