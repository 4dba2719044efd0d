// Engine: drives one model. submit() turns a Request into sequences and a stream of events; the loop is
// plan -> await backend.step(batch) -> apply, and while a step runs on the native worker thread the event loop
// is free to accept requests and stream tokens. Requests join and leave between steps.
import type { AdapterHandle, Batch, LlmBackend } from "../backend/types.js";
import type { KvAllocator, KvStats } from "../kv/types.js";
import type { Scheduler, SchedulerStats } from "../scheduler/scheduler.js";
import type { DraftDemand } from "../scheduler/speculation.js";
import { Sequence, type FinishReason } from "../scheduler/sequence.js";
import type { SequenceEvent, StepPlan } from "../scheduler/step-plan.js";
import { EventChannel } from "./event-channel.js";
import { EventDelivery } from "./event-delivery.js";
import type { StepEvent } from "./events.js";
import type { Request } from "./request.js";
import { type StepCounts, StepCounters } from "./step-counters.js";
import { toBatch } from "./to-batch.js";

/** What one step did, for step-level metrics. */
export interface StepObservation {
  readonly numTokens: number;
  readonly numSequences: number;
  readonly stepMs: number;
  readonly schedulerMs: number;
}

/** A loaded adapter variant: the handle llama.cpp applies, at this scale. */
export interface ResolvedAdapter {
  readonly handle: AdapterHandle;
  readonly scale: number;
}

export interface EngineOptions {
  readonly backend: LlmBackend;
  /** Adapter id (other than 0, the base model) to its loaded adapter; requests name ids that resolve. */
  readonly resolveAdapter?: (adapterId: number) => ResolvedAdapter | null;
  readonly scheduler: Scheduler;
  readonly kv: KvAllocator;
  readonly now?: () => number;
  readonly onStep?: (step: StepObservation) => void;
  /** Runs before each plan when the scheduler's drafter needs its drafts computed (speculative decoding). */
  readonly drafter?: DraftPreparer;
}

export interface EngineStats extends SchedulerStats, StepCounts {
  readonly kv: KvStats;
}

/** A drafter that computes its drafts between steps (a draft model), for the plan that verifies them. */
export interface DraftPreparer {
  /** Computes the drafts `demand` asks for; never rejects (a failed draft is no draft). */
  prepare(demand: readonly DraftDemand[]): Promise<void>;
  /** Frees what the drafter holds; the engine calls it once its loop has stopped. */
  close(): Promise<void>;
}

interface Tracked {
  readonly sequences: Sequence[];
  readonly channel: EventChannel<StepEvent>;
  remaining: number;
}

export class Engine {
  readonly #backend: LlmBackend;
  readonly #scheduler: Scheduler;
  readonly #kv: KvAllocator;
  readonly #now: () => number;
  readonly #onStep: ((step: StepObservation) => void) | undefined;
  readonly #resolveAdapter: (adapterId: number) => ResolvedAdapter | null;
  /** The adapter id whose adapter set the context holds now; the set is only sent when it changes. */
  #appliedAdapterId = 0;
  readonly #requests = new Map<string, Tracked>();
  readonly #delivery = new EventDelivery<StepEvent>();
  #wake: (() => void) | null = null;
  #closed = false;
  #failure: Error | null = null;
  #nextSeqId = 0;
  #loop: Promise<void>;
  readonly #counters = new StepCounters();
  readonly #drafter: DraftPreparer | null;

  constructor({
    backend,
    scheduler,
    kv,
    now = () => performance.now(),
    onStep,
    resolveAdapter = () => null,
    drafter,
  }: EngineOptions) {
    this.#drafter = drafter ?? null;
    this.#resolveAdapter = resolveAdapter;
    this.#backend = backend;
    this.#scheduler = scheduler;
    this.#kv = kv;
    this.#now = now;
    this.#onStep = onStep;
    this.#loop = this.#run().catch((error: unknown) => this.#die(error));
  }

  /** Why the loop stopped on its own, or null while it is alive (readiness probes read this). */
  get failure(): Error | null {
    return this.#failure;
  }

