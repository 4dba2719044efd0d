// LlmServing: text in, text out for one loaded LLM. Builds prompts (chat template, tokenizer), checks them, and
// starts Generations (serving/llm/generation.ts), which own each request's life from there.
import type { LlamaContext } from "../../backend/llama/llama-context.js";
import type { LlamaModel } from "../../backend/llama/llama-model.js";
import type { Engine } from "../../engine/engine.js";
import type { Logger } from "../../ops/logger.js";
import type { Metrics } from "../../ops/metrics.js";
import { InvalidRequestError, OverloadedError, ShuttingDownError } from "../errors.js";
import type { AdapterRegistry } from "./adapters.js";
import type { ChatFormat, ChatInput, ChatRun, RenderedChat } from "./chat.js";
import { chatEvents } from "./chat-stream.js";
import { Embedder } from "./embedder.js";
import { type GenerateInput, Generation, type GenerationEvent, REST_OF_CONTEXT } from "./generation.js";
import { mergeGenerations } from "./merge.js";
import { PromptBound } from "./prompt-bound.js";
import { clientErrorsOf, observeGeneration } from "./observe.js";

export interface LlmServingOptions {
  readonly name: string;
  /** Other names clients may use for this model. */
  readonly aliases?: readonly string[];
  /** Where the model runs and its KV cells, and why (for the startup log): devices by name, [] for the CPU. */
  readonly placement: {
    readonly gpuLayers: number;
    readonly devices: readonly string[];
    readonly kvTokens: number;
    readonly kvTokensReason: string;
  };
  /** The KV layout the model runs with, and why it was chosen (for logs and the cache metrics). */
  readonly kvLayout: { readonly name: "unified" | "per-sequence"; readonly reason: string };
  readonly model: LlamaModel;
  readonly engine: Engine;
  /** The generation context the engine steps; closed with the serving. */
  readonly context: LlamaContext;
  readonly maxModelLen: number;
  readonly chatFormat: ChatFormat;
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
  readonly aliases: readonly string[];
  readonly kvLayout: LlmServingOptions["kvLayout"];
  readonly placement: LlmServingOptions["placement"];
  readonly model: LlamaModel;
  readonly engine: Engine;
  readonly maxModelLen: number;
  readonly createdSeconds = Math.floor(Date.now() / 1000);
  readonly embedder: Embedder;
  readonly adapters: AdapterRegistry;
  readonly #context: LlamaContext;
  readonly #chatFormat: ChatFormat;
  readonly #promptBound: PromptBound;
  readonly #maxWaiting: number;
  readonly #defaultTimeoutMs: number;
  readonly #metrics: Metrics | undefined;
  readonly #logger: Logger;
  /** Requests queued or generating, in submission order. */
  readonly #inFlight = new Set<Generation>();
  #draining = false;

  constructor({
    name,
    aliases = [],
    kvLayout,
    placement,
    model,
    engine,
    context,
    maxModelLen,
    chatFormat,
    maxWaiting,
    defaultTimeoutMs,
    metrics,
    logger,
    adapters,
  }: LlmServingOptions) {
    this.adapters = adapters;
    if (!(Number.isInteger(maxWaiting) && maxWaiting > 0))
      throw new Error(`maxWaiting must be a positive integer, got ${maxWaiting}`);
    if (!(Number.isFinite(defaultTimeoutMs) && defaultTimeoutMs >= 0))
      throw new Error(`defaultTimeoutMs must be a non-negative number, got ${defaultTimeoutMs}`);
    this.#maxWaiting = maxWaiting;
    this.#defaultTimeoutMs = defaultTimeoutMs;
    this.#metrics = metrics;
    this.#logger = logger;
    this.name = name;
    this.aliases = aliases;
    this.kvLayout = kvLayout;
    this.placement = placement;
    this.model = model;
    this.engine = engine;
    this.#context = context;
    this.maxModelLen = maxModelLen;
    // Embedding is prompt processing: it takes the batch thread count.
    this.embedder = new Embedder({ model, maxInputTokens: Math.min(maxModelLen, 8192), threads: context.threadsBatch });
    this.#chatFormat = chatFormat;
    this.#promptBound = new PromptBound(model, maxModelLen);
  }

