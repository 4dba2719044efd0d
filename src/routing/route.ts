// Route: one named route, compiled from its spec, with its state: the rollout's stage and the windows its guards
// read, a circuit breaker per target (with a fallback), the requests waiting for their first token. choose() is the
// policy's pick for one request (target, split, rollout, rules, or a cascade's first stage).
import { OverloadedError } from "../serving/errors.js";
import type { LlmServing } from "../serving/llm/llm-serving.js";
import { CircuitBreaker } from "./breaker.js";
import type { Condition, RouteSpec, TargetSpec } from "./config.js";
import { OutcomeWindow, type Outcome } from "./outcomes.js";
import { type RolloutChange, RolloutController } from "./rollout.js";
import { pickWeighted, stickyPoint } from "./split.js";
import type { RouteRequest } from "./types.js";

/** The policy's pick: a target as the route names it, and the variant that names the pick in metrics. */
export interface Choice {
  readonly spec: TargetSpec;
  readonly variant: string;
}

export type Policy = "target" | "split" | "rollout" | "rules" | "cascade";

export interface RouteDeps {
  readonly now: () => number;
  readonly random: () => number;
}

export const variantOf = (spec: TargetSpec) => spec.variant ?? spec.target;

function matches(when: Condition, request: RouteRequest, promptTokens: () => number): boolean {
  for (const [name, wanted] of Object.entries(when.header ?? {})) {
    const value = request.header(name.toLowerCase());
    if (value === undefined || !(Array.isArray(wanted) ? wanted : [wanted]).includes(value)) return false;
  }
  if (when.tools !== undefined && when.tools !== request.tools) return false;
  if (when.json_schema !== undefined && when.json_schema !== request.jsonSchema) return false;
  if (when.min_prompt_tokens !== undefined && promptTokens() < when.min_prompt_tokens) return false;
  if (when.max_prompt_tokens !== undefined && promptTokens() > when.max_prompt_tokens) return false;
  return true;
}

export class Route {
  readonly name: string;
  readonly spec: RouteSpec;
  readonly policy: Policy;
  readonly rollout: RolloutController | null;
  readonly #deps: RouteDeps;
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #windows = new Map<string, OutcomeWindow>();
  #waiting = 0;

  constructor(spec: RouteSpec, deps: RouteDeps) {
    this.name = spec.name;
    this.spec = spec;
    this.#deps = deps;
    this.policy = (["target", "split", "rollout", "rules", "cascade"] as const).find((p) => spec[p] !== undefined)!;
    const r = spec.rollout;
    this.rollout = r
      ? new RolloutController({
          steps: r.steps.map((s) => s / 100),
          stageMs: r.stage_seconds * 1000,
          minRequests: r.min_requests,
          guards: {
            maxErrorRate: r.guards.max_error_rate,
            maxTtftP99Ratio: r.guards.max_ttft_p99_ratio,
            maxTpotP99Ratio: r.guards.max_tpot_p99_ratio,
          },
          now: deps.now,
        })
      : null;
    if (r)
      for (const t of [r.primary, r.candidate])
        this.#windows.set(t.target, new OutcomeWindow(r.window_seconds * 1000, deps.now));
  }

  /** Every target the route names, its policy's first (the primary: tokenizer routes use it). */
  targets(): TargetSpec[] {
    const s = this.spec;
    const main = [
      ...(s.target ? [s.target] : []),
      ...(s.split ?? []),
      ...(s.rollout ? [s.rollout.primary, s.rollout.candidate] : []),
      ...(s.rules ? [s.default!, ...s.rules.map((r) => r.target)] : []),
      ...(s.cascade?.targets ?? []),
    ];
    return [...main, ...(s.shadow ? [s.shadow.target] : []), ...(s.fallback?.target ? [s.fallback.target] : [])];
  }

  /** The policy's pick for a request; `serving` resolves a target for rules on prompt length. */
  choose(request: RouteRequest, serving: (spec: TargetSpec) => LlmServing): Choice {
    const s = this.spec;
    const pick = (spec: TargetSpec) => ({ spec, variant: variantOf(spec) });
    if (s.target) return pick(s.target);
    if (s.cascade) return pick(s.cascade.targets[0]!);
    if (s.rules) {
      let tokens: number | undefined;
      const promptTokens = () => (tokens ??= request.promptTokens(serving(s.default!)));
      return pick(s.rules.find((rule) => matches(rule.when, request, promptTokens))?.target ?? s.default!);
    }
    if (s.rollout) {
      const weight = this.rollout!.weight;
      // The candidate takes the first range, so a rising weight only moves sticky keys to it.
      const i = pickWeighted([weight, 1 - weight], this.#point(request));
      return pick(i === 0 ? s.rollout.candidate : s.rollout.primary);
    }
    const split = s.split!;
    return pick(
      split[
        pickWeighted(
          split.map((e) => e.weight),
          this.#point(request),
        )
      ]!,
    );
  }

  /** The breaker of a target of a route with a fallback; null without one. */
  breaker(ref: string): CircuitBreaker | null {
    const f = this.spec.fallback;
    if (!f) return null;
    let breaker = this.#breakers.get(ref);
    if (!breaker) {
      breaker = new CircuitBreaker({
        failures: f.failures,
        cooldownMs: f.cooldown_seconds * 1000,
        probes: f.probes,
        now: this.#deps.now,
      });
      this.#breakers.set(ref, breaker);
    }
    return breaker;
  }

  /** Breakers made so far, by target. */
  breakers(): ReadonlyMap<string, CircuitBreaker> {
    return this.#breakers;
  }

  /** Records how a request to `ref` went for the rollout's guards; returns the stage change it caused, if any. */
  recordOutcome(ref: string, outcome: Outcome): RolloutChange | null {
    const window = this.#windows.get(ref);
    const r = this.spec.rollout;
    if (!window || !r || !this.rollout) return null;
    window.add(outcome);
    const change = this.rollout.evaluate(
      this.#windows.get(r.primary.target)!.stats(),
      this.#windows.get(r.candidate.target)!.stats(),
    );
    // The candidate's next verdict is on what it does at its new stage.
    if (change?.kind === "rollback") this.#windows.get(r.candidate.target)!.clear();
    return change;
  }

  /** Counts a request waiting for its first token; throws OverloadedError (429) past max_waiting. */
  enterWaiting(): () => void {
    const max = this.spec.max_waiting;
    if (max !== undefined && this.#waiting >= max)
      throw new OverloadedError(`route '${this.name}' has ${this.#waiting} requests waiting (at most ${max})`);
    this.#waiting++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#waiting--;
    };
  }

  get numWaiting(): number {
    return this.#waiting;
  }

  /** The split's point for a request: its sticky key's hash, or a random draw. */
  #point(request: RouteRequest): number {
    const sticky = this.spec.sticky;
    const key =
      sticky === undefined
        ? null
        : sticky === "user"
          ? request.user
          : (request.header(sticky.slice(7).toLowerCase()) ?? null);
    return key === null || key === "" ? this.#deps.random() : stickyPoint(this.name, key);
  }
}
