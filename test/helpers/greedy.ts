// Comparing greedy completions across runs whose batches and KV cell placement differ. In the unified pool a
// sequence's cells land wherever they are free, which changes the order in which attention sums over them, so
// logits differ in the last bits; where the two best tokens are that close, greedy decoding may pick either.
import { expect } from "vitest";
import type { Completion } from "openai/resources/completions";

/** Two candidates closer than this (natural log units) count as tied; float noise measured here is ~1e-3. */
const TIE_NATS = 0.01;

type Choice = Completion["choices"][number];

/** The index of the first token where `other` leaves `reference`, or -1 when they agree throughout. */
function firstDivergence(reference: Choice, other: Choice): number {
  const a = reference.logprobs!.tokens!, b = other.logprobs!.tokens!;
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

/**
 * Each completion equals its reference token for token, except that it may part from it at a position where the
 * reference's two best candidates were tied and it took the other one. Requires `logprobs >= 2` on both requests.
 * Returns how many parted at a tie, so callers can bound it.
 */
export function expectGreedyAgreement(references: readonly Choice[], others: readonly Choice[]): number {
  expect(others.length).toBe(references.length);
  let numTies = 0;
  references.forEach((reference, i) => {
    const at = firstDivergence(reference, others[i]!);
    if (at < 0) return;
    const candidates = reference.logprobs!.top_logprobs![at] ?? {};
    const [best, second] = Object.values(candidates).sort((x, y) => y - x);
    const taken = others[i]!.logprobs!.tokens![at]!;
    const tied = best !== undefined && second !== undefined && best - second < TIE_NATS && candidates[taken] !== undefined;
    expect(tied, `completion ${i} parts from its reference at token ${at} (${JSON.stringify(candidates)}, took ${JSON.stringify(taken)})`).toBe(true);
    numTies++;
  });
  return numTies;
}
