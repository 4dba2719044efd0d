// LlmServing: text in, text out for one loaded LLM. Builds prompts (chat template, tokenizer), submits them to the
// engine, and turns its token events into UTF-8-safe text deltas, stop strings and log-probabilities.
import type { LlamaContext } from "../../backend/llama/llama-context.js";
import type { LlamaModel } from "../../backend/llama/llama-model.js";
import type { Engine } from "../../engine/engine.js";
import type { FinishReason, StepEvent, Usage } from "../../engine/events.js";
import { RequestTiming } from "./request-timing.js";
import type { SamplingParams } from "../../sampling-params.js";
import type { ChatMessage, ChatTemplate } from "./chat-template.js";
import { IncrementalDetokenizer } from "./detokenizer.js";
import type { AdapterLease, AdapterRegistry } from "./adapters.js";
import { Embedder } from "./embedder.js";
import { InFlightRequests } from "./in-flight.js";
import type { Logger } from "../../ops/logger.js";
import type { Metrics } from "../../ops/metrics.js";
import { InvalidRequestError, OverloadedError, ShuttingDownError } from "../errors.js";
import { mergeGenerations } from "./merge.js";
import { StopMatcher } from "./stop-strings.js";

export interface TokenLogprob {
  readonly token: string;
  readonly bytes: readonly number[];
  readonly logprob: number;
  readonly top: readonly { readonly token: string; readonly bytes: readonly number[]; readonly logprob: number }[];
}

export type GenerationEvent =
  | {
      readonly type: "delta";
      readonly index: number;
      readonly text: string;
      readonly logprobs: readonly TokenLogprob[];
    }
  | { readonly type: "finish"; readonly index: number; readonly reason: FinishReason; readonly message: string | null }
  | { readonly type: "usage"; readonly usage: Usage };

export interface GenerateInput {
  readonly requestId: string;
  readonly promptTokens: Int32Array;
  readonly params: SamplingParams;
  readonly priority?: number;
  readonly signal?: AbortSignal;
  /** Overrides the server's default timeout. */
  readonly timeoutMs?: number;
  /** The HTTP request id, for the request's log line. */
  readonly traceId?: string;
  /** A loaded LoRA adapter to generate with, at a scale (1 by default). */
  readonly adapter?: { readonly name: string; readonly scale: number };
}

export interface LlmServingOptions {
  readonly name: string;
  readonly model: LlamaModel;
  readonly engine: Engine;
  /** The generation context the engine steps; closed with the serving. */
  readonly context: LlamaContext;
  readonly maxModelLen: number;
  readonly chatTemplate: ChatTemplate;
  /** Sequences allowed to wait for admission; beyond it requests are refused with 429. */
  readonly maxWaiting: number;
  /** Timeout of requests that set none; 0 for none. */
  readonly defaultTimeoutMs: number;
  readonly metrics?: Metrics;
  readonly logger: Logger;
  readonly adapters: AdapterRegistry;
}

export class LlmServing {
  readonly name: string;
  readonly model: LlamaModel;
  readonly engine: Engine;
  readonly maxModelLen: number;
  readonly createdSeconds = Math.floor(Date.now() / 1000);
  readonly embedder: Embedder;
  readonly adapters: AdapterRegistry;
  /** The generation requests running now, for the dashboard and for cancelling one. */
  readonly inFlight = new InFlightRequests();
  readonly #context: LlamaContext;
  readonly #template: ChatTemplate;
  readonly #bosText: string;
  readonly #eosText: string;
  readonly #maxWaiting: number;
  readonly #defaultTimeoutMs: number;
  readonly #metrics: Metrics | undefined;
  readonly #logger: Logger;
  #draining = false;

  constructor({
    name,
    model,
    engine,
    context,
    maxModelLen,
    chatTemplate,
    maxWaiting,
    defaultTimeoutMs,
    metrics,
    logger,
    adapters,
  }: LlmServingOptions) {
    this.adapters = adapters;
    if (!(Number.isInteger(maxWaiting) && maxWaiting > 0))
      throw new RangeError(`maxWaiting must be a positive integer, got ${maxWaiting}`);
    if (!(Number.isFinite(defaultTimeoutMs) && defaultTimeoutMs >= 0))
      throw new RangeError(`defaultTimeoutMs must be a non-negative number, got ${defaultTimeoutMs}`);
    this.#maxWaiting = maxWaiting;
    this.#defaultTimeoutMs = defaultTimeoutMs;
    this.#metrics = metrics;
    this.#logger = logger;
    this.name = name;
    this.model = model;
    this.engine = engine;
    this.#context = context;
    this.maxModelLen = maxModelLen;
    // Embedding is prompt processing: it takes the batch thread count.
    this.embedder = new Embedder({ model, maxInputTokens: Math.min(maxModelLen, 8192), threads: context.threadsBatch });
    this.#template = chatTemplate;
    this.#bosText = this.#tokenText(model.info.bosToken);
    this.#eosText = this.#tokenText(model.info.eosToken);
  }