  /**
   * Queues a request; its events end with one "finished" per sequence. A consumer that stops iterating early aborts
   * it. Throws when the engine has stopped, and on a request serving should not have sent (a reused id, a sequence
   * longer than the model length): those are bugs, not client errors.
   */
  submit(request: Request): AsyncIterable<StepEvent> {
    if (this.#failure) throw new Error(`the engine stopped: ${this.#failure.message}`);
    if (this.#closed) throw new Error("the engine is closed");
    if (this.#requests.has(request.requestId)) throw new Error(`request id ${request.requestId} is already in use`);
    const arrivalMs = request.arrivalMs ?? this.#now();
    const sequences: Sequence[] = [];
    try {
      for (let index = 0; index < request.params.n; index++) {
        const params =
          request.params.seed === undefined || index === 0
            ? request.params
            : { ...request.params, seed: (request.params.seed + index) >>> 0 };
        const seq = new Sequence({
          seqId: this.#nextSeqId++,
          requestId: request.requestId,
          index,
          promptTokens: request.promptTokens,
          params,
          sampler: this.#backend.createSampler(params),
          adapterId: request.adapterId ?? 0,
          priority: request.priority ?? 0,
          arrivalMs,
          ...(sequences[0] ? { leader: sequences[0] } : {}),
        });
        sequences.push(seq);
        this.#scheduler.add(seq);
      }
    } catch (error) {
      for (const seq of sequences) {
        this.#scheduler.abort(seq, "error");
        seq.sampler.dispose();
      }
      throw error;
    }
    const channel = new EventChannel<StepEvent>(() => this.abort(request.requestId, "abort"));
    this.#requests.set(request.requestId, { sequences, channel, remaining: sequences.length });
    this.#wakeUp();
    return channel;
  }

  /**
   * Ends a request's sequences (or only sequence `index`, e.g. on a stop string): each retires at the next step
   * boundary, also mid-prefill, and its blocks return.
   */
  abort(requestId: string, reason: FinishReason = "abort", message: string | null = null, index?: number): void {
    const tracked = this.#requests.get(requestId);
    if (!tracked) return;
    for (const seq of tracked.sequences) {
      if (index === undefined || seq.index === index) this.#dispatch(this.#scheduler.abort(seq, reason, message));
    }
    this.#wakeUp();
  }

  stats(): EngineStats {
    return { ...this.#scheduler.stats(), kv: this.#kv.stats(), ...this.#counters.snapshot() };
  }

  /** Resolves once every submitted request has finished and its consumer has been handed every event. */
  async drain(): Promise<void> {
    const busy = () => this.#requests.size > 0 || this.#delivery.pending > 0;
    while (busy()) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Aborts everything still running and stops the loop after the step in flight. */
  async close(): Promise<void> {
    for (const requestId of [...this.#requests.keys()]) this.abort(requestId, "abort");
    await this.drain();
    this.#closed = true;
    this.#wakeUp();
    await this.#loop;
    await this.#drafter?.close();
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      const draftStart = this.#now();
      await this.#drafter?.prepare(this.#scheduler.draftDemand());
      const planStart = this.#now();
      const plan = this.#scheduler.plan(planStart);
      this.#dispatchFinished(plan);
      if (plan.chunks.length === 0 && plan.kvOps.length === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      const stepStart = this.#now();
      let events: SequenceEvent[];
      const held = StepCounters.tokensHeld(plan);
      try {
        const result = await this.#backend.step(this.#withAdapters(toBatch(plan), plan.adapterId));
        this.#appliedAdapterId = plan.adapterId;
        this.#counters.kvSpanCells = result.kvSpanCells;
        events = this.#scheduler.apply(plan, result);
      } catch (error) {
        events = this.#scheduler.failStep(plan, error instanceof Error ? error.message : String(error));
      }
      const stepEnd = this.#now();
      this.#dispatch(events);
      const schedulerMs = stepStart - planStart + (this.#now() - stepEnd);
      const stepMs = stepEnd - stepStart + (planStart - draftStart);
      this.#counters.count(plan, { generated: StepCounters.tokensHeld(plan) - held, schedulerMs, stepMs });
      this.#onStep?.({ numTokens: plan.numTokens, numSequences: plan.chunks.length, stepMs, schedulerMs });
    }
  }

  #withAdapters(batch: Batch, adapterId: number): Batch {
    if (adapterId === this.#appliedAdapterId) return batch;
    if (adapterId === 0) return { ...batch, adapters: [], adapterScales: new Float32Array(0) };
    const adapter = this.#resolveAdapter(adapterId);
    if (!adapter) throw new Error(`adapter ${adapterId} is not loaded`);
    return { ...batch, adapters: [adapter.handle], adapterScales: Float32Array.of(adapter.scale) };
  }

  #dispatchFinished(plan: StepPlan): void {
    this.#dispatch(
      plan.finished.map((seq) => ({ type: "finished", seq, reason: seq.finishReason!, message: seq.finishMessage })),
    );
  }

  #dispatch(events: readonly SequenceEvent[]): void {
    for (const event of events) {
      const tracked = this.#requests.get(event.seq.requestId);
      if (!tracked) continue;
      const { seq } = event;
      if (event.type === "token") {
        this.#delivery.push(tracked.channel, {
          type: "token",
          index: seq.index,
          token: event.token,
          logprob: event.logprob,
          topTokens: event.topTokens,
          topLogprobs: event.topLogprobs,
        });
        continue;
      }
      seq.sampler.dispose();
      this.#delivery.push(tracked.channel, {
        type: "finished",
        index: seq.index,
        reason: event.reason,
        message: event.message,
        usage: {
          promptTokens: seq.numPromptTokens,
          completionTokens: seq.numOutputTokens,
          cachedPromptTokens: seq.numCachedPromptTokens,
        },
        queueMs: seq.firstScheduledMs === null ? null : seq.firstScheduledMs - seq.arrivalMs,
      });
      if (--tracked.remaining === 0) {
        this.#delivery.end(tracked.channel);
        this.#requests.delete(seq.requestId);
      }
    }
    this.#delivery.flush();
  }

  // A bug in planning must not leave clients hanging: every request fails with the reason, and submit refuses.
  #die(error: unknown): void {
    this.#failure = error instanceof Error ? error : new Error(String(error));
    const message = `the engine stopped: ${this.#failure.message}`;
    for (const tracked of this.#requests.values()) {
      for (const seq of tracked.sequences) {
        if (seq.status === "finished") continue;
        seq.status = "finished";
        this.#dispatch([{ type: "finished", seq, reason: "error", message }]);
      }
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
