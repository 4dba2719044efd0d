// DraftModelDrafter: speculative decoding with a small draft model that shares the target's vocabulary. Between
// steps it catches each drafting sequence up in its own context and KV (one llama sequence id per target sequence)
// and drafts greedily, one batched step per draft token; the plan then verifies what it drafted. Greedy drafts are
// point masses, so the target's "sample, keep the draft while they agree" stays exact rejection sampling.
import type { Batch, LlmBackend, SequenceSampler } from "../backend/types.js";
import type { Sequence } from "../scheduler/sequence.js";
import type { DraftDemand, Drafter } from "../scheduler/speculation.js";
import type { DraftPreparer } from "./engine.js";
import { encodeKvOps } from "./to-batch.js";

export interface DraftModelOptions {
  /** The draft model's context: at least `numSlots` sequence ids, a pool holding every running sequence. */
  readonly backend: LlmBackend;
  /** A greedy sampler of the draft model: stateless, so every row shares it. */
  readonly greedy: SequenceSampler;
  /** Sequence ids of the draft context (the target's running cap). */
  readonly numSlots: number;
  /** Most rows one draft step may send (the draft context's batchTokens). */
  readonly maxBatchTokens: number;
  /** Frees the draft model and its context; close() runs it once the engine no longer steps. */
  readonly release: () => Promise<void>;
}

/** Rows of one sequence in a draft step; the last is sampled when the sequence still wants drafts. */
interface RowGroup {
  readonly seq: Sequence;
  readonly entry: DraftSlot;
  readonly tokens: readonly number[];
  readonly numDrafts: number;
}

interface DraftSlot {
  readonly slot: number;
  /** The tokens whose cells the draft context holds for this sequence, by position. */
  readonly cached: number[];
}

export class DraftModelDrafter implements Drafter, DraftPreparer {
  readonly #backend: LlmBackend;
  readonly #greedy: SequenceSampler;
  readonly #maxBatchTokens: number;
  readonly #release: () => Promise<void>;
  readonly #slots = new Map<Sequence, DraftSlot>();
  readonly #freeSlots: number[];
  #drafts = new Map<Sequence, number[]>();
  /** Cells to remove with the next draft step: stale drafts, and the slots of sequences that left. */
  readonly #removals: { slot: number; fromPos: number }[] = [];
  /** The draft steps' turn at shared compute: that of the most urgent sequence drafted for. */
  #priority = 0;

  constructor({ backend, greedy, numSlots, maxBatchTokens, release }: DraftModelOptions) {
    this.#release = release;
    this.#backend = backend;
    this.#greedy = greedy;
    this.#maxBatchTokens = maxBatchTokens;
    this.#freeSlots = Array.from({ length: numSlots }, (_, i) => numSlots - 1 - i);
  }

  /** What prepare() drafted for `seq`, at most `maxTokens`. */
  propose(seq: Sequence, maxTokens: number): readonly number[] {
    return (this.#drafts.get(seq) ?? []).slice(0, maxTokens);
  }

  /**
   * Drafts for the demand: sequences no longer running give their slots back (cells removed), each demanded sequence
   * catches up (its prompt and accepted tokens, within the step's rows), then one greedy step per draft token. A
   * failed draft step leaves its sequences without drafts and their slots empty.
   */
  async prepare(demand: readonly DraftDemand[]): Promise<void> {
    this.#drafts = new Map();
    this.#releaseFinished();
    this.#priority = demand.reduce((p, { seq }) => Math.min(p, seq.priority), Infinity);
    let budget = this.#maxBatchTokens;
    let groups: RowGroup[] = [];
    for (const { seq, numTokens } of demand) {
      const entry = this.#slotOf(seq);
      if (!entry) continue;
      // Cells from the first token where the draft context and the sequence part are stale drafts; the last token
      // is always fed again, since its logits give the first draft.
      let common = 0;
      while (common < entry.cached.length && entry.cached[common] === seq.tokens[common]) common++;
      common = Math.min(common, seq.tokens.length - 1);
      if (common < entry.cached.length) this.#removals.push({ slot: entry.slot, fromPos: common });
      entry.cached.length = common;
      const to = Math.min(seq.tokens.length, common + budget);
      if (to <= common) break;
      budget -= to - common;
      groups.push({
        seq,
        entry,
        tokens: seq.tokens.slice(common, to),
        numDrafts: to === seq.tokens.length ? numTokens : 0,
      });
    }
    while (groups.length > 0 || this.#removals.length > 0) {
      const sampled = await this.#step(groups);
      if (!sampled) return;
      const next: RowGroup[] = [];
      groups
        .filter((g) => g.numDrafts > 0)
        .forEach((group, k) => {
          const drafts = this.#drafts.get(group.seq) ?? [];
          drafts.push(sampled[k]!);
          this.#drafts.set(group.seq, drafts);
          if (drafts.length < group.numDrafts) next.push({ ...group, tokens: [sampled[k]!] });
        });
      groups = next;
    }
  }

  // One draft-context step: each group's rows continue its slot; a group that drafts has its last row sampled.
  // Returns the tokens sampled, in group order, or null when the step failed.
  async #step(groups: readonly RowGroup[]): Promise<Int32Array | null> {
    const tokens: number[] = [];
    const positions: number[] = [];
    const seqIds: number[] = [];
    const outputRows: number[] = [];
    for (const { entry, tokens: rows, numDrafts } of groups) {
      rows.forEach((token) => {
        tokens.push(token);
        positions.push(entry.cached.length);
        seqIds.push(entry.slot);
        entry.cached.push(token);
      });
      if (numDrafts > 0) outputRows.push(tokens.length - 1);
    }
    const removals = this.#removals.splice(0);
    const batch: Batch = {
      tokens: Int32Array.from(tokens),
      positions: Int32Array.from(positions),
      seqIds: Int32Array.from(seqIds),
      outputRows: Int32Array.from(outputRows),
      samplers: outputRows.map(() => this.#greedy),
      kvOps: encodeKvOps(removals.map(({ slot, fromPos }) => ({ kind: "remove", slot, fromPos, toPos: -1 }))),
      ...(this.#priority === Infinity ? {} : { priority: this.#priority }),
    };
    const result = await this.#backend.step(batch).catch(() => null);
    if (result && result.errors.length === 0) return result.tokens;
    for (const { entry } of groups) {
      entry.cached.length = 0;
      this.#removals.push({ slot: entry.slot, fromPos: 0 });
    }
    this.#drafts = new Map();
    return null;
  }

  close(): Promise<void> {
    return this.#release();
  }

  #slotOf(seq: Sequence): DraftSlot | undefined {
    let entry = this.#slots.get(seq);
    if (!entry) {
      const slot = this.#freeSlots.pop();
      if (slot === undefined) return undefined;
      entry = { slot, cached: [] };
      this.#slots.set(seq, entry);
    }
    return entry;
  }

  // Sequences that stopped running give their slots back; their cells are removed with the next draft step.
  #releaseFinished(): void {
    for (const [seq, entry] of this.#slots) {
      if (seq.status === "running") continue;
      this.#slots.delete(seq);
      this.#freeSlots.push(entry.slot);
      this.#removals.push({ slot: entry.slot, fromPos: 0 });
    }
  }
}
