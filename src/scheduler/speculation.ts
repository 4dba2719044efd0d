// Speculation: which decoding sequences verify drafts in a step, and how many tokens each. Pure policy and counters;
// where drafts come from is a Drafter's business (prompt lookup, or a draft model the engine runs between steps).
//
// Model: a verify chunk is a decoding sequence's one pending token plus k draft tokens, each row with logits; the
// backend samples the rows in order and stops at the first sampled token that differs from the draft after it, so
// a step yields 1 + (accepted drafts) tokens and the sequence's sampler sees exactly what it would one token a step
// (greedy output is unchanged; sampled output keeps its distribution: with a point-mass draft, "sample, keep the
// draft if they agree" is rejection sampling). Drafting pays when decoding is memory-bound: a step's rows cost
// little more than one row until the step is compute-bound, so drafts only fill a step up to `maxStepRows` rows and
// never join a step that prefills. Each sequence drafts as far as its recent acceptance makes worthwhile.
import type { Sequence } from "./sequence.js";
import type { DraftChunk, StepDraft } from "./step-shape.js";

/** Proposes draft tokens for a sequence's next positions; pure from the planner's view. */
export interface Drafter {
  /** At most `maxTokens` tokens to follow `seq.tokens`; none when it has no guess. */
  propose(seq: Sequence, maxTokens: number): readonly number[];
}

/** A decoding sequence and the draft tokens it would verify in the next step, for drafters that prepare them. */
export interface DraftDemand {
  readonly seq: Sequence;
  readonly numTokens: number;
}

/** What bounds a sequence's drafts besides the step. */
export interface DraftRoom {
  /** Most tokens (prompt and output) a sequence may have. */
  readonly maxModelLen: number;
  /** Claims KV memory for the sequence's first `numTokens` positions; false, claiming nothing, when it lacks. */
  readonly grow: (seq: Sequence, numTokens: number) => boolean;
}

/** Draft tokens a sequence has room for: all but one of its remaining output tokens, within the model length. */
function roomFor(seq: Sequence, maxModelLen: number): number {
  return Math.min(seq.params.maxTokens - seq.numOutputTokens, maxModelLen - seq.tokens.length) - 1;
}

export interface SpeculationOptions {
  readonly drafter: Drafter;
  /** Most draft tokens one sequence verifies in a step (vLLM's num_speculative_tokens). */
  readonly numSpeculativeTokens: number;
  /** Drafts only fill a step up to this many rows (decode rows plus drafts): beyond, it is compute-bound. */
  readonly maxStepRows: number;
}

/** Cumulative counts, under vLLM's spec_decode metric names. */
export interface SpecDecodeStats {
  /** Verify chunks: sequences that verified at least one draft token in a step. */
  readonly numDrafts: number;
  readonly numDraftTokens: number;
  readonly numAcceptedTokens: number;
  /** numAcceptedPerPosition[i]: drafts whose token at position i was accepted. */
  readonly numAcceptedPerPosition: readonly number[];
}

/** A sequence starts as if 70% of its draft tokens were accepted: 3 tokens at first (see draftLength). */
const PRIOR_ACCEPTANCE = 0.7;
/** Weight of the latest verification in a sequence's acceptance rate (an exponential moving average). */
const LATEST_WEIGHT = 0.3;
/** A draft token is worth verifying while the chance that it is accepted (rate^position) is at least this. */
const MIN_ACCEPT_CHANCE = 0.3;
/** A sequence that stopped drafting creeps back towards the prior by this share per step, so it tries again. */
const RECOVERY = 0.03;

/** Draft tokens worth verifying at acceptance rate `rate`: the largest k <= max with rate^k >= MIN_ACCEPT_CHANCE. */
export function draftLength(rate: number, max: number): number {
  if (rate >= 1) return max;
  if (rate <= 0) return 0;
  return Math.min(max, Math.floor(Math.log(MIN_ACCEPT_CHANCE) / Math.log(rate) + 1e-9));
}

export class Speculation {
  readonly #drafter: Drafter;
  readonly #maxTokens: number;
  readonly #maxStepRows: number;
  readonly #rates = new WeakMap<Sequence, number>();
  #numDrafts = 0;
  #numDraftTokens = 0;
  #numAccepted = 0;
  readonly #perPosition: number[];

