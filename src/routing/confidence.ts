// A generated answer's confidence for a cascade: a low quantile of its per-token probabilities. The mean is
// length-biased (a long answer of sure tokens hides the few it guessed); a low quantile looks at the guesses.

/**
 * The `quantile` (0 to 1, nearest rank) of exp(logprob) over the tokens; null for an answer of no tokens, which
 * gives nothing to trust.
 */
export function confidenceOf(logprobs: readonly number[], quantile: number): number | null {
  if (logprobs.length === 0) return null;
  const probabilities = logprobs.map((l) => Math.exp(l)).sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(quantile * probabilities.length));
  return probabilities[rank - 1]!;
}