  /** llama.cpp's compute threads for single-token steps and for larger ones, as it reports them. */
  get threads(): { readonly single: number; readonly batch: number } {
    return { single: this.#context.threads, batch: this.#context.threadsBatch };
  }

  /** The chat rendered with the template and tokenized; a template that writes BOS itself gets no second one. */
  chatPrompt(messages: readonly ChatMessage[]): Int32Array {
    let text: string;
    try {
      text = this.#template.render(messages, { bosToken: this.#bosText, eosToken: this.#eosText });
    } catch (error) {
      throw new InvalidRequestError(`the chat template failed on these messages: ${(error as Error).message}`, {
        param: "messages",
      });
    }
    const templateWritesBos = this.#bosText !== "" && text.startsWith(this.#bosText);
    return this.model.tokenize(text, { addSpecial: !templateWritesBos, parseSpecial: true });
  }

  textPrompt(text: string): Int32Array {
    return this.model.tokenize(text, { addSpecial: true, parseSpecial: false });
  }

  /** Checks a prompt and its completion budget against the context window and the vocabulary. */
  checkPrompt(tokens: ArrayLike<number>, maxTokens: number): void {
    if (tokens.length === 0) throw new InvalidRequestError("the prompt is empty", { param: "prompt" });
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= this.model.info.vocabSize)
        throw new InvalidRequestError(`token ${t} is outside the vocabulary`, { param: "prompt" });
    }
    if (tokens.length + maxTokens > this.maxModelLen) {
      throw new InvalidRequestError(
        `This model's maximum context length is ${this.maxModelLen} tokens. However, you requested ${tokens.length + maxTokens} tokens (${tokens.length} in the prompt, ${maxTokens} for the completion).`,
        { param: "max_tokens", code: "context_length_exceeded" },
      );
    }
  }

  /** The completion budget when the client sets none: the rest of the context window, as vLLM does. */
  defaultMaxTokens(promptTokens: ArrayLike<number>): number {
    return Math.max(1, this.maxModelLen - promptTokens.length);
  }

  /**
   * Queues the request at once (so a refusal is thrown here, before any response is started) and returns its text
   * stream, which ends with one "finish" per sequence and then one "usage".
   */
  generate(input: GenerateInput): AsyncIterable<GenerationEvent> {
    if (this.#draining) throw new ShuttingDownError();
    this.checkPrompt(input.promptTokens, input.params.maxTokens);
    const { numWaiting } = this.engine.stats();
    if (numWaiting + input.params.n > this.#maxWaiting) {
      throw new OverloadedError(
        `the server is overloaded: ${numWaiting} sequences are waiting (at most ${this.#maxWaiting}); retry later`,
      );
    }
    const timeoutMs = input.timeoutMs ?? this.#defaultTimeoutMs;
    const lease = input.adapter ? this.adapters.acquire(input.adapter.name, input.adapter.scale) : null;
    let events: AsyncIterable<StepEvent>;
    try {
      events = this.engine.submit({
        requestId: input.requestId,
        promptTokens: input.promptTokens,
        params: input.params,
        priority: input.priority ?? 0,
        adapterId: lease?.adapterId ?? 0,
        ...(input.signal ? { signal: input.signal } : {}),
        ...(timeoutMs > 0 ? { timeoutMs } : {}),
      });
    } catch (error) {
      lease?.release();
      if (error instanceof RangeError || (error as { code?: string }).code?.startsWith("LOOM_INVALID"))
        throw new InvalidRequestError((error as Error).message);
      throw error;
    }
    this.inFlight.add(
      {
        requestId: input.requestId,
        model: this.name,
        adapter: input.adapter?.name ?? null,
        numPromptTokens: input.promptTokens.length,
      },
      () => this.engine.abort(input.requestId, "abort"),
    );
    return this.#text(input, events, lease);
  }

  /**
   * Several prompts as one stream (choice k*n + i is sequence i of prompt k). All are queued before this returns;
   * when one is refused, those already queued are cancelled.
   */
  generateAll(inputs: readonly GenerateInput[]): AsyncIterable<GenerationEvent> {
    if (inputs.length === 1) return this.generate(inputs[0]!);
    const streams: AsyncIterable<GenerationEvent>[] = [];
    try {
      for (const input of inputs) streams.push(this.generate(input));
    } catch (error) {
      for (const input of inputs.slice(0, streams.length)) this.engine.abort(input.requestId);
      throw error;
    }
    return mergeGenerations(streams, inputs[0]!.params.n);
  }

  async *#text(
    input: GenerateInput,
    events: AsyncIterable<StepEvent>,
    lease: AdapterLease | null,
  ): AsyncGenerator<GenerationEvent> {
    try {
      yield* this.#textOf(input, events);
    } finally {
      lease?.release();
      this.inFlight.remove(input.requestId);
    }
  }

  async *#textOf(input: GenerateInput, events: AsyncIterable<StepEvent>): AsyncGenerator<GenerationEvent> {
    const n = input.params.n;
    const detokenizers = Array.from({ length: n }, () => new IncrementalDetokenizer((t) => this.model.tokenToBytes(t)));
    const stops = Array.from({ length: n }, () => new StopMatcher(input.params.stop));
    const stopped = new Array<boolean>(n).fill(false);
    const usage = {
      promptTokens: input.promptTokens.length,
      completionTokens: 0,
      cachedPromptTokens: Number.POSITIVE_INFINITY,
    };
    const timing = new RequestTiming(n);
    const reasons: FinishReason[] = [];
    for await (const event of events) {
      const i = event.index;
      if (event.type === "token") {
        timing.token(i);
        this.inFlight.countToken(input.requestId);
        if (stopped[i]) continue;
        const match = stops[i]!.push(detokenizers[i]!.push(event.token));
        const logprobs =
          event.logprob === null
            ? []
            : [this.#logprob(event.token, event.logprob, event.topTokens!, event.topLogprobs!)];
        if (match.text !== "" || logprobs.length > 0) yield { type: "delta", index: i, text: match.text, logprobs };
        if (match.stopped) {
          stopped[i] = true;
          this.engine.abort(input.requestId, "stop", null, i);
        }
        continue;
      }
      usage.completionTokens += event.usage.completionTokens;
      usage.cachedPromptTokens = Math.min(usage.cachedPromptTokens, event.usage.cachedPromptTokens);
      timing.queued(event.queueMs);
      reasons[i] = stopped[i] ? "stop" : event.reason;
      if (!stopped[i]) {
        const rest = stops[i]!.push(detokenizers[i]!.flush());
        const tail = rest.text + (rest.stopped ? "" : stops[i]!.flush());
        if (tail !== "") yield { type: "delta", index: i, text: tail, logprobs: [] };
      }
      yield { type: "finish", index: i, reason: stopped[i] ? "stop" : event.reason, message: event.message };
    }
    const final = {
      ...usage,
      cachedPromptTokens: Number.isFinite(usage.cachedPromptTokens) ? usage.cachedPromptTokens : 0,
    };
    this.#observe(input, final, timing, reasons);
    yield { type: "usage", usage: final };
  }

  #observe(input: GenerateInput, usage: Usage, timing: RequestTiming, reasons: readonly FinishReason[]): void {
    const e2eSeconds = timing.elapsedMs() / 1000;
    const finishReason = reasons.find((r) => r !== "stop" && r !== "length") ?? reasons[0] ?? "abort";
    this.#metrics?.observeRequest(this.name, {
      loraName: input.adapter?.name ?? null,
      finishReason,
      promptTokens: usage.promptTokens,
      outputTokens: usage.completionTokens,
      e2eSeconds,
      queueSeconds: timing.queueMs === null ? null : timing.queueMs / 1000,
      ttftSeconds: timing.ttftMs === null ? null : timing.ttftMs / 1000,
      interTokenSeconds: timing.gapsMs.map((ms) => ms / 1000),
    });
    this.#logger.log("info", "request", {
      request_id: input.traceId ?? null,
      id: input.requestId,
      model: this.name,
      lora: input.adapter?.name ?? null,
      n: input.params.n,
      prompt_tokens: usage.promptTokens,
      cached_tokens: usage.cachedPromptTokens,
      output_tokens: usage.completionTokens,
      queue_ms: timing.queueMs === null ? null : Math.round(timing.queueMs),
      ttft_ms: timing.ttftMs === null ? null : Math.round(timing.ttftMs),
      total_ms: Math.round(e2eSeconds * 1000),
      finish_reason: reasons,
    });
  }

  /** Refuses new requests from now on (shutdown); what runs goes on. */
  stopAccepting(): void {
    this.#draining = true;
  }

  /** Aborts what is still running, then frees the contexts and the model. */
  async close(): Promise<void> {
    await this.engine.close();
    this.adapters.close();
    await this.embedder.close();
    await this.#context.dispose();
    this.model.dispose();
  }

  #tokenText(token: number): string {
    return token < 0 ? "" : new TextDecoder().decode(this.model.tokenToBytes(token, { special: true }));
  }

  #logprob(token: number, logprob: number, topTokens: Int32Array, topLogprobs: Float32Array): TokenLogprob {
    const entry = (t: number, lp: number) => {
      const bytes = this.model.tokenToBytes(t);
      return { token: new TextDecoder().decode(bytes), bytes: [...bytes], logprob: lp };
    };
    return { ...entry(token, logprob), top: [...topTokens].map((t, k) => entry(t, topLogprobs[k]!)) };
  }
}
