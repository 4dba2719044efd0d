// Routing: the routes in force and the way requests reach models through them. A request's `model` names a route
// (its policy picks a target: run.ts runs the policies that need generations of their own) or a served model
// directly. Routes are replaced as a whole (the config file changed, or PUT /loom/v1/routes): the new set is checked
// first, and one that does not parse or names a target that is not served is refused with the reason while the
// running set stays. A route whose spec did not change keeps its state (rollout stage, breakers).
import type { Registry } from "prom-client";
import type { Logger } from "../ops/logger.js";
import { RoutingMetrics } from "../ops/routing-metrics.js";
import { ModelNotFoundError } from "../serving/errors.js";
import type { ModelRegistry } from "../serving/llm/registry.js";
import { parseVersioned } from "../serving/llm/registry.js";
import { parseRoutes, parseRoutesText, RouteConfigError, type RouteSpec, type TargetSpec } from "./config.js";
import { Route, variantOf } from "./route.js";
import { Shadows } from "./shadow.js";
import { runRouted } from "./run.js";
import type { Decision, Routed, RouteRequest, Start, Started, Target } from "./types.js";

export interface RoutingOptions {
  readonly registry: ModelRegistry;
  readonly logger: Logger;
  /** The server's Prometheus registry, for routing's metrics; absent: none are kept. */
  readonly metricsRegistry?: Registry;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** A route as GET /loom/v1/routes shows it; `targets` has the dashboard's shape (weight 0 to 1, breaker state). */
export interface RouteInfo {
  readonly name: string;
  readonly policy: string;
  readonly targets: readonly {
    readonly target: string;
    readonly role: string;
    readonly variant: string;
    readonly weight?: number;
    readonly breaker?: "closed" | "open" | "half_open";
  }[];
  readonly sticky: string | null;
  readonly waiting: number;
  readonly rollout?: {
    readonly stage: number;
    readonly weight: number;
    readonly state: string;
    readonly reason: string | null;
  };
  readonly spec: RouteSpec;
}

/** Where the routes came from last, and the last refused update (which left them as they were). */
export interface RoutesStatus {
  readonly source: string | null;
  readonly updatedAt: number | null;
  readonly lastError: { readonly message: string; readonly source: string; readonly at: number } | null;
}

export class Routing {
  readonly registry: ModelRegistry;
  readonly logger: Logger;
  readonly metrics: RoutingMetrics | null;
  readonly shadows: Shadows;
  readonly now: () => number;
  readonly random: () => number;
  #routes = new Map<string, Route>();
  #status: RoutesStatus = { source: null, updatedAt: null, lastError: null };

  constructor({ registry, logger, metricsRegistry, now, random }: RoutingOptions) {
    this.registry = registry;
    this.logger = logger;
    this.now = now ?? performance.now.bind(performance);
    this.random = random ?? Math.random;
    this.metrics = metricsRegistry
      ? new RoutingMetrics(metricsRegistry, {
          breakers: () =>
            [...this.#routes.values()].flatMap((r) =>
              [...r.breakers()].map(([target, b]) => ({ route: r.name, target, state: b.state })),
            ),
          rollouts: () =>
            [...this.#routes.values()].flatMap((r) =>
              r.rollout ? [{ route: r.name, weight: r.rollout.weight, stage: r.rollout.status.stage }] : [],
            ),
        })
      : null;
    this.shadows = new Shadows(this);
  }

  /**
   * Puts `specs` in force in place of the routes there are; throws RouteConfigError (the running routes stay) when
   * a target is not served. `source` names where they came from (the file, the admin API) in logs and status.
   */
  apply(specs: readonly RouteSpec[], source: string): void {
    const problems: string[] = [];
    for (const spec of specs) {
      for (const target of new Route(spec, this).targets()) {
        try {
          this.resolve(target);
        } catch (error) {
          problems.push(`route '${spec.name}': target '${target.target}' is not served (${(error as Error).message})`);
        }
      }
    }
    if (problems.length > 0) {
      const error = new RouteConfigError(`routes refused: ${problems.join("; ")}`);
      this.refused(error.message, source);
      throw error;
    }
    const next = new Map<string, Route>();
    for (const spec of specs) {
      const kept = this.#routes.get(spec.name);
      next.set(spec.name, kept && JSON.stringify(kept.spec) === JSON.stringify(spec) ? kept : new Route(spec, this));
    }
    this.#routes = next;
    this.#status = { source, updatedAt: Date.now(), lastError: null };
    this.logger.log("info", "routes_applied", { source, routes: specs.map((s) => s.name) });
  }

  /**
   * Parses routes (YAML text, or a value parsed already: a list, or an object with a `routes` list) and puts them in
   * force; throws RouteConfigError with the reason, and records it in the status, when they cannot be used.
   */
  replace(routes: string | unknown, source: string): RouteSpec[] {
    let specs: RouteSpec[];
    try {
      specs = typeof routes === "string" ? parseRoutesText(routes) : parseRoutes(routes);
    } catch (error) {
      if (error instanceof RouteConfigError) this.refused(error.message, source);
      throw error;
    }
    this.apply(specs, source);
    return specs;
  }

