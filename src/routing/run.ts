// runRouted(): one request through its route. The policy picks a target (a cascade runs its stages, cascade.ts);
// with a fallback, the target's circuit breaker may send the request to the fallback instead, or refuse it (503
// with Retry-After), and a target that fails before its first token passes the request to the fallback. A shadow
// may start beside it. The events the client reads are observed on the way: their end feeds the breaker, the
// rollout's guards and the shadow's comparison.
import { InvalidRequestError, ModelNotFoundError, OverloadedError, UnavailableError } from "../serving/errors.js";
import type { BreakerPermit } from "./breaker.js";
import { runCascade } from "./cascade.js";
import type { TargetSpec } from "./config.js";
import { isFailure, replay } from "./events.js";
import { type ObservedEnd, observe } from "./observe.js";
import { type Choice, type Route, variantOf } from "./route.js";
import type { Routing } from "./routing.js";
import type { Routed, RouteRequest, Start, StartOptions, Started, Target } from "./types.js";

/** Failures that are the request's own (a prompt too long for the model, a bad grammar): no breaker counts them. */
const isClientError = (error: unknown) => error instanceof InvalidRequestError;

export async function runRouted<S extends Started>(
  routing: Routing,
  request: RouteRequest,
  start: Start<S>,
): Promise<Routed<S>> {
  const route = routing.route(request.model);
  if (!route) {
    const target = routing.resolve({ target: request.model });
    routing.shadows.yieldTo(target.serving);
    const started = start(target, { idSuffix: "", needLogprobs: false, fields: {} });
    return { started, decision: { route: null, variant: null, target } };
  }
  const leave = route.enterWaiting();
  try {
    return await routeOnce(routing, route, request, start, leave);
  } catch (error) {
    leave();
    throw error;
  }
}

async function routeOnce<S extends Started>(
  routing: Routing,
  route: Route,
  request: RouteRequest,
  start: Start<S>,
  leave: () => void,
): Promise<Routed<S>> {
  if (route.spec.cascade) {
    const { started, target, variant } = await runCascade(routing, route, request, start);
    return decided(routing, route, started, variant, target, leave);
  }
  const choice = route.choose(request, (spec) => routing.resolve(spec).serving);
  const fallback = route.spec.fallback?.target;
  let target: Target;
  try {
    target = routing.resolve(choice.spec);
  } catch (error) {
    if (!(error instanceof ModelNotFoundError)) throw error;
    if (fallback) return toFallback(routing, route, choice, fallback, request, start, leave, "failed");
    throw new UnavailableError(`route '${route.name}': its target '${choice.spec.target}' is not served now`, 5);
  }
  const breaker = route.breaker(choice.spec.target);
  const permit = breaker ? breaker.acquire() : { probe: false };
  if (permit === null) {
    if (fallback) return toFallback(routing, route, choice, fallback, request, start, leave, "breaker_open");
    throw new UnavailableError(
      `route '${route.name}': target '${target.id}' is failing and its circuit breaker is open; retry later`,
      breaker!.retryAfterMs / 1000,
    );
  }
  const attempt = startObserved(routing, route, choice, target, request, start, leave, permit);
  if (!fallback) return attempt();
  try {
    return await primed(await attempt());
  } catch (error) {
    if (isClientError(error)) throw error;
    return toFallback(routing, route, choice, fallback, request, start, leave, "failed");
  }
}

/** Starts the chosen target with its observers (and maybe a shadow); the start's own refusals settle the permit. */
function startObserved<S extends Started>(
  routing: Routing,
  route: Route,
  choice: Choice,
  target: Target,
  request: RouteRequest,
  start: Start<S>,
  leave: () => void,
  permit: BreakerPermit,
): () => Routed<S> {
  return () => {
    const breaker = route.breaker(choice.spec.target);
    const primaryBusy = routing.shadows.yieldTo(target.serving);
    const startedAt = performance.now();
    let started: S;
    try {
      started = start(target, options(route, choice.variant, target, ""));
    } catch (error) {
      // A busy target is no failing one: the request may go to the fallback, the breaker does not count it.
      breaker?.settle(permit, isClientError(error) || error instanceof OverloadedError ? null : false);
      throw error;
    }
    routing.metrics?.decision(route.name, choice.variant, target.id);
    const compareShadow = routing.shadows.launch(route, request, start, {
      serving: target.serving,
      busy: primaryBusy,
    });
    const events = observe(started.events, {
      startedAt,
      keepText: compareShadow !== null,
      onFirst: leave,
      onEnd: (end) => {
        leave();
        breaker?.settle(permit, end.ok);
        recordOutcome(routing, route, choice.spec.target, end);
        compareShadow?.(end);
      },
    });
    return { started: { ...started, events }, decision: { route: route.name, variant: choice.variant, target } };
  };
}

/** Waits for the first event; a target that failed before it throws, so the request can go to the fallback. */
async function primed<S extends Started>(routed: Routed<S>): Promise<Routed<S>> {
  const iterator = routed.started.events[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (!first.done && isFailure(first.value)) {
    await iterator.return?.();
    throw new Error(`target ${routed.decision.target.id} failed before its first token`);
  }
  const events = replay(first.done ? [] : [first.value], first.done ? null : iterator);
  return { ...routed, started: { ...routed.started, events } };
}

function toFallback<S extends Started>(
  routing: Routing,
  route: Route,
  choice: Choice,
  fallback: TargetSpec,
  request: RouteRequest,
  start: Start<S>,
  leave: () => void,
  reason: "breaker_open" | "failed",
): Routed<S> {
  const target = routing.resolve(fallback);
  const variant = variantOf(fallback);
  routing.metrics?.fallback(route.name, choice.spec.target, target.id, reason);
  routing.logger.log(reason === "failed" ? "warn" : "debug", "route_fallback", {
    route: route.name,
    from: choice.spec.target,
    to: target.id,
    reason,
    sticky_key: request.user,
  });
  const started = start(target, options(route, variant, target, "-fallback"));
  return decided(routing, route, started, variant, target, leave);
}

/** Counts the route's decision and frees its queue place (`leave`) at the first event or the end. */
function decided<S extends Started>(
  routing: Routing,
  route: Route,
  started: S,
  variant: string,
  target: Target,
  leave: () => void,
): Routed<S> {
  routing.metrics?.decision(route.name, variant, target.id);
  const events = observe(started.events, {
    startedAt: performance.now(),
    keepText: false,
    onFirst: leave,
    onEnd: leave,
  });
  return { started: { ...started, events }, decision: { route: route.name, variant, target } };
}

function options(route: Route, variant: string, target: Target, idSuffix: string): StartOptions {
  return {
    idSuffix,
    needLogprobs: false,
    fields: {
      route: { name: route.name, variant },
      ...(target.timeoutMs === undefined ? {} : { timeoutMs: target.timeoutMs }),
    },
  };
}

/** Feeds a finished request to the rollout's guards; a stage change is logged. */
function recordOutcome(routing: Routing, route: Route, ref: string, end: ObservedEnd): void {
  if (end.ok === null) return;
  const change = route.recordOutcome(ref, { ok: end.ok, ttftMs: end.ttftMs, tpotMs: end.tpotMs });
  if (!change) return;
  if (change.kind === "rollback") routing.metrics?.rollback(route.name);
  routing.logger.log(change.kind === "rollback" ? "warn" : "info", `rollout_${change.kind}`, {
    route: route.name,
    candidate_weight_from: change.from,
    candidate_weight_to: change.to,
    reason: change.reason,
  });
}
