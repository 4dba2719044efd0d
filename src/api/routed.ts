// The API's side of routing: a request as routing reads it, the generation fields of a start routing asks for, and
// the headers that say what served a response (x-loom-served-model, x-loom-route, x-loom-variant). The `model`
// field of every response keeps the name the client asked for.
import type { Context } from "hono";
import type { Routing } from "../routing/routing.js";
import type { Decision, Routed, RouteRequest, Start, StartOptions, Started, Target } from "../routing/types.js";
import type { GenerateInput } from "../serving/llm/generation.js";

/** A request as routing reads it; headers come from the HTTP request. */
export function routeRequest(c: Context, fields: Omit<RouteRequest, "header">): RouteRequest {
  return { ...fields, header: (name) => c.req.header(name) };
}

/** The request's own fields that routing's options combine with. */
export interface OwnFields {
  readonly priority?: number | null;
  /** Seconds (the `timeout` extension). */
  readonly timeout?: number | null;
  readonly lora_scale?: number | null;
  /** Ends the generation (a background request's cancel); the client's connection by default. */
  readonly signal?: AbortSignal;
}

/**
 * The fields of a routed generation but its prompt and params: routing's (a shadow's priority and signal, the route's
 * labels, the target's timeout) over the request's own (its priority, timeout, adapter scale).
 */
export function routedFields(
  c: Context,
  target: Target,
  options: StartOptions,
  own: OwnFields,
): Omit<GenerateInput, "requestId" | "promptTokens" | "params"> {
  const { fields } = options;
  const timeouts = [own.timeout ? own.timeout * 1000 : undefined, fields.timeoutMs].filter((t) => t !== undefined);
  return {
    priority: fields.priority ?? own.priority ?? 0,
    signal: fields.signal ?? own.signal ?? c.req.raw.signal,
    traceId: c.get("requestId"),
    ...(target.adapter === null ? {} : { adapter: { name: target.adapter, scale: own.lora_scale ?? 1 } }),
    ...(timeouts.length === 0 ? {} : { timeoutMs: Math.min(...timeouts) }),
    ...(fields.route ? { route: fields.route } : {}),
  };
}

/** The logprobs a start asks for: the client's, or the sampled token's alone when the policy needs them. */
export function logprobsFor(client: number | null, options: StartOptions): number | null {
  return client ?? (options.needLogprobs ? 0 : null);
}

/** Says what served the response in its headers. */
export function setRouteHeaders(c: Context, decision: Decision): void {
  c.header("x-loom-served-model", decision.target.id);
  if (decision.route !== null) c.header("x-loom-route", decision.route);
  if (decision.variant !== null) c.header("x-loom-variant", decision.variant);
}

/** Runs a request through routing and sets the response's headers from the decision. */
export async function routeAndStart<S extends Started>(
  c: Context,
  routing: Routing,
  request: RouteRequest,
  start: Start<S>,
): Promise<Routed<S>> {
  const routed = await routing.run(request, start);
  setRouteHeaders(c, routed.decision);
  return routed;
}
