// Generation: one request's whole life on the serving side, from the moment it is queued to its last event: the
// text of each of its n sequences (incremental detokenizer and stop strings), its timing (TTFT, inter-token gaps,
// queue time), its LoRA adapter lease, its cancellation (the client's abort signal, the timeout, a consumer that
// stops reading, an explicit cancel) and the summary its metrics and log line are made from. Every path out
// (finished, failed, cancelled before anyone read it) goes through #settle(), the one release of what it holds.
import type { Engine } from "../../engine/engine.js";
import type { FinishedEvent, FinishReason, StepEvent, TokenEvent, Usage } from "../../engine/events.js";
import type { SamplingParams } from "../../sampling-params.js";
import type { AdapterLease } from "./adapters.js";
import { IncrementalDetokenizer } from "./detokenizer.js";
import { StopMatcher } from "./stop-strings.js";

/** A sampled token as text, with its log-probability and the top alternatives (OpenAI's logprobs content). */
export interface TokenLogprob {
  readonly token: string;
  readonly bytes: readonly number[];
  readonly logprob: number;
  readonly top: readonly { readonly token: string; readonly bytes: readonly number[]; readonly logprob: number }[];
}

/** A sequence's end as serving reports it: the engine's, with the stop string that ended it, if one did. */
export type SequenceEnd = FinishedEvent & { readonly stopString: string | null };

/**
 * A generation's events: text deltas per sequence, each sequence's end (its reason "stop" when a stop string ended
 * it), and one `usage` for the whole request last.
 */
export type GenerationEvent =
  | {
      readonly type: "delta";
      readonly index: number;
      readonly text: string;
      readonly logprobs: readonly TokenLogprob[];
    }
  | SequenceEnd
  | { readonly type: "usage"; readonly usage: Usage };

/**
 * SamplingParams.maxTokens for "as many as the context leaves" (vLLM's and OpenAI chat's default), resolved against
 * the prompt when LlmServing.generate checks it.
 */
export const REST_OF_CONTEXT = Number.POSITIVE_INFINITY;

/** What a client asked for, tokenized and checked (LlmServing.generate checks it). */
export interface GenerateInput {
  readonly requestId: string;
  readonly promptTokens: Int32Array;
  /** The request field the prompt came from, named in errors about it: "prompt" (default) or "messages". */
  readonly promptParam?: "prompt" | "messages";
  readonly params: SamplingParams;
  /** Lower runs first (vLLM's `priority`). */
  readonly priority?: number;
  readonly signal?: AbortSignal;
  /** Overrides the server's default timeout (ms); 0 for none. */
  readonly timeoutMs?: number;
  /** The HTTP request id, for the request's log line. */
  readonly traceId?: string;
  /** A loaded LoRA adapter to generate with, at a scale (1 by default). */
  readonly adapter?: { readonly name: string; readonly scale: number };
  /** Special tokens whose text the output keeps (a chat format's markers); other special tokens print as nothing. */
  readonly markerTokens?: ReadonlySet<number>;
  /** The route that chose this model and the variant it chose (routing/), for the request's metrics and log line. */
  readonly route?: { readonly name: string; readonly variant: string };
}

/** How a generation went, for its metrics and its log line. */
export interface GenerationSummary {
  readonly input: GenerateInput;
  readonly usage: Usage;
  /** Per sequence; "abort" for a sequence that never finished (cancelled before it was read). */
  readonly reasons: readonly FinishReason[];
  readonly queueMs: number | null;
  readonly ttftMs: number | null;
  readonly interTokenMs: readonly number[];
  readonly e2eMs: number;
}

/** A request as an operator sees it (the dashboard's running-requests table). */
export interface GenerationInfo {
  readonly requestId: string;
  readonly traceId: string | null;
  readonly adapter: string | null;
  /** When it was accepted, Unix milliseconds. */
  readonly arrivalMs: number;
  readonly numPromptTokens: number;
  /** Tokens generated so far, over all of its sequences. */
  readonly numOutputTokens: number;
  /** vLLM's two states: waiting (accepted, no token yet: queued or prefilling) and running (tokens streaming). */
  readonly state: "waiting" | "running" | "finished";
}

