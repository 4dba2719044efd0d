// Chats as the three chat APIs (OpenAI's chat completions and Responses, Anthropic's Messages) all reach serving:
// one input shape (OpenAI's chat messages, which llama.cpp's chat layer takes as they are) and one output stream,
// ChatEvents, where the generated text is already split into content, reasoning and tool calls.
import type { Usage } from "../../engine/events.js";
import type { SamplingParams } from "../../sampling-params.js";
import type { CallIds } from "./call-ids.js";
import type { SequenceEnd, TokenLogprob } from "./generation.js";

/** A call the assistant makes: `arguments` is JSON text, as OpenAI carries it. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** One message of a chat, in OpenAI's chat-completions shape (content parts already joined to text). */
export interface ChatMessage {
  readonly role: "system" | "user" | "assistant" | "tool";
  readonly content: string | null;
  readonly name?: string;
  readonly toolCalls?: readonly ToolCall[];
  /** The call a tool message answers. */
  readonly toolCallId?: string;
  /** An earlier assistant turn's reasoning, for templates that replay it. */
  readonly reasoningContent?: string;
}

/** A function the model may call: its arguments' JSON schema (absent: any object). */
export interface ToolSpec {
  readonly name: string;
  readonly description?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

export type ToolChoice = "none" | "auto" | "required" | { readonly name: string };

/** What the model's output must be: free text, any JSON object, or JSON matching a schema (grammar-constrained). */
export type OutputFormat =
  | { readonly type: "text" }
  | { readonly type: "json_object" }
  | {
      readonly type: "json_schema";
      readonly schema: Readonly<Record<string, unknown>>;
      /** The request field the schema came from, named when it is refused (default "response_format"). */
      readonly param?: string;
    };

export interface ChatInput {
  readonly messages: readonly ChatMessage[];
  readonly tools: readonly ToolSpec[];
  readonly toolChoice: ToolChoice;
  readonly parallelToolCalls: boolean;
  readonly format: OutputFormat;
  /** For templates that can think or not (Qwen3, DeepSeek R1, ...); undefined leaves the template's default. */
  readonly enableThinking?: boolean;
}

/** The assistant's output so far, split by the chat format's parser (llama.cpp's common_chat_msg). */
export interface ParsedOutput {
  readonly content: string;
  readonly reasoning: string;
  readonly toolCalls: readonly { readonly name: string; readonly arguments: string; readonly id?: string }[];
}

/** Splits generated text into content, reasoning and tool calls; `partial` while the text may still grow. */
export type OutputParser = (text: string, partial: boolean) => ParsedOutput;

/** What a rendered chat gives the generation: the prompt, the grammar (if any) and how to read the output. */
export interface RenderedChat {
  readonly promptTokens: Int32Array;
  readonly grammar: SamplingParams["grammar"];
  /** Stop strings the format adds to the request's (an end-of-turn marker some templates write as text). */
  readonly stops: readonly string[];
  /** Special tokens the parser reads as markers (e.g. <tool_call>): the output keeps their text. */
  readonly markerTokens: ReadonlySet<number>;
  readonly parse: OutputParser;
  /**
   * Whether text is a whole message of the format, needing no more input: a call closed, not cut short (the parse
   * reads both as a call). How a choice limited to one call is stopped once it has made it.
   */
  readonly complete: (text: string) => boolean;
  /** The ids of the calls the output makes, in a shape the template takes back in the next turn's history. */
  readonly callIds: CallIds;
}

/**
 * A chat's output events, per choice `index`: content and reasoning text deltas, tool-call deltas (the first of a
 * call carries its id and name, later ones append to `arguments`), each choice's end (`toolCalls` counts its calls,
 * so the routes can say "tool_calls"), and the request's usage last.
 */
export type ChatEvent =
  | {
      readonly type: "content";
      readonly index: number;
      readonly text: string;
      readonly logprobs: readonly TokenLogprob[];
    }
  | { readonly type: "reasoning"; readonly index: number; readonly text: string }
  | {
      readonly type: "tool_call";
      readonly index: number;
      /** Which call of the choice, from 0. */
      readonly call: number;
      /** Set on a call's first event only. */
      readonly id?: string;
      readonly name?: string;
      readonly arguments: string;
    }
  | (SequenceEnd & { readonly toolCalls: readonly ToolCall[] })
  | { readonly type: "usage"; readonly usage: Usage };

/** A chat being generated: its prompt's length in tokens and its output events. */
export interface ChatRun {
  readonly promptTokens: number;
  readonly events: AsyncIterable<ChatEvent>;
}

/** How a model turns chats into prompts and reads its output back: its chat template and output format. */
export interface ChatFormat {
  /** Renders and tokenizes a chat; throws InvalidRequestError for a chat the template cannot take. */
  render(input: ChatInput): RenderedChat;
}

/** A plain chat: messages only, free text out. */
export function plainChat(messages: readonly ChatMessage[]): ChatInput {
  return { messages, tools: [], toolChoice: "none", parallelToolCalls: false, format: { type: "text" } };
}
