// Shadows: a sampled share of a route's requests also runs on a candidate whose answer nobody gets, for offline
// comparison. A shadow runs only into spare capacity: it starts only when its model has nothing waiting and KV
// memory to spare, runs at the lowest priority (admitted last, preempted first, last turn at shared compute), and
// is cancelled as soon as a request that clients wait for finds that model busy. Models on the CPU share one
// compute (they take turns stepping), so for them capacity is the process's: a shadow on one does not start while
// any of them has requests waiting, and a busy one cancels the shadows on all of them. When both have finished,
// the pair is recorded: a `shadow_comparison` log line (latency, tokens, whether greedy outputs match, a similarity
// score) and metrics.
import type { LlmServing } from "../serving/llm/llm-serving.js";
import { compareOutputs } from "./compare.js";
import { type ObservedEnd, observe } from "./observe.js";
import type { Route } from "./route.js";
import type { Routing } from "./routing.js";
import type { RouteRequest, Start, Started } from "./types.js";

/** Admitted after everything else (lower runs first) and preempted first under KV pressure. */
const SHADOW_PRIORITY = 1000;
/** A shadow starts only while its model's KV blocks in use stay below this share. */
const MAX_KV_USAGE = 0.9;

export class Shadows {
  readonly #routing: Routing;
  readonly #running = new Map<LlmServing, Set<AbortController>>();
  readonly #perRoute = new Map<string, number>();

  constructor(routing: Routing) {
    this.#routing = routing;
  }

  /**
   * Before a client's request starts on `serving`: when it has requests waiting, cancels the shadows on it and on
   * the models it shares compute with (clients' requests come first). Returns whether it had requests waiting, for
   * launch().
   */
  yieldTo(serving: LlmServing): boolean {
    if (serving.engine.stats().numWaiting === 0) return false;
    for (const [other, running] of this.#running) {
      if (other !== serving && !(other.sharesCompute && serving.sharesCompute)) continue;
      for (const controller of running) controller.abort();
    }
    return true;
  }

  /**
   * Maybe starts the route's shadow of a request, once its primary has started on `primary` (whose queue held
   * requests before it when `primaryBusy`, what yieldTo() returned); returns what the primary's end is to be handed
   * to (for the comparison), or null when no shadow runs.
   */
  launch<S extends Started>(
    route: Route,
    request: RouteRequest,
    start: Start<S>,
    primary: { readonly serving: LlmServing; readonly busy: boolean },
  ): ((end: ObservedEnd) => void) | null {
    const spec = route.spec.shadow;
    const routing = this.#routing;
    if (!spec || routing.random() >= spec.sample) return null;
    const target = routing.resolve(spec.target);
    const { metrics } = routing;
    if (!this.#spare(target.serving, primary) || (this.#perRoute.get(route.name) ?? 0) >= spec.max_concurrent) {
      metrics?.shadow(route.name, target.id, "skipped");
      return null;
    }
    const controller = new AbortController();
    let started: S;
    try {
      started = start(target, {
        idSuffix: "-shadow",
        needLogprobs: false,
        fields: {
          priority: SHADOW_PRIORITY,
          signal: controller.signal,
          route: { name: route.name, variant: "shadow" },
          ...(target.timeoutMs === undefined ? {} : { timeoutMs: target.timeoutMs }),
        },
      });
    } catch {
      metrics?.shadow(route.name, target.id, "failed");
      return null;
    }
    this.#track(target.serving, route.name, controller, +1);
    const pair: { primary?: ObservedEnd | null; shadow?: ObservedEnd } = {};
    const compare = () => {
      if (pair.primary === undefined || pair.shadow === undefined) return;
      // A primary that failed or was cancelled leaves nothing to compare with.
      if (pair.primary === null || pair.primary.ok !== true || pair.shadow.ok !== true) return;
      const { match, similarity } = compareOutputs(pair.primary.text, pair.shadow.text);
      metrics?.comparison(route.name, target.id, request.greedy ? match : null, similarity);
      routing.logger.log("info", "shadow_comparison", {
        route: route.name,
        shadow: target.id,
        greedy: request.greedy,
        match,
        similarity: Number(similarity.toFixed(4)),
        primary_ms: Math.round(pair.primary.e2eMs),
        shadow_ms: Math.round(pair.shadow.e2eMs),
        primary_ttft_ms: roundOrNull(pair.primary.ttftMs),
        shadow_ttft_ms: roundOrNull(pair.shadow.ttftMs),
        primary_tokens: pair.primary.outputTokens,
        shadow_tokens: pair.shadow.outputTokens,
      });
    };
    const events = observe(started.events, {
      startedAt: performance.now(),
      keepText: true,
      onEnd: (end) => {
        pair.shadow = end;
        const outcome = controller.signal.aborted ? "dropped" : end.ok ? "completed" : "failed";
        metrics?.shadow(route.name, target.id, outcome);
        compare();
      },
    });
    void (async () => {
      try {
        for await (const _ of events);
      } catch {
        // Its failure is counted by observe(); nobody waits for its answer.
      } finally {
        this.#track(target.serving, route.name, controller, -1);
      }
    })();
    return (end) => {
      pair.primary = end;
      compare();
    };
  }

  #spare(target: LlmServing, primary: { readonly serving: LlmServing; readonly busy: boolean }): boolean {
    const { kv } = target.engine.stats();
    if (kv.numBlocks > 0 && kv.numUsedBlocks / kv.numBlocks >= MAX_KV_USAGE) return false;
    // The primary's own request waits in its queue now: its queue counts as it was before.
    const busy = (serving: LlmServing) =>
      serving === primary.serving ? primary.busy : serving.engine.stats().numWaiting > 0;
    if (busy(target)) return false;
    return !target.sharesCompute || !this.#routing.registry.list().some((s) => s.sharesCompute && busy(s));
  }

  #track(serving: LlmServing, route: string, controller: AbortController, delta: 1 | -1): void {
    let running = this.#running.get(serving);
    if (!running) this.#running.set(serving, (running = new Set()));
    if (delta > 0) running.add(controller);
    else running.delete(controller);
    if (running.size === 0) this.#running.delete(serving);
    this.#perRoute.set(route, (this.#perRoute.get(route) ?? 0) + delta);
  }
}

const roundOrNull = (ms: number | null) => (ms === null ? null : Math.round(ms));