  constructor({ drafter, numSpeculativeTokens, maxStepRows }: SpeculationOptions) {
    if (!(Number.isInteger(numSpeculativeTokens) && numSpeculativeTokens > 0))
      throw new RangeError(`numSpeculativeTokens must be a positive integer, got ${numSpeculativeTokens}`);
    if (!(Number.isInteger(maxStepRows) && maxStepRows > 0))
      throw new RangeError(`maxStepRows must be a positive integer, got ${maxStepRows}`);
    this.#drafter = drafter;
    this.#maxTokens = numSpeculativeTokens;
    this.#maxStepRows = maxStepRows;
    this.#perPosition = new Array<number>(numSpeculativeTokens).fill(0);
  }

  /** Draft rows a step may add to its `numDecoding` decode rows; none when it also prefills. */
  stepBudget(numDecoding: number, prefills: boolean): number {
    return prefills ? 0 : Math.max(0, this.#maxStepRows - numDecoding);
  }

  /** How many draft tokens `seq` asks for now, at most `limit`: its acceptance says how many are worth it. */
  wanted(seq: Sequence, limit: number): number {
    const length = this.#peek(seq, limit);
    // Not drafting for its poor acceptance: drift back, so a sequence whose output turns repetitive tries again.
    if (length === 0 && seq.params.speculative && limit > 0) {
      const rate = this.#rates.get(seq) ?? PRIOR_ACCEPTANCE;
      this.#rates.set(seq, rate + (PRIOR_ACCEPTANCE - rate) * RECOVERY);
    }
    return length;
  }

  /**
   * Makes the planned decode chunk `chunk` a verify chunk of up to `limit` draft tokens, within the step's token
   * budget and the sequence's room. Returns the draft rows added (none when the drafter has no guess).
   */
  addDraft(step: StepDraft, chunk: DraftChunk, limit: number, room: DraftRoom): number {
    const { seq } = chunk;
    const numTokens = this.wanted(seq, Math.min(limit, step.budget, roomFor(seq, room.maxModelLen)));
    const draft = numTokens === 0 ? [] : this.#drafter.propose(seq, numTokens).slice(0, numTokens);
    if (draft.length === 0 || !room.grow(seq, seq.tokens.length + draft.length)) return 0;
    chunk.draft = draft;
    step.budget -= draft.length;
    return draft.length;
  }

  /** What `decoding` sequences would draft in a step with `prefills` (in order, as the planner gives out rows). */
  demand(decoding: readonly Sequence[], prefills: boolean, room: DraftRoom): DraftDemand[] {
    let budget = this.stepBudget(decoding.length, prefills);
    const demand: DraftDemand[] = [];
    for (const seq of decoding) {
      const numTokens = this.#peek(seq, Math.min(budget, roomFor(seq, room.maxModelLen)));
      if (numTokens > 0) demand.push({ seq, numTokens });
      budget -= numTokens;
    }
    return demand;
  }

  /**
   * Counts a verified draft: `sampled` holds the tokens sampled at the chunk's rows (-1 where not sampled). Returns
   * how many draft tokens were accepted: the leading ones equal to the token sampled at the row before them.
   */
  verified(seq: Sequence, draft: readonly number[], sampled: ArrayLike<number>): number {
    let accepted = 0;
    while (accepted < draft.length && sampled[accepted] === draft[accepted]) accepted++;
    const rate = this.#rates.get(seq) ?? PRIOR_ACCEPTANCE;
    this.#rates.set(seq, (1 - LATEST_WEIGHT) * rate + LATEST_WEIGHT * (accepted / draft.length));
    this.#numDrafts++;
    this.#numDraftTokens += draft.length;
    this.#numAccepted += accepted;
    for (let i = 0; i < accepted; i++) this.#perPosition[i]!++;
    return accepted;
  }

  stats(): SpecDecodeStats {
    return {
      numDrafts: this.#numDrafts,
      numDraftTokens: this.#numDraftTokens,
      numAcceptedTokens: this.#numAccepted,
      numAcceptedPerPosition: [...this.#perPosition],
    };
  }

  #peek(seq: Sequence, limit: number): number {
    if (!seq.params.speculative || limit <= 0) return 0;
    return draftLength(this.#rates.get(seq) ?? PRIOR_ACCEPTANCE, Math.min(limit, this.#maxTokens));
  }
}
