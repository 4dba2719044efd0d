// A cascade: answer with the fastest target first, and pass the request on to the next when the answer's confidence
// (confidence.ts) is below the route's threshold. A request that is not streamed gets the whole answer judged and
// never sees the ones passed on; a streamed one is judged on its first tokens (stream_prefix_tokens), which are held
// back until then and streamed on from whichever target kept the request. An answer that failed is passed on too.
import type { RouteSpec } from "./config.js";
import { confidenceOf } from "./confidence.js";
import { isFailure, logprobsOf, replay, withoutLogprobs } from "./events.js";
import type { Route } from "./route.js";
import { variantOf } from "./route.js";
import type { Routing } from "./routing.js";
import type { RouteRequest, RoutedEvent, Start, Started, Target } from "./types.js";

type CascadeSpec = NonNullable<RouteSpec["cascade"]>;

export interface CascadeResult<S extends Started> {
  readonly started: S;
  readonly target: Target;
  readonly variant: string;
}

export async function runCascade<S extends Started>(
  routing: Routing,
  route: Route,
  request: RouteRequest,
  start: Start<S>,
): Promise<CascadeResult<S>> {
  const spec = route.spec.cascade as CascadeSpec;
  const stages = spec.targets;
  for (let i = 0; ; i++) {
    const target = routing.resolve(stages[i]!);
    const variant = variantOf(stages[i]!);
    const last = i === stages.length - 1;
    const started = start(target, {
      idSuffix: i === 0 ? "" : `-cascade${i + 1}`,
      needLogprobs: !last,
      fields: {
        route: { name: route.name, variant },
        ...(target.timeoutMs === undefined ? {} : { timeoutMs: target.timeoutMs }),
      },
    });
    if (last) return { started, target, variant };
    const kept = await judge(started.events, spec, request.stream);
    routing.metrics?.confidence(route.name, target.id, kept.confidence ?? 0);
    if (kept.confidence !== null && kept.confidence >= spec.min_confidence) {
      const events = replay(kept.buffered, kept.rest);
      return { started: { ...started, events: request.logprobs ? events : withoutLogprobs(events) }, target, variant };
    }
    await kept.rest?.return?.();
    const next = routing.resolve(stages[i + 1]!);
    routing.metrics?.escalation(route.name, target.id, next.id);
    routing.logger.log("debug", "cascade_escalation", {
      route: route.name,
      from: target.id,
      to: next.id,
      confidence: kept.confidence,
      min_confidence: spec.min_confidence,
    });
  }
}

interface Judged<E> {
  readonly buffered: E[];
  /** What is left of the stream (null when it ended). */
  readonly rest: AsyncIterator<E> | null;
  /** Null when the answer failed or has no tokens. */
  readonly confidence: number | null;
}

/** Reads the whole answer, or its first tokens when streamed, and the confidence they give. */
async function judge<E extends RoutedEvent>(
  events: AsyncIterable<E>,
  spec: CascadeSpec,
  stream: boolean,
): Promise<Judged<E>> {
  const iterator = events[Symbol.asyncIterator]();
  const buffered: E[] = [];
  const logprobs: number[] = [];
  let failed = false;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { buffered, rest: null, confidence: failed ? null : confidenceOf(logprobs, spec.quantile) };
    buffered.push(next.value);
    for (const token of logprobsOf(next.value)) logprobs.push(token.logprob);
    failed ||= isFailure(next.value);
    if (stream && !failed && logprobs.length >= spec.stream_prefix_tokens)
      return { buffered, rest: iterator, confidence: confidenceOf(logprobs, spec.quantile) };
  }
}
