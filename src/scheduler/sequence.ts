// Sequence: one generation stream. One progress counter: numComputedTokens catches up with tokens.length; a
// prefix-cache hit jumps it forward, a prefill chunk is a partial catch-up, a decode a catch-up of one.
import type { SequenceSampler } from "../backend/types.js";
import type { BlockTable } from "../kv/types.js";
import type { SamplingParams } from "../sampling-params.js";

export type FinishReason = "stop" | "length" | "abort" | "timeout" | "error";
export type SequenceStatus = "waiting" | "running" | "finished";

export interface SequenceInit {
  readonly seqId: number;
  readonly requestId: string;
  /** Which of the request's n choices this is. */
  readonly index: number;
  readonly promptTokens: ArrayLike<number>;
  readonly params: SamplingParams;
  readonly sampler: SequenceSampler;
  readonly adapterId?: number;
  /** Lower runs first. */
  readonly priority?: number;
  readonly arrivalMs: number;
  /** The request's first sequence, whose prefill the others wait for so they share its prompt blocks. */
  readonly leader?: Sequence;
}

export class Sequence {
  readonly seqId: number;
  readonly requestId: string;
  readonly index: number;
  readonly tokens: number[];
  readonly numPromptTokens: number;
  readonly params: SamplingParams;
  readonly sampler: SequenceSampler;
  readonly adapterId: number;
  readonly priority: number;
  readonly arrivalMs: number;
  readonly leader: Sequence | null;
  numComputedTokens = 0;
  status: SequenceStatus = "waiting";
  table: BlockTable | null = null;
  finishReason: FinishReason | null = null;
  finishMessage: string | null = null;
  /** Set by an abort between steps; the sequence retires at the next plan. */
  pendingFinish: { reason: FinishReason; message: string | null } | null = null;
  numPreemptions = 0;
  /** Prompt tokens served from the prefix cache at first admission. */
  numCachedPromptTokens = 0;
  firstScheduledMs: number | null = null;

  constructor(init: SequenceInit) {
    this.seqId = init.seqId;
    this.requestId = init.requestId;
    this.index = init.index;
    this.tokens = Array.from(init.promptTokens);
    this.numPromptTokens = this.tokens.length;
    this.params = init.params;
    this.sampler = init.sampler;
    this.adapterId = init.adapterId ?? 0;
    this.priority = init.priority ?? 0;
    this.arrivalMs = init.arrivalMs;
    this.leader = init.leader ?? null;
    if (this.numPromptTokens === 0) throw new RangeError("a sequence needs at least one prompt token");
  }

  get numOutputTokens(): number {
    return this.tokens.length - this.numPromptTokens;
  }

  get numPendingTokens(): number {
    return this.tokens.length - this.numComputedTokens;
  }

  /** A sibling admitted before its leader has computed the prompt would compute the prompt again. */
  get waitsForLeader(): boolean {
    const leader = this.leader;
    return leader !== null && leader.status !== "finished" && leader.numComputedTokens < leader.numPromptTokens;
  }

  get outputTokens(): number[] {
    return this.tokens.slice(this.numPromptTokens);
  }
}
