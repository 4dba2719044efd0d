// observe(): a routed generation's events, passed through unchanged, with what routing needs to know of them: when
// the first one came (the route's waiting count, TTFT) and how the generation ended (the breaker, the rollout's
// guards, a shadow's comparison).
import { isFailure, textOf } from "./events.js";
import type { RoutedEvent } from "./types.js";

export interface ObservedEnd {
  /** True finished, false failed (an error, a timeout, a throw), null cancelled (the client went away). */
  readonly ok: boolean | null;
  readonly ttftMs: number | null;
  /** Mean time per output token after the first; null with fewer than two. */
  readonly tpotMs: number | null;
  readonly e2eMs: number;
  readonly outputTokens: number;
  /** The generated text of every choice, in order of arrival (kept only when asked for). */
  readonly text: string;
}

export interface ObserveHooks {
  /** Performance time the generation was started at. */
  readonly startedAt: number;
  readonly keepText: boolean;
  readonly onFirst?: () => void;
  readonly onEnd: (end: ObservedEnd) => void;
}

export async function* observe<E extends RoutedEvent>(
  events: AsyncIterable<E>,
  hooks: ObserveHooks,
): AsyncGenerator<E> {
  const { startedAt, keepText } = hooks;
  let firstAt: number | null = null;
  let ok: boolean | null = null;
  let cancelled = false;
  let outputTokens = 0;
  let text = "";
  const first = () => {
    if (firstAt !== null) return;
    firstAt = performance.now();
    hooks.onFirst?.();
  };
  try {
    for await (const event of events) {
      first();
      if (keepText) text += textOf(event);
      if (event.type === "usage") outputTokens = event.usage.completionTokens;
      if (isFailure(event)) ok = false;
      else if (event.type === "finished" && event.reason === "abort") cancelled = true;
      yield event;
    }
    if (ok === null && !cancelled) ok = true;
  } catch (error) {
    ok = false;
    throw error;
  } finally {
    first();
    const end = performance.now();
    const ttftMs = firstAt! - startedAt;
    hooks.onEnd({
      ok,
      ttftMs: ok === null ? null : ttftMs,
      tpotMs: outputTokens > 1 ? (end - firstAt!) / (outputTokens - 1) : null,
      e2eMs: end - startedAt,
      outputTokens,
      text,
    });
  }
}
