// llama.cpp's common chat layer, the code llama-server runs with --jinja: chat templates with tools, reasoning and
// JSON-schema grammars (ChatTemplates.apply), the parser of the model's output into content, reasoning and tool
// calls (ChatParser), and the JSON-schema-to-GBNF converter (jsonSchemaToGrammar). ../../../docs/chat-layer.md has
// the table of model families and what works for each.
//
// The flow of one chat request: apply() renders the prompt and returns a grammar for SamplingParams.grammar and the
// parser parameters; the engine samples; a ChatParser built from those parameters parses the generated text, again
// and again while it streams (partial), and once more at the end. Special tokens of preservedTokenIds must reach the
// parser as text (detokenize them with special: true), since the parser reads them as markers.
import type { GrammarConstraint } from "../../sampling-params.js";
import {
  loadAddon,
  type NativeChatApplyRequest,
  type NativeChatParser,
  type NativeChatParserParams,
  type NativeChatTemplates,
} from "./addon.js";
import type { LlamaModel } from "./llama-model.js";
import { type GrammarCompiler, type JsonSchema, prepareSchema, UnsupportedSchemaError } from "./schema-support.js";

export { type JsonSchema, UnsupportedSchemaError } from "./schema-support.js";

/** A chat message in OpenAI's shape; content parts of type text only (images are not rendered). */
export interface ChatMessage {
  readonly role: "system" | "developer" | "user" | "assistant" | "tool";
  readonly content?: string | readonly { readonly type: "text"; readonly text: string }[] | null;
  /** Assistant turns: the calls it made; arguments are JSON text. */
  readonly tool_calls?: readonly {
    readonly id?: string;
    readonly type: "function";
    readonly function: { readonly name: string; readonly arguments: string };
  }[];
  /** Tool turns: the call this result answers. */
  readonly tool_call_id?: string;
  readonly name?: string;
  /** Assistant turns: earlier reasoning, for templates that render it. */
  readonly reasoning_content?: string;
}

/** An OpenAI function tool. */
export interface ChatTool {
  readonly type: "function";
  readonly function: { readonly name: string; readonly description?: string; readonly parameters?: JsonSchema };
}

export type ToolChoice =
  | "none"
  | "auto"
  | "required"
  | { readonly type: "function"; readonly function: { name: string } };

export interface ChatApplyRequest {
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly ChatTool[];
  /** Default "auto". A named function is a required call to that tool; the prompt still lists every tool. */
  readonly toolChoice?: ToolChoice;
  /** Default: whether the template renders parallel calls (llama-server's default). */
  readonly parallelToolCalls?: boolean;
  /** Default true. */
  readonly addGenerationPrompt?: boolean;
  /**
   * Structured output (response_format json_schema): the answer is JSON of this schema, after any reasoning. An
   * empty schema means any object, as llama-server reads response_format json_object.
   */
  readonly jsonSchema?: JsonSchema;
  /** A client's own GBNF; refused together with tools unless toolChoice is "none". */
  readonly grammar?: string;
  /** Default true; false asks templates that can (Qwen3, ...) not to think. */
  readonly enableThinking?: boolean;
  /**
   * Default "deepseek": thinking goes to reasoningContent. "none" leaves it in content as the model wrote it;
   * "deepseek-legacy" is llama-server's streaming variant.
   */
  readonly reasoningFormat?: "none" | "auto" | "deepseek" | "deepseek-legacy";
  /** Extra template variables (llama-server's chat_template_kwargs), e.g. {reasoning_effort: "low"}. */
  readonly chatTemplateKwargs?: Readonly<Record<string, unknown>>;
  /** The date templates print as today's (Llama 3.x); default now. */
  readonly now?: Date;
}

/** What ChatParser needs of one apply(): plain data, so it can travel with the request. */
export type ChatParserParams = NativeChatParserParams;

export interface ChatPrompt {
  /** The rendered prompt; tokenize it with addSpecial and parseSpecial, as llama-server does. */
  readonly prompt: string;
  /** llama.cpp's chat format (its id and name, e.g. "peg-native"). */
  readonly format: { readonly id: number; readonly name: string };
  /** For SamplingParams.grammar; null when nothing is constrained (no tools, tool_choice none, no schema). */
  readonly grammar: GrammarConstraint | null;
  /** Marker tokens the parser reads (e.g. <tool_call>), and the ids of those that are one token here. */
  readonly preservedTokens: readonly string[];
  readonly preservedTokenIds: ReadonlySet<number>;
  /** Stop strings the template adds (e.g. an end-of-turn marker some templates write as text). */
  readonly additionalStops: readonly string[];
  readonly parser: ChatParserParams;
  /** Whether the template has a thinking block, and its tags. */
  readonly thinking: { readonly supported: boolean; readonly startTag: string; readonly endTags: readonly string[] };
}

export interface ParsedToolCall {
  /** Only when the model's format carries one (Mistral, Kimi, ...); the server gives the others their ids. */
  readonly id?: string;
  readonly name: string;
  /** JSON text; while streaming, a prefix of the final arguments. */
  readonly arguments: string;
}

export interface ParsedChatMessage {
  readonly content: string;
  readonly reasoningContent: string;
  readonly toolCalls: readonly ParsedToolCall[];
}

const anyObjectIfEmpty = (schema: JsonSchema): JsonSchema =>
  Object.keys(schema).length === 0 ? { type: "object" } : schema;

const compileSchema: GrammarCompiler = (schema) => loadAddon().addon.jsonSchemaToGrammar(JSON.stringify(schema));

