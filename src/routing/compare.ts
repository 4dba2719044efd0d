// How a shadow's answer compares with the primary's, for offline evaluation: whether they are the same text (which
// is expected of greedy requests on equal models), and a similarity score, 1 minus the Levenshtein distance over the
// longer length (1 for equal texts, 0 for nothing in common).
import { distance } from "fastest-levenshtein";

/** Texts are compared on their first this many characters, which bounds the cost of a comparison. */
const MAX_CHARS = 4096;

export interface OutputComparison {
  readonly match: boolean;
  readonly similarity: number;
}

export function compareOutputs(primary: string, shadow: string): OutputComparison {
  const a = primary.slice(0, MAX_CHARS);
  const b = shadow.slice(0, MAX_CHARS);
  const longer = Math.max(a.length, b.length);
  return { match: primary === shadow, similarity: longer === 0 ? 1 : 1 - distance(a, b) / longer };
}