  /** llama.cpp's compute threads for single-token steps and for larger ones, as it reports them. */
  get threads(): { readonly single: number; readonly batch: number } {
    return { single: this.#context.threads, batch: this.#context.threadsBatch };
  }

  /**
   * Whether this model's engine takes turns at the process's CPU compute with every other model on the CPU (its
   * steps then wait while theirs run): their queues decide together whether there is capacity to spare.
   */
  get sharesCompute(): boolean {
    return this.#context.sharedCompute;
  }

  /** A chat as this model's prompt tokens, with the grammar its output format needs and its output parser. */
  renderChat(input: ChatInput): RenderedChat {
    const texts = input.messages.flatMap((m) => [
      m.content ?? "",
      m.reasoningContent ?? "",
      ...(m.toolCalls ?? []).map((call) => call.arguments),
    ]);
    this.#promptBound.check(texts, "messages");
    return this.#chatFormat.render(input);
  }

  /** Text through the tokenizer; one that cannot fit the context is refused first (InvalidRequestError on `param`). */
  textPrompt(text: string, param = "prompt"): Int32Array {
    this.#promptBound.check([text], param);
    return this.model.tokenize(text, { addSpecial: true, parseSpecial: false });
  }

  /**
   * Checks a prompt, and its completion budget when it has one, against the context window and the vocabulary.
   * `param` names the request field the prompt came from (OpenAI names `messages` for chat, `input` for embeddings).
   */
  checkPrompt(tokens: ArrayLike<number>, { param, maxTokens }: { param: string; maxTokens?: number }): void {
    if (tokens.length === 0) throw new InvalidRequestError("the prompt is empty", { param });
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= this.model.info.vocabSize)
        throw new InvalidRequestError(`token ${t} is outside the vocabulary`, { param });
    }
    const requested = tokens.length + (maxTokens ?? 0);
    if (requested <= this.maxModelLen) return;
    // A prompt that fits leaves the fault with the completion budget, as vLLM names it; one that does not, with itself.
    const blamed = maxTokens !== undefined && tokens.length < this.maxModelLen ? "max_tokens" : param;
    const parts =
      maxTokens === undefined
        ? `${tokens.length} in the input`
        : `${tokens.length} in the ${param === "messages" ? "messages" : "prompt"}, ${maxTokens} for the completion`;
    const hint =
      this.kvLayout.name === "per-sequence"
        ? " Each sequence's KV stream holds --kv-tokens / --max-running tokens: raise --kv-tokens, lower " +
          "--max-running or pass --kv-layout unified for longer sequences."
        : "";
    throw new InvalidRequestError(
      `This model's maximum context length is ${this.maxModelLen} tokens. However, you requested ${requested} ` +
        `tokens (${parts}). Please reduce the length of the ${param === "messages" ? "messages" : param}.${hint}`,
      { param: blamed, code: "context_length_exceeded" },
    );
  }

  /**
   * Checks the request and queues it at once, so a refusal (bad prompt, overload, shutdown) is thrown here,
   * before any response is started. The Generation's events end with one "finished" per sequence, then "usage".
   */
  generate(request: GenerateInput): Generation {
    if (this.#draining) throw new ShuttingDownError();
    const { promptTokens, params } = request;
    const input =
      params.maxTokens === REST_OF_CONTEXT
        ? { ...request, params: { ...params, maxTokens: Math.max(1, this.maxModelLen - promptTokens.length) } }
        : request;
    this.checkPrompt(promptTokens, { param: input.promptParam ?? "prompt", maxTokens: input.params.maxTokens });
    const { numWaiting } = this.engine.stats();
    if (numWaiting + input.params.n > this.#maxWaiting) {
      throw new OverloadedError(
        `the server is overloaded: ${numWaiting} sequences are waiting (at most ${this.#maxWaiting}); retry later`,
      );
    }
    const lease = input.adapter ? this.adapters.acquire(input.adapter.name, input.adapter.scale) : null;
    const generation = clientErrorsOf(
      () =>
        new Generation({
          input,
          engine: this.engine,
          tokenToBytes: (token) => this.model.tokenToBytes(token, { special: input.markerTokens?.has(token) ?? false }),
          lease,
          timeoutMs: input.timeoutMs ?? this.#defaultTimeoutMs,
          onSettled: (settled, summary) => {
            this.#inFlight.delete(settled);
            observeGeneration(this.name, summary, { metrics: this.#metrics, logger: this.#logger });
          },
        }),
    );
    this.#inFlight.add(generation);
    return generation;
  }

  /**
   * A chat: rendered and generated, its output split into content, reasoning and tool calls. Refusals are thrown
   * here, before any response starts, as with generate(). `promptTokens` is the rendered prompt's length.
   */
  chat(request: Omit<GenerateInput, "promptTokens" | "promptParam"> & { readonly chat: ChatInput }): ChatRun {
    const { chat, ...input } = request;
    const rendered = this.renderChat(chat);
    const stop = [...new Set([...input.params.stop, ...rendered.stops])];
    const params = { ...input.params, stop, ...(rendered.grammar === null ? {} : { grammar: rendered.grammar }) };
    const generation = this.generate({
      ...input,
      params,
      promptTokens: rendered.promptTokens,
      promptParam: "messages",
      markerTokens: rendered.markerTokens,
    });
    const reading = {
      parse: rendered.parse,
      complete: rendered.complete,
      callIds: rendered.callIds,
      maxToolCalls: chat.parallelToolCalls ? Number.POSITIVE_INFINITY : 1,
      stop: (index: number) => this.engine.abort(input.requestId, "stop", null, index),
    };
    return { promptTokens: rendered.promptTokens.length, events: chatEvents(generation, params.n, reading) };
  }

  /**
   * Several prompts as one stream (choice k*n + i is sequence i of prompt k). All are queued before this returns;
   * when one is refused, those already queued are cancelled.
   */
  generateAll(inputs: readonly GenerateInput[]): AsyncIterable<GenerationEvent> {
    if (inputs.length === 1) return this.generate(inputs[0]!);
    const generations: Generation[] = [];
    try {
      for (const input of inputs) generations.push(this.generate(input));
    } catch (error) {
      for (const generation of generations) generation.cancel();
      throw error;
    }
    return mergeGenerations(generations, inputs[0]!.params.n);
  }

  /** Requests queued or generating now, oldest first. */
  inFlight(): Generation[] {
    return [...this.#inFlight];
  }

  /** Cancels a request in flight (its stream ends with reason "abort"); false when no such request is. */
  cancel(requestId: string): boolean {
    const generation = this.inFlight().find((g) => g.requestId === requestId);
    generation?.cancel();
    return generation !== undefined;
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
}
