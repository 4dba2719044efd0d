// Scheduler: the pure planner of continuous batching. plan() decides the next step from the scheduler's state;
// apply() turns the step's sampled tokens into events. No I/O, no timers, no native calls.
import type { StepResult } from "../backend/types.js";
import type { KvAllocator } from "../kv/types.js";
import { type AdapterTurn, adapterGroups, chooseAdapterGroup } from "./adapter-rotation.js";
import { applyStep, type StepOutcomes } from "./apply-step.js";
import { BackgroundGate } from "./background.js";
import type { SchedulerOptions, SchedulerStats } from "./scheduler-options.js";
import type { FinishReason, Sequence } from "./sequence.js";
import type { DraftDemand, DraftRoom, Speculation } from "./speculation.js";
import type { SequenceEvent, StepPlan } from "./step-plan.js";
import { type DraftChunk, packedSteps, type StepDraft, type StepShape } from "./step-shape.js";
import { agedPriorityOrder, WaitingQueue } from "./waiting-queue.js";

export type { SchedulerOptions, SchedulerStats } from "./scheduler-options.js";

export class Scheduler {
  readonly #kv: KvAllocator;
  readonly #shape: StepShape;
  readonly #maxBatchTokens: number;
  readonly #maxRunning: number;
  readonly #maxModelLen: number;
  readonly #speculation: Speculation | null;
  /** What bounds a sequence's drafts besides the step: its model length and KV memory (drafts never preempt). */
  readonly #room: DraftRoom;
  readonly #outcomes: StepOutcomes;
  readonly #waiting: WaitingQueue;
  /** In admission order: the oldest first, so preemption takes from the end. */
  #running: Sequence[] = [];
  #numPreemptions = 0;
  readonly #lastServedMs = new Map<number, number>();
  #turn: AdapterTurn | null = null;
  readonly #numFinished: Record<FinishReason, number> = { stop: 0, length: 0, abort: 0, timeout: 0, error: 0 };
  readonly #background: BackgroundGate;

  constructor({
    kv,
    shape = packedSteps,
    maxBatchTokens,
    maxRunning,
    maxModelLen,
    endOfGenerationTokens,
    agingMs = 10_000,
    speculation,
    background,
  }: SchedulerOptions) {
    for (const [name, value] of [
      ["maxBatchTokens", maxBatchTokens],
      ["maxRunning", maxRunning],
      ["maxModelLen", maxModelLen],
      ["agingMs", agingMs],
    ] as const) {
      if (!(Number.isInteger(value) && value > 0))
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
    this.#kv = kv;
    this.#shape = shape;
    this.#maxBatchTokens = maxBatchTokens;
    this.#maxRunning = maxRunning;
    this.#maxModelLen = maxModelLen;
    this.#speculation = speculation ?? null;
    this.#background = new BackgroundGate(background ?? null);
    this.#room = { maxModelLen, grow: (seq, numTokens) => kv.grow(seq.table!, numTokens) };
    this.#outcomes = {
      kv,
      speculation: this.#speculation,
      endOfGeneration: new Set(endOfGenerationTokens),
      maxModelLen,
      finish: (seq, reason, message) => this.#finish(seq, reason, message),
    };
    this.#waiting = new WaitingQueue(agedPriorityOrder(agingMs));
  }

  get hasWork(): boolean {
    return this.#running.length > 0 || this.#waiting.length > 0;
  }

  get maxModelLen(): number {
    return this.#maxModelLen;
  }

  add(seq: Sequence): void {
    if (seq.tokens.length >= this.#maxModelLen) {
      throw new RangeError(
        `a sequence of ${seq.tokens.length} tokens leaves no room to generate within ${this.#maxModelLen} tokens`,
      );
    }
    if (!this.#kv.fits(seq.tokens.length + 1)) {
      throw new RangeError(`a sequence of ${seq.tokens.length} tokens does not fit in the KV pool`);
    }
    this.#waiting.push(seq);
  }