  /** Records an update that was refused, for the status (the routes in force stay). */
  refused(message: string, source: string): void {
    this.#status = { ...this.#status, lastError: { message, source, at: Date.now() } };
    this.logger.log("error", "routes_refused", { source, message });
  }

  get status(): RoutesStatus {
    return this.#status;
  }

  route(name: string): Route | null {
    return this.#routes.get(name) ?? null;
  }

  /** Whether `model` names a route or a served model (or adapter). */
  has(model: string): boolean {
    if (this.#routes.has(model)) return true;
    try {
      this.registry.resolve(model);
      return true;
    } catch {
      return false;
    }
  }

  /** A target as a route names it, resolved to what serves it now; throws ModelNotFoundError when nothing does. */
  resolve(spec: TargetSpec): Target {
    const { serving, adapterName } = this.registry.resolve(spec.target);
    return {
      ref: spec.target,
      id: adapterName === null ? serving.name : `${serving.name}:${adapterName}`,
      serving,
      adapter: adapterName,
      timeoutMs: spec.timeout === undefined ? undefined : spec.timeout * 1000,
    };
  }

  /** Runs a request through its route, or straight to the model it names (run.ts). */
  run<S extends Started>(request: RouteRequest, start: Start<S>): Promise<Routed<S>> {
    return runRouted(this, request, start);
  }

  /** Where a request goes without running anything (embeddings): the policy's pick, or the model it names. */
  pick(request: RouteRequest): Decision {
    const route = this.#routes.get(request.model);
    if (!route) return { route: null, variant: null, target: this.resolve({ target: request.model }) };
    const choice = route.choose(request, (spec) => this.resolve(spec).serving);
    this.metrics?.decision(route.name, choice.variant, this.resolve(choice.spec).id);
    return { route: route.name, variant: choice.variant, target: this.resolve(choice.spec) };
  }

  /** The target a name stands for when no request picks one (tokenizers, count_tokens): a route's primary. */
  primary(model: string): Target {
    const route = this.#routes.get(model);
    return this.resolve(route ? route.targets()[0]! : { target: model });
  }

  /** Why the version `id` (NAME@VERSION) may not be unloaded now: the route that needs it, or null. */
  referencedBy(id: string): string | null {
    const base = parseVersioned(id)?.base;
    for (const route of this.#routes.values()) {
      for (const { target } of route.targets()) {
        let servedBy: string;
        try {
          servedBy = this.registry.resolve(target).serving.name;
        } catch (error) {
          if (error instanceof ModelNotFoundError) continue;
          throw error;
        }
        if (servedBy !== id) continue;
        const explicit = target === id || target.startsWith(`${id}:`);
        if (explicit || base === undefined || this.registry.versionsOf(base).length <= 1)
          return `route '${route.name}' sends requests to it (as '${target}'); change the route first`;
      }
    }
    return null;
  }

  list(): RouteInfo[] {
    return [...this.#routes.values()].map((r) => this.#info(r));
  }

  #info(route: Route): RouteInfo {
    const s = route.spec;
    const breaker = (ref: string) => {
      const b = route.breakers().get(ref);
      return b ? { breaker: b.state } : s.fallback ? { breaker: "closed" as const } : {};
    };
    const entry = (spec: TargetSpec, role: string, weight?: number) => ({
      target: spec.target,
      role,
      variant: variantOf(spec),
      ...(weight === undefined ? {} : { weight }),
      ...(role === "shadow" || role === "fallback" ? {} : breaker(spec.target)),
    });
    const total = (s.split ?? []).reduce((sum, e) => sum + e.weight, 0);
    const rolloutWeight = route.rollout?.weight ?? 0;
    const targets = [
      ...(s.target ? [entry(s.target, "target", 1)] : []),
      ...(s.split ?? []).map((e) => entry(e, "split", e.weight / total)),
      ...(s.rollout
        ? [
            entry(s.rollout.primary, "primary", 1 - rolloutWeight),
            entry(s.rollout.candidate, "candidate", rolloutWeight),
          ]
        : []),
      ...(s.rules ? [...s.rules.map((r) => entry(r.target, "rule")), entry(s.default!, "default")] : []),
      ...(s.cascade?.targets ?? []).map((t, i) => entry(t, `stage ${i + 1}`)),
      ...(s.shadow ? [entry(s.shadow.target, "shadow", s.shadow.sample)] : []),
      ...(s.fallback?.target ? [entry(s.fallback.target, "fallback")] : []),
    ];
    return {
      name: route.name,
      policy: route.policy,
      targets,
      sticky: s.sticky ?? null,
      waiting: route.numWaiting,
      ...(route.rollout ? { rollout: route.rollout.status } : {}),
      spec: s,
    };
  }
}