export interface GenerationParts {
  readonly input: GenerateInput;
  readonly engine: Pick<Engine, "submit" | "abort">;
  /** The model's token bytes (special tokens as text when `special`). */
  readonly tokenToBytes: (token: number) => Uint8Array;
  readonly lease: AdapterLease | null;
  /** Milliseconds before the request ends with reason "timeout"; 0 for none. */
  readonly timeoutMs: number;
  /** Runs once, when the generation has settled. */
  readonly onSettled: (generation: Generation, summary: GenerationSummary) => void;
}

const utf8 = new TextDecoder();

export class Generation implements AsyncIterable<GenerationEvent> {
  readonly requestId: string;
  readonly #parts: GenerationParts;
  readonly #events: AsyncIterable<StepEvent>;
  readonly #startMs = performance.now();
  readonly #arrivalMs = Date.now();
  readonly #texts: SequenceText[];
  readonly #reasons: FinishReason[] = [];
  readonly #lastTokenMs: (number | null)[];
  readonly #gapsMs: number[] = [];
  readonly #usage = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: Number.POSITIVE_INFINITY };
  #ttftMs: number | null = null;
  #queueMs: number | null = null;
  #numOutputTokens = 0;
  #timer: NodeJS.Timeout | undefined;
  #iterated = false;
  #settled = false;

