// Prompt-lookup decoding (vLLM's "ngram" method, llama.cpp's lookup decoding): the draft is what followed the latest
// earlier occurrence of the sequence's last n tokens, in its own prompt and output. Free to compute, and right
// whenever the output copies from the prompt (editing, extraction, quoting, code) or repeats itself.
import type { Drafter } from "./speculation.js";
import type { Sequence } from "./sequence.js";

export interface NgramOptions {
  /** Longest suffix looked up first (vLLM's prompt_lookup_max). */
  readonly maxNgram?: number;
  /** Shortest suffix tried (vLLM's prompt_lookup_min): a single token matches too often to be worth a draft. */
  readonly minNgram?: number;
}

export class NgramDrafter implements Drafter {
  readonly #maxNgram: number;
  readonly #minNgram: number;

  constructor({ maxNgram = 4, minNgram = 2 }: NgramOptions = {}) {
    if (!(Number.isInteger(minNgram) && minNgram >= 1 && Number.isInteger(maxNgram) && maxNgram >= minNgram))
      throw new RangeError(`need integers 1 <= minNgram <= maxNgram, got ${minNgram} and ${maxNgram}`);
    this.#maxNgram = maxNgram;
    this.#minNgram = minNgram;
  }

  /** The tokens after the latest earlier occurrence of the longest matching suffix (maxNgram down to minNgram). */
  propose(seq: Sequence, maxTokens: number): number[] {
    return ngramDraft(seq.tokens, maxTokens, this.#minNgram, this.#maxNgram);
  }
}

/** Prompt lookup over `tokens`: at most `maxTokens` tokens, none when no suffix of minNgram or more recurs. */
export function ngramDraft(tokens: readonly number[], maxTokens: number, minNgram: number, maxNgram: number): number[] {
  const length = tokens.length;
  for (let n = Math.min(maxNgram, length - 1); n >= minNgram; n--) {
    // An occurrence ending at `end` (exclusive), before the suffix itself, with at least one token after it.
    for (let end = length - 1; end >= n; end--) {
      let k = 0;
      while (k < n && tokens[end - 1 - k] === tokens[length - 1 - k]) k++;
      if (k === n) return tokens.slice(end, Math.min(end + maxTokens, length));
    }
  }
  return [];
}
