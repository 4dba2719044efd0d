// The routes of a config file (its `routes:` list) or of PUT /loom/v1/routes: their YAML/JSON keys, ranges and
// defaults, as zod schemas. A route is a name clients put in `model`, one policy that picks a target (target, split,
// rollout, rules or cascade) and optional modifiers (sticky, shadow, fallback, max_waiting). Targets name served
// models: NAME, NAME@VERSION, NAME:ADAPTER (or an adapter's own name).
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InvalidRequestError } from "../serving/errors.js";

const TargetName = z.string().min(1);
const Seconds = z.number().positive();

/** A target with its own settings: `timeout` (seconds) ends its requests early; `variant` names it in metrics. */
const TargetObject = z
  .object({ target: TargetName, timeout: Seconds.optional(), variant: z.string().min(1).optional() })
  .strict();
const TargetSpec = z.union([TargetName, TargetObject]).transform((t) => (typeof t === "string" ? { target: t } : t));
export type TargetSpec = z.output<typeof TargetSpec>;

const SplitEntry = TargetObject.extend({ weight: z.number().min(0) }).strict();

const Shadow = z
  .object({
    target: TargetSpec,
    /** Share of the route's requests also sent to the shadow target, 0 to 1. */
    sample: z.number().min(0).max(1).default(0.1),
    /** Shadow requests running at once on the route; beyond it (or without spare capacity) a sample is skipped. */
    max_concurrent: z.number().int().min(1).default(2),
  })
  .strict();

const Guards = z
  .object({
    /** The candidate's share of failed requests (errors, timeouts) in the window. */
    max_error_rate: z.number().min(0).max(1).default(0.05),
    /** The candidate's p99 time to first token over the primary's. */
    max_ttft_p99_ratio: z.number().positive().default(2),
    /** The candidate's p99 time per output token over the primary's. */
    max_tpot_p99_ratio: z.number().positive().default(2),
  })
  .strict();

const Rollout = z
  .object({
    primary: TargetSpec,
    candidate: TargetSpec,
    /** The candidate's share of traffic at each stage, in percent, increasing (e.g. [5, 25, 50, 100]). */
    steps: z.array(z.number().gt(0).max(100)).min(1),
    /** Least time at a stage before the next one, when the guards hold. */
    stage_seconds: Seconds.default(300),
    /** How far back the guards look. */
    window_seconds: Seconds.default(60),
    /** Candidate requests the window must hold before the guards judge it (and before a stage advances). */
    min_requests: z.number().int().min(1).default(20),
    guards: Guards.default({ max_error_rate: 0.05, max_ttft_p99_ratio: 2, max_tpot_p99_ratio: 2 }),
  })
  .strict()
  .refine((r) => r.steps.every((s, i) => i === 0 || s > r.steps[i - 1]!), {
    message: "steps must increase",
    path: ["steps"],
  });

const Condition = z
  .object({
    /** Header name -> the value (or one of the values) it must have; a list of headers must all match. */
    header: z.record(z.string().min(1), z.union([z.string(), z.array(z.string()).min(1)])).optional(),
    /** The prompt's length in tokens (under the default target's tokenizer), bounds inclusive. */
    min_prompt_tokens: z.number().int().min(0).optional(),
    max_prompt_tokens: z.number().int().min(0).optional(),
    /** The request offers tools (or not). */
    tools: z.boolean().optional(),
    /** The request asks for output matching a JSON schema (or not). */
    json_schema: z.boolean().optional(),
  })
  .strict();
export type Condition = z.output<typeof Condition>;

const Rule = z.object({ when: Condition, target: TargetSpec }).strict();

const Cascade = z
  .object({
    /** Tried in order, fastest first; the last one answers whatever its confidence. */
    targets: z.array(TargetSpec).min(2),
    /** An answer whose confidence is below this escalates to the next target. */
    min_confidence: z.number().min(0).max(1),
    /** Confidence is this quantile of the answer's per-token probabilities (0.1: the 10th percentile). */
    quantile: z.number().min(0).max(1).default(0.1),
    /** Streaming requests decide on this many tokens, then stream on from the target that kept them. */
    stream_prefix_tokens: z.number().int().min(1).default(16),
  })
  .strict();