/**
 * GBNF text (root rule "root") for the JSON values a schema allows, by llama.cpp's json_schema_to_grammar, after
 * prepareSchema: what the converter cannot honour is refused, never ignored. Strings and arrays are unbounded
 * unless the schema bounds them. Throws UnsupportedSchemaError (code LOOM_SCHEMA_UNSUPPORTED) or a native error
 * with code LOOM_INVALID_SCHEMA (a schema that does not compile: bad $ref, invalid pattern, unknown type).
 */
export function jsonSchemaToGrammar(schema: JsonSchema): string {
  return compileSchema(prepareSchema(schema, compileSchema));
}

function prepareToolParameters(tool: ChatTool): JsonSchema {
  try {
    return prepareSchema(tool.function.parameters!, compileSchema);
  } catch (error) {
    throw error instanceof UnsupportedSchemaError ? error.ofTool(tool.function.name) : error;
  }
}

/** The chat templates of one model: its own (tokenizer.chat_template and a tool_use variant) or an override. */
export class ChatTemplates {
  readonly #native: NativeChatTemplates;

  private constructor(native: NativeChatTemplates) {
    this.#native = native;
  }

  /**
   * overrideSource replaces the model's template (llama-server's --chat-template-file). Throws a native error with
   * code LOOM_CHAT_TEMPLATE_INVALID when the Jinja source does not parse.
   */
  static create(model: LlamaModel, overrideSource?: string): ChatTemplates {
    return new ChatTemplates(new (loadAddon().addon.ChatTemplates)(model.native, overrideSource));
  }

  /** The Jinja source in use. */
  get source(): string {
    return this.#native.source();
  }

  /** What the template renders: supports_tools, supports_tool_calls, supports_parallel_tool_calls, ... */
  capabilities(): Readonly<Record<string, boolean>> {
    return this.#native.capabilities();
  }

  /**
   * Renders the request. Throws UnsupportedSchemaError (LOOM_SCHEMA_UNSUPPORTED) for a tool or response schema a
   * grammar cannot honour (err.tool names the tool), and native errors by code: LOOM_INVALID_MESSAGES (a message of
   * the wrong shape), LOOM_INVALID_TOOLS, LOOM_INVALID_TOOL_SCHEMA and LOOM_INVALID_SCHEMA (a tool's parameters, the
   * response schema, that do not compile), LOOM_UNKNOWN_TOOL (a named
   * tool_choice not among the tools), LOOM_TOOLS_UNSUPPORTED (tools for a template that cannot render calls),
   * LOOM_CHAT_TEMPLATE_FAILED (the template raised on these messages, e.g. roles out of order),
   * LOOM_INVALID_ARGUMENT (a bad tool_choice or reasoning format, grammar together with tools).
   */
  apply(request: ChatApplyRequest): ChatPrompt {
    const tools = request.tools?.map((tool) =>
      tool.function.parameters === undefined
        ? tool
        : { ...tool, function: { ...tool.function, parameters: prepareToolParameters(tool) } },
    );
    const result = this.#native.apply(
      JSON.stringify({
        messages: request.messages,
        ...(tools && tools.length > 0 ? { tools } : {}),
        tool_choice: request.toolChoice,
        parallel_tool_calls: request.parallelToolCalls,
        add_generation_prompt: request.addGenerationPrompt,
        json_schema: request.jsonSchema && prepareSchema(anyObjectIfEmpty(request.jsonSchema), compileSchema),
        grammar: request.grammar,
        enable_thinking: request.enableThinking,
        reasoning_format: request.reasoningFormat,
        chat_template_kwargs: request.chatTemplateKwargs,
        now_ms: request.now?.getTime(),
      } satisfies NativeChatApplyRequest),
    );
    const parser = { format: result.format, generationPrompt: result.generationPrompt, parser: result.parser };
    return {
      prompt: result.prompt,
      format: { id: result.format, name: result.formatName },
      grammar:
        result.grammar === ""
          ? null
          : {
              grammar: result.grammar,
              lazy: result.grammarLazy,
              triggers: result.grammarTriggers,
              // A lazy grammar starts at its trigger; only an eager one begins with the generation prompt.
              prefill: result.grammarLazy ? "" : result.generationPrompt,
              thinkingStartTag: result.thinkingStartTag,
              thinkingEndTags: result.thinkingEndTags,
            },
      preservedTokens: result.preservedTokens,
      preservedTokenIds: new Set(result.preservedTokenIds),
      additionalStops: result.additionalStops,
      parser,
      thinking: {
        supported: result.supportsThinking,
        startTag: result.thinkingStartTag,
        endTags: result.thinkingEndTags,
      },
    };
  }
}

/** Parses one request's output; build it once per request from ChatPrompt.parser. */
export class ChatParser {
  readonly #native: NativeChatParser;

  constructor(params: ChatParserParams) {
    this.#native = new (loadAddon().addon.ChatParser)(params);
  }

  /**
   * text: everything generated after the prompt. partial: the text may stop mid-message (streaming); a call being
   * written then comes back with its arguments so far. On the final text (partial false), output that does not
   * match the format throws a native error with code LOOM_CHAT_PARSE_FAILED.
   */
  parse(text: string, { partial = false }: { partial?: boolean } = {}): ParsedChatMessage {
    return this.#native.parse(text, partial);
  }

  /**
   * Whether text is a whole message of the format, needing no more input (a call closed, not cut short). parse()
   * cannot tell: it reads a call cut mid-arguments as a call, as llama-server does at the end of max_tokens.
   */
  complete(text: string): boolean {
    return this.#native.complete(text);
  }
}
