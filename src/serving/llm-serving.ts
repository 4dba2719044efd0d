// LlmServing: text in, text out for one loaded LLM. Builds prompts (chat template, tokenizer), submits them to the
// engine, and turns its token events into UTF-8-safe text deltas, stop strings and log-probabilities.
import type { LlamaContext } from "../backend/llama/llama-context.js";
import type { LlamaModel } from "../backend/llama/llama-model.js";
import type { Engine } from "../engine/engine.js";
import type { FinishReason, StepEvent, Usage } from "../engine/events.js";
import type { SamplingParams } from "../sampling-params.js";
import type { ChatMessage, ChatTemplate } from "./chat-template.js";
import { IncrementalDetokenizer } from "./detokenizer.js";
import { Embedder } from "./embedder.js";
import { InvalidRequestError } from "./errors.js";
import { mergeGenerations } from "./merge.js";
import { StopMatcher } from "./stop-strings.js";

export interface TokenLogprob {
  readonly token: string;
  readonly bytes: readonly number[];
  readonly logprob: number;
  readonly top: readonly { readonly token: string; readonly bytes: readonly number[]; readonly logprob: number }[];
}

export type GenerationEvent =
  | { readonly type: "delta"; readonly index: number; readonly text: string; readonly logprobs: readonly TokenLogprob[] }
  | { readonly type: "finish"; readonly index: number; readonly reason: FinishReason; readonly message: string | null }
  | { readonly type: "usage"; readonly usage: Usage };

export interface GenerateInput {
  readonly requestId: string;
  readonly promptTokens: Int32Array;
  readonly params: SamplingParams;
  readonly priority?: number;
  readonly signal?: AbortSignal;
}

export interface LlmServingOptions {
  readonly name: string;
  readonly model: LlamaModel;
  readonly engine: Engine;
  /** The generation context the engine steps; closed with the serving. */
  readonly context: LlamaContext;
  readonly maxModelLen: number;
  readonly chatTemplate: ChatTemplate;
}

export class LlmServing {
  readonly name: string;
  readonly model: LlamaModel;
  readonly engine: Engine;
  readonly maxModelLen: number;
  readonly createdSeconds = Math.floor(Date.now() / 1000);
  readonly embedder: Embedder;
  readonly #context: LlamaContext;
  readonly #template: ChatTemplate;
  readonly #bosText: string;
  readonly #eosText: string;

  constructor({ name, model, engine, context, maxModelLen, chatTemplate }: LlmServingOptions) {
    this.name = name;
    this.model = model;
    this.engine = engine;
    this.#context = context;
    this.maxModelLen = maxModelLen;
    this.embedder = new Embedder({ model, maxInputTokens: Math.min(maxModelLen, 8192), threads: context.threads });
    this.#template = chatTemplate;
    this.#bosText = this.#tokenText(model.info.bosToken);
    this.#eosText = this.#tokenText(model.info.eosToken);
  }

  /** The chat rendered with the template and tokenized; a template that writes BOS itself gets no second one. */
  chatPrompt(messages: readonly ChatMessage[]): Int32Array {
    let text: string;
    try {
      text = this.#template.render(messages, { bosToken: this.#bosText, eosToken: this.#eosText });
    } catch (error) {
      throw new InvalidRequestError(`the chat template failed on these messages: ${(error as Error).message}`, { param: "messages" });
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
      if (!Number.isInteger(t) || t < 0 || t >= this.model.info.vocabSize) throw new InvalidRequestError(`token ${t} is outside the vocabulary`, { param: "prompt" });
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
    this.checkPrompt(input.promptTokens, input.params.maxTokens);
    let events: AsyncIterable<StepEvent>;
    try {
      events = this.engine.submit({ requestId: input.requestId, promptTokens: input.promptTokens, params: input.params, priority: input.priority ?? 0, ...(input.signal ? { signal: input.signal } : {}) });
    } catch (error) {
      if (error instanceof RangeError || (error as { code?: string }).code?.startsWith("LOOM_INVALID")) throw new InvalidRequestError((error as Error).message);
      throw error;
    }
    return this.#text(input, events);
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

  async *#text(input: GenerateInput, events: AsyncIterable<StepEvent>): AsyncGenerator<GenerationEvent> {
    const n = input.params.n;
    const detokenizers = Array.from({ length: n }, () => new IncrementalDetokenizer((t) => this.model.tokenToBytes(t)));
    const stops = Array.from({ length: n }, () => new StopMatcher(input.params.stop));
    const stopped = new Array<boolean>(n).fill(false);
    const usage = { promptTokens: input.promptTokens.length, completionTokens: 0, cachedPromptTokens: Number.POSITIVE_INFINITY };
    for await (const event of events) {
      const i = event.index;
      if (event.type === "token") {
        if (stopped[i]) continue;
        const match = stops[i]!.push(detokenizers[i]!.push(event.token));
        const logprobs = event.logprob === null ? [] : [this.#logprob(event.token, event.logprob, event.topTokens!, event.topLogprobs!)];
        if (match.text !== "" || logprobs.length > 0) yield { type: "delta", index: i, text: match.text, logprobs };
        if (match.stopped) {
          stopped[i] = true;
          this.engine.abort(input.requestId, "stop", null, i);
        }
        continue;
      }
      usage.completionTokens += event.usage.completionTokens;
      usage.cachedPromptTokens = Math.min(usage.cachedPromptTokens, event.usage.cachedPromptTokens);
      if (!stopped[i]) {
        const rest = stops[i]!.push(detokenizers[i]!.flush());
        const tail = rest.text + (rest.stopped ? "" : stops[i]!.flush());
        if (tail !== "") yield { type: "delta", index: i, text: tail, logprobs: [] };
      }
      yield { type: "finish", index: i, reason: stopped[i] ? "stop" : event.reason, message: event.message };
    }
    yield { type: "usage", usage: { ...usage, cachedPromptTokens: Number.isFinite(usage.cachedPromptTokens) ? usage.cachedPromptTokens : 0 } };
  }

  /** Aborts what is still running, then frees the contexts and the model. */
  async close(): Promise<void> {
    await this.engine.close();
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