  /** Ends a sequence between steps. A waiting one ends now; a running one retires at the next plan(). */
  abort(seq: Sequence, reason: FinishReason, message: string | null = null): SequenceEvent[] {
    if (seq.status === "finished") return [];
    if (seq.status === "waiting") return [this.#finish(seq, reason, message)];
    seq.pendingFinish ??= { reason, message };
    return [];
  }

  /**
   * Plans one step. Model (vLLM v1): every sequence has one progress counter; a step gives each some tokens so
   * numComputedTokens catches up with tokens.length. Order: (1) retire aborted sequences; (2) one decode token
   * for every running sequence that has caught up; (3) chunked prefill of running sequences with what budget is
   * left; (4) admit waiting sequences (priority, age, arrival) while blocks, slots and budget allow; the n > 1
   * siblings of a request wait for its first sequence's prefill, then share its prompt through the prefix cache.
   * A sequence that cannot get a block preempts the newest lowest-priority running one, possibly itself.
   */
  plan(nowMs: number): StepPlan {
    const finished: Sequence[] = [];
    for (const seq of [...this.#running]) {
      if (seq.pendingFinish) {
        this.#finish(seq, seq.pendingFinish.reason, seq.pendingFinish.message);
        finished.push(seq);
      }
    }
    const step: StepDraft = { chunks: [], preempted: [], budget: this.#maxBatchTokens };
    this.#background.open(nowMs, this.#running, this.#waiting);
    let adapterId = this.#chooseAdapter(nowMs);
    this.#planGroup(step, adapterId, nowMs);
    // A group chosen for waiting sequences that cannot be admitted yet (no blocks) must not stall the running ones.
    const fallback = this.#running.find((s) => s.adapterId !== adapterId && !s.pendingFinish)?.adapterId;
    if (step.chunks.length === 0 && fallback !== undefined) {
      adapterId = fallback;
      this.#planGroup(step, adapterId, nowMs);
    }
    this.#lastServedMs.set(adapterId, nowMs);
    this.#turn = { adapterId, numSteps: this.#turn?.adapterId === adapterId ? this.#turn.numSteps + 1 : 1 };
    const fillers = this.#shape.finish(step, (chunk) => this.#extend(step, chunk));
    const { chunks, preempted } = step;
    const numTokens = chunks.reduce((n, c) => n + c.numTokens + c.draft.length, 0);
    return { chunks, kvOps: this.#kv.takeOps(), fillers, adapterId, numTokens, preempted, finished };
  }

  // Decode, prefill and admission for the sequences of one adapter group, each taking its first take under the
  // step shape (all it can, or one token when the layout wants every slot in every step; see StepShape).
  #planGroup(step: StepDraft, adapterId: number, nowMs: number): void {
    const firstTake = (seq: Sequence, pending = seq.numPendingTokens) =>
      this.#shape.firstTake(pending, this.#background.cap(seq, step.budget));
    const decoding = this.#running.filter((s) => s.numPendingTokens === 1 && s.adapterId === adapterId);
    const prefilling = this.#running.filter((s) => s.numPendingTokens > 1 && s.adapterId === adapterId);
    let draftRows = this.#speculation?.stepBudget(decoding.length, prefilling.length > 0 || this.#admits()) ?? 0;
    for (const seq of [...decoding, ...prefilling]) {
      if (seq.status !== "running") continue; // preempted earlier in this plan
      const take = firstTake(seq);
      if (take === 0 && this.#background.isBackground(seq)) continue;
      if (take === 0) break;
      if (!this.#growOrPreempt(seq, seq.numComputedTokens + take, step)) continue;
      this.#schedule(step, seq, take);
    }
    // Drafts once every running sequence has its row: a draft must not take the row of a sequence after it.
    for (const chunk of draftRows > 0 ? step.chunks : [])
      if (chunk.sample) draftRows -= this.#draft(step, chunk, draftRows);

    for (const seq of this.#waiting.ordered(nowMs)) {
      if (step.budget === 0 || this.#running.length >= this.#maxRunning) break;
      if (seq.waitsForLeader || seq.adapterId !== adapterId) continue;
      const maxNewTokens = firstTake(seq, seq.tokens.length);
      if (maxNewTokens === 0) continue; // background held back; foreground behind it still comes in
      const admission = this.#kv.admit({ tokens: seq.tokens, adapterId: seq.adapterId, maxNewTokens });
      if (!admission) break; // head of line: a later, smaller request does not overtake it
      this.#waiting.remove(seq);
      seq.status = "running";
      seq.table = admission.table;
      seq.numComputedTokens = admission.numCachedTokens;
      if (seq.numPreemptions === 0) seq.numCachedPromptTokens = admission.numCachedTokens;
      seq.firstScheduledMs ??= nowMs;
      this.#running.push(seq);
      this.#schedule(step, seq, firstTake(seq));
    }
  }

  // Whether a waiting sequence may be admitted (so the step would prefill).
  #admits(): boolean {
    return this.#waiting.length > 0 && this.#running.length < this.#maxRunning;
  }

  /** The drafts the next plan would ask for, for drafters that must prepare them (a draft model). */
  draftDemand(): DraftDemand[] {
    if (!this.#speculation) return [];
    const decoding = this.#running.filter((s) => s.numPendingTokens === 1 && !s.pendingFinish);
    const prefills = this.#running.some((s) => s.numPendingTokens > 1) || this.#admits();
    return this.#speculation.demand(decoding, prefills, this.#room);
  }

  // Gives a planned prefill chunk as much more of its prompt as the budget allows.
  #extend(step: StepDraft, chunk: DraftChunk): void {
    const { seq } = chunk;
    const more = Math.min(seq.numPendingTokens - chunk.numTokens, this.#background.cap(seq, step.budget));
    if (more === 0 || seq.status !== "running" || !step.chunks.includes(chunk)) return;
    if (!this.#growOrPreempt(seq, chunk.fromIndex + chunk.numTokens + more, step)) return;
    chunk.numTokens += more;
    chunk.sample = chunk.numTokens === seq.numPendingTokens;
    step.budget -= more;
    this.#background.take(seq, more);
  }

  // The adapter group this step serves; with one group (the usual case) simply that one.
  #chooseAdapter(nowMs: number): number {
    const ready = this.#running.filter((seq) => !seq.pendingFinish);
    if (this.#running.length < this.#maxRunning)
      ready.push(...this.#waiting.ordered(nowMs).filter((s) => !s.waitsForLeader));
    return chooseAdapterGroup(adapterGroups(ready, this.#lastServedMs), this.#turn) ?? 0;
  }

  /**
   * Advances the planned sequences by the step's result. Output rows of the result are the sampling chunks' rows in
   * order: one per chunk, plus one per draft token of a verify chunk.
   */
  apply(plan: StepPlan, result: StepResult): SequenceEvent[] {
    return applyStep(plan, result, this.#outcomes);
  }

  /** The whole step failed: its sequences end with an error; everyone else carries on. */
  failStep(plan: StepPlan, message: string): SequenceEvent[] {
    return plan.chunks.filter((c) => c.seq.status === "running").map((c) => this.#finish(c.seq, "error", message));
  }

  stats(): SchedulerStats {
    return {
      numRunning: this.#running.length,
      numWaiting: this.#waiting.length,
      numPreemptions: this.#numPreemptions,
      numFinished: { ...this.#numFinished },
      adapterIds: {
        running: [...new Set(this.#running.map((s) => s.adapterId).filter((id) => id !== 0))],
        waiting: [...new Set([...this.#waiting].map((s) => s.adapterId).filter((id) => id !== 0))],
      },
      specDecode: this.#speculation?.stats() ?? null,
    };
  }

  // The one release path: whatever the reason, a finished sequence's blocks go back here. Returns its event.
  #finish(seq: Sequence, reason: FinishReason, message: string | null): SequenceEvent {
    if (seq.table) this.#kv.free(seq.table);
    seq.table = null;
    seq.status = "finished";
    seq.finishReason = reason;
    seq.finishMessage = message;
    this.#numFinished[reason]++;
    this.#running = this.#running.filter((s) => s !== seq);
    this.#waiting.remove(seq);
    return { type: "finished", seq, reason, message };
  }

  // Drafts for a sampling chunk within `rows`, and for a background sequence within the background's share.
  #draft(step: StepDraft, chunk: DraftChunk, rows: number): number {
    const added = this.#speculation!.addDraft(step, chunk, this.#background.cap(chunk.seq, rows), this.#room);
    this.#background.take(chunk.seq, added);
    return added;
  }

  #schedule(step: StepDraft, seq: Sequence, take: number): void {
    const sample = take === seq.numPendingTokens;
    step.chunks.push({ seq, fromIndex: seq.numComputedTokens, numTokens: take, sample, draft: [] });
    step.budget -= take;
    this.#background.take(seq, take);
  }

  // Blocks for `numTokens` of `seq`, preempting the newest lowest-priority running sequences as needed (a victim
  // already planned in this step gives its tokens back). False when `seq` itself was preempted.
  #growOrPreempt(seq: Sequence, numTokens: number, step: StepDraft): boolean {
    while (!this.#kv.grow(seq.table!, numTokens)) {
      const victim = this.#running.reduce((worst, s) =>
        s.priority > worst.priority || (s.priority === worst.priority && s.arrivalMs >= worst.arrivalMs) ? s : worst,
      );
      const planned = step.chunks.findIndex((c) => c.seq === victim);
      if (planned >= 0) step.budget += step.chunks.splice(planned, 1)[0]!.numTokens;
      this.#preempt(victim);
      step.preempted.push(victim);
      if (victim === seq) return false;
    }
    return true;
  }

  #preempt(seq: Sequence): void {
    this.#kv.free(seq.table!);
    seq.table = null;
    seq.numComputedTokens = 0;
    seq.status = "waiting";
    seq.numPreemptions++;
    this.#numPreemptions++;
    this.#running = this.#running.filter((s) => s !== seq);
    this.#waiting.push(seq);
  }
}
