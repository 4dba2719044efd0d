// Comparing greedy runs whose batches and KV cell placement differ. A sequence's cells land wherever they are
// free, which changes the order in which attention sums over them, so logits differ in the last bits; where
// the two best tokens are that close, greedy decoding may pick either.
import { expect } from "vitest";
import type { Completion } from "openai/resources/completions";
import type { StepEvent } from "../../src/engine/events.js";

/** Two candidates closer than this (natural log units) count as tied; float noise measured here is ~1e-3. */
const TIE_NATS = 0.01;

/** A greedy run's tokens, and at each position its best candidates with their logprobs (at least two). */
export interface GreedyTrace {
  readonly tokens: readonly (string | number)[];
  readonly candidates: readonly Readonly<Record<string, number>>[];
}

export function completionTrace(choice: Completion["choices"][number]): GreedyTrace {
  return { tokens: choice.logprobs!.tokens!, candidates: choice.logprobs!.top_logprobs! };
}

/** The trace of choice 0 of an engine request submitted with `logprobs >= 2`. */
export async function engineTrace(events: AsyncIterable<StepEvent>): Promise<GreedyTrace> {
  const tokens: number[] = [],
    candidates: Record<string, number>[] = [];
  for await (const event of events) {
    if (event.type !== "token" || event.index !== 0) continue;
    tokens.push(event.token);
    candidates.push(Object.fromEntries([...event.topTokens!].map((token, i) => [token, event.topLogprobs![i]!])));
  }
  return { tokens, candidates };
}

/**
 * Each run equals its reference token for token, except that it may part from it at a position where the
 * reference's two best candidates were tied and it took the other one. Returns how many parted at a tie, so
 * callers can bound it.
 */
export function expectGreedyAgreement(references: readonly GreedyTrace[], others: readonly GreedyTrace[]): number {
  expect(others.length).toBe(references.length);
  let numTies = 0;
  references.forEach((reference, i) => {
    const other = others[i]!;
    const at = reference.tokens.findIndex((token, j) => token !== other.tokens[j]);
    if (at < 0 && other.tokens.length === reference.tokens.length) return;
    const candidates = reference.candidates[at] ?? {};
    const [best, second] = Object.values(candidates).sort((x, y) => y - x);
    const taken = other.tokens[at]!;
    const tied =
      best !== undefined && second !== undefined && best - second < TIE_NATS && candidates[taken] !== undefined;
    expect(
      tied,
      `run ${i} parts from its reference at token ${at} (${JSON.stringify(candidates)}, took ${JSON.stringify(taken)})`,
    ).toBe(true);
    numTies++;
  });
  return numTies;
}