  /** Submits to the engine at once, so a refusal is thrown here, before any response is started. */
  constructor(parts: GenerationParts) {
    const { input, engine, lease } = parts;
    this.requestId = input.requestId;
    this.#parts = parts;
    const n = input.params.n;
    this.#texts = Array.from({ length: n }, () => new SequenceText(parts.tokenToBytes, input.params.stop));
    this.#lastTokenMs = new Array<number | null>(n).fill(null);
    this.#usage.promptTokens = input.promptTokens.length;
    try {
      this.#events = engine.submit({
        requestId: input.requestId,
        promptTokens: input.promptTokens,
        params: input.params,
        priority: input.priority ?? 0,
        adapterId: lease?.adapterId ?? 0,
      });
    } catch (error) {
      lease?.release();
      throw error;
    }
    input.signal?.addEventListener("abort", this.#onAbort, { once: true });
    if (parts.timeoutMs > 0) {
      this.#timer = setTimeout(
        () => this.cancel("timeout", `the request timed out after ${parts.timeoutMs} ms`),
        parts.timeoutMs,
      );
    }
    if (input.signal?.aborted) this.#onAbort();
  }

  get info(): GenerationInfo {
    return {
      requestId: this.requestId,
      traceId: this.#parts.input.traceId ?? null,
      adapter: this.#parts.input.adapter?.name ?? null,
      arrivalMs: this.#arrivalMs,
      numPromptTokens: this.#parts.input.promptTokens.length,
      numOutputTokens: this.#numOutputTokens,
      state: this.#settled ? "finished" : this.#ttftMs === null ? "waiting" : "running",
    };
  }

  /** Ends every sequence at the next step boundary (their KV blocks return); the stream ends with `reason`. */
  cancel(reason: FinishReason = "abort", message: string | null = null): void {
    this.#parts.engine.abort(this.requestId, reason, message);
    // Nobody will read the events of a generation cancelled before its stream was taken: settle it now.
    if (!this.#iterated) this.#settle();
  }

  [Symbol.asyncIterator](): AsyncIterator<GenerationEvent> {
    if (this.#iterated) throw new Error(`generation ${this.requestId} is already being read`);
    this.#iterated = true;
    return this.#run();
  }

  async *#run(): AsyncGenerator<GenerationEvent> {
    try {
      for await (const event of this.#events) {
        if (event.type === "token") {
          const delta = this.#token(event);
          if (delta) yield delta;
          continue;
        }
        const tail = this.#texts[event.index]!.finish();
        if (tail !== "") yield { type: "delta", index: event.index, text: tail, logprobs: [] };
        yield this.#finished(event);
      }
      yield { type: "usage", usage: this.#finalUsage() };
    } finally {
      this.#settle();
    }
  }

  #token(event: TokenEvent): GenerationEvent | null {
    const now = performance.now();
    const { index } = event;
    this.#ttftMs ??= now - this.#startMs;
    const last = this.#lastTokenMs[index];
    if (last !== null && last !== undefined) this.#gapsMs.push(now - last);
    this.#lastTokenMs[index] = now;
    this.#numOutputTokens++;
    const text = this.#texts[index]!;
    if (text.stopString !== null) return null;
    const { delta, stopped } = text.push(event.token);
    if (stopped) this.#parts.engine.abort(this.requestId, "stop", null, index);
    const logprobs = event.logprob === null ? [] : [this.#logprob(event)];
    return delta !== "" || logprobs.length > 0 ? { type: "delta", index, text: delta, logprobs } : null;
  }

  #finished(event: FinishedEvent): SequenceEnd {
    this.#usage.completionTokens += event.usage.completionTokens;
    this.#usage.cachedPromptTokens = Math.min(this.#usage.cachedPromptTokens, event.usage.cachedPromptTokens);
    if (event.queueMs !== null) this.#queueMs = Math.max(this.#queueMs ?? 0, event.queueMs);
    const { stopString } = this.#texts[event.index]!;
    const reason = stopString === null ? event.reason : "stop";
    this.#reasons[event.index] = reason;
    return { ...event, reason, message: reason === event.reason ? event.message : null, stopString };
  }

  #finalUsage(): Usage {
    const cached = this.#usage.cachedPromptTokens;
    return { ...this.#usage, cachedPromptTokens: Number.isFinite(cached) ? cached : 0 };
  }

  #logprob(event: TokenEvent): TokenLogprob {
    const entry = (token: number, logprob: number) => {
      const bytes = this.#parts.tokenToBytes(token);
      return { token: utf8.decode(bytes), bytes: [...bytes], logprob };
    };
    const top = [...event.topTokens!].map((t, k) => entry(t, event.topLogprobs![k]!));
    return { ...entry(event.token, event.logprob!), top };
  }

  readonly #onAbort = () => this.cancel("abort");

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    const { input, lease, onSettled } = this.#parts;
    input.signal?.removeEventListener("abort", this.#onAbort);
    clearTimeout(this.#timer);
    lease?.release();
    const reasons = Array.from({ length: input.params.n }, (_, i) => this.#reasons[i] ?? "abort");
    onSettled(this, {
      input,
      usage: this.#finalUsage(),
      reasons,
      queueMs: this.#queueMs,
      ttftMs: this.#ttftMs,
      interTokenMs: this.#gapsMs,
      e2eMs: performance.now() - this.#startMs,
    });
  }
}

/** One sequence's tokens as UTF-8-safe text, held back while it could still become a stop string. */
class SequenceText {
  readonly #detokenizer: IncrementalDetokenizer;
  readonly #stops: StopMatcher;
  /** The stop string that ended the sequence, once one did. */
  stopString: string | null = null;

  constructor(tokenToBytes: (token: number) => Uint8Array, stop: readonly string[]) {
    this.#detokenizer = new IncrementalDetokenizer(tokenToBytes);
    this.#stops = new StopMatcher(stop);
  }

  /** The text this token releases; `stopped` once a stop string matched (the text then ends before it). */
  push(token: number): { delta: string; stopped: boolean } {
    return this.#take(this.#detokenizer.push(token));
  }

  /** What was held back, released when the sequence ended for another reason than a stop string. */
  finish(): string {
    if (this.stopString !== null) return "";
    const { delta, stopped } = this.#take(this.#detokenizer.flush());
    return delta + (stopped ? "" : this.#stops.flush());
  }

  #take(text: string): { delta: string; stopped: boolean } {
    const match = this.#stops.push(text);
    if (match.stopped) this.stopString = match.matched ?? "";
    return { delta: match.text, stopped: match.stopped };
  }
}