const Fallback = z
  .object({
    /** Where requests go while a target's breaker is open, or when it fails before its first token. */
    target: TargetSpec.optional(),
    /** Consecutive failures (errors, timeouts) that open a target's breaker. */
    failures: z.number().int().min(1).default(5),
    /** Seconds an open breaker waits before letting probes through (half-open). */
    cooldown_seconds: Seconds.default(30),
    /** Requests let through at once while half-open; one success closes the breaker, one failure opens it. */
    probes: z.number().int().min(1).default(1),
  })
  .strict();

const POLICIES = ["target", "split", "rollout", "rules", "cascade"] as const;

export const RouteSpec = z
  .object({
    name: z.string().regex(/^[^@:\s]+$/, "a route name has no '@', ':' or spaces"),
    target: TargetSpec.optional(),
    split: z.array(SplitEntry).min(1).optional(),
    rollout: Rollout.optional(),
    rules: z.array(Rule).min(1).optional(),
    default: TargetSpec.optional(),
    cascade: Cascade.optional(),
    /** The split's key: the request's `user` (Anthropic: metadata.user_id) or a header; random without one. */
    sticky: z
      .string()
      .regex(/^(user|header:[A-Za-z0-9-]+)$/, "sticky is 'user' or 'header:NAME'")
      .optional(),
    shadow: Shadow.optional(),
    fallback: Fallback.optional(),
    /** Requests of this route waiting for their first token; beyond it the route answers 429. */
    max_waiting: z.number().int().min(1).optional(),
  })
  .strict()
  .superRefine((route, ctx) => {
    const given = POLICIES.filter((p) => route[p] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({ code: "custom", message: `give exactly one of ${POLICIES.join(", ")} (got ${given.length})` });
    if ((route.rules === undefined) !== (route.default === undefined))
      ctx.addIssue({ code: "custom", path: ["default"], message: "rules and default go together" });
    if (route.split && !route.split.some((s) => s.weight > 0))
      ctx.addIssue({ code: "custom", path: ["split"], message: "at least one weight must be above 0" });
  });
export type RouteSpec = z.output<typeof RouteSpec>;

/** The routes of a config file or of PUT /loom/v1/routes; names must be unique. */
export const RouteList = z.array(RouteSpec).superRefine((routes, ctx) => {
  const seen = new Set<string>();
  routes.forEach((route, i) => {
    if (seen.has(route.name))
      ctx.addIssue({ code: "custom", path: [i, "name"], message: `route '${route.name}' is given twice` });
    seen.add(route.name);
  });
});

/** A route config that cannot be used; its message says where and why. The running routes stay as they were. */
export class RouteConfigError extends InvalidRequestError {
  constructor(message: string) {
    super(message, { param: "routes", code: "invalid_route_config" });
    this.name = "RouteConfigError";
  }
}

/** Validated routes from parsed YAML or JSON: a list, or an object with a `routes` list. */
export function parseRoutes(value: unknown): RouteSpec[] {
  const list = Array.isArray(value) ? value : (value as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(list)) throw new RouteConfigError("expected a list of routes, or an object with a 'routes' list");
  let parsed: ReturnType<typeof RouteList.safeParse>;
  try {
    parsed = RouteList.safeParse(list);
  } catch (error) {
    // zod gathers an array's issues with push(...issues): hundreds of thousands of them overflow the stack.
    if (error instanceof RangeError) throw new RouteConfigError("invalid routes: too many invalid values to list");
    throw error;
  }
  if (parsed.success) return parsed.data;
  const where = (path: readonly PropertyKey[]) => {
    const name = (list[path[0] as number] as { name?: unknown } | undefined)?.name;
    const head = `routes[${String(path[0])}]${typeof name === "string" ? ` (${name})` : ""}`;
    return path
      .slice(1)
      .reduce<string>((at, p) => (typeof p === "number" ? `${at}[${p}]` : `${at}.${String(p)}`), head);
  };
  const issues = parsed.error.issues.map((i) => `${i.path.length > 0 ? where(i.path) : "routes"}: ${i.message}`);
  throw new RouteConfigError(`invalid routes: ${issues.join("; ")}`);
}

/** Routes from YAML (or JSON, which is YAML) text; a syntax error names its line. */
export function parseRoutesText(text: string): RouteSpec[] {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new RouteConfigError(`the routes do not parse: ${(error as Error).message}`);
  }
  return parseRoutes(value);
}
